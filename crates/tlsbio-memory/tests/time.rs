//! The deterministic provider's clock is a value the test moves: a
//! session ticket past its lifetime is not used (a full handshake
//! follows), a certificate outside its validity is refused with the right
//! error and alert, and the same seed and clock script give byte-identical
//! transcripts (a different script, different bytes).

use std::sync::Arc;
use std::time::Duration;

use tlsbio::Error;
use tlsbio_memory::deterministic::{DeterministicPki, InsecureDeterministicCrypto};
use tlsbio_memory::rustls::version::TLS13;
use tlsbio_memory::{Endpoint, Harness, Report, Script, Side};

const HOUR: Duration = Duration::from_secs(3600);

/// Connections from one client config to one server config, with the clock
/// moved by each `step` before each one after the first; their reports,
/// resumption and transcripts.
fn connections(pki: &DeterministicPki, steps: &[Duration]) -> Vec<(Report, bool, String)> {
    let crypto = InsecureDeterministicCrypto::new(11);
    let client =
        Endpoint::client(Arc::new(crypto.client_config(pki, &[&TLS13])), "localhost").unwrap();
    let server = Endpoint::Server(Arc::new(crypto.server_config(pki, &[&TLS13])));
    let mut out = Vec::new();
    for (i, step) in std::iter::once(&Duration::ZERO).chain(steps).enumerate() {
        crypto.clock().advance(*step);
        let mut h = Harness::builder(client.clone(), server.clone())
            .client_script(Script::sending(Side::Client, 100))
            .server_script(Script::sending(Side::Server, 100))
            .build()
            .unwrap();
        let report = h.run();
        let resumed = h.engine(Side::Client).is_resumed();
        assert!(
            i == 0 || report.end == tlsbio_memory::End::Finished,
            "{report}"
        );
        out.push((report, resumed, h.transcript().to_text()));
    }
    out
}

#[test]
fn a_ticket_past_its_lifetime_gives_a_full_handshake() {
    let pki = DeterministicPki::new(11, &["localhost"]);
    // rustls gives stateful TLS 1.3 tickets a 24-hour lifetime.
    let runs = connections(&pki, &[Duration::from_secs(60), 25 * HOUR]);
    for (report, _, _) in &runs {
        assert!(report.is_clean(), "{report}");
    }
    let resumed: Vec<bool> = runs.iter().map(|(_, r, _)| *r).collect();
    assert_eq!(
        resumed,
        [false, true, false],
        "fresh, a minute later, a day later"
    );
}

#[test]
fn a_certificate_outside_its_validity_is_refused_with_the_right_alert() {
    // Valid for January 2026; the clock starts at 2026-01-01.
    let pki = DeterministicPki::valid_between(12, &["localhost"], (2026, 1, 1), (2026, 2, 1));
    let runs = connections(&pki, &[24 * 40 * HOUR]);
    assert!(runs[0].0.is_clean(), "inside the window: {}", runs[0].0);
    let late = &runs[1].0;
    match &late.client.error {
        Some(Error::Protocol(e)) => {
            assert!(e.to_string().contains("has expired"), "{e}");
        }
        other => panic!("expected an expired certificate, got {other:?}\n{late}"),
    }
    let server = late
        .server
        .error
        .as_ref()
        .map(ToString::to_string)
        .unwrap_or_default();
    assert!(
        server.contains("CertificateExpired"),
        "the server must see the alert: {server}"
    );

    // Before the window opens.
    let early = DeterministicPki::valid_between(12, &["localhost"], (2026, 6, 1), (2027, 1, 1));
    let runs = connections(&early, &[]);
    match &runs[0].0.client.error {
        Some(Error::Protocol(e)) => assert!(e.to_string().contains("not valid yet"), "{e}"),
        other => panic!("expected a not-yet-valid certificate, got {other:?}"),
    }
}

#[test]
fn the_same_seed_and_clock_script_give_the_same_bytes() {
    let pki = DeterministicPki::new(13, &["localhost"]);
    let script = [Duration::from_secs(90), Duration::from_secs(3)];
    let text = |runs: Vec<(Report, bool, String)>| -> Vec<String> {
        runs.into_iter().map(|(_, _, t)| t).collect()
    };
    let a = text(connections(&pki, &script));
    let b = text(connections(&pki, &script));
    assert_eq!(a, b, "same seed, same clock script");
    // The resumed ClientHello carries the ticket's age: another script
    // puts other bytes on the wire.
    let c = text(connections(
        &pki,
        &[Duration::from_secs(91), Duration::from_secs(3)],
    ));
    assert_eq!(
        a[0], c[0],
        "the first connection does not depend on later steps"
    );
    assert_ne!(a[1], c[1], "the ticket age is in the resumed ClientHello");
}
