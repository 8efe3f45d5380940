//! **Insecure**, seeded crypto for reproducible tests. Never use it to
//! protect real traffic.
//!
//! The stock rustls providers draw client and server randoms, session IDs,
//! key shares and ticket nonces from the operating system, so two runs of
//! the same test put different bytes on the wire. This module swaps every
//! source of randomness and time for seeded, injected ones:
//!
//! - a [`SecureRandom`](crate::rustls::crypto::SecureRandom) that is a ChaCha20 stream keyed by the seed;
//! - an X25519 key exchange (x25519-dalek) whose private keys come from
//!   that stream;
//! - a key provider whose signatures repeat: Ed25519 (deterministic by
//!   construction, RFC 8032), ECDSA P-256 with RFC 6979 nonces, and RSA
//!   with RSA-PSS salts and blinding drawn from the stream (or PKCS#1
//!   v1.5); any other kind of key is refused with an error rather than
//!   silently making runs differ;
//! - a clock the test moves ([`Clock`]) for certificate validity and ticket ages;
//! - [`DeterministicPki`]: a CA, a server leaf and a client leaf whose
//!   keys derive from the seed ([`LeafKey`]: Ed25519, ECDSA P-256, or one
//!   fixed RSA key), so even the certificates are byte-identical between
//!   runs;
//! - client certificates: [`ClientAuth`] for servers,
//!   [`InsecureDeterministicCrypto::with_client_certificate`] for clients.
//!
//! Bulk encryption, hashing and signature verification are aws-lc-rs', as
//! in production: they are deterministic already.
//!
//! # Why this cannot be picked up by accident
//!
//! It lives behind the `insecure-deterministic-crypto` feature, off by
//! default; the entry point is named [`InsecureDeterministicCrypto`]; and a
//! provider built here is never installed as a process default. Anyone who
//! knows the seed knows every secret of every connection made with it.
//!
//! # Streams and reuse
//!
//! The client and server sides get separate streams derived from the seed
//! (so the bytes on the wire do not depend on which side ran first), and
//! each call to [`InsecureDeterministicCrypto::client_provider`] or
//! [`server_provider`](InsecureDeterministicCrypto::server_provider) starts
//! its stream afresh. A config made from one provider and used for two
//! connections gives the second connection the next part of the stream:
//! still reproducible, but not equal to the first.
//!
//! rustls wants the random source and key-exchange groups as `&'static`, so
//! each provider leaks two small objects (a few hundred bytes). That is
//! fine for tests and one more reason not to use this elsewhere.
//!
//! # Example
//!
//! ```
//! use tlsbio_memory::deterministic::{DeterministicPki, InsecureDeterministicCrypto};
//! use tlsbio_memory::rustls::version::TLS13;
//!
//! let crypto = InsecureDeterministicCrypto::new(7);
//! let pki = DeterministicPki::new(7, &["localhost"]);
//! let client = crypto.client_config(&pki, &[&TLS13]);
//! let server = crypto.server_config(&pki, &[&TLS13]);
//! # let _ = (client, server);
//! ```

use std::fmt;
use std::sync::{Arc, Mutex, PoisonError};

use crate::rustls::crypto::CryptoProvider;
use crate::rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer, UnixTime};
use crate::rustls::time_provider::TimeProvider;
use crate::rustls::{ClientConfig, RootCertStore, ServerConfig, SupportedProtocolVersion};
use rand_chacha::rand_core::{RngCore, SeedableRng};
use rand_chacha::ChaCha20Rng;

// What differs between the rustls versions: the crypto traits' shapes and
// the config builders. The keys, streams and certificates are shared.
#[cfg(not(feature = "rustls-0-24"))]
#[path = "rustls023.rs"]
mod backend;
#[cfg(feature = "rustls-0-24")]
#[path = "rustls024.rs"]
mod backend;
mod keys;
use backend::provider;
pub use keys::LeafKey;

/// The clock every config from this module sees unless told otherwise:
/// 2026-01-01T00:00:00Z.
pub const DEFAULT_TIME: u64 = 1_767_225_600;

