//! Decrypts a run's records for the ladder, with the traffic secrets both
//! sides logged (rustls' `KeyLog`, the NSS key log labels).
//!
//! The hellos are plaintext: the ClientHello gives the client random (which
//! names the connection's secrets), the ServerHello the server random, the
//! cipher suite and the version. From there each direction tries its keys
//! in the order the protocol uses them, moving to the next one when a
//! record no longer opens with the current:
//!
//! - TLS 1.3: early data (client only), handshake, application traffic
//!   secret 0, then each KeyUpdate's next secret (`"traffic upd"`). Keys
//!   and IVs come from HKDF-Expand-Label with the suite's hash.
//! - TLS 1.2: after ChangeCipherSpec, the write key of the key block the
//!   suite's PRF expands from the master secret.
//!
//! The key schedule (HKDF, the TLS 1.2 PRF) and the AEAD are aws-lc-rs'
//! (the library rustls uses here), from a table of the suites rustls
//! offers, so that the decryptor works the same on either rustls tlsbio is
//! built with. Nothing here is needed to run a connection: it only
//! explains one.

use std::fmt;

use aws_lc_rs::aead::{self, Aad, LessSafeKey, Nonce, UnboundKey};
use aws_lc_rs::{hkdf, tls_prf};

use crate::records::{Content, Walker};
use crate::schedule::Dir;
use crate::transcript::hex;

/// One secret a side logged: the NSS key log line
/// `LABEL <client random> <secret>`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Secret {
    /// `CLIENT_HANDSHAKE_TRAFFIC_SECRET`, `CLIENT_RANDOM`, ...
    pub label: String,
    /// The ClientHello's random, which names the connection.
    pub client_random: Vec<u8>,
    /// The secret.
    pub secret: Vec<u8>,
}

impl fmt::Display for Secret {
    /// The NSS key log line (what Wireshark reads as `SSLKEYLOGFILE`).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} {} {}",
            self.label,
            hex(&self.client_random),
            hex(&self.secret)
        )
    }
}

/// Collects the secrets a run's sides log, beside any `KeyLog` the
/// configs already had (which still gets every line).
#[derive(Debug)]
pub(crate) struct Recorder {
    secrets: std::sync::Mutex<Vec<Secret>>,
    inner: std::sync::Arc<dyn crate::rustls::KeyLog>,
}

impl Recorder {
    pub(crate) fn new() -> std::sync::Arc<Self> {
        std::sync::Arc::new(Self {
            secrets: std::sync::Mutex::new(Vec::new()),
            inner: std::sync::Arc::new(crate::rustls::NoKeyLog),
        })
    }

    /// A recorder that also passes every secret on to `inner`.
    pub(crate) fn wrapping(
        self: &std::sync::Arc<Self>,
        inner: std::sync::Arc<dyn crate::rustls::KeyLog>,
    ) -> std::sync::Arc<Tee> {
        std::sync::Arc::new(Tee {
            recorder: self.clone(),
            inner,
        })
    }

    /// How many secrets have been logged.
    pub(crate) fn len(&self) -> usize {
        self.secrets
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .len()
    }

    /// The secrets logged so far.
    pub(crate) fn secrets(&self) -> Vec<Secret> {
        self.secrets
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .clone()
    }
}

impl crate::rustls::KeyLog for Recorder {
    fn log(&self, label: &str, client_random: &[u8], secret: &[u8]) {
        self.secrets
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .push(Secret {
                label: label.to_string(),
                client_random: client_random.to_vec(),
                secret: secret.to_vec(),
            });
        self.inner.log(label, client_random, secret);
    }
}

/// A config's own `KeyLog` and the recorder, both fed.
#[derive(Debug)]
pub(crate) struct Tee {
    recorder: std::sync::Arc<Recorder>,
    inner: std::sync::Arc<dyn crate::rustls::KeyLog>,
}

impl crate::rustls::KeyLog for Tee {
    fn log(&self, label: &str, client_random: &[u8], secret: &[u8]) {
        self.recorder.log(label, client_random, secret);
        self.inner.log(label, client_random, secret);
    }
}

/// What a decrypted record held.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Opened {
    /// The inner content type and what is inside, as for a plaintext
    /// record.
    Plain {
        content_type: u8,
        contents: Vec<Content>,
        len: usize,
    },
    /// No key this direction could use opened it (a corrupted record).
    Failed,
}

/// Both directions' decryption state for one connection.
pub(crate) struct Decryptor {
    secrets: Vec<Secret>,
    client_random: Option<Vec<u8>>,
    server_random: Option<Vec<u8>>,
    suite: Option<&'static Suite>,
    tls13: bool,
    dirs: [DirState; 2],
}

