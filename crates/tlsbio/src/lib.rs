//! A sans-IO TLS engine with OpenSSL's want-read / want-write contract and
//! pluggable buffer BIOs, built on [rustls].
//!
//! tlsbio runs rustls' protocol and crypto over two byte queues, a read
//! [`Bio`](bio::Bio) and a write `Bio`, the way OpenSSL runs over a memory
//! BIO pair. It contains no networking code, reads no clock and draws no
//! randomness of its own beyond what the rustls `CryptoProvider` you
//! configure does: a driver calls in, moves ciphertext between the BIOs and
//! the world, and the engine answers with done, a [`Want`], or an
//! [`Error`].
//!
//! # Example: a client and a server in memory
//!
//! ```
//! use std::sync::Arc;
//! use tlsbio::bio::{Bio, VecBio};
//! use tlsbio::{ClientContext, Engine, Error, ServerContext, Want};
//!
//! # fn tlsbio_doc_configs() -> (std::sync::Arc<tlsbio::rustls::ClientConfig>, std::sync::Arc<tlsbio::rustls::ServerConfig>) {
//! #     use tlsbio::rustls::{pki_types::{PrivateKeyDer, PrivatePkcs8KeyDer}, ClientConfig, RootCertStore, ServerConfig};
//! #     let ck = rcgen::generate_simple_self_signed(vec!["localhost".to_string()]).unwrap();
//! #     let mut roots = RootCertStore::empty();
//! #     roots.add(ck.cert.der().clone()).unwrap();
//! #     let key = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(ck.key_pair.serialize_der()));
//! #     let chain = vec![ck.cert.der().clone()];
//! #     #[cfg(not(feature = "rustls-0-24"))]
//! #     let (client, server) = (
//! #         ClientConfig::builder().with_root_certificates(roots).with_no_client_auth(),
//! #         ServerConfig::builder().with_no_client_auth().with_single_cert(chain, key).unwrap());
//! #     #[cfg(feature = "rustls-0-24")]
//! #     let (client, server) = (
//! #         ClientConfig::builder(tlsbio::default_provider()).with_root_certificates(roots)
//! #             .with_no_client_auth().unwrap(),
//! #         ServerConfig::builder(tlsbio::default_provider()).with_no_client_auth()
//! #             .with_single_cert(std::sync::Arc::new(
//! #                 tlsbio::rustls::crypto::Identity::from_cert_chain(chain).unwrap()), key)
//! #             .unwrap());
//! #     (std::sync::Arc::new(client), std::sync::Arc::new(server))
//! # }
//! let (client_config, server_config) = tlsbio_doc_configs();
//! // Contexts are validated once and shared by every connection.
//! let client_context = ClientContext::new(client_config)?;
//! let server_context = ServerContext::new(server_config)?;
//! let mut client = Engine::client(
//!     &client_context,
//!     "localhost".try_into().unwrap(),
//!     VecBio::new(),
//!     VecBio::new(),
//! )?;
//! let mut server = Engine::server(&server_context, VecBio::new(), VecBio::new());
//!
//! // The driver: run each side; whatever a side wrote, hand to the other.
//! // (`pop_output` is the engine's one output path.)
//! let mut buf = [0u8; 64];
//! loop {
//!     let c = client.connect();
//!     let s = server.accept();
//!     while let Some(bytes) = client.pop_output() {
//!         server.rbio_mut().push_bytes(bytes).unwrap();
//!     }
//!     while let Some(bytes) = server.pop_output() {
//!         client.rbio_mut().push_bytes(bytes).unwrap();
//!     }
//!     match (c, s) {
//!         (Ok(()), Ok(())) => break,
//!         (Ok(()) | Err(Error::Want(_)), Ok(()) | Err(Error::Want(_))) => continue,
//!         (c, s) => panic!("handshake failed: {c:?} {s:?}"),
//!     }
//! }
//!
//! assert_eq!(client.write(b"hello")?, 5);
//! server.rbio_mut().push_bytes(client.pop_output().unwrap()).unwrap();
//! let n = server.read(&mut buf)?;
//! assert_eq!(&buf[..n], b"hello");
//! // Nothing more has arrived: the server says how much it needs.
//! assert!(matches!(server.read(&mut buf), Err(Error::Want(Want::Read { at_least: 5 }))));
//! # Ok::<(), tlsbio::Error>(())
//! ```
//!
//! # The contract
//!
//! - **OpenSSL's calls and codes.** [`Engine::accept`] / [`Engine::connect`]
//!   / [`Engine::do_handshake`], [`Engine::read`], [`Engine::write`] and
//!   [`Engine::shutdown`] return done, [`Want::Read`], [`Want::Write`],
//!   [`Want::ClientHello`], or an [`Error`] that follows `SSL_get_error`.
//!   The [`compat`] module has the 1 / 0 / -1 forms and the
//!   `SSL_ERROR_*` numbers.
//! - **One output path, no lost wake-ups.** Outgoing ciphertext is in one
//!   place: [`Engine::pending_output`] counts it, and
//!   [`Engine::send_output`] / [`Engine::pop_output`] /
//!   [`Engine::take_output`] take it (look, then commit). The whole rule:
//!   *after every call, take output until none is pending* (or the
//!   transport is full). Then, on `Want::Read`, put `at_least` more bytes
//!   into the read BIO (or mark its end); on `Want::Write`, wait until the
//!   transport took some output. A driver that does only this, and calls
//!   the engine only when the want it was given is met, never deadlocks
//!   and never leaves output behind; tlsbio-memory's strict harness mode
//!   checks exactly that.
//! - **Size hints.** `Want::Read { at_least }` is the rest of the current
//!   record once its header has arrived (`BIO_ctrl_get_read_request`), and
//!   never more than the read BIO can take now, so delivering exactly
//!   `at_least` always makes progress.
//! - **Bounded memory.** BIOs have capacities; full output gives
//!   `Want::Write`. Beyond its BIOs, the engine holds at most one staged
//!   record or handshake message per direction and one record of plaintext
//!   ([`Engine::buffered`]).
//! - **Truncation is an error.** EOF without close_notify is
//!   [`Error::UnexpectedEof`], never a clean close, unless
//!   [`Options::ignore_unexpected_eof`] is set.
//! - **Fatal errors are sticky, and their alert is sent.** The alert is in
//!   the output when the error is returned; the engine's own limits
//!   ([`Error::Limit`]) send none and say so.
//! - **Contexts and typestates.** A [`ClientContext`] / [`ServerContext`]
//!   checks a rustls config once and is cloned per connection; a server
//!   paused at its ClientHello continues only through [`Accepted`].
//! - **Two-step shutdown and half-close**, like `SSL_shutdown`.
//! - **No `unsafe`**, and no panic, hang or unbounded allocation on any
//!   input.
//!
//! docs/semantics.md in the repository maps every OpenSSL call and
//! `SSL_ERROR_*` code to this crate.
//!
//! # Two rustls versions
//!
//! tlsbio is built on rustls 0.23 by default, or on the rustls
//! 0.24.0-dev.2 pre-release with the `rustls-0-24` feature; [`rustls`] is
//! whichever was chosen, and the contract above holds on both. What 0.24
//! adds: a client's 0-RTT data ([`Engine::write_early_data`]), the peer's
//! certificates verified on the application's own time
//! ([`Want::Verify`], [`Engine::verification`]), and an established
//! connection split into halves for two threads (`Engine::split`).
//! [`Engine::read_in_place`] lends plaintext without a copy on both (on
//! 0.24 straight from the read BIO). docs/architecture.md says what each
//! backend does and what the pre-release lacks.