/// Seeded crypto for tests. **Insecure by design**: see the
/// [module docs](self).
#[derive(Clone, Debug)]
pub struct InsecureDeterministicCrypto {
    seed: u64,
    clock: Clock,
    groups: Vec<KxGroup>,
    client_auth: ClientAuth,
    client_certificate: bool,
}

/// Whether a server config from [`InsecureDeterministicCrypto`] asks for
/// client certificates, verified against the
/// [`DeterministicPki`]'s CA.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ClientAuth {
    /// No CertificateRequest (the default).
    #[default]
    Off,
    /// Asked for; a client without one still connects.
    Optional,
    /// Asked for; a client without one is refused
    /// (`certificate_required` in TLS 1.3).
    Required,
}

/// A key exchange group the deterministic provider can offer, its keys
/// from the seeded stream.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum KxGroup {
    /// X25519 (x25519-dalek), the default.
    X25519,
    /// NIST P-256 ECDH (aws-lc-rs, with the private scalar drawn from the
    /// stream).
    Secp256r1,
}

impl InsecureDeterministicCrypto {
    /// Crypto whose every random byte derives from `seed`, with the clock
    /// at [`DEFAULT_TIME`].
    pub fn new(seed: u64) -> Self {
        Self {
            seed,
            clock: Clock::at(DEFAULT_TIME),
            groups: vec![KxGroup::X25519],
            client_auth: ClientAuth::Off,
            client_certificate: false,
        }
    }

    /// The same crypto whose server configs ask for client certificates
    /// as `auth` says:
    ///
    /// ```
    /// use tlsbio_memory::deterministic::{ClientAuth, DeterministicPki, InsecureDeterministicCrypto};
    /// use tlsbio_memory::rustls::version::TLS13;
    ///
    /// let pki = DeterministicPki::new(1, &["localhost"]);
    /// let crypto = InsecureDeterministicCrypto::new(1).with_client_auth(ClientAuth::Required);
    /// let server = crypto.server_config(&pki, &[&TLS13]);
    /// let client = crypto.with_client_certificate().client_config(&pki, &[&TLS13]);
    /// # let _ = (server, client);
    /// ```
    pub fn with_client_auth(mut self, auth: ClientAuth) -> Self {
        self.client_auth = auth;
        self
    }

    /// The same crypto whose client configs present the
    /// [`DeterministicPki`]'s client certificate when a server asks.
    pub fn with_client_certificate(mut self) -> Self {
        self.client_certificate = true;
        self
    }

    /// The same crypto offering `groups`, in preference order (default:
    /// X25519 alone). A client sends its key share for the first; a
    /// server that takes only another makes a HelloRetryRequest:
    ///
    /// ```
    /// use tlsbio_memory::deterministic::{InsecureDeterministicCrypto, KxGroup};
    ///
    /// let client = InsecureDeterministicCrypto::new(1).with_groups(&[KxGroup::X25519, KxGroup::Secp256r1]);
    /// let server = InsecureDeterministicCrypto::new(1).with_groups(&[KxGroup::Secp256r1]);
    /// # let _ = (client, server);
    /// ```
    pub fn with_groups(mut self, groups: &[KxGroup]) -> Self {
        self.groups = groups.to_vec();
        self
    }

    /// The same crypto with a clock of its own at `unix_seconds`.
    pub fn with_time(mut self, unix_seconds: u64) -> Self {
        self.clock = Clock::at(unix_seconds);
        self
    }

    /// The clock every config made from this crypto reads (clones of the
    /// crypto share it): move it between connections to age tickets and
    /// certificates.
    ///
    /// ```
    /// use std::time::Duration;
    /// use tlsbio_memory::deterministic::{InsecureDeterministicCrypto, DEFAULT_TIME};
    ///
    /// let crypto = InsecureDeterministicCrypto::new(1);
    /// crypto.clock().advance(Duration::from_secs(25 * 3600));
    /// assert_eq!(crypto.clock().now(), DEFAULT_TIME + 25 * 3600);
    /// ```
    pub fn clock(&self) -> &Clock {
        &self.clock
    }

    /// The seed.
    pub fn seed(&self) -> u64 {
        self.seed
    }

