//! Each fault from the issue, with its expected outcome on both sides.

mod support;

use support::*;
use tlsbio::{AlertSent, Error};
use tlsbio_memory::{Close, Dir, End, Entry, Fault, Report, Schedule, Script, Side};

/// A clean lockstep run's two streams, for picking fault positions.
fn streams(v: &[&'static tlsbio::rustls::SupportedProtocolVersion]) -> [Vec<u8>; 2] {
    let mut h = pair(1, v, Schedule::lockstep(), 100, 100).build().unwrap();
    assert!(h.run().is_clean());
    let t = h.transcript();
    [t.stream(Dir::ClientToServer), t.stream(Dir::ServerToClient)]
}

/// A side that closed cleanly got exactly what its peer sent.
fn assert_closed_means_intact(r: &Report) {
    if r.client.closed {
        assert_eq!(
            r.client.received, r.server_sent,
            "client closed with other data\n{r}"
        );
    }
    if r.server.closed {
        assert_eq!(
            r.server.received, r.client_sent,
            "server closed with other data\n{r}"
        );
    }
}

/// (record start, content type) of the record holding stream byte `at`.
fn record_at(stream: &[u8], at: usize) -> (usize, u8) {
    let mut start = 0;
    while start + 5 <= stream.len() {
        let len = usize::from(u16::from_be_bytes([stream[start + 3], stream[start + 4]]));
        if at < start + 5 + len {
            return (start, stream[start]);
        }
        start += 5 + len;
    }
    panic!("offset {at} is past the last record");
}

#[test]
fn cut_at_every_byte_is_unexpected_eof_never_a_clean_close() {
    for v in VERSIONS {
        let lens = streams(v).map(|s| s.len() as u64);
        for dir in [Dir::ClientToServer, Dir::ServerToClient] {
            for at in 0..=lens[dir as usize] {
                let r = pair(1, v, Schedule::lockstep(), 100, 100)
                    .fault(Fault::Cut { dir, at })
                    .build()
                    .unwrap()
                    .run();
                let ctx = format!("{} cut {dir} at {at}\n{r}", name(v));
                assert_eq!(r.end, End::Finished, "{ctx}");
                for side in [Side::Client, Side::Server] {
                    let me = r.side(side);
                    // Everything the peer sent reached `side` only if the cut
                    // came after the peer's whole stream.
                    let peer_dir = side.peer().sending();
                    let all_arrived = peer_dir != dir || at == lens[dir as usize];
                    if me.closed {
                        assert!(all_arrived, "clean close over a truncated stream: {ctx}");
                    } else {
                        assert!(
                            matches!(me.error, Some(Error::UnexpectedEof { .. })),
                            "{side}: {ctx}"
                        );
                    }
                }
                assert_closed_means_intact(&r);
                // Truncation during the handshake says so.
                if at == 0 && dir == Dir::ClientToServer {
                    assert!(matches!(
                        r.server.error,
                        Some(Error::UnexpectedEof {
                            during_handshake: true,
                            ..
                        })
                    ));
                }
            }
        }
    }
}

#[test]
fn corrupt_byte_at_every_offset_ends_both_sides_with_an_error_or_harmlessly() {
    for v in VERSIONS {
        let streams = streams(v);
        let mut alerts = 0;
        let mut harmless = 0;
        let mut stalls = 0;
        for dir in [Dir::ClientToServer, Dir::ServerToClient] {
            let stream = &streams[dir as usize];
            for at in 0..stream.len() {
                let mut h = pair(1, v, Schedule::lockstep(), 100, 100)
                    .fault(Fault::Corrupt {
                        dir,
                        at: at as u64,
                        xor: 0x01,
                    })
                    .build()
                    .unwrap();
                let mut r = h.run();
                let (start, typ) = record_at(stream, at);
                let within = at - start;
                let ctx = format!(
                    "{} corrupt {dir} byte {at} (record +{within})\n{r}",
                    name(v)
                );
                if r.end == End::Stalled {
                    // Only a length grew: the receiver waits for bytes that
                    // never come, as a real peer would until a timeout.
                    assert!(within == 3 || within == 4 || typ == 22, "{ctx}");
                    stalls += 1;
                    h.cut_now();
                    r = h.run();
                }
                assert_eq!(r.end, End::Finished, "{ctx}");
                assert_closed_means_intact(&r);
                for side in [&r.client, &r.server] {
                    // The first two bytes of the client's stream decide
                    // whether the server sees TLS at all.
                    let not_tls = dir == Dir::ClientToServer && at < 2;
                    assert!(
                        side.closed
                            || matches!(
                                side.error,
                                Some(Error::Protocol(_) | Error::UnexpectedEof { .. })
                            )
                            || (not_tls && matches!(side.error, Some(Error::NotTls(_)))),
                        "{ctx}"
                    );
                }
                if r.is_clean() {
                    // Only record-header fields TLS ignores: the legacy
                    // version, and in TLS 1.3 the outer content type of an
                    // encrypted record (rustls authenticates the record with
                    // the fixed application_data type, RFC 8446 5.2). The
                    // length and every payload byte are always caught.
                    assert!(within <= 2, "silently accepted: {ctx}");
                    harmless += 1;
                }
                if [&r.client, &r.server].iter().any(|s| {
                    matches!(&s.error, Some(Error::Protocol(p)) if p.alert_sent() != AlertSent::None)
                }) {
                    alerts += 1;
                }
            }
        }
        let total = streams[0].len() + streams[1].len();
        println!(
            "{}: {total} corrupted bytes: {alerts} alerted, {harmless} harmless, {stalls} stalled",
            name(v)
        );
        // Most corruptions are caught with an alert.
        assert!(alerts * 10 > total * 8, "{alerts} of {total}");
    }
}

#[test]
fn a_peer_that_never_reads_gets_want_write_and_memory_stays_bounded() {
    for v in VERSIONS {
        let r = pair(1, v, Schedule::seeded(3), 4 << 20, 0)
            .server_script(Script::sending(Side::Server, 0).never_reads())
            .build()
            .unwrap()
            .run();
        let ctx = format!("{}\n{r}", name(v));
        assert_eq!(r.end, End::Stalled, "{ctx}");
        assert!(r.client.handshake_complete, "{ctx}");
        assert_eq!(
            r.client.last_turn,
            Some(tlsbio_memory::Turn::Want(tlsbio::Want::Write)),
            "{ctx}"
        );
        assert!(r.client.sent < 4 << 20, "{ctx}");
        // What the client holds beyond its BIOs is at most a record or two.
        assert!(r.client.engine_buffered <= 2 * (16 * 1024 + 256), "{ctx}");
        let caps = Schedule::seeded(3).capacities();
        assert!(r.client.bio_pending.1 <= caps.client_tx);
        assert!(r.server.bio_pending.0 <= caps.server_rx);
    }
}

#[test]
fn half_close_keeps_the_other_direction_open() {
    for v in VERSIONS {
        for schedule in [
            Schedule::lockstep(),
            Schedule::trickle(),
            Schedule::seeded(11),
        ] {
            let mut h = pair(1, v, schedule.clone(), 3000, 20_000)
                .client_script(Script::sending(Side::Client, 3000).close(Close::HalfClose))
                .build()
                .unwrap();
            let r = h.run();
            let ctx = format!("{} {}\n{r}", name(v), schedule.name());
            assert!(r.is_clean(), "{ctx}");
            // The client sent close_notify after its 3000 bytes, then still
            // read all 20 000 of the server's.
            assert_eq!(r.client.received.len(), 20_000, "{ctx}");
            // ... and, on the one-byte link, most of them arrived after its
            // close_notify was sent (on wide links the server may well send
            // everything first).
            if schedule.name() != "trickle" {
                continue;
            }
            let entries = &h.transcript().entries;
            let half_closed = entries
                .iter()
                .position(|e| {
                    matches!(e, Entry::Run { side: Side::Client, state, .. }
                        if *state == tlsbio::HandshakeState::ShutdownSent)
                })
                .expect("the client half-closed");
            let after: usize = entries[half_closed..]
                .iter()
                .map(|e| match e {
                    Entry::Data {
                        dir: Dir::ServerToClient,
                        bytes,
                        ..
                    } => bytes.len(),
                    _ => 0,
                })
                .sum();
            assert!(
                after > 20_000 / 2,
                "{after} bytes after the half-close: {ctx}"
            );
        }
    }
}

/// A plaintext warning-level close_notify alert record.
const CLOSE_NOTIFY: [u8; 7] = [0x15, 0x03, 0x03, 0x00, 0x02, 0x01, 0x00];

/// rustls does not let an unauthenticated close_notify end anything: during
/// the handshake it is just a warning alert. TLS 1.3 outlaws warnings and
/// fails the handshake with an alert; TLS 1.2 ignores it. Either way there
/// is never a clean close, and never a truncation.
#[test]
fn close_notify_in_the_middle_of_a_handshake_is_not_a_close() {
    for v in VERSIONS {
        let [c2s, s2c] = streams(v);
        // Right after the first record in each direction: the ClientHello,
        // and the server's first record.
        for (dir, stream) in [(Dir::ClientToServer, &c2s), (Dir::ServerToClient, &s2c)] {
            let first = 5 + usize::from(u16::from_be_bytes([stream[3], stream[4]]));
            let r = pair(1, v, Schedule::lockstep(), 100, 100)
                .fault(Fault::Inject {
                    dir,
                    at: first as u64,
                    bytes: CLOSE_NOTIFY.to_vec(),
                })
                .build()
                .unwrap()
                .run();
            let ctx = format!("{} close_notify injected {dir} at {first}\n{r}", name(v));
            assert_eq!(r.end, End::Finished, "{ctx}");
            let receiver = r.side(dir.receiver());
            if name(v) == "TLS1.2" {
                assert!(r.is_clean(), "{ctx}");
                continue;
            }
            assert!(!receiver.handshake_complete, "{ctx}");
            assert!(!receiver.closed && !r.side(dir.sender()).closed, "{ctx}");
            match &receiver.error {
                Some(Error::Protocol(p)) => {
                    assert_ne!(p.alert_sent(), AlertSent::None, "{ctx}");
                    // rustls 0.23 reports the alert it got; 0.24 says what
                    // was wrong with it (a warning alert in TLS 1.3).
                    #[cfg(not(feature = "rustls-0-24"))]
                    let want =
                        tlsbio::rustls::Error::AlertReceived(tlsbio::AlertDescription::CloseNotify);
                    #[cfg(feature = "rustls-0-24")]
                    let want = tlsbio::rustls::Error::PeerMisbehaved(
                        tlsbio::rustls::error::PeerMisbehaved::IllegalWarningAlert(
                            tlsbio::AlertDescription::CloseNotify,
                        ),
                    );
                    assert_eq!(p.rustls_error(), &want, "{ctx}");
                }
                other => panic!("{other:?}: {ctx}"),
            }
            // The peer hears about it.
            assert!(
                matches!(&r.side(dir.sender()).error, Some(Error::Protocol(p)) if p.alert_received().is_some()),
                "{ctx}"
            );
        }
    }
}

#[test]
fn one_byte_trickle_completes() {
    for v in VERSIONS {
        let r = pair(1, v, Schedule::trickle(), 20_000, 20_000)
            .build()
            .unwrap()
            .run();
        assert!(r.is_clean(), "{}\n{r}", name(v));
    }
}

#[test]
fn records_split_at_every_boundary_complete() {
    for v in VERSIONS {
        let [c2s, s2c] = streams(v);
        for (dir, stream) in [(Dir::ClientToServer, &c2s), (Dir::ServerToClient, &s2c)] {
            for split in 1..stream.len() {
                let mut h = pair(1, v, Schedule::lockstep(), 100, 100)
                    .fault(Fault::Inject {
                        dir,
                        at: split as u64,
                        bytes: Vec::new(),
                    })
                    .build()
                    .unwrap();
                // The empty injection is a fault boundary: moves in `dir` stop
                // at `split`, so the receiver runs with exactly that prefix.
                let r = h.run();
                assert!(r.is_clean(), "{} split {dir} at {split}\n{r}", name(v));
                let first_chunk = h.transcript().entries.iter().find_map(|e| match e {
                    tlsbio_memory::Entry::Data { dir: d, bytes, .. } if *d == dir => {
                        Some(bytes.len())
                    }
                    _ => None,
                });
                assert!(first_chunk.unwrap() <= split);
            }
        }
    }
}
