//! Configs and recorded conversations every target shares, built once per
//! thread.
//!
//! Thread-local, because fresh copies of one [`Rewindable`] share one
//! random stream: two test threads rewinding it in turn would make each
//! other's handshakes differ. libFuzzer runs one thread, so there this is
//! built once.

use std::cell::RefCell;
use std::collections::HashMap;
use std::rc::Rc;
use std::sync::Arc;
use tlsbio::bio::{Bio, RingBio, VecBio};
use tlsbio::rustls::pki_types::ServerName;
use tlsbio::rustls::version::{TLS12, TLS13};
use tlsbio::rustls::{ClientConfig, ServerConfig, SupportedProtocolVersion};
use tlsbio::{ClientContext, Engine, ServerContext};

use tlsbio::Error;
use tlsbio_memory::deterministic::{
    ClientAuth, DeterministicPki, InsecureDeterministicCrypto, KxGroup, LeafKey, Rewindable,
};
use tlsbio_memory::{Dir, Endpoint, Harness, Schedule, Script, Side};

/// The crypto seed of every fixture. Changing it changes every seed file.
pub(crate) const SEED: u64 = 1;

/// The name the client expects and the certificate carries.
pub(crate) const NAME: &str = "localhost";

/// Application bytes each side sends in the recorded conversations.
pub(crate) const SENT: usize = 100;

/// The engine every single-engine target drives: a fixed read BIO (so the
/// input side is bounded) and a growable write BIO the target drains.
pub(crate) type TestEngine = Engine<RingBio, VecBio>;

/// Which protocol versions an engine is configured for.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub(crate) enum Version {
    Tls13,
    Tls12,
}

impl Version {
    pub(crate) fn from_bit(tls12: bool) -> Self {
        if tls12 {
            Self::Tls12
        } else {
            Self::Tls13
        }
    }

    fn versions(self) -> &'static [&'static SupportedProtocolVersion] {
        const V13: &[&SupportedProtocolVersion] = &[&TLS13];
        const V12: &[&SupportedProtocolVersion] = &[&TLS12];
        match self {
            Self::Tls13 => V13,
            Self::Tls12 => V12,
        }
    }
}

/// Everything for one version.
pub(crate) struct Fixture {
    /// Two independent client configs (two random streams), for targets
    /// that run two identical clients side by side.
    clients: [Rewindable<ClientConfig>; 2],
    servers: [Rewindable<ServerConfig>; 2],
    /// A clean lockstep conversation between fresh configs:
    /// `[client to server, server to client]`.
    pub(crate) streams: [Vec<u8>; 2],
    /// A server that takes only P-256: against a client whose key share is
    /// X25519, a TLS 1.3 HelloRetryRequest (TLS 1.2: a P-256 ECDHE).
    retry_server: Rewindable<ServerConfig>,
    /// The client side of a clean conversation with `retry_server` (the
    /// client offers X25519 first, then P-256).
    pub(crate) retry_stream: Vec<u8>,
}

impl Fixture {
    fn new(version: Version) -> Self {
        let crypto = InsecureDeterministicCrypto::new(SEED);
        let pki = DeterministicPki::new(SEED, &[NAME]);
        let v = version.versions();
        let retry_server = crypto
            .clone()
            .with_groups(&[KxGroup::Secp256r1])
            .rewindable_server_config(&pki, v);
        let retry_client = crypto
            .clone()
            .with_groups(&[KxGroup::X25519, KxGroup::Secp256r1])
            .rewindable_client_config(&pki, v);
        let mut retry = Harness::builder(
            Endpoint::Client {
                config: retry_client.fresh(),
                server_name: server_name(),
            },
            Endpoint::Server(retry_server.fresh()),
        )
        .client_script(Script::sending(Side::Client, SENT))
        .server_script(Script::sending(Side::Server, SENT))
        .build()
        .expect("the fixture's configs are valid");
        let report = retry.run();
        assert!(
            report.is_clean(),
            "the fixture's retry conversation failed: {report}"
        );
        let retry_stream = retry.transcript().stream(Dir::ClientToServer);
        let fixture = Self {
            clients: [0, 1].map(|_| crypto.rewindable_client_config(&pki, v)),
            servers: [0, 1].map(|_| crypto.rewindable_server_config(&pki, v)),
            streams: [Vec::new(), Vec::new()],
            retry_server,
            retry_stream,
        };
        let (streams, _) = record(
            fixture.clients[0].fresh(),
            fixture.servers[0].fresh(),
            "plain",
        );
        Self { streams, ..fixture }
    }