    /// The injected clock, as rustls takes it.
    pub fn time_provider(&self) -> Arc<Clock> {
        Arc::new(self.clock.clone())
    }

    /// A provider for the client side, its random stream starting afresh.
    pub fn client_provider(&self) -> Arc<CryptoProvider> {
        Arc::new(provider(stream(self.seed, b"client"), &self.groups))
    }

    /// A provider for the server side, its random stream starting afresh.
    pub fn server_provider(&self) -> Arc<CryptoProvider> {
        Arc::new(provider(stream(self.seed, b"server"), &self.groups))
    }

    /// A client config trusting `pki`'s CA, for the given versions.
    pub fn client_config(
        &self,
        pki: &DeterministicPki,
        versions: &[&'static SupportedProtocolVersion],
    ) -> ClientConfig {
        self.build_client(self.client_provider(), pki, versions)
    }

    /// A server config presenting `pki`'s leaf, for the given versions.
    pub fn server_config(
        &self,
        pki: &DeterministicPki,
        versions: &[&'static SupportedProtocolVersion],
    ) -> ServerConfig {
        self.build_server(self.server_provider(), pki, versions)
    }

    fn build_client(
        &self,
        provider: Arc<CryptoProvider>,
        pki: &DeterministicPki,
        versions: &[&'static SupportedProtocolVersion],
    ) -> ClientConfig {
        let identity = self
            .client_certificate
            .then(|| (pki.client_chain(), pki.client_key()));
        backend::client_config(
            provider,
            self.time_provider(),
            pki.roots(),
            identity,
            versions,
        )
    }

    fn build_server(
        &self,
        provider: Arc<CryptoProvider>,
        pki: &DeterministicPki,
        versions: &[&'static SupportedProtocolVersion],
    ) -> ServerConfig {
        let clients = match self.client_auth {
            ClientAuth::Off => None,
            ClientAuth::Optional => Some((pki.roots(), false)),
            ClientAuth::Required => Some((pki.roots(), true)),
        };
        backend::server_config(
            provider,
            self.time_provider(),
            clients,
            pki.chain(),
            pki.key(),
            versions,
        )
    }
}

impl InsecureDeterministicCrypto {
    /// A client config that can be handed out again and again with the
    /// same random bytes: see [`Rewindable`].
    pub fn rewindable_client_config(
        &self,
        pki: &DeterministicPki,
        versions: &[&'static SupportedProtocolVersion],
    ) -> Rewindable<ClientConfig> {
        let key = stream_key(self.seed, b"client");
        let random = Arc::new(Mutex::new(ChaCha20Rng::from_seed(key)));
        let config = self.build_client(
            Arc::new(provider(random.clone(), &self.groups)),
            pki,
            versions,
        );
        Rewindable {
            config,
            random,
            key,
        }
    }

    /// A server config that can be handed out again and again with the
    /// same random bytes: see [`Rewindable`].
    pub fn rewindable_server_config(
        &self,
        pki: &DeterministicPki,
        versions: &[&'static SupportedProtocolVersion],
    ) -> Rewindable<ServerConfig> {
        let key = stream_key(self.seed, b"server");
        let random = Arc::new(Mutex::new(ChaCha20Rng::from_seed(key)));
        let config = self.build_server(
            Arc::new(provider(random.clone(), &self.groups)),
            pki,
            versions,
        );
        Rewindable {
            config,
            random,
            key,
        }
    }
}

/// A deterministic config whose every [`fresh`](Rewindable::fresh) copy
/// starts the random stream from the beginning and has empty session
/// caches, so the n-th connection made with it puts the same bytes on the
/// wire as the first.
///
/// For fuzz targets and other loops that run millions of handshakes: a new
/// provider per run would leak (see the [module docs](self)), and a shared
/// one would make each run differ from the last. Build it once (a
/// `thread_local!` suits, since copies from one handle share one stream),
/// then take a fresh copy per connection:
///
/// ```
/// use tlsbio_memory::deterministic::{DeterministicPki, InsecureDeterministicCrypto};
/// use tlsbio_memory::rustls::version::TLS13;
///
/// let crypto = InsecureDeterministicCrypto::new(3);
/// let pki = DeterministicPki::new(3, &["localhost"]);
/// let client = crypto.rewindable_client_config(&pki, &[&TLS13]);
/// let (a, b) = (client.fresh(), client.fresh());
/// # let _ = (a, b);
/// ```
pub struct Rewindable<C> {
    config: C,
    random: Stream,
    key: [u8; 32],
}

impl<C> fmt::Debug for Rewindable<C> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Rewindable").finish_non_exhaustive()
    }
}

impl<C> Rewindable<C> {
    /// Restarts the random stream shared by every copy.
    fn rewind(&self) {
        *self.random.lock().unwrap_or_else(PoisonError::into_inner) =
            ChaCha20Rng::from_seed(self.key);
    }
}

impl Rewindable<ClientConfig> {
    /// A copy of the config with the stream rewound and a new, empty
    /// session store: use it for one connection.
    pub fn fresh(&self) -> Arc<ClientConfig> {
        self.rewind();
        let mut config = self.config.clone();
        config.resumption = crate::rustls::client::Resumption::in_memory_sessions(4);
        Arc::new(config)
    }
}

impl Rewindable<ServerConfig> {
    /// A copy of the config with the stream rewound and a new, empty
    /// session cache: use it for one connection.
    pub fn fresh(&self) -> Arc<ServerConfig> {
        self.rewind();
        let mut config = self.config.clone();
        config.session_storage = crate::rustls::server::ServerSessionMemoryCache::new(4);
        Arc::new(config)
    }
}

/// A clock that stands still until the test moves it: rustls'
/// [`TimeProvider`], injected, in whole seconds. Clones share the time.
#[derive(Clone, Debug)]
pub struct Clock(Arc<std::sync::atomic::AtomicU64>);

impl Clock {
    /// A clock at `unix_seconds`.
    pub fn at(unix_seconds: u64) -> Self {
        Self(Arc::new(std::sync::atomic::AtomicU64::new(unix_seconds)))
    }

    /// The time, in seconds since the Unix epoch.
    pub fn now(&self) -> u64 {
        self.0.load(std::sync::atomic::Ordering::SeqCst)
    }

    /// Sets the time.
    pub fn set(&self, unix_seconds: u64) {
        self.0
            .store(unix_seconds, std::sync::atomic::Ordering::SeqCst);
    }

    /// Moves the time on by `by` (whole seconds).
    pub fn advance(&self, by: std::time::Duration) {
        self.0
            .fetch_add(by.as_secs(), std::sync::atomic::Ordering::SeqCst);
    }
}

impl TimeProvider for Clock {
    fn current_time(&self) -> Option<UnixTime> {
        Some(UnixTime::since_unix_epoch(std::time::Duration::from_secs(
            self.now(),
        )))
    }
}

/// A clock stopped at one instant: rustls' [`TimeProvider`], injected.
#[derive(Clone, Debug)]
pub struct FixedTime(pub UnixTime);

impl TimeProvider for FixedTime {
    fn current_time(&self) -> Option<UnixTime> {
        Some(self.0)
    }
}

type Stream = Arc<Mutex<ChaCha20Rng>>;

/// ChaCha20 keyed by the seed and a label, so that different roles never
/// share a stream.
fn stream(seed: u64, label: &[u8]) -> Stream {
    Arc::new(Mutex::new(ChaCha20Rng::from_seed(stream_key(seed, label))))
}

fn stream_key(seed: u64, label: &[u8]) -> [u8; 32] {
    let mut key = [0u8; 32];
    key[..8].copy_from_slice(&seed.to_le_bytes());
    let n = label.len().min(24);
    key[8..8 + n].copy_from_slice(&label[..n]);
    key
}

fn fill(stream: &Stream, buf: &mut [u8]) {
    stream
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .fill_bytes(buf);
}

/// The seeded random source.
struct SeededRandom(Stream);

impl fmt::Debug for SeededRandom {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SeededRandom (insecure, for tests)")
    }
}

/// X25519 whose private keys come from the stream.
struct SeededX25519(Stream);

impl fmt::Debug for SeededX25519 {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SeededX25519 (insecure, for tests)")
    }
}

impl SeededX25519 {
    fn share(&self) -> X25519Share {
        let mut secret = [0u8; 32];
        fill(&self.0, &mut secret);
        let secret = x25519_dalek::StaticSecret::from(secret);
        let public = x25519_dalek::PublicKey::from(&secret);
        X25519Share { secret, public }
    }
}

/// P-256 ECDH whose private scalars come from the stream.
struct SeededP256(Stream);

impl fmt::Debug for SeededP256 {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SeededP256 (insecure, for tests)")
    }
}

impl SeededP256 {
    /// A key share, `None` only if 64 draws in a row were no scalar (the
    /// rare one outside [1, n) is drawn again, so the stream stays the
    /// only source).
    fn share(&self) -> Option<P256Share> {
        use ::aws_lc_rs::agreement::{PrivateKey, ECDH_P256};
        for _ in 0..64 {
            let mut scalar = [0u8; 32];
            fill(&self.0, &mut scalar);
            if let Ok(private) = PrivateKey::from_private_key(&ECDH_P256, &scalar) {
                let public = private.compute_public_key().ok()?.as_ref().to_vec();
                return Some(P256Share { private, public });
            }
        }
        None
    }
}

struct P256Share {
    private: ::aws_lc_rs::agreement::PrivateKey,
    public: Vec<u8>,
}

impl P256Share {
    /// The shared secret, `None` for a peer key that is not a P-256 point.
    fn agree(&self, peer_pub_key: &[u8]) -> Option<Vec<u8>> {
        use ::aws_lc_rs::agreement::{agree, UnparsedPublicKey, ECDH_P256};
        agree(
            &self.private,
            UnparsedPublicKey::new(&ECDH_P256, peer_pub_key),
            (),
            |secret| Ok(secret.to_vec()),
        )
        .ok()
    }
}

struct X25519Share {
    secret: x25519_dalek::StaticSecret,
    public: x25519_dalek::PublicKey,
}

impl X25519Share {
    /// The shared secret, `None` for a peer key of the wrong length or a
    /// small-order point (an all-zero result, RFC 7748 section 6.1).
    fn agree(&self, peer_pub_key: &[u8]) -> Option<[u8; 32]> {
        let peer: [u8; 32] = peer_pub_key.try_into().ok()?;
        let shared = self
            .secret
            .diffie_hellman(&x25519_dalek::PublicKey::from(peer));
        shared.was_contributory().then(|| *shared.as_bytes())
    }
}

/// Loads Ed25519 keys through aws-lc-rs, ECDSA P-256 and RSA keys as
/// [`keys::Key`]s signing from the stream, and refuses every other kind:
/// their signatures would make runs differ.
struct SeededKeys(Stream);

impl fmt::Debug for SeededKeys {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SeededKeys (insecure, for tests)")
    }
}

