//! Certificates and configs, made once.

use std::any::Any;
use std::sync::Arc;

use tlsbio::rustls::client::Resumption;
use tlsbio::rustls::crypto::CryptoProvider;
use tlsbio::rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer, ServerName};
use tlsbio::rustls::version::{TLS12, TLS13};
use tlsbio::rustls::{ClientConfig, RootCertStore, ServerConfig, SupportedProtocolVersion};

#[cfg(any(not(feature = "openssl"), feature = "rustls-0-24"))]
use crate::fail;
use crate::{BenchError, Implementation, Scenario, Work};

/// A certificate and its key, in the forms both libraries take.
pub(crate) struct Identity {
    pub(crate) cert: CertificateDer<'static>,
    pub(crate) key: PrivatePkcs8KeyDer<'static>,
    #[cfg_attr(not(feature = "openssl"), allow(dead_code))]
    pub(crate) cert_pem: String,
    #[cfg_attr(not(feature = "openssl"), allow(dead_code))]
    pub(crate) key_pem: String,
}

impl Identity {
    fn new(alg: &'static rcgen::SignatureAlgorithm) -> Self {
        let key = if alg == &rcgen::PKCS_ED25519 {
            ed25519_v1()
        } else {
            rcgen::KeyPair::generate_for(alg).expect("key generation")
        };
        let cert = rcgen::CertificateParams::new(vec![NAME.to_string()])
            .expect("a valid name")
            .self_signed(&key)
            .expect("self-signing");
        Self {
            cert: cert.der().clone(),
            key: PrivatePkcs8KeyDer::from(key.serialize_der()),
            cert_pem: cert.pem(),
            key_pem: key.serialize_pem(),
        }
    }
}

/// An Ed25519 key as PKCS#8 v1 (RFC 8410): aws-lc writes v2, with the
/// public key attached, which OpenSSL 3.0 does not read.
fn ed25519_v1() -> rcgen::KeyPair {
    const PREFIX: [u8; 16] = [
        0x30, 0x2e, 0x02, 0x01, 0x00, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x04, 0x22, 0x04,
        0x20,
    ];
    let mut seed = [0u8; 32];
    tlsbio::default_provider()
        .secure_random
        .fill(&mut seed)
        .expect("randomness");
    let der = [&PREFIX[..], &seed].concat();
    rcgen::KeyPair::try_from(&PrivatePkcs8KeyDer::from(der)).expect("a PKCS#8 v1 Ed25519 key")
}

/// The name every certificate is for.
pub(crate) const NAME: &str = "localhost";

/// A client and server config for one scenario.
#[derive(Clone)]
pub(crate) struct Configs {
    pub(crate) client: Arc<ClientConfig>,
    pub(crate) server: Arc<ServerConfig>,
    /// The same configs validated once, as a tlsbio user holds them.
    pub(crate) client_context: tlsbio::ClientContext,
    pub(crate) server_context: tlsbio::ServerContext,
}

/// The fixtures of every scenario, and the bulk size.
pub struct Bench {
    tls13_p256: Configs,
    tls13_ed25519: Configs,
    tls12_p256: Configs,
    resumed: Configs,
    pub(crate) bulk_bytes: usize,
    #[cfg(feature = "openssl")]
    pub(crate) openssl: crate::openssl_impl::Contexts,
}

impl Bench {
    /// Generates the certificates and configs. Bulk runs move `bulk_bytes`
    /// each way (rounded down to whole 16 KiB writes, at least one).
    pub fn new(bulk_bytes: usize) -> Self {
        let p256 = Identity::new(&rcgen::PKCS_ECDSA_P256_SHA256);
        let ed25519 = Identity::new(&rcgen::PKCS_ED25519);
        let tls13_p256 = configs(&p256, &TLS13, false);
        let resumed = configs(&p256, &TLS13, true);
        Self {
            tls13_ed25519: configs(&ed25519, &TLS13, false),
            tls12_p256: configs(&p256, &TLS12, false),
            tls13_p256,
            resumed,
            bulk_bytes: (bulk_bytes / crate::WRITE_SIZE).max(1) * crate::WRITE_SIZE,
            #[cfg(feature = "openssl")]
            openssl: crate::openssl_impl::Contexts::new(&p256, &ed25519),
        }
    }

