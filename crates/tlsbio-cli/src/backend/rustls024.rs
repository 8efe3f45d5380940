//! The configs on rustls 0.24.

use std::sync::Arc;

use tlsbio::rustls::crypto::{CryptoProvider, Identity};
use tlsbio::rustls::pki_types::{CertificateDer, PrivateKeyDer};
use tlsbio::rustls::server::WebPkiClientVerifier;
use tlsbio::rustls::{ClientConfig, RootCertStore, ServerConfig};

use super::{ClientCert, ServerError, Trust, Versions};

/// tlsbio's default provider with only `versions`' cipher suites.
fn provider(versions: Versions) -> Arc<CryptoProvider> {
    tlsbio::provider_for_versions(&tlsbio::default_provider(), versions)
}

fn identity(chain: Vec<CertificateDer<'static>>) -> Result<Arc<Identity<'static>>, String> {
    Identity::from_cert_chain(chain)
        .map(Arc::new)
        .map_err(|e| format!("no certificate in the chain: {e:?}"))
}

pub(crate) fn server_config(
    versions: Versions,
    client_roots: Option<RootCertStore>,
    chain: Vec<CertificateDer<'static>>,
    key: PrivateKeyDer<'static>,
) -> Result<ServerConfig, ServerError> {
    let provider = provider(versions);
    let builder = ServerConfig::builder(provider.clone());
    let builder = match client_roots {
        Some(roots) => {
            let verifier = WebPkiClientVerifier::builder(Arc::new(roots), &provider)
                .build()
                .map_err(|e| ServerError::ClientCa(e.to_string()))?;
            builder.with_client_cert_verifier(Arc::new(verifier))
        }
        None => builder.with_no_client_auth(),
    };
    let chain = identity(chain).map_err(|_| ServerError::NoCertificate)?;
    builder
        .with_single_cert(chain, key)
        .map_err(ServerError::Key)
}

pub(crate) fn client_config(
    versions: Versions,
    trust: Trust,
    cert: Option<ClientCert>,
) -> Result<ClientConfig, String> {
    let builder = ClientConfig::builder(provider(versions));
    let builder = match trust {
        Trust::CaFile(verifier) => builder
            .dangerous()
            .with_custom_certificate_verifier(verifier),
        Trust::Roots(roots) => builder.with_root_certificates(roots),
    };
    match cert {
        Some((chain, key)) => builder
            .with_client_auth_cert(identity(chain)?, key)
            .map_err(|e| format!("client certificate and key are not usable together: {e}")),
        None => builder
            .with_no_client_auth()
            .map_err(|e| format!("cannot make a client config: {e}")),
    }
}