/// Why [`SeededKeys`] refuses a key.
fn not_deterministic(what: impl fmt::Debug) -> String {
    format!(
        "the insecure deterministic provider signs only with Ed25519, ECDSA \
         P-256 and RSA keys ({what:?} signatures would be randomized)"
    )
}

/// A [`keys::Key`] as rustls sees it.
struct SeededKey(Arc<keys::Key>);

/// One signature with a [`SeededKey`], in one scheme.
struct SeededSigner {
    key: Arc<keys::Key>,
    scheme: u16,
}

impl SeededKey {
    /// A signer in the first scheme of ours the peer offered.
    fn signer(&self, offered: impl Iterator<Item = u16>) -> Option<SeededSigner> {
        let offered: Vec<u16> = offered.collect();
        Some(SeededSigner {
            key: self.0.clone(),
            scheme: self.0.choose(&offered)?,
        })
    }
}

impl SeededSigner {
    fn sign_message(&self, message: &[u8]) -> Result<Vec<u8>, crate::rustls::Error> {
        self.key
            .sign(self.scheme, message)
            .map_err(crate::rustls::Error::General)
    }
}

impl fmt::Debug for SeededSigner {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "SeededSigner({:#06x}, insecure, for tests)", self.scheme)
    }
}

impl fmt::Debug for SeededKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SeededKey (insecure, for tests)")
    }
}

