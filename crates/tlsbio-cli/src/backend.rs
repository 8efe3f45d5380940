//! rustls config builders for the server and the client, on whichever
//! rustls tlsbio is built with (0.24 takes the provider in the builder,
//! chooses versions by the provider's suites, wraps chains in an
//! `Identity`, and returns a `Result` for a client without a
//! certificate). The commands' options and messages are the same.

use std::sync::Arc;

use tlsbio::rustls::pki_types::{CertificateDer, PrivateKeyDer};
use tlsbio::rustls::{self, RootCertStore, SupportedProtocolVersion};

use crate::trust::CaFileVerifier;

#[cfg(not(feature = "rustls-0-24"))]
#[path = "backend/rustls023.rs"]
mod imp;
#[cfg(feature = "rustls-0-24")]
#[path = "backend/rustls024.rs"]
mod imp;

pub(crate) use imp::{client_config, server_config};

/// Why a server config could not be made.
pub(crate) enum ServerError {
    /// The client CAs cannot verify anything.
    ClientCa(String),
    /// rustls refused the certificate and key.
    Key(rustls::Error),
    /// The certificate file held no certificate.
    #[cfg_attr(not(feature = "rustls-0-24"), allow(dead_code))]
    NoCertificate,
}

/// How a client verifies servers.
pub(crate) enum Trust {
    Roots(RootCertStore),
    CaFile(Arc<CaFileVerifier>),
}

/// A client certificate chain and its key.
pub(crate) type ClientCert = (Vec<CertificateDer<'static>>, PrivateKeyDer<'static>);

/// The versions a config may use.
pub(crate) type Versions = &'static [&'static SupportedProtocolVersion];
