//! `--ca FILE` the way `openssl s_client -CAfile`, curl and Python's `ssl`
//! read it: a certificate in the file is trusted as itself.
//!
//! `openssl req -x509` makes a self-signed certificate with
//! `basicConstraints CA:TRUE`. webpki, rightly for a chain, refuses a CA
//! certificate as a server's certificate (`CaUsedAsEndEntity`); OpenSSL
//! accepts it when that very certificate is a trust anchor, because then
//! there is no chain to judge. This verifier does the same and no more:
//! only when webpki's one objection is `CaUsedAsEndEntity` and the
//! server's certificate is byte for byte one of the `--ca` certificates,
//! and only after checking the name and the validity dates, which webpki
//! did not get to. The client's summary says when it happened.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use tlsbio::rustls::client::WebPkiServerVerifier;
use tlsbio::rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use tlsbio::rustls::{Error, RootCertStore};
use tlsbio::CertificateError;
// rustls 0.24 is built on webpki 0.104: its errors are that crate's.
#[cfg(feature = "rustls-0-24")]
use webpki024 as webpki;

// The verifier traits differ between rustls 0.23 and 0.24; the checks
// above are shared.
#[cfg(not(feature = "rustls-0-24"))]
#[path = "trust/rustls023.rs"]
mod imp;
#[cfg(feature = "rustls-0-24")]
#[path = "trust/rustls024.rs"]
mod imp;

/// WebPKI verification, plus the `--ca` certificate as its own anchor.
#[derive(Debug)]
pub(crate) struct CaFileVerifier {
    webpki: Arc<WebPkiServerVerifier>,
    anchors: Vec<CertificateDer<'static>>,
    pinned_used: AtomicBool,
}

impl CaFileVerifier {
    /// Verifies against `roots`, which were read from `anchors`.
    pub(crate) fn new(
        roots: RootCertStore,
        anchors: Vec<CertificateDer<'static>>,
    ) -> Result<Arc<Self>, String> {
        let webpki = imp::webpki_verifier(roots)
            .map_err(|e| format!("cannot verify servers with these CAs: {e}"))?;
        Ok(Arc::new(Self {
            webpki,
            anchors,
            pinned_used: AtomicBool::new(false),
        }))
    }

    /// Whether a server's certificate was accepted as its own trust anchor.
    pub(crate) fn pinned_used(&self) -> bool {
        self.pinned_used.load(Ordering::Relaxed)
    }

    /// The checks webpki skipped for a certificate it would not take as a
    /// leaf: the name we connected to, and the dates.
    fn check_pinned(
        &self,
        cert: &CertificateDer<'_>,
        name: &ServerName<'_>,
        now: UnixTime,
    ) -> Result<(), Error> {
        let parsed = webpki::EndEntityCert::try_from(cert)
            .map_err(|_| Error::InvalidCertificate(CertificateError::BadEncoding))?;
        parsed.verify_is_valid_for_subject_name(name).map_err(|e| {
            Error::InvalidCertificate(match e {
                webpki::Error::CertNotValidForName(context) => {
                    CertificateError::NotValidForNameContext {
                        expected: context.expected,
                        presented: context.presented,
                    }
                }
                _ => CertificateError::NotValidForName,
            })
        })?;
        let (_, x509) = x509_parser::parse_x509_certificate(cert)
            .map_err(|_| Error::InvalidCertificate(CertificateError::BadEncoding))?;
        let now_secs = i64::try_from(now.as_secs()).unwrap_or(i64::MAX);
        let validity = x509.validity();
        if now_secs < validity.not_before.timestamp() {
            return Err(Error::InvalidCertificate(CertificateError::NotValidYet));
        }
        if now_secs > validity.not_after.timestamp() {
            return Err(Error::InvalidCertificate(CertificateError::Expired));
        }
        Ok(())
    }
}

fn is_ca_used_as_end_entity(error: &Error) -> bool {
    match error {
        Error::InvalidCertificate(CertificateError::Other(other)) => matches!(
            imp::webpki_error(other),
            Some(webpki::Error::CaUsedAsEndEntity)
        ),
        _ => false,
    }
}
