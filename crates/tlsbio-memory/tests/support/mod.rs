//! Pairs built from the deterministic provider, for every test file here.
#![allow(dead_code, unreachable_pub)]

use std::sync::Arc;

use tlsbio_memory::deterministic::{DeterministicPki, InsecureDeterministicCrypto};
use tlsbio_memory::rustls::{version, SupportedProtocolVersion};
use tlsbio_memory::{Builder, Endpoint, Harness, Schedule, Script, Side, Transcript};

pub const TLS13: &[&SupportedProtocolVersion] = &[&version::TLS13];
pub const TLS12: &[&SupportedProtocolVersion] = &[&version::TLS12];
pub const VERSIONS: [&[&SupportedProtocolVersion]; 2] = [TLS13, TLS12];

/// Both endpoints for one crypto seed.
pub fn endpoints(
    seed: u64,
    versions: &[&'static SupportedProtocolVersion],
) -> (Endpoint, Endpoint) {
    let crypto = InsecureDeterministicCrypto::new(seed);
    let pki = DeterministicPki::new(seed, &["localhost"]);
    (
        Endpoint::client(Arc::new(crypto.client_config(&pki, versions)), "localhost").unwrap(),
        Endpoint::Server(Arc::new(crypto.server_config(&pki, versions))),
    )
}

/// A pair with crypto seed `seed`, sending `c` bytes one way and `s` back.
pub fn pair(
    seed: u64,
    versions: &[&'static SupportedProtocolVersion],
    schedule: Schedule,
    c: usize,
    s: usize,
) -> Builder {
    let (client, server) = endpoints(seed, versions);
    Harness::builder(client, server)
        .schedule(schedule)
        .client_script(Script::sending(Side::Client, c))
        .server_script(Script::sending(Side::Server, s))
}

pub fn name(versions: &[&SupportedProtocolVersion]) -> &'static str {
    if std::ptr::eq(versions[0], &version::TLS13) {
        "TLS1.3"
    } else {
        "TLS1.2"
    }
}

/// The transcript of a clean run; panics with the report if it was not.
pub fn recorded(
    seed: u64,
    versions: &[&'static SupportedProtocolVersion],
    schedule: Schedule,
    c: usize,
    s: usize,
) -> Transcript {
    let mut h = pair(seed, versions, schedule, c, s).build().unwrap();
    let r = h.run();
    assert!(r.is_clean(), "{r}");
    h.transcript().clone()
}