#![forbid(unsafe_code)]
#![deny(missing_docs)]

mod accepted;
pub mod bio;
mod close;
pub mod compat;
mod context;
mod copy;
mod engine;
mod error;
mod held;
mod hello;
mod input;
mod output;
pub mod proxy;
mod record;
mod session;
#[cfg(feature = "rustls-0-24")]
pub mod split;
mod state;
mod tls;
mod verification;
mod want;

pub use accepted::Accepted;
pub use close::Shutdown;
pub use context::{ClientContext, ServerContext};
pub use engine::{EarlyDataStatus, Engine, EngineStats, Options};
pub use error::{AlertSent, ConfigError, Error, Limit, NotTls, ProtocolError, Usage};
pub use hello::ClientHello;
pub use state::{Event, HandshakeState};
pub use verification::Verification;
pub use want::Want;

/// The TLS wire values in tlsbio's API (alerts, versions, suites, groups,
/// signature schemes) and the certificate error a failed verification
/// carries, under one path whichever rustls tlsbio was built with: rustls
/// 0.24 moved them (into `rustls::enums`, `rustls::crypto` and
/// `rustls::error`), so code that names them here builds on both.
pub use tls::{
    AlertDescription, CertificateError, CipherSuite, HandshakeKind, NamedGroup, ProtocolVersion,
    SignatureScheme,
};