    /// A fresh client engine (`which` picks the random stream).
    pub(crate) fn client<R: Bio, W: Bio>(&self, which: usize, rbio: R, wbio: W) -> Engine<R, W> {
        let context = ClientContext::new(self.clients[which].fresh())
            .expect("the fixture's client config is valid");
        Engine::client(&context, server_name(), rbio, wbio)
            .expect("the fixture's client config is valid")
    }

    /// A fresh server engine (`which` picks the random stream).
    pub(crate) fn server<R: Bio, W: Bio>(&self, which: usize, rbio: R, wbio: W) -> Engine<R, W> {
        let context = ServerContext::new(self.servers[which].fresh())
            .expect("the fixture's server config is valid");
        Engine::server(&context, rbio, wbio)
    }

    /// A fresh server that takes only P-256 (see `retry_server`).
    pub(crate) fn retry_server<R: Bio, W: Bio>(&self, rbio: R, wbio: W) -> Engine<R, W> {
        let context = ServerContext::new(self.retry_server.fresh())
            .expect("the fixture's server config is valid");
        Engine::server(&context, rbio, wbio)
    }

    /// A fresh server config (`which` picks the random stream), for a raw
    /// rustls server to compare with.
    pub(crate) fn server_config(&self, which: usize) -> std::sync::Arc<ServerConfig> {
        self.servers[which].fresh()
    }

    /// A fresh client config, likewise.
    pub(crate) fn client_config(&self, which: usize) -> std::sync::Arc<ClientConfig> {
        self.clients[which].fresh()
    }

    /// A fresh server engine paused at its ClientHello, and the context
    /// its application will choose there.
    pub(crate) fn paused_server<R: Bio, W: Bio>(
        &self,
        which: usize,
        rbio: R,
        wbio: W,
    ) -> (Engine<R, W>, ServerContext) {
        let context = ServerContext::new(self.servers[which].fresh())
            .expect("the fixture's server config is valid");
        (Engine::server_paused(rbio, wbio), context)
    }

    /// Fresh endpoints for the pair harness.
    pub(crate) fn endpoints(&self) -> (Endpoint, Endpoint) {
        (
            Endpoint::Client {
                config: self.clients[0].fresh(),
                server_name: server_name(),
            },
            Endpoint::Server(self.servers[0].fresh()),
        )
    }
}

fn server_name() -> ServerName<'static> {
    ServerName::try_from(NAME).expect("a valid DNS name")
}

thread_local! {
    static FIXTURES: [Fixture; 2] = [Fixture::new(Version::Tls13), Fixture::new(Version::Tls12)];
}

/// Runs `f` with this thread's fixture for `version`.
pub(crate) fn with<T>(version: Version, f: impl FnOnce(&Fixture) -> T) -> T {
    FIXTURES.with(|all| f(&all[version as usize]))
}

/// Which certificates a [`Variant`] uses.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub(crate) struct Identity {
    /// The kind of key the server's (and the client's) leaf has.
    pub(crate) key: LeafKey,
    /// Whether the server requires a client certificate and the client
    /// has one to send.
    pub(crate) client_auth: bool,
}

impl Identity {
    /// The identity of the plain [`Fixture`]: Ed25519, no client
    /// certificate.
    pub(crate) const PLAIN: Self = Self {
        key: LeafKey::Ed25519,
        client_auth: false,
    };

    /// Every identity, for the seeds.
    pub(crate) fn all() -> impl Iterator<Item = Self> {
        [LeafKey::Ed25519, LeafKey::EcdsaP256, LeafKey::Rsa2048]
            .into_iter()
            .flat_map(|key| {
                [false, true]
                    .into_iter()
                    .map(move |client_auth| Self { key, client_auth })
            })
    }

