//! The configs on rustls 0.23.

use std::sync::Arc;

use tlsbio::rustls::pki_types::{CertificateDer, PrivateKeyDer};
use tlsbio::rustls::server::WebPkiClientVerifier;
use tlsbio::rustls::{ClientConfig, RootCertStore, ServerConfig};

use super::{ClientCert, ServerError, Trust, Versions};

pub(crate) fn server_config(
    versions: Versions,
    client_roots: Option<RootCertStore>,
    chain: Vec<CertificateDer<'static>>,
    key: PrivateKeyDer<'static>,
) -> Result<ServerConfig, ServerError> {
    let builder = ServerConfig::builder_with_protocol_versions(versions);
    let builder = match client_roots {
        Some(roots) => {
            let verifier = WebPkiClientVerifier::builder(Arc::new(roots))
                .build()
                .map_err(|e| ServerError::ClientCa(e.to_string()))?;
            builder.with_client_cert_verifier(verifier)
        }
        None => builder.with_no_client_auth(),
    };
    builder
        .with_single_cert(chain, key)
        .map_err(ServerError::Key)
}

pub(crate) fn client_config(
    versions: Versions,
    trust: Trust,
    cert: Option<ClientCert>,
) -> Result<ClientConfig, String> {
    let builder = ClientConfig::builder_with_protocol_versions(versions);
    let builder = match trust {
        Trust::CaFile(verifier) => builder
            .dangerous()
            .with_custom_certificate_verifier(verifier),
        Trust::Roots(roots) => builder.with_root_certificates(roots),
    };
    match cert {
        Some((chain, key)) => builder
            .with_client_auth_cert(chain, key)
            .map_err(|e| format!("client certificate and key are not usable together: {e}")),
        None => Ok(builder.with_no_client_auth()),
    }
}
