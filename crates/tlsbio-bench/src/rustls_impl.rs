//! Raw rustls of the version tlsbio is built with, driven the way its own
//! documentation drives it.

#[cfg(not(feature = "rustls-0-24"))]
#[path = "rustls_impl/rustls023.rs"]
mod imp;
#[cfg(feature = "rustls-0-24")]
#[path = "rustls_impl/rustls024.rs"]
mod imp;

pub(crate) use imp::{idle, run};

/// rustls 0.23's unbuffered API (0.24 removed it).
#[cfg(not(feature = "rustls-0-24"))]
#[path = "rustls_impl/unbuffered023.rs"]
pub(crate) mod unbuffered;
