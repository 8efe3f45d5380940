//! `CaFileVerifier` as rustls 0.24's `ServerVerifier`.

use std::error::Error as _;
use std::hash::Hasher;
use std::sync::atomic::Ordering;
use std::sync::Arc;

use tlsbio::rustls::client::danger::{
    HandshakeSignatureValid, ServerIdentity, ServerVerifier, SignatureVerificationInput,
};
use tlsbio::rustls::client::WebPkiServerVerifier;
use tlsbio::rustls::crypto::{Identity, SignatureScheme, VerifiedIdentity};
use tlsbio::rustls::error::OtherError;
use tlsbio::rustls::{Error, RootCertStore};
use webpki024 as webpki;

use super::{is_ca_used_as_end_entity, CaFileVerifier};

pub(super) fn webpki_verifier(
    roots: RootCertStore,
) -> Result<Arc<WebPkiServerVerifier>, impl std::fmt::Display> {
    WebPkiServerVerifier::builder(Arc::new(roots), &tlsbio::default_provider())
        .build()
        .map(Arc::new)
}

/// The webpki error inside a rustls `OtherError`, if it is one (0.24
/// keeps it private; it is the error's source).
pub(super) fn webpki_error(other: &OtherError) -> Option<&webpki::Error> {
    other.source()?.downcast_ref::<webpki::Error>()
}

impl ServerVerifier for CaFileVerifier {
    fn verify_identity<'a>(
        &self,
        identity: &ServerIdentity<'a, '_>,
    ) -> Result<VerifiedIdentity<'a>, Error> {
        match self.webpki.verify_identity(identity) {
            Err(e) if is_ca_used_as_end_entity(&e) => {
                let Identity::X509(chain) = identity.identity else {
                    return Err(e);
                };
                if !self.anchors.iter().any(|a| a == &chain.end_entity) {
                    return Err(e);
                }
                self.check_pinned(&chain.end_entity, identity.server_name, identity.now)?;
                self.pinned_used.store(true, Ordering::Relaxed);
                Ok(VerifiedIdentity::assertion(identity.identity.clone()))
            }
            other => other,
        }
    }

    fn verify_tls12_signature(
        &self,
        input: &SignatureVerificationInput<'_>,
    ) -> Result<HandshakeSignatureValid, Error> {
        self.webpki.verify_tls12_signature(input)
    }

    fn verify_tls13_signature(
        &self,
        input: &SignatureVerificationInput<'_>,
    ) -> Result<HandshakeSignatureValid, Error> {
        self.webpki.verify_tls13_signature(input)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.webpki.supported_verify_schemes()
    }

    fn request_ocsp_response(&self) -> bool {
        self.webpki.request_ocsp_response()
    }

    fn hash_config(&self, h: &mut dyn Hasher) {
        // Sessions resumed under this verifier were verified by webpki
        // with these roots, or pinned to these anchors.
        self.webpki.hash_config(h);
        for anchor in &self.anchors {
            h.write(anchor.as_ref());
        }
    }
}