/// A date: year, month, day (midnight UTC).
pub type Day = (i32, u8, u8);

/// A CA, a server leaf and a client leaf whose keys and certificates are
/// the same bytes for the same seed, names and [`LeafKey`]. The CA is
/// Ed25519 and signs both leaves; the client leaf is named
/// `client.tlsbio.test`.
#[derive(Clone)]
pub struct DeterministicPki {
    ca: CertificateDer<'static>,
    leaf: CertificateDer<'static>,
    leaf_key: Vec<u8>,
    client: CertificateDer<'static>,
    client_key: Vec<u8>,
}

impl fmt::Debug for DeterministicPki {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DeterministicPki").finish_non_exhaustive()
    }
}

impl DeterministicPki {
    /// A CA and Ed25519 leaves for `names` (DNS names or IP addresses),
    /// derived from `seed`.
    ///
    /// # Panics
    ///
    /// If a name is neither a valid DNS name nor an IP address: this is
    /// test set-up, not input handling.
    pub fn new(seed: u64, names: &[&str]) -> Self {
        Self::build(seed, names, None, LeafKey::Ed25519)
    }

    /// As [`new`](Self::new), with leaves of another kind of key:
    ///
    /// ```
    /// use tlsbio_memory::deterministic::{DeterministicPki, InsecureDeterministicCrypto, LeafKey};
    /// use tlsbio_memory::rustls::version::TLS13;
    ///
    /// let pki = DeterministicPki::with_key(1, &["localhost"], LeafKey::EcdsaP256);
    /// let server = InsecureDeterministicCrypto::new(1).server_config(&pki, &[&TLS13]);
    /// # let _ = server;
    /// ```
    pub fn with_key(seed: u64, names: &[&str], key: LeafKey) -> Self {
        Self::build(seed, names, None, key)
    }

