//! 0-RTT with tlsbio on both sides, on the deterministic harness (rustls
//! 0.24 builds: rustls 0.23's client cannot send early data, see
//! docs/semantics.md). A first connection leaves the client a ticket; on
//! the second the client's script writes early data before its handshake
//! and the server's reads the early stream. The same seed gives the same
//! bytes, early data included.
#![cfg(feature = "rustls-0-24")]

use std::sync::Arc;

use tlsbio::EarlyDataStatus;
use tlsbio_memory::deterministic::{DeterministicPki, InsecureDeterministicCrypto};
use tlsbio_memory::rustls::version::TLS13;
use tlsbio_memory::{Endpoint, Harness, Report, Schedule, Script, Side, Transcript};

/// Two connections from one client config to one server config that
/// allows `max_early` bytes; the second sends `early`. Their reports and
/// transcripts.
fn two_connections(
    seed: u64,
    max_early: u32,
    early: &[u8],
    schedule: Schedule,
) -> Vec<(Report, String)> {
    two_connections_with(seed, max_early, early, schedule, |b| b)
}

fn two_connections_with(
    seed: u64,
    max_early: u32,
    early: &[u8],
    schedule: Schedule,
    tune: impl Fn(tlsbio_memory::Builder) -> tlsbio_memory::Builder,
) -> Vec<(Report, String)> {
    let crypto = InsecureDeterministicCrypto::new(seed);
    let pki = DeterministicPki::new(seed, &["localhost"]);
    let mut client = crypto.client_config(&pki, &[&TLS13]);
    client.enable_early_data = true;
    let mut server = crypto.server_config(&pki, &[&TLS13]);
    server.max_early_data_size = max_early;
    let client = Endpoint::client(Arc::new(client), "localhost").unwrap();
    let server = Endpoint::Server(Arc::new(server));
    let mut runs = Vec::new();
    for script_early in [&b""[..], early] {
        let builder = Harness::builder(client.clone(), server.clone())
            .schedule(schedule.clone())
            .client_script(Script::sending(Side::Client, 100).early_data(script_early.to_vec()))
            .server_script(Script::sending(Side::Server, 100).early_data(vec![1]));
        let mut h = tune(builder).build().unwrap();
        let report = h.run();
        assert!(report.is_clean(), "{report}");
        runs.push((report, h.transcript().to_text()));
    }
    runs
}

#[test]
fn early_data_arrives_as_the_servers_early_stream() {
    let runs = two_connections(21, 1024, b"GET /early", Schedule::lockstep());
    let (first, second) = (&runs[0].0, &runs[1].0);
    assert_eq!(
        first.side(Side::Client).early_data,
        Some(EarlyDataStatus::NotSent)
    );
    assert!(first.side(Side::Server).early_received.is_empty());
    assert_eq!(
        second.side(Side::Client).early_data,
        Some(EarlyDataStatus::Accepted)
    );
    assert_eq!(second.side(Side::Server).early_received, b"GET /early");
    // The ordinary streams are whole and separate.
    assert_eq!(second.side(Side::Server).received.len(), 100);
    assert_eq!(second.side(Side::Client).received.len(), 100);
}

#[test]
fn a_server_that_allows_none_leaves_the_early_stream_empty() {
    let runs = two_connections(22, 0, b"refused", Schedule::lockstep());
    let second = &runs[1].0;
    // Its ticket allowed no early data: nothing was sent.
    assert_eq!(
        second.side(Side::Client).early_data,
        Some(EarlyDataStatus::NotSent)
    );
    assert!(second.side(Side::Server).early_received.is_empty());
}

#[test]
fn the_same_seed_gives_the_same_bytes_with_early_data() {
    for schedule in [
        Schedule::lockstep(),
        Schedule::seeded(4),
        Schedule::trickle(),
    ] {
        let a = two_connections(23, 1024, b"early bytes", schedule.clone());
        let b = two_connections(23, 1024, b"early bytes", schedule.clone());
        assert_eq!(a[1].1, b[1].1, "{schedule:?}");
        assert_eq!(
            a[1].0.side(Side::Server).early_received,
            b"early bytes",
            "{schedule:?}: client {:?}, resumed? {}",
            a[1].0.side(Side::Client).early_data,
            a[1].1.contains("resumed")
        );
        // The transcript names the early data and reads back.
        let t = Transcript::parse(&a[1].1).unwrap();
        assert_eq!(t.script(Side::Client).early, b"early bytes");
        assert_eq!(t.to_text(), a[1].1);
    }
}

#[test]
fn strict_drivers_with_every_bio_kind_get_the_early_data_through() {
    use tlsbio_memory::{BioKind, Capacities};
    for kind in BioKind::ALL {
        for size in [1, 7, 300, 65_536] {
            let schedule = Schedule::lockstep().with_capacities(Capacities::uniform(size));
            let runs = two_connections_with(24, 1024, b"strict early", schedule, |b| {
                b.bios(kind).strict().deliver_exact_minimum()
            });
            let second = &runs[1].0;
            assert_eq!(
                second.side(Side::Server).early_received,
                b"strict early",
                "{kind:?} {size}: {second}"
            );
            assert_eq!(
                second.side(Side::Client).early_data,
                Some(EarlyDataStatus::Accepted)
            );
        }
    }
}