/// Re-exported so that users name the same rustls the engine was built
/// with: rustls 0.23 by default, rustls 0.24.0-dev.2 with the `rustls-0-24`
/// feature (which wins if both are asked for). The rustls types in
/// tlsbio's API (configs, names, certificates, errors) are this crate's,
/// so a rustls minor version bump is a tlsbio breaking change.
#[cfg(not(feature = "rustls-0-24"))]
pub use rustls;
/// Re-exported so that users name the same rustls the engine was built
/// with: rustls 0.24.0-dev.2, chosen by the `rustls-0-24` feature. The
/// rustls types in tlsbio's API (configs, names, certificates, errors) are
/// this crate's.
#[cfg(feature = "rustls-0-24")]
pub use rustls024 as rustls;

/// The crypto provider the engine's own tests and drivers use by default:
/// aws-lc-rs, for whichever rustls was chosen. rustls 0.24 has no process
/// default provider, so a config is built with
/// `ServerConfig::builder(tlsbio::default_provider())` there; on 0.23 this
/// is the provider `ServerConfig::builder()` picks.
pub fn default_provider() -> std::sync::Arc<crate::rustls::crypto::CryptoProvider> {
    #[cfg(not(feature = "rustls-0-24"))]
    let provider = rustls::crypto::aws_lc_rs::default_provider();
    #[cfg(feature = "rustls-0-24")]
    let provider = rustls_aws_lc_rs::DEFAULT_PROVIDER;
    std::sync::Arc::new(provider)
}

/// `provider` cut down to the cipher suites of `versions`: how rustls 0.24
/// chooses protocol versions (its config builders take no version list;
/// 0.23's `builder_with_protocol_versions` does it there).
///
/// ```
/// use tlsbio::rustls::version::TLS13;
/// let tls13_only = tlsbio::provider_for_versions(&tlsbio::default_provider(), &[&TLS13]);
/// assert!(tls13_only.tls12_cipher_suites.is_empty());
/// ```
#[cfg(feature = "rustls-0-24")]
pub fn provider_for_versions(
    provider: &crate::rustls::crypto::CryptoProvider,
    versions: &[&'static crate::rustls::SupportedProtocolVersion],
) -> std::sync::Arc<crate::rustls::crypto::CryptoProvider> {
    let has = |v: ProtocolVersion| versions.iter().any(|s| s.version() == v);
    let mut provider = provider.clone();
    if !has(ProtocolVersion::TLSv1_2) {
        provider.tls12_cipher_suites = std::borrow::Cow::Borrowed(&[]);
    }
    if !has(ProtocolVersion::TLSv1_3) {
        provider.tls13_cipher_suites = std::borrow::Cow::Borrowed(&[]);
    }
    std::sync::Arc::new(provider)
}