    /// As [`new`](Self::new), with the leaf valid only from `not_before`
    /// to `not_after` (year, month, day; midnight UTC), for tests of
    /// expiry with a [`Clock`].
    pub fn valid_between(seed: u64, names: &[&str], not_before: Day, not_after: Day) -> Self {
        Self::build(seed, names, Some((not_before, not_after)), LeafKey::Ed25519)
    }

    fn build(seed: u64, names: &[&str], validity: Option<(Day, Day)>, kind: LeafKey) -> Self {
        let keys = stream(seed, b"pki");
        // The order of the draws is part of the output: the CA's and the
        // Ed25519 leaf's keys come first, as before other kinds existed.
        let ca_key = ed25519_key(&keys);
        let leaf_key = leaf_key_pair(&keys, kind);
        let client_key = leaf_key_pair(&keys, kind);

        let mut ca_params =
            rcgen::CertificateParams::new(Vec::<String>::new()).expect("no names is valid");
        ca_params.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
        ca_params
            .distinguished_name
            .push(rcgen::DnType::CommonName, "tlsbio deterministic test CA");
        let ca = ca_params
            .self_signed(&ca_key)
            .expect("Ed25519 self-signing cannot fail");

        let mut leaf_params =
            rcgen::CertificateParams::new(names.iter().map(|n| n.to_string()).collect::<Vec<_>>())
                .expect("names must be DNS names or IP addresses");
        if let Some(((y1, m1, d1), (y2, m2, d2))) = validity {
            leaf_params.not_before = rcgen::date_time_ymd(y1, m1, d1);
            leaf_params.not_after = rcgen::date_time_ymd(y2, m2, d2);
        }
        let leaf = leaf_params
            .signed_by(&leaf_key, &ca, &ca_key)
            .expect("Ed25519 signing cannot fail");

        let mut client_params = rcgen::CertificateParams::new(vec!["client.tlsbio.test".into()])
            .expect("a valid DNS name");
        client_params.extended_key_usages = vec![rcgen::ExtendedKeyUsagePurpose::ClientAuth];
        let client = client_params
            .signed_by(&client_key, &ca, &ca_key)
            .expect("Ed25519 signing cannot fail");

        Self {
            ca: ca.der().clone(),
            leaf: leaf.der().clone(),
            leaf_key: leaf_key.serialize_der(),
            client: client.der().clone(),
            client_key: client_key.serialize_der(),
        }
    }