    /// Bytes each way per bulk run.
    pub fn bulk_bytes(&self) -> usize {
        self.bulk_bytes
    }

    /// One unit of `scenario` on `implementation`: one handshake, or one
    /// bulk transfer (its `units` are MiB each way).
    ///
    /// Never inlined: `tlsbio-instructions` counts instructions inside
    /// this function only, by its name.
    #[inline(never)]
    pub fn run(
        &self,
        implementation: Implementation,
        scenario: Scenario,
    ) -> Result<Work, BenchError> {
        match implementation {
            Implementation::Tlsbio(kind) => crate::tlsbio_impl::run(self, kind, scenario),
            Implementation::Rustls => crate::rustls_impl::run(self, scenario),
            #[cfg(not(feature = "rustls-0-24"))]
            Implementation::RustlsUnbuffered => crate::rustls_impl::unbuffered::run(self, scenario),
            #[cfg(feature = "rustls-0-24")]
            Implementation::RustlsUnbuffered => {
                Err(fail("rustls 0.24 has no unbuffered API (it is a 0.23 row)"))
            }
            #[cfg(feature = "openssl")]
            Implementation::OpenSsl => crate::openssl_impl::run(self, scenario),
            #[cfg(not(feature = "openssl"))]
            Implementation::OpenSsl => Err(fail(
                "OpenSSL is not in this build (feature `openssl` of tlsbio-bench)",
            )),
        }
    }

    /// A server-side connection after a full TLS 1.3 P-256 handshake, with
    /// the client side dropped: for measuring what an idle connection
    /// holds.
    pub fn idle_connection(
        &self,
        implementation: Implementation,
    ) -> Result<Box<dyn Any>, BenchError> {
        match implementation {
            Implementation::Tlsbio(kind) => crate::tlsbio_impl::idle(self, kind),
            Implementation::Rustls => crate::rustls_impl::idle(self),
            #[cfg(not(feature = "rustls-0-24"))]
            Implementation::RustlsUnbuffered => crate::rustls_impl::unbuffered::idle(self),
            #[cfg(feature = "rustls-0-24")]
            Implementation::RustlsUnbuffered => Err(fail("rustls 0.24 has no unbuffered API")),
            #[cfg(feature = "openssl")]
            Implementation::OpenSsl => crate::openssl_impl::idle(self),
            #[cfg(not(feature = "openssl"))]
            Implementation::OpenSsl => Err(fail("OpenSSL is not in this build")),
        }
    }

    /// The rustls configs of a scenario (bulk runs on TLS 1.3 P-256).
    pub(crate) fn configs(&self, scenario: Scenario) -> &Configs {
        match scenario {
            Scenario::HandshakeTls13P256 | Scenario::BulkTls13 => &self.tls13_p256,
            Scenario::HandshakeTls13Ed25519 => &self.tls13_ed25519,
            Scenario::HandshakeTls12P256 => &self.tls12_p256,
            Scenario::ResumedTls13 => &self.resumed,
        }
    }
}

/// X25519 only, AES-128-GCM only (TLS 1.3 and TLS 1.2 ECDHE-ECDSA), the
/// rest from aws-lc-rs: what the OpenSSL contexts are pinned to as well.
#[cfg(not(feature = "rustls-0-24"))]
fn provider() -> Arc<CryptoProvider> {
    use tlsbio::rustls::crypto::aws_lc_rs::{self, cipher_suite, kx_group};
    Arc::new(CryptoProvider {
        cipher_suites: vec![
            cipher_suite::TLS13_AES_128_GCM_SHA256,
            cipher_suite::TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256,
        ],
        kx_groups: vec![kx_group::X25519],
        ..aws_lc_rs::default_provider()
    })
}

