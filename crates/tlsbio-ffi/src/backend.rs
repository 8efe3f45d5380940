//! Config building on whichever rustls tlsbio is built with: the builders
//! differ between rustls 0.23 and 0.24 (0.24 takes the provider in the
//! builder, chooses versions by the provider's suites and wraps chains in
//! an `Identity`); the C contexts' settings are the same.

use tlsbio::rustls;

#[cfg(not(feature = "rustls-0-24"))]
#[path = "backend/rustls023.rs"]
mod imp;
#[cfg(feature = "rustls-0-24")]
#[path = "backend/rustls024.rs"]
mod imp;

pub(crate) use imp::{client_config, server_config};

/// A server's certificate and key refused by rustls, in words that say
/// what to check.
fn key_error(e: rustls::Error) -> String {
    match e {
        rustls::Error::InconsistentKeys(_) => "the private key does not belong to the \
             certificate (the leaf, first in the chain): check that the key and chain files \
             are a pair"
            .to_string(),
        e => format!("the certificate and key do not make a server: {e}"),
    }
}
