//! The rustls items the engine names, from whichever rustls it was built
//! with: 0.23 by default, 0.24.0-dev.2 with the `rustls-0-24` feature.
//! Some of them moved between the two (0.24 keeps the wire enums in
//! `enums`, `crypto` and `error`); everything else in the crate names them
//! through here, so only this file and the backend know which rustls it is.

#[cfg(not(feature = "rustls-0-24"))]
pub use rustls::{
    AlertDescription, CertificateError, CipherSuite, HandshakeKind, NamedGroup, ProtocolVersion,
    SignatureScheme,
};
#[cfg(not(feature = "rustls-0-24"))]
pub(crate) use rustls::{ClientConfig, Error, ServerConfig, SupportedCipherSuite};

#[cfg(feature = "rustls-0-24")]
pub use rustls024::{
    crypto::kx::NamedGroup,
    crypto::{CipherSuite, SignatureScheme},
    enums::ProtocolVersion,
    error::{AlertDescription, CertificateError},
    HandshakeKind,
};
#[cfg(feature = "rustls-0-24")]
pub(crate) use rustls024::{ClientConfig, Error, ServerConfig, SupportedCipherSuite};

pub(crate) use crate::rustls::pki_types;

/// `unknown_ca`, which 0.24 spells `UnknownCa`.
#[cfg(not(feature = "rustls-0-24"))]
pub(crate) const ALERT_UNKNOWN_CA: AlertDescription = AlertDescription::UnknownCA;
#[cfg(feature = "rustls-0-24")]
pub(crate) const ALERT_UNKNOWN_CA: AlertDescription = AlertDescription::UnknownCa;