#[derive(Default)]
struct DirState {
    /// The key in use: its place in the direction's key order, and the
    /// record sequence number it is at.
    stage: usize,
    seq: u64,
    key: Option<Key>,
    /// TLS 1.3: the application traffic secret of the last stage, for the
    /// next KeyUpdate's.
    app_secret: Option<Vec<u8>>,
    /// The decrypted handshake stream, which may span records.
    inner: Walker,
}

struct Key {
    aead: LessSafeKey,
    iv: [u8; 12],
    /// TLS 1.2 AES-GCM: the nonce is the 4-byte IV and 8 explicit bytes
    /// sent in the record.
    explicit_nonce: bool,
}

impl Decryptor {
    /// A decryptor for a run whose sides logged `secrets`; with none,
    /// nothing decrypts (the ladder then says "encrypted").
    pub(crate) fn new(secrets: Vec<Secret>) -> Self {
        Self {
            secrets,
            client_random: None,
            server_random: None,
            suite: None,
            tls13: false,
            dirs: Default::default(),
        }
    }

    /// Whether a (retry or real) ServerHello said TLS 1.3.
    pub(crate) fn is_tls13(&self) -> bool {
        self.tls13
    }

    /// Replaces the secrets (a traced connection logs them as it goes).
    pub(crate) fn set_secrets(&mut self, secrets: Vec<Secret>) {
        self.secrets = secrets;
    }

    /// Whether there is anything to decrypt with.
    pub(crate) fn has_secrets(&self) -> bool {
        !self.secrets.is_empty()
    }

    /// Learns from a whole plaintext handshake message (type, body).
    pub(crate) fn hello(&mut self, typ: u8, body: &[u8]) {
        match typ {
            1 if body.len() >= 34 => self.client_random = Some(body[2..34].to_vec()),
            2 if body.len() >= 34 => {
                let random = &body[2..34];
                // A HelloRetryRequest is a ServerHello with this random;
                // the real one follows. It already says TLS 1.3.
                if random == HELLO_RETRY_RANDOM {
                    self.tls13 |= parse_server_hello(body).is_some_and(|(_, tls13)| tls13);
                    return;
                }
                self.server_random = Some(random.to_vec());
                if let Some((suite, tls13)) = parse_server_hello(body) {
                    self.suite = SUITES.iter().find(|s| s.id == suite);
                    self.tls13 = tls13;
                }
            }
            _ => {}
        }
    }

    /// Opens an encrypted record in `dir` (`header` and `body` as on the
    /// wire), or `None` when there are no secrets for it.
    pub(crate) fn open(&mut self, dir: Dir, header: [u8; 5], body: &[u8]) -> Option<Opened> {
        if !self.has_secrets() || self.suite.is_none() || self.client_random.is_none() {
            return None;
        }
        let d = dir as usize;
        if let Some(key) = &self.dirs[d].key {
            let mut plain = body.to_vec();
            if let Some(len) = open_with(key, self.dirs[d].seq, header, &mut plain, self.tls13) {
                self.dirs[d].seq += 1;
                return Some(self.describe(d, header, plain, len));
            }
        }
        // The next keys in order (a stage may be absent: no early data).
        let current = self.dirs[d].stage;
        let first = if self.dirs[d].key.is_none() {
            current
        } else {
            current + 1
        };
        for stage in first..first + 3 {
            let Some((key, app_secret)) = self.key(dir, stage) else {
                continue;
            };
            let mut plain = body.to_vec();
            if let Some(len) = open_with(&key, 0, header, &mut plain, self.tls13) {
                let state = &mut self.dirs[d];
                state.stage = stage;
                state.key = Some(key);
                state.seq = 1;
                if app_secret.is_some() {
                    state.app_secret = app_secret;
                }
                return Some(self.describe(d, header, plain, len));
            }
        }
        Some(Opened::Failed)
    }

    /// The inner type and contents of a record's plaintext (`len` bytes at
    /// the front of `plain`).
    fn describe(&mut self, d: usize, header: [u8; 5], mut plain: Vec<u8>, len: usize) -> Opened {
        plain.truncate(len);
        let content_type = if self.tls13 {
            // TLSInnerPlaintext: content, the real type, zero padding.
            while plain.last() == Some(&0) {
                plain.pop();
            }
            plain.pop().unwrap_or(0)
        } else {
            header[0]
        };
        let contents = self.dirs[d].inner.inner(content_type, &plain);
        Opened::Plain {
            content_type,
            contents,
            len: plain.len(),
        }
    }

