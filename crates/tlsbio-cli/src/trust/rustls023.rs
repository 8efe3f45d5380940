//! `CaFileVerifier` as rustls 0.23's `ServerCertVerifier`.

use std::sync::atomic::Ordering;
use std::sync::Arc;

use tlsbio::rustls::client::danger::{
    HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier,
};
use tlsbio::rustls::client::WebPkiServerVerifier;
use tlsbio::rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use tlsbio::rustls::{DigitallySignedStruct, Error, OtherError, RootCertStore, SignatureScheme};

use super::{is_ca_used_as_end_entity, CaFileVerifier};

pub(super) fn webpki_verifier(
    roots: RootCertStore,
) -> Result<Arc<WebPkiServerVerifier>, impl std::fmt::Display> {
    WebPkiServerVerifier::builder(Arc::new(roots)).build()
}

/// The webpki error inside a rustls `OtherError`, if it is one.
pub(super) fn webpki_error(other: &OtherError) -> Option<&webpki::Error> {
    other.0.downcast_ref::<webpki::Error>()
}

impl ServerCertVerifier for CaFileVerifier {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        ocsp_response: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, Error> {
        match self.webpki.verify_server_cert(
            end_entity,
            intermediates,
            server_name,
            ocsp_response,
            now,
        ) {
            Err(e)
                if is_ca_used_as_end_entity(&e) && self.anchors.iter().any(|a| a == end_entity) =>
            {
                self.check_pinned(end_entity, server_name, now)?;
                self.pinned_used.store(true, Ordering::Relaxed);
                Ok(ServerCertVerified::assertion())
            }
            other => other,
        }
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, Error> {
        self.webpki.verify_tls12_signature(message, cert, dss)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, Error> {
        self.webpki.verify_tls13_signature(message, cert, dss)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.webpki.supported_verify_schemes()
    }
}
