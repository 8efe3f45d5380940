//! Contexts' configs on rustls 0.24.

use std::sync::Arc;

use tlsbio::rustls::crypto::{CryptoProvider, Identity};
use tlsbio::rustls::pki_types::{CertificateDer, PrivateKeyDer};
use tlsbio::rustls::server::WebPkiClientVerifier;
use tlsbio::rustls::{ClientConfig, RootCertStore, ServerConfig, SupportedProtocolVersion};

/// tlsbio's default provider with only `versions`' cipher suites.
fn provider(versions: &[&'static SupportedProtocolVersion]) -> Arc<CryptoProvider> {
    tlsbio::provider_for_versions(&tlsbio::default_provider(), versions)
}

fn identity(chain: Vec<CertificateDer<'static>>) -> Result<Arc<Identity<'static>>, String> {
    Identity::from_cert_chain(chain)
        .map(Arc::new)
        .map_err(|e| format!("no certificate in the chain: {e:?}"))
}

/// A server presenting `chain`; with `clients`, verifying client
/// certificates against those roots (required, or optional).
pub(crate) fn server_config(
    versions: &[&'static SupportedProtocolVersion],
    clients: Option<(Arc<RootCertStore>, bool)>,
    chain: Vec<CertificateDer<'static>>,
    key: PrivateKeyDer<'static>,
) -> Result<ServerConfig, String> {
    let provider = provider(versions);
    let builder = ServerConfig::builder(provider.clone());
    let builder = match clients {
        None => builder.with_no_client_auth(),
        Some((roots, required)) => {
            let verifier = WebPkiClientVerifier::builder(roots, &provider);
            let verifier = if required {
                verifier
            } else {
                verifier.allow_unauthenticated()
            };
            let verifier = verifier
                .build()
                .map_err(|e| format!("cannot verify clients with these CAs: {e}"))?;
            builder.with_client_cert_verifier(Arc::new(verifier))
        }
    };
    builder
        .with_single_cert(identity(chain)?, key)
        .map_err(super::key_error)
}

/// A client trusting `roots`, presenting `identity` if given.
pub(crate) fn client_config(
    versions: &[&'static SupportedProtocolVersion],
    roots: Arc<RootCertStore>,
    client: Option<(Vec<CertificateDer<'static>>, PrivateKeyDer<'static>)>,
) -> Result<ClientConfig, String> {
    let builder = ClientConfig::builder(provider(versions)).with_root_certificates(roots);
    match client {
        None => builder
            .with_no_client_auth()
            .map_err(|e| format!("cannot make a client: {e}")),
        Some((chain, key)) => builder
            .with_client_auth_cert(identity(chain)?, key)
            .map_err(|e| format!("the client certificate and key do not match: {e}")),
    }
}