    /// The key of `stage` in `dir`'s order, if its secret is known, with
    /// the application traffic secret it belongs to (TLS 1.3, stages 2
    /// and on). Stages: 0 early data (client), 1 handshake, 2 application
    /// secret 0, 3 and on one KeyUpdate each (derived from the stage
    /// before, so only the stage after the current one).
    fn key(&self, dir: Dir, stage: usize) -> Option<(Key, Option<Vec<u8>>)> {
        let suite = self.suite?;
        let client = dir == Dir::ClientToServer;
        let (alg, key_len) = (suite.aead, suite.aead.key_len());
        match suite.version {
            Version::Tls13(hash) => {
                let labels: [&str; 3] = if client {
                    [
                        "CLIENT_EARLY_TRAFFIC_SECRET",
                        "CLIENT_HANDSHAKE_TRAFFIC_SECRET",
                        "CLIENT_TRAFFIC_SECRET_0",
                    ]
                } else {
                    [
                        "",
                        "SERVER_HANDSHAKE_TRAFFIC_SECRET",
                        "SERVER_TRAFFIC_SECRET_0",
                    ]
                };
                let (secret, app) = match labels.get(stage) {
                    Some(label) => {
                        let secret = self.secret(label)?;
                        let app = (stage == 2).then(|| secret.clone());
                        (secret, app)
                    }
                    None => {
                        let state = &self.dirs[dir as usize];
                        if stage != state.stage + 1 {
                            return None;
                        }
                        let last = state.app_secret.as_ref()?;
                        let mut next = vec![0u8; last.len()];
                        expand_label(hash, last, b"traffic upd", &mut next)?;
                        (next.clone(), Some(next))
                    }
                };
                let mut key = vec![0u8; key_len];
                let mut iv = [0u8; 12];
                expand_label(hash, &secret, b"key", &mut key)?;
                expand_label(hash, &secret, b"iv", &mut iv)?;
                let key = Key {
                    aead: LessSafeKey::new(UnboundKey::new(alg, &key).ok()?),
                    iv,
                    explicit_nonce: false,
                };
                Some((key, app))
            }
            Version::Tls12(prf) => {
                if stage != 0 {
                    return None;
                }
                let master = self.secret("CLIENT_RANDOM")?;
                let gcm = alg != &aead::CHACHA20_POLY1305;
                let iv_len = if gcm { 4 } else { 12 };
                let seed = [self.server_random.clone()?, self.client_random.clone()?].concat();
                let block = tls_prf::Secret::new(prf, &master)
                    .ok()?
                    .derive(b"key expansion", &seed, 2 * (key_len + iv_len))
                    .ok()?;
                let block = block.as_ref();
                let (keys, ivs) = block.split_at(2 * key_len);
                let (key, iv) = if client {
                    (&keys[..key_len], &ivs[..iv_len])
                } else {
                    (&keys[key_len..], &ivs[iv_len..])
                };
                let mut full_iv = [0u8; 12];
                full_iv[..iv_len].copy_from_slice(iv);
                let key = Key {
                    aead: LessSafeKey::new(UnboundKey::new(alg, key).ok()?),
                    iv: full_iv,
                    explicit_nonce: gcm,
                };
                Some((key, None))
            }
        }
    }

    fn secret(&self, label: &str) -> Option<Vec<u8>> {
        let random = self.client_random.as_ref()?;
        self.secrets
            .iter()
            .find(|s| s.label == label && &s.client_random == random)
            .map(|s| s.secret.clone())
    }
}

/// Opens `body` in place with `key` at sequence number `seq`; the
/// plaintext's length (at the front of `body`) on success.
fn open_with(
    key: &Key,
    seq: u64,
    header: [u8; 5],
    body: &mut Vec<u8>,
    tls13: bool,
) -> Option<usize> {
    let tag = key.aead.algorithm().tag_len();
    let (nonce, aad, start) = if key.explicit_nonce {
        // TLS 1.2 GCM: 4 bytes of IV, 8 sent; the AAD is seq, type,
        // version and the plaintext length.
        if body.len() < 8 + tag {
            return None;
        }
        let mut nonce = [0u8; 12];
        nonce[..4].copy_from_slice(&key.iv[..4]);
        nonce[4..].copy_from_slice(&body[..8]);
        (nonce, tls12_aad(seq, header, body.len() - 8 - tag), 8)
    } else {
        let mut nonce = key.iv;
        for (n, s) in nonce[4..].iter_mut().zip(seq.to_be_bytes()) {
            *n ^= s;
        }
        let aad = if tls13 {
            header.to_vec()
        } else {
            tls12_aad(seq, header, body.len().checked_sub(tag)?)
        };
        (nonce, aad, 0)
    };
    let sealed = &mut body[start..];
    let plain = key
        .aead
        .open_in_place(Nonce::assume_unique_for_key(nonce), Aad::from(aad), sealed)
        .ok()?
        .len();
    if start > 0 {
        body.drain(..start);
    }
    Some(plain)
}

fn tls12_aad(seq: u64, header: [u8; 5], plain_len: usize) -> Vec<u8> {
    let mut aad = seq.to_be_bytes().to_vec();
    aad.extend_from_slice(&header[..3]);
    aad.extend_from_slice(&(plain_len as u16).to_be_bytes());
    aad
}

