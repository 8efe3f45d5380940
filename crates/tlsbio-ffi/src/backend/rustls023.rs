//! Contexts' configs on rustls 0.23.

use std::sync::Arc;

use tlsbio::rustls::crypto::aws_lc_rs;
use tlsbio::rustls::pki_types::{CertificateDer, PrivateKeyDer};
use tlsbio::rustls::server::WebPkiClientVerifier;
use tlsbio::rustls::{ClientConfig, RootCertStore, ServerConfig, SupportedProtocolVersion};

/// A server presenting `chain`; with `clients`, verifying client
/// certificates against those roots (required, or optional).
pub(crate) fn server_config(
    versions: &[&'static SupportedProtocolVersion],
    clients: Option<(Arc<RootCertStore>, bool)>,
    chain: Vec<CertificateDer<'static>>,
    key: PrivateKeyDer<'static>,
) -> Result<ServerConfig, String> {
    let provider = Arc::new(aws_lc_rs::default_provider());
    let builder = ServerConfig::builder_with_provider(provider.clone())
        .with_protocol_versions(versions)
        .map_err(|e| format!("cannot use these protocol versions: {e}"))?;
    let builder = match clients {
        None => builder.with_no_client_auth(),
        Some((roots, required)) => {
            let verifier = WebPkiClientVerifier::builder_with_provider(roots, provider);
            let verifier = if required {
                verifier
            } else {
                verifier.allow_unauthenticated()
            };
            let verifier = verifier
                .build()
                .map_err(|e| format!("cannot verify clients with these CAs: {e}"))?;
            builder.with_client_cert_verifier(verifier)
        }
    };
    builder
        .with_single_cert(chain, key)
        .map_err(super::key_error)
}

/// A client trusting `roots`, presenting `identity` if given.
pub(crate) fn client_config(
    versions: &[&'static SupportedProtocolVersion],
    roots: Arc<RootCertStore>,
    identity: Option<(Vec<CertificateDer<'static>>, PrivateKeyDer<'static>)>,
) -> Result<ClientConfig, String> {
    let builder = ClientConfig::builder_with_provider(Arc::new(aws_lc_rs::default_provider()))
        .with_protocol_versions(versions)
        .map_err(|e| format!("cannot use these protocol versions: {e}"))?
        .with_root_certificates(roots);
    match identity {
        None => Ok(builder.with_no_client_auth()),
        Some((chain, key)) => builder
            .with_client_auth_cert(chain, key)
            .map_err(|e| format!("the client certificate and key do not match: {e}")),
    }
}
