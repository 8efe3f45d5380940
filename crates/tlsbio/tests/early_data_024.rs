//! On the rustls 0.24.0-dev.2 backend, 0-RTT is refused where a context is
//! made, with an error that says why and what to do: that pre-release's
//! server handshake drops early data it has told the client it accepted
//! (docs/architecture.md), and its client's early data waits on the
//! engine's support for it. rustls 0.23 builds run `early_data.rs`.
#![cfg(feature = "rustls-0-24")]

mod support;

use std::sync::Arc;

use support::*;
use tlsbio::{ClientContext, ConfigError, ServerContext};

#[test]
fn a_server_that_allows_early_data_is_refused_with_the_reason() {
    let (_, server) = configs(TLS13);
    let mut server = (*server).clone();
    server.max_early_data_size = 1024;
    let err = ServerContext::new(Arc::new(server)).unwrap_err();
    assert_eq!(err, ConfigError::ServerEarlyDataUnsupported);
    let text = err.to_string();
    assert!(text.contains("max_early_data_size = 0"), "{text}");
}

#[test]
fn a_server_without_early_data_is_accepted() {
    let (_, server) = configs(TLS13);
    assert_eq!(server.max_early_data_size, 0);
    ServerContext::new(server).unwrap();
}

#[test]
fn a_client_that_enables_early_data_is_refused() {
    let (client, _) = configs(TLS13);
    let mut client = (*client).clone();
    client.enable_early_data = true;
    let err = ClientContext::new(Arc::new(client)).unwrap_err();
    assert_eq!(err, ConfigError::EarlyDataUnsupported);
}