    /// The same CA and server leaf with `other`'s client leaf and key: a
    /// client certificate this CA did not sign, for tests of its refusal.
    pub fn with_client_from(mut self, other: &DeterministicPki) -> Self {
        self.client = other.client.clone();
        self.client_key = other.client_key.clone();
        self
    }

    /// The client leaf's chain (the leaf alone), for a client config that
    /// presents it.
    pub fn client_chain(&self) -> Vec<CertificateDer<'static>> {
        vec![self.client.clone()]
    }

    /// The client leaf's private key (PKCS#8).
    pub fn client_key(&self) -> PrivateKeyDer<'static> {
        PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(self.client_key.clone()))
    }

    /// The CA certificate.
    pub fn ca(&self) -> CertificateDer<'static> {
        self.ca.clone()
    }

    /// A root store holding only the CA.
    pub fn roots(&self) -> RootCertStore {
        let mut roots = RootCertStore::empty();
        roots
            .add(self.ca.clone())
            .expect("the CA certificate parses");
        roots
    }

    /// The leaf's chain (the leaf alone; the CA is the trust anchor).
    pub fn chain(&self) -> Vec<CertificateDer<'static>> {
        vec![self.leaf.clone()]
    }

    /// The leaf's private key (PKCS#8).
    pub fn key(&self) -> PrivateKeyDer<'static> {
        PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(self.leaf_key.clone()))
    }

    /// A client config that trusts this CA, on tlsbio's default crypto
    /// provider (real randomness, the system clock) and every protocol
    /// version: for tests that need the certificates but not reproducible
    /// bytes, written the same way on either rustls tlsbio is built with.
    pub fn stock_client_config(&self) -> ClientConfig {
        backend::client_config(
            tlsbio::default_provider(),
            Arc::new(crate::rustls::time_provider::DefaultTimeProvider),
            self.roots(),
            None,
            crate::rustls::ALL_VERSIONS,
        )
    }

    /// A server config presenting this leaf, on tlsbio's default crypto
    /// provider, as [`stock_client_config`](Self::stock_client_config).
    pub fn stock_server_config(&self) -> ServerConfig {
        backend::server_config(
            tlsbio::default_provider(),
            Arc::new(crate::rustls::time_provider::DefaultTimeProvider),
            None,
            self.chain(),
            self.key(),
            crate::rustls::ALL_VERSIONS,
        )
    }
}

/// The server leaf's key pair: `kind`'s, from the stream (RSA: the fixed
/// key).
fn leaf_key_pair(stream: &Stream, kind: LeafKey) -> rcgen::KeyPair {
    let der = match kind {
        LeafKey::Ed25519 => return ed25519_key(stream),
        LeafKey::EcdsaP256 => keys::ecdsa_pkcs8(stream),
        LeafKey::Rsa2048 => keys::RSA_2048.to_vec(),
    };
    rcgen::KeyPair::try_from(&PrivatePkcs8KeyDer::from(der))
        .expect("the deterministic keys are valid PKCS#8")
}

/// An Ed25519 key pair from 32 bytes of the stream, as PKCS#8 v1 (RFC
/// 8410): a fixed 16-byte prefix, then the seed.
fn ed25519_key(stream: &Stream) -> rcgen::KeyPair {
    const PREFIX: [u8; 16] = [
        0x30, 0x2e, 0x02, 0x01, 0x00, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x04, 0x22, 0x04,
        0x20,
    ];
    let mut der = PREFIX.to_vec();
    let mut secret = [0u8; 32];
    fill(stream, &mut secret);
    der.extend_from_slice(&secret);
    rcgen::KeyPair::try_from(&PrivatePkcs8KeyDer::from(der))
        .expect("a 32-byte Ed25519 seed in PKCS#8 v1 always parses")
}
