//! Shared test support: certificates, configs, and a bounded driver that
//! moves bytes between two engines the way the contract says a driver must.
#![allow(dead_code, unreachable_pub)]

use std::sync::Arc;

use rcgen::{BasicConstraints, CertificateParams, CertifiedKey, IsCa, KeyPair};
use tlsbio::bio::Bio;
use tlsbio::rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
use tlsbio::rustls::{self, ClientConfig, RootCertStore, ServerConfig};
use tlsbio::{ClientContext, Engine, Error, ServerContext, Want};

mod backend;
#[allow(unused_imports)] // each test binary uses some of them
pub use backend::{alpn, client_config, server_config, Alpn, ALL};

/// A validated client context, for a config the test built.
pub fn cctx(config: Arc<ClientConfig>) -> ClientContext {
    ClientContext::new(config).unwrap()
}

/// A validated server context, for a config the test built.
pub fn sctx(config: Arc<ServerConfig>) -> ServerContext {
    ServerContext::new(config).unwrap()
}

/// A CA and leaf certificates it issued.
pub struct Pki {
    pub ca: CertifiedKey,
}

pub struct Leaf {
    pub chain: Vec<CertificateDer<'static>>,
    pub key: PrivateKeyDer<'static>,
}

impl Pki {
    pub fn new() -> Self {
        let mut params = CertificateParams::new(Vec::<String>::new()).unwrap();
        params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        params
            .distinguished_name
            .push(rcgen::DnType::CommonName, "tlsbio test ca");
        let key_pair = KeyPair::generate().unwrap();
        let cert = params.self_signed(&key_pair).unwrap();
        Self {
            ca: CertifiedKey { cert, key_pair },
        }
    }