    /// A short name, for seed files.
    pub(crate) fn name(self) -> String {
        let key = match self.key {
            LeafKey::EcdsaP256 => "ecdsa",
            LeafKey::Rsa2048 => "rsa",
            _ => "ed25519",
        };
        if self.client_auth {
            format!("{key}-mtls")
        } else {
            key.to_string()
        }
    }
}

/// Configs for one version and [`Identity`], and two recorded
/// conversations between them: a full handshake and, with the same two
/// configs, a resumption of it.
pub(crate) struct Variant {
    client: Rewindable<ClientConfig>,
    server: Rewindable<ServerConfig>,
    /// The full conversation: `[client to server, server to client]`.
    pub(crate) streams: [Vec<u8>; 2],
    /// The resumed one that followed it.
    pub(crate) resumed: [Vec<u8>; 2],
}

impl Variant {
    fn new(version: Version, identity: Identity) -> Self {
        let pki = DeterministicPki::with_key(SEED, &[NAME], identity.key);
        let (mut server_crypto, mut client_crypto) = (
            InsecureDeterministicCrypto::new(SEED),
            InsecureDeterministicCrypto::new(SEED),
        );
        if identity.client_auth {
            server_crypto = server_crypto.with_client_auth(ClientAuth::Required);
            client_crypto = client_crypto.with_client_certificate();
        }
        let v = version.versions();
        let variant = Self {
            client: client_crypto.rewindable_client_config(&pki, v),
            server: server_crypto.rewindable_server_config(&pki, v),
            streams: [Vec::new(), Vec::new()],
            resumed: [Vec::new(), Vec::new()],
        };
        // Both conversations on one pair of configs, so the second finds
        // the first's session.
        let (client, server) = (variant.client.fresh(), variant.server.fresh());
        let what = format!("{identity:?}");
        let record = || record(client.clone(), server.clone(), &what);
        let (streams, first_resumed) = record();
        let (resumed, second_resumed) = record();
        assert!(
            !first_resumed && second_resumed,
            "{identity:?}: no resumption"
        );
        Self {
            streams,
            resumed,
            ..variant
        }
    }

    /// A fresh server engine.
    pub(crate) fn server<R: Bio, W: Bio>(&self, rbio: R, wbio: W) -> Engine<R, W> {
        Engine::server(&self.server_context(false), rbio, wbio)
    }

    /// A fresh client engine.
    pub(crate) fn client<R: Bio, W: Bio>(&self, rbio: R, wbio: W) -> Engine<R, W> {
        let context =
            ClientContext::new(self.client.fresh()).expect("the fixture's client config is valid");
        Engine::client(&context, server_name(), rbio, wbio)
            .expect("the fixture's client config is valid")
    }

    /// The engine a flight meets: a server or a client, fresh or
    /// resuming.
    pub(crate) fn engine<R: Bio, W: Bio>(
        &self,
        server: bool,
        resume: bool,
        rbio: R,
        wbio: W,
    ) -> Engine<R, W> {
        match (server, resume) {
            (true, false) => self.server(rbio, wbio),
            (true, true) => self.resuming_server(rbio, wbio),
            (false, false) => self.client(rbio, wbio),
            (false, true) => self.resuming_client(rbio, wbio),
        }
    }

    /// A fresh server config, for a raw rustls server to compare with.
    pub(crate) fn server_config(&self) -> std::sync::Arc<ServerConfig> {
        self.server.fresh()
    }

    /// A fresh client config, likewise.
    pub(crate) fn client_config(&self) -> std::sync::Arc<ClientConfig> {
        self.client.fresh()
    }

    /// A server engine whose config has served the full conversation
    /// already: a flight can resume its session.
    pub(crate) fn resuming_server<R: Bio, W: Bio>(&self, rbio: R, wbio: W) -> Engine<R, W> {
        Engine::server(&self.server_context(true), rbio, wbio)
    }

    /// A server engine paused at its ClientHello, and the context its
    /// application chooses there: this identity's, and with `resume` one
    /// that has served the full conversation already.
    pub(crate) fn paused_server<R: Bio, W: Bio>(
        &self,
        resume: bool,
        rbio: R,
        wbio: W,
    ) -> (Engine<R, W>, ServerContext) {
        (
            Engine::server_paused(rbio, wbio),
            self.server_context(resume),
        )
    }

