//! The strict driver: each side is called only when what it last waited
//! for has happened, never once more. A correct engine needs no extra
//! call, so any stall here is a lost wake-up (or a want-read that asked
//! for more than its read BIO could take, which the report names).

mod support;

use support::*;
use tlsbio_memory::{BioKind, Capacities, Close, End, Report, Schedule, Script, Side};

/// Sizes from one byte to 64 KiB: below a record header, just above it,
/// around a full record, and the default.
const SIZES: [usize; 10] = [1, 2, 3, 5, 6, 17, 300, 4096, 16_389, 65_536];

fn label(
    v: &[&'static tlsbio::rustls::SupportedProtocolVersion],
    kind: BioKind,
    what: &str,
) -> String {
    format!("{} {kind:?} {what}", name(v))
}

#[track_caller]
fn assert_clean(r: &Report, what: &str) {
    assert!(r.is_clean(), "strict run failed: {what}\n{r}");
}

#[test]
fn strict_exact_minimum_delivery_completes_for_every_bio_kind_and_size() {
    let mut runs = 0;
    for v in VERSIONS {
        for kind in BioKind::ALL {
            for size in SIZES {
                let what = label(v, kind, &format!("capacity {size}"));
                let mut h = pair(3, v, Schedule::lockstep(), 3_000, 2_000)
                    .schedule(Schedule::lockstep().with_capacities(Capacities::uniform(size)))
                    .bios(kind)
                    .strict()
                    .deliver_exact_minimum()
                    .build()
                    .unwrap();
                assert_clean(&h.run(), &what);
                runs += 1;
            }
        }
    }
    assert_eq!(runs, 60);
}

#[test]
fn strict_asymmetric_capacities_complete() {
    let tiny_and_big = [
        Capacities {
            client_rx: 1,
            client_tx: 65_536,
            server_rx: 65_536,
            server_tx: 1,
        },
        Capacities {
            client_rx: 65_536,
            client_tx: 1,
            server_rx: 1,
            server_tx: 65_536,
        },
        Capacities {
            client_rx: 4,
            client_tx: 7,
            server_rx: 16_389,
            server_tx: 5,
        },
        Capacities {
            client_rx: 16_388,
            client_tx: 16_390,
            server_rx: 6,
            server_tx: 300,
        },
    ];
    for v in VERSIONS {
        for kind in BioKind::ALL {
            for (i, caps) in tiny_and_big.into_iter().enumerate() {
                for exact in [false, true] {
                    let what = label(v, kind, &format!("capacities #{i} exact {exact}"));
                    let mut b = pair(
                        4,
                        v,
                        Schedule::lockstep().with_capacities(caps),
                        20_000,
                        30_000,
                    )
                    .bios(kind)
                    .strict();
                    if exact {
                        b = b.deliver_exact_minimum();
                    }
                    assert_clean(&b.build().unwrap().run(), &what);
                }
            }
        }
    }
}

#[test]
fn strict_seeded_schedules_complete_with_random_chunks_and_capacities() {
    for seed in 0..24u64 {
        for v in VERSIONS {
            let kind = BioKind::ALL[(seed % 3) as usize];
            let exact = seed % 2 == 1;
            let what = label(v, kind, &format!("seeded:{seed} exact {exact}"));
            let mut b = pair(seed, v, Schedule::seeded(seed), 9_000, 5_000)
                .bios(kind)
                .strict();
            if exact {
                b = b.deliver_exact_minimum();
            }
            assert_clean(&b.build().unwrap().run(), &what);
        }
    }
}

#[test]
fn strict_trickle_and_half_close_both_orders() {
    for v in VERSIONS {
        for kind in BioKind::ALL {
            for (c, s) in [
                (Close::HalfClose, Close::Full),
                (Close::Full, Close::HalfClose),
                (Close::HalfClose, Close::HalfClose),
            ] {
                let what = label(v, kind, &format!("trickle {c:?}/{s:?}"));
                let (client, server) = endpoints(5, v);
                let mut h = tlsbio_memory::Harness::builder(client, server)
                    .schedule(Schedule::trickle())
                    .client_script(Script::sending(Side::Client, 700).close(c))
                    .server_script(Script::sending(Side::Server, 900).close(s))
                    .bios(kind)
                    .strict()
                    .build()
                    .unwrap();
                assert_clean(&h.run(), &what);
            }
        }
    }
}

/// A peer that never reads: the writer is pushed back with a want-write
/// and bounded memory, and the strict driver stops calling it (a stall is
/// the expected end here, not a hang).
#[test]
fn strict_peer_that_never_reads_pushes_back() {
    for v in VERSIONS {
        for kind in BioKind::ALL {
            let (client, server) = endpoints(6, v);
            let mut h = tlsbio_memory::Harness::builder(client, server)
                .schedule(Schedule::lockstep().with_capacities(Capacities::uniform(4096)))
                .client_script(Script::sending(Side::Client, 4 << 20))
                .server_script(Script::sending(Side::Server, 0).never_reads())
                .bios(kind)
                .strict()
                .build()
                .unwrap();
            let r = h.run();
            assert_eq!(r.end, End::Stalled, "{r}");
            assert!(r.client.handshake_complete, "{r}");
            assert!(
                r.client.sent < 64 * 1024,
                "the writer was not pushed back: {r}"
            );
            assert_eq!(
                r.client.last_turn,
                Some(tlsbio_memory::Turn::Want(tlsbio::Want::Write)),
                "{r}"
            );
            assert!(r.client.stats.high_water < 2 * 16_384 + 4096, "{r}");
        }
    }
}

/// The fuzz finding of regressions.rs (a record behind a staged one) under
/// the strict driver, for every BIO kind: the engine must offer the read
/// BIO's bytes to rustls by itself, since no further call is coming.
#[test]
fn strict_record_behind_a_staged_one() {
    let capacities = Capacities {
        client_rx: 172,
        client_tx: 16281,
        server_rx: 65536,
        server_tx: 65536,
    };
    for kind in BioKind::ALL {
        let mut h = pair(
            1,
            TLS13,
            Schedule::seeded(17942340915436209445).with_capacities(capacities),
            224,
            0,
        )
        .client_script(Script::sending(Side::Client, 224).close(Close::HalfClose))
        .bios(kind)
        .strict()
        .build()
        .unwrap();
        assert_clean(&h.run(), &format!("{kind:?}"));
    }
}

#[test]
fn strict_key_update_both_ways_through_small_and_large_bios() {
    for kind in BioKind::ALL {
        for size in [1, 6, 300, 65_536] {
            let (client, server) = endpoints(7, TLS13);
            let mut h = tlsbio_memory::Harness::builder(client, server)
                .schedule(Schedule::lockstep().with_capacities(Capacities::uniform(size)))
                .client_script(Script::sending(Side::Client, 5_000).key_update())
                .server_script(Script::sending(Side::Server, 7_000).key_update())
                .bios(kind)
                .strict()
                .deliver_exact_minimum()
                .build()
                .unwrap();
            assert_clean(&h.run(), &format!("{kind:?} key update, capacity {size}"));
        }
    }
}

#[test]
fn strict_resumption_on_the_second_connection() {
    for v in VERSIONS {
        for kind in BioKind::ALL {
            let (client, server) = endpoints(8, v);
            for round in 0..2 {
                let mut h = tlsbio_memory::Harness::builder(client.clone(), server.clone())
                    .schedule(Schedule::seeded(80 + round))
                    .client_script(Script::sending(Side::Client, 1_000))
                    .server_script(Script::sending(Side::Server, 1_000))
                    .bios(kind)
                    .strict()
                    .build()
                    .unwrap();
                let what = label(v, kind, &format!("resumption round {round}"));
                assert_clean(&h.run(), &what);
                assert_eq!(
                    h.engine(Side::Client).is_resumed(),
                    round == 1,
                    "{what}: resumed only the second time"
                );
            }
        }
    }
}

#[test]
fn strict_paused_server_chooses_and_completes() {
    for v in VERSIONS {
        for kind in BioKind::ALL {
            for size in [1, 5, 4096, 65_536] {
                let (client, server) = endpoints(9, v);
                let tlsbio_memory::Endpoint::Server(config) = server else {
                    unreachable!("endpoints() gives a fixed server")
                };
                let mut h = tlsbio_memory::Harness::builder(
                    client,
                    tlsbio_memory::Endpoint::PausedServer(config),
                )
                .schedule(Schedule::lockstep().with_capacities(Capacities::uniform(size)))
                .client_script(Script::sending(Side::Client, 2_000))
                .server_script(Script::sending(Side::Server, 2_000))
                .bios(kind)
                .strict()
                .deliver_exact_minimum()
                .build()
                .unwrap();
                let r = h.run();
                let what = label(v, kind, &format!("paused server, capacity {size}"));
                assert_clean(&r, &what);
                assert_eq!(
                    h.engine(Side::Server).server_name(),
                    Some("localhost"),
                    "{what}"
                );
            }
        }
    }
}

/// A link cut (a TCP reset) or a truncation: under the strict driver both
/// sides still end, with an error, instead of waiting for each other.
#[test]
fn strict_cuts_end_both_sides() {
    for v in VERSIONS {
        for kind in BioKind::ALL {
            for at in [0u64, 3, 100, 700, 2_000] {
                for dir in [
                    tlsbio_memory::Dir::ClientToServer,
                    tlsbio_memory::Dir::ServerToClient,
                ] {
                    let mut h = pair(10, v, Schedule::seeded(at), 3_000, 3_000)
                        .fault(tlsbio_memory::Fault::Cut { dir, at })
                        .bios(kind)
                        .strict()
                        .build()
                        .unwrap();
                    let r = h.run();
                    let what = label(v, kind, &format!("cut {dir:?} at {at}"));
                    assert_eq!(r.end, End::Finished, "{what}: a side was left waiting\n{r}");
                    assert!(
                        r.client.error.is_some() || r.server.error.is_some() || r.is_clean(),
                        "{what}\n{r}"
                    );
                }
            }
        }
    }
}