/// The same pinning on rustls 0.24's aws-lc-rs provider, which also keeps
/// only `version`'s suites (0.24 chooses versions by suites).
#[cfg(feature = "rustls-0-24")]
fn provider(version: &'static SupportedProtocolVersion) -> Arc<CryptoProvider> {
    use rustls_aws_lc_rs::{cipher_suite, kx_group, DEFAULT_PROVIDER};
    use std::borrow::Cow;
    let tls13 = std::ptr::eq(version, &TLS13);
    Arc::new(CryptoProvider {
        tls13_cipher_suites: match tls13 {
            true => Cow::Owned(vec![cipher_suite::TLS13_AES_128_GCM_SHA256]),
            false => Cow::Borrowed(&[]),
        },
        tls12_cipher_suites: match tls13 {
            true => Cow::Borrowed(&[]),
            false => Cow::Owned(vec![cipher_suite::TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256]),
        },
        kx_groups: Cow::Owned(vec![kx_group::X25519]),
        ..DEFAULT_PROVIDER
    })
}

#[cfg(not(feature = "rustls-0-24"))]
fn builders(
    identity: &Identity,
    version: &'static SupportedProtocolVersion,
    roots: RootCertStore,
) -> (ClientConfig, ServerConfig) {
    let client = ClientConfig::builder_with_provider(provider())
        .with_protocol_versions(&[version])
        .expect("the provider supports the version")
        .with_root_certificates(roots)
        .with_no_client_auth();
    let server = ServerConfig::builder_with_provider(provider())
        .with_protocol_versions(&[version])
        .expect("the provider supports the version")
        .with_no_client_auth()
        .with_single_cert(
            vec![identity.cert.clone()],
            PrivateKeyDer::Pkcs8(identity.key.clone_key()),
        )
        .expect("the key matches");
    (client, server)
}

#[cfg(feature = "rustls-0-24")]
fn builders(
    identity: &Identity,
    version: &'static SupportedProtocolVersion,
    roots: RootCertStore,
) -> (ClientConfig, ServerConfig) {
    let chain = tlsbio::rustls::crypto::Identity::from_cert_chain(vec![identity.cert.clone()])
        .expect("a certificate");
    let client = ClientConfig::builder(provider(version))
        .with_root_certificates(roots)
        .with_no_client_auth()
        .expect("the provider supports the version");
    let server = ServerConfig::builder(provider(version))
        .with_no_client_auth()
        .with_single_cert(
            Arc::new(chain),
            PrivateKeyDer::Pkcs8(identity.key.clone_key()),
        )
        .expect("the key matches");
    (client, server)
}

fn configs(
    identity: &Identity,
    version: &'static SupportedProtocolVersion,
    resume: bool,
) -> Configs {
    let mut roots = RootCertStore::empty();
    roots
        .add(identity.cert.clone())
        .expect("the certificate parses");
    let (mut client, mut server) = builders(identity, version, roots);
    if resume {
        #[cfg(not(feature = "rustls-0-24"))]
        {
            server.ticketer =
                tlsbio::rustls::crypto::aws_lc_rs::Ticketer::new().expect("a ticketer");
        }
        #[cfg(feature = "rustls-0-24")]
        {
            server.ticketer = Some(
                server
                    .provider()
                    .ticketer_factory
                    .ticketer()
                    .expect("a ticketer"),
            );
        }
    } else {
        // Full handshakes only, and no tickets to issue (the OpenSSL
        // contexts are set the same way).
        client.resumption = Resumption::disabled();
        #[cfg(not(feature = "rustls-0-24"))]
        {
            server.send_tls13_tickets = 0;
        }
        #[cfg(feature = "rustls-0-24")]
        {
            server.send_tls13_tickets = tlsbio::rustls::server::Tls13Tickets { default: 0, max: 0 };
        }
    }
    let (client, server) = (Arc::new(client), Arc::new(server));
    Configs {
        client_context: tlsbio::ClientContext::new(client.clone()).expect("a valid client config"),
        server_context: tlsbio::ServerContext::new(server.clone()).expect("a valid server config"),
        client,
        server,
    }
}

pub(crate) fn server_name() -> ServerName<'static> {
    ServerName::try_from(NAME).expect("a valid name")
}