    /// A fresh server context; with `resume`, its session cache holds the
    /// full conversation's session.
    fn server_context(&self, resume: bool) -> ServerContext {
        let context =
            ServerContext::new(self.server.fresh()).expect("the fixture's server config is valid");
        if resume {
            let mut first = Engine::server(&context, VecBio::new(), VecBio::new());
            replay(&mut first, &self.streams[0]);
        }
        context
    }

    /// A client engine whose config holds the full conversation's
    /// tickets: it offers to resume.
    pub(crate) fn resuming_client<R: Bio, W: Bio>(&self, rbio: R, wbio: W) -> Engine<R, W> {
        let context =
            ClientContext::new(self.client.fresh()).expect("the fixture's client config is valid");
        let mut first = Engine::client(&context, server_name(), VecBio::new(), VecBio::new())
            .expect("the fixture's client config is valid");
        replay(&mut first, &self.streams[1]);
        Engine::client(&context, server_name(), rbio, wbio)
            .expect("the fixture's client config is valid")
    }
}

/// A clean lockstep conversation between `client` and `server`, each side
/// sending [`SENT`] bytes: `[client to server, server to client]`, and
/// whether the server resumed.
fn record(
    client: Arc<ClientConfig>,
    server: Arc<ServerConfig>,
    what: &str,
) -> ([Vec<u8>; 2], bool) {
    let mut pair = Harness::builder(
        Endpoint::Client {
            config: client,
            server_name: server_name(),
        },
        Endpoint::Server(server),
    )
    .schedule(Schedule::lockstep())
    .client_script(Script::sending(Side::Client, SENT))
    .server_script(Script::sending(Side::Server, SENT))
    .build()
    .expect("the fixture's configs are valid");
    let report = pair.run();
    assert!(
        report.is_clean(),
        "the {what} conversation failed: {report}"
    );
    let t = pair.transcript();
    (
        [t.stream(Dir::ClientToServer), t.stream(Dir::ServerToClient)],
        pair.engine(Side::Server).is_resumed(),
    )
}

/// Feeds a recorded peer stream to `engine` and reads until it is used
/// up, dropping what the engine writes: the engine then holds the
/// session state the recording left (a cached session, tickets).
fn replay(engine: &mut Engine<VecBio, VecBio>, stream: &[u8]) {
    let written = engine.rbio_mut().write(stream);
    assert_eq!(written, stream.len(), "the recording fits the read BIO");
    let mut buf = [0u8; 4096];
    // Bounded: every turn consumes input or ends the loop.
    for _ in 0..stream.len() + 64 {
        let result = if engine.is_handshaking() {
            engine.do_handshake().map(|()| 1)
        } else {
            engine.read(&mut buf)
        };
        engine.take_output(|wbio| {
            let mut sink = [0u8; 4096];
            while wbio.read(&mut sink) > 0 {}
        });
        match result {
            Ok(_) => {}
            Err(Error::ZeroReturn) | Err(Error::Want(_)) => return,
            Err(e) => panic!("the recording did not replay: {e}"),
        }
    }
    panic!("the recording did not end");
}

thread_local! {
    static VARIANTS: RefCell<HashMap<(Version, Identity), Rc<Variant>>> = RefCell::new(HashMap::new());
}

/// Runs `f` with this thread's variant for `version` and `identity`, built
/// on first use.
pub(crate) fn variant<T>(version: Version, identity: Identity, f: impl FnOnce(&Variant) -> T) -> T {
    let variant = VARIANTS.with(|all| {
        all.borrow_mut()
            .entry((version, identity))
            .or_insert_with(|| Rc::new(Variant::new(version, identity)))
            .clone()
    });
    f(&variant)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_plain_variant_is_the_fixture() {
        for version in [Version::Tls13, Version::Tls12] {
            let plain = with(version, |f| f.streams.clone());
            let variant = variant(version, Identity::PLAIN, |v| v.streams.clone());
            assert!(plain == variant, "{version:?}");
        }
    }
}
