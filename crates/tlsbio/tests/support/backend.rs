//! Config building on whichever rustls tlsbio was built with. rustls 0.24
//! takes the crypto provider (and, through it, the protocol versions) in
//! the builder, names ALPN protocols with a type of its own, and wraps
//! certificate chains in an `Identity`; everything else in the tests is
//! the same on both backends.

use std::sync::Arc;

use tlsbio::rustls::pki_types::{CertificateDer, PrivateKeyDer};
use tlsbio::rustls::{self, ClientConfig, RootCertStore, ServerConfig};

/// One ALPN protocol name as the configs hold it.
#[cfg(not(feature = "rustls-0-24"))]
pub type Alpn = Vec<u8>;
#[cfg(feature = "rustls-0-24")]
pub type Alpn = rustls::enums::ApplicationProtocol<'static>;

/// A config's ALPN list from protocol names.
pub fn alpn(names: &[&[u8]]) -> Vec<Alpn> {
    names.iter().map(|n| Alpn::from(n.to_vec())).collect()
}

/// A client that trusts `roots`, optionally presenting a certificate.
pub fn client_config(
    versions: &[&'static rustls::SupportedProtocolVersion],
    roots: RootCertStore,
    cert: Option<(Vec<CertificateDer<'static>>, PrivateKeyDer<'static>)>,
) -> ClientConfig {
    #[cfg(not(feature = "rustls-0-24"))]
    {
        let builder =
            ClientConfig::builder_with_protocol_versions(versions).with_root_certificates(roots);
        match cert {
            Some((chain, key)) => builder.with_client_auth_cert(chain, key).unwrap(),
            None => builder.with_no_client_auth(),
        }
    }
    #[cfg(feature = "rustls-0-24")]
    {
        let builder = ClientConfig::builder(provider(versions)).with_root_certificates(roots);
        match cert {
            Some((chain, key)) => builder.with_client_auth_cert(identity(chain), key).unwrap(),
            None => builder.with_no_client_auth().unwrap(),
        }
    }
}

/// A server presenting `chain`, optionally requiring client certificates
/// issued under `client_roots`.
pub fn server_config(
    versions: &[&'static rustls::SupportedProtocolVersion],
    chain: Vec<CertificateDer<'static>>,
    key: PrivateKeyDer<'static>,
    client_roots: Option<RootCertStore>,
) -> ServerConfig {
    #[cfg(not(feature = "rustls-0-24"))]
    {
        let builder = ServerConfig::builder_with_protocol_versions(versions);
        let builder = match client_roots {
            Some(roots) => builder.with_client_cert_verifier(
                rustls::server::WebPkiClientVerifier::builder(Arc::new(roots))
                    .build()
                    .unwrap(),
            ),
            None => builder.with_no_client_auth(),
        };
        builder.with_single_cert(chain, key).unwrap()
    }
    #[cfg(feature = "rustls-0-24")]
    {
        let provider = provider(versions);
        let builder = ServerConfig::builder(provider.clone());
        let builder = match client_roots {
            Some(roots) => builder.with_client_cert_verifier(Arc::new(
                rustls::server::WebPkiClientVerifier::builder(Arc::new(roots), &provider)
                    .build()
                    .unwrap(),
            )),
            None => builder.with_no_client_auth(),
        };
        builder.with_single_cert(identity(chain), key).unwrap()
    }
}

/// tlsbio's default provider cut down to `versions`' cipher suites (how
/// 0.24 chooses protocol versions).
#[cfg(feature = "rustls-0-24")]
fn provider(
    versions: &[&'static rustls::SupportedProtocolVersion],
) -> Arc<rustls::crypto::CryptoProvider> {
    tlsbio::provider_for_versions(&tlsbio::default_provider(), versions)
}

#[cfg(feature = "rustls-0-24")]
fn identity(chain: Vec<CertificateDer<'static>>) -> Arc<rustls::crypto::Identity<'static>> {
    Arc::new(rustls::crypto::Identity::from_cert_chain(chain).unwrap())
}

/// Every protocol version.
pub const ALL: &[&rustls::SupportedProtocolVersion] =
    &[&rustls::version::TLS13, &rustls::version::TLS12];