    pub fn leaf(&self, names: &[&str]) -> Leaf {
        let params =
            CertificateParams::new(names.iter().map(|n| n.to_string()).collect::<Vec<_>>())
                .unwrap();
        let key_pair = KeyPair::generate().unwrap();
        let cert = params
            .signed_by(&key_pair, &self.ca.cert, &self.ca.key_pair)
            .unwrap();
        Leaf {
            chain: vec![cert.der().clone()],
            key: PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(key_pair.serialize_der())),
        }
    }

    pub fn roots(&self) -> RootCertStore {
        let mut roots = RootCertStore::empty();
        roots.add(self.ca.cert.der().clone()).unwrap();
        roots
    }

    pub fn client_config(
        &self,
        versions: &[&'static rustls::SupportedProtocolVersion],
    ) -> ClientConfig {
        client_config(versions, self.roots(), None)
    }

    pub fn server_config(
        &self,
        versions: &[&'static rustls::SupportedProtocolVersion],
        names: &[&str],
    ) -> ServerConfig {
        let leaf = self.leaf(names);
        server_config(versions, leaf.chain, leaf.key, None)
    }
}

pub const TLS13: &[&rustls::SupportedProtocolVersion] = &[&rustls::version::TLS13];
pub const TLS12: &[&rustls::SupportedProtocolVersion] = &[&rustls::version::TLS12];

/// Client and server configs for `localhost` with one protocol version.
pub fn configs(
    versions: &[&'static rustls::SupportedProtocolVersion],
) -> (Arc<ClientConfig>, Arc<ServerConfig>) {
    let pki = Pki::new();
    (
        Arc::new(pki.client_config(versions)),
        Arc::new(pki.server_config(versions, &["localhost"])),
    )
}

pub fn name() -> rustls::pki_types::ServerName<'static> {
    "localhost".try_into().unwrap()
}

/// Moves up to `max` bytes from `from` to `to`, `chunk` bytes at a time,
/// respecting `to`'s write guarantee. Returns the bytes moved.
pub fn transfer(from: &mut impl Bio, to: &mut impl Bio, chunk: usize, max: usize) -> usize {
    let mut moved = 0;
    let mut buf = vec![0u8; chunk.clamp(1, 1 << 16)];
    while moved < max {
        let n = buf
            .len()
            .min(to.write_guarantee())
            .min(from.pending())
            .min(max - moved);
        if n == 0 {
            break;
        }
        let got = from.read(&mut buf[..n]);
        let put = to.write(&buf[..got]);
        assert_eq!(put, got, "write guarantee was not honoured");
        moved += got;
    }
    moved
}

/// Moves up to `max` bytes of `from`'s output into `to`'s read BIO,
/// `chunk` bytes at a time: the driver's send, through the engine's one
/// output path. Returns the bytes moved.
pub fn carry<R1: Bio, W1: Bio, R2: Bio, W2: Bio>(
    from: &mut Engine<R1, W1>,
    to: &mut Engine<R2, W2>,
    chunk: usize,
    max: usize,
) -> usize {
    let mut moved = 0;
    while moved < max {
        let rbio = to.rbio_mut();
        let n = from.take_output(|wbio| transfer(wbio, rbio, chunk, max - moved));
        if n == 0 {
            break;
        }
        moved += n;
    }
    moved
}

/// What a side of a [`drive`] run reached.
#[derive(Debug)]
pub struct Outcome {
    pub steps: usize,
    pub client: Result<(), Error>,
    pub server: Result<(), Error>,
}

/// What a side waits for after a want, as a strict driver sees it.
#[derive(Clone, Copy, Debug)]
enum Wait {
    /// Never called, or done with its last want: call it.
    Ready,
    /// Call it once its read BIO holds this many bytes (or ended).
    Read(usize),
    /// Call it once less than this much output is pending.
    Write(usize),
}

impl Wait {
    fn after<R: Bio, W: Bio>(result: &Result<(), Error>, engine: &Engine<R, W>) -> Self {
        match result {
            Err(Error::Want(Want::Read { at_least })) => {
                Self::Read(engine.rbio().pending() + at_least)
            }
            Err(Error::Want(Want::Write)) => Self::Write(engine.pending_output()),
            _ => Self::Ready,
        }
    }

    fn met<R: Bio, W: Bio>(self, engine: &Engine<R, W>) -> bool {
        match self {
            Self::Ready => true,
            Self::Read(until) => engine.rbio().pending() >= until || engine.rbio().is_shutdown_wr(),
            Self::Write(below) => engine.pending_output() < below,
        }
    }
}

/// Drives a handshake between two engines, moving at most `chunk` bytes per
/// step each way, as a *strict* driver: a side is called only when the want
/// it last returned is met (the bytes it asked for arrived, or some of its
/// output was taken), never once more. A correct engine needs nothing
/// else, so a lost wake-up shows as a stall. Stops when both are done, one
/// fails, or nothing moves any more; never loops forever.
pub fn handshake<R1: Bio, W1: Bio, R2: Bio, W2: Bio>(
    client: &mut Engine<R1, W1>,
    server: &mut Engine<R2, W2>,
    chunk: usize,
) -> Outcome {
    let mut steps = 0;
    let (mut c, mut s): (Result<(), Error>, Result<(), Error>) = (
        Err(Want::Read { at_least: 1 }.into()),
        Err(Want::Read { at_least: 1 }.into()),
    );
    let (mut c_wait, mut s_wait) = (Wait::Ready, Wait::Ready);
    loop {
        steps += 1;
        let mut called = false;
        if c_wait.met(client) {
            c = step_handshake(client);
            c_wait = Wait::after(&c, client);
            called = true;
        }
        if s_wait.met(server) {
            s = step_handshake(server);
            s_wait = Wait::after(&s, server);
            called = true;
        }
        let moved = carry(client, server, chunk, chunk) + carry(server, client, chunk, chunk);
        let done = c.is_ok() && s.is_ok();
        let fatal = matches!(&c, Err(e) if e.want().is_none())
            || matches!(&s, Err(e) if e.want().is_none());
        if done || fatal || (moved == 0 && !called) || steps > 1_000_000 {
            return Outcome {
                steps,
                client: c,
                server: s,
            };
        }
    }
}

/// One handshake call; once done, keep reading like a real driver would, so
/// that post-handshake messages (tickets) are consumed. No application data
/// is expected during a handshake.
fn step_handshake<R: Bio, W: Bio>(engine: &mut Engine<R, W>) -> Result<(), Error> {
    engine.do_handshake()?;
    let mut scratch = [0u8; 1];
    match engine.read(&mut scratch) {
        Ok(n) => panic!("{n} bytes of unexpected application data during the handshake"),
        Err(Error::Want(_)) => Ok(()),
        Err(e) => Err(e),
    }
}

/// Sends `data` from `tx` to `rx`, moving `chunk` bytes at a time, and
/// returns what `rx` read. Panics on any error other than a want.
pub fn send<R1: Bio, W1: Bio, R2: Bio, W2: Bio>(
    tx: &mut Engine<R1, W1>,
    rx: &mut Engine<R2, W2>,
    data: &[u8],
    chunk: usize,
) -> Vec<u8> {
    let mut sent = 0;
    let mut got = Vec::new();
    let mut buf = vec![0u8; 4096];
    let mut idle = 0;
    while got.len() < data.len() {
        let mut progress = false;
        if sent < data.len() {
            match tx.write(&data[sent..]) {
                Ok(n) => {
                    sent += n;
                    progress |= n > 0;
                }
                Err(Error::Want(_)) => {}
                Err(e) => panic!("write failed: {e}"),
            }
        }
        // The driver rule: after every call, send all output.
        progress |= carry(tx, rx, chunk, chunk) > 0;
        // The receiver's replies (tickets, key updates) go back too.
        progress |= carry(rx, tx, chunk, usize::MAX) > 0;
        match rx.read(&mut buf) {
            Ok(n) => {
                got.extend_from_slice(&buf[..n]);
                progress |= n > 0;
            }
            Err(Error::Want(Want::Read { .. } | Want::Write)) => {}
            Err(e) => panic!("read failed: {e}"),
        }
        idle = if progress { 0 } else { idle + 1 };
        assert!(
            idle < 8,
            "stalled after {} of {} bytes (sent {sent}): tx {tx:?} rbio {} wbio {}; rx {rx:?} rbio {} wbio {}",
            got.len(),
            data.len(),
            tx.rbio().pending(),
            tx.wbio().pending(),
            rx.rbio().pending(),
            rx.wbio().pending()
        );
    }
    got
}

/// A deterministic pseudo-random payload.
pub fn payload(len: usize, seed: u64) -> Vec<u8> {
    let mut x = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    (0..len)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x as u8
        })
        .collect()
}

/// A client and a server with VecBios, handshake done and the server's
/// tickets delivered.
pub fn established(
    versions: &'static [&'static rustls::SupportedProtocolVersion],
) -> (
    Engine<tlsbio::bio::VecBio, tlsbio::bio::VecBio>,
    Engine<tlsbio::bio::VecBio, tlsbio::bio::VecBio>,
) {
    use tlsbio::bio::VecBio;
    let (cc, sc) = configs(versions);
    let mut client = Engine::client(&cctx(cc), name(), VecBio::new(), VecBio::new()).unwrap();
    let mut server = Engine::server(&sctx(sc), VecBio::new(), VecBio::new());
    let out = handshake(&mut client, &mut server, usize::MAX);
    assert!(out.client.is_ok() && out.server.is_ok(), "{out:?}");
    // Deliver anything still in flight (TLS 1.3 tickets).
    carry(&mut server, &mut client, usize::MAX, usize::MAX);
    (client, server)
}