/// HKDF-Expand-Label(secret, label, "", out.len()) (RFC 8446 section
/// 7.1); `None` for a secret no hash could have made (an edited
/// transcript).
fn expand_label(hash: hkdf::Algorithm, secret: &[u8], label: &[u8], out: &mut [u8]) -> Option<()> {
    if secret.len() != hkdf::KeyType::len(&hash) {
        return None;
    }
    /// The output length as aws-lc-rs' HKDF takes it.
    struct Len(usize);
    impl hkdf::KeyType for Len {
        fn len(&self) -> usize {
            self.0
        }
    }
    let len = (out.len() as u16).to_be_bytes();
    let label_len = [(6 + label.len()) as u8];
    let info: [&[u8]; 5] = [&len, &label_len, b"tls13 ", label, &[0]];
    hkdf::Prk::new_less_safe(hash, secret)
        .expand(&info, Len(out.len()))
        .ok()?
        .fill(out)
        .ok()
}

/// A cipher suite rustls offers, as far as decrypting it goes.
struct Suite {
    id: u16,
    aead: &'static aead::Algorithm,
    version: Version,
}

#[derive(Clone, Copy)]
enum Version {
    /// TLS 1.3, with the suite's HKDF hash.
    Tls13(hkdf::Algorithm),
    /// TLS 1.2, with the suite's PRF.
    Tls12(&'static tls_prf::Algorithm),
}

/// The suites of rustls' aws-lc-rs provider (RFC 8446 appendix B.4, RFC
/// 5289, RFC 7905).
static SUITES: [Suite; 9] = [
    Suite {
        id: 0x1301,
        aead: &aead::AES_128_GCM,
        version: Version::Tls13(hkdf::HKDF_SHA256),
    },
    Suite {
        id: 0x1302,
        aead: &aead::AES_256_GCM,
        version: Version::Tls13(hkdf::HKDF_SHA384),
    },
    Suite {
        id: 0x1303,
        aead: &aead::CHACHA20_POLY1305,
        version: Version::Tls13(hkdf::HKDF_SHA256),
    },
    Suite {
        id: 0xc02b,
        aead: &aead::AES_128_GCM,
        version: Version::Tls12(&tls_prf::P_SHA256),
    },
    Suite {
        id: 0xc02c,
        aead: &aead::AES_256_GCM,
        version: Version::Tls12(&tls_prf::P_SHA384),
    },
    Suite {
        id: 0xcca9,
        aead: &aead::CHACHA20_POLY1305,
        version: Version::Tls12(&tls_prf::P_SHA256),
    },
    Suite {
        id: 0xc02f,
        aead: &aead::AES_128_GCM,
        version: Version::Tls12(&tls_prf::P_SHA256),
    },
    Suite {
        id: 0xc030,
        aead: &aead::AES_256_GCM,
        version: Version::Tls12(&tls_prf::P_SHA384),
    },
    Suite {
        id: 0xcca8,
        aead: &aead::CHACHA20_POLY1305,
        version: Version::Tls12(&tls_prf::P_SHA256),
    },
];

/// The random of a HelloRetryRequest (RFC 8446 section 4.1.3).
const HELLO_RETRY_RANDOM: [u8; 32] = [
    0xcf, 0x21, 0xad, 0x74, 0xe5, 0x9a, 0x61, 0x11, 0xbe, 0x1d, 0x8c, 0x02, 0x1e, 0x65, 0xb8, 0x91,
    0xc2, 0xa2, 0x11, 0x16, 0x7a, 0xbb, 0x8c, 0x5e, 0x07, 0x9e, 0x09, 0xe2, 0xc8, 0xa8, 0x33, 0x9c,
];

/// A ServerHello body's cipher suite, and whether it selects TLS 1.3
/// (its supported_versions extension says 0x0304).
fn parse_server_hello(body: &[u8]) -> Option<(u16, bool)> {
    let mut at = 34;
    let sid = usize::from(*body.get(at)?);
    at += 1 + sid;
    let suite = u16::from_be_bytes([*body.get(at)?, *body.get(at + 1)?]);
    at += 3; // suite, compression
    let mut tls13 = false;
    if let (Some(&a), Some(&b)) = (body.get(at), body.get(at + 1)) {
        let end = (at + 2 + usize::from(u16::from_be_bytes([a, b]))).min(body.len());
        at += 2;
        while at + 4 <= end {
            let typ = u16::from_be_bytes([body[at], body[at + 1]]);
            let len = usize::from(u16::from_be_bytes([body[at + 2], body[at + 3]]));
            if typ == 43 && len == 2 && at + 6 <= end {
                tls13 = body[at + 4..at + 6] == [3, 4];
            }
            at += 4 + len;
        }
    }
    Some((suite, tls13))
}
