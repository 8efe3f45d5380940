//! [`Verification`]: the one value that can give the verdict on the peer's
//! certificates when a context defers it.

use crate::bio::Bio;
use crate::engine::Engine;
use crate::session::Verdict;
use crate::tls::pki_types::CertificateDer;
use crate::CertificateError;

/// A handshake paused for the application's verdict on the peer's
/// certificates (rustls 0.24's `VerifyPeerIdentity`, OpenSSL's
/// `SSL_ERROR_WANT_RETRY_VERIFY`): the only value that can continue it.
///
/// Get it from [`Engine::verification`] after a call returned
/// [`Want::Verify`](crate::Want::Verify) on an engine whose context defers
/// verification
/// ([`ClientContext::with_deferred_verification`](crate::ClientContext::with_deferred_verification)).
/// Look at the [`certificates`](Self::certificates), decide however long
/// it takes (the peer's records keep arriving in the read BIO meanwhile;
/// nothing is lost), then [`accept`](Self::accept),
/// [`reject`](Self::reject) or [`verify_with_config`](Self::verify_with_config),
/// and call the engine again.
///
/// Accepting skips the config's verifier: the application vouches for
/// the chain, the name and the dates. To add a check to the usual ones,
/// run yours and then `verify_with_config`.
///
/// ```
/// # use tlsbio::bio::VecBio;
/// # use tlsbio::{CertificateError, Engine, Error, Want};
/// # fn trusted(chain: &[tlsbio::rustls::pki_types::CertificateDer<'_>]) -> bool { true }
/// # fn run(engine: &mut Engine<VecBio, VecBio>) -> Result<(), Error> {
/// match engine.connect() {
///     Err(Error::Want(Want::Verify)) => {
///         let verification = engine.verification().expect("paused for a verdict");
///         if trusted(verification.certificates()) {
///             verification.verify_with_config();
///         } else {
///             verification.reject(CertificateError::ApplicationVerificationFailure);
///         }
///         engine.connect()
///     }
///     other => other,
/// }
/// # }
/// ```
#[derive(Debug)]
pub struct Verification<'a, R, W> {
    engine: &'a mut Engine<R, W>,
}

impl<'a, R: Bio, W: Bio> Verification<'a, R, W> {
    pub(crate) fn new(engine: &'a mut Engine<R, W>) -> Self {
        Self { engine }
    }

    /// The peer's certificates, its own first, then the others in the
    /// order it sent them.
    pub fn certificates(&self) -> &[CertificateDer<'static>] {
        // `Engine::verification` makes this handle only while paused.
        self.engine.verifying_certificates().unwrap_or_default()
    }

    /// Trusts the certificates: the handshake goes on.
    pub fn accept(self) {
        self.engine.verdict(Verdict::Accept);
    }

    /// Refuses them for `reason`: the next call fails with it, after
    /// sending the alert rustls sends for it.
    pub fn reject(self, reason: CertificateError) {
        self.engine
            .verdict(Verdict::Reject(crate::tls::Error::InvalidCertificate(
                reason,
            )));
    }

    /// Verifies them now with the config's verifier, as if nothing had
    /// been deferred.
    pub fn verify_with_config(self) {
        self.engine.verdict(Verdict::WithConfig);
    }
}
