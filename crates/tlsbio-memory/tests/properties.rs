//! Properties over random schedules and faults. Each case prints its seed
//! on failure; `Schedule::seeded(seed)` reproduces it exactly.

mod support;

use proptest::prelude::*;
use support::*;
use tlsbio::Error;
use tlsbio_memory::{Dir, End, Fault, Report, Schedule};

/// 64 cases a run; `PROPTEST_CASES=N` for a longer hunt.
fn cases() -> u32 {
    std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(64)
}

fn version(tls13: bool) -> &'static [&'static tlsbio::rustls::SupportedProtocolVersion] {
    if tls13 {
        TLS13
    } else {
        TLS12
    }
}

fn closed_means_intact(r: &Report) -> bool {
    (!r.client.closed || r.client.received == r.server_sent)
        && (!r.server.closed || r.server.received == r.client_sent)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(cases()))]

    /// For any schedule (capacities down to one byte, moves down to one
    /// byte, any interleaving) the handshake completes, the data arrives
    /// intact both ways, and the same seed gives the same transcript.
    #[test]
    fn any_schedule_completes_and_repeats(
        seed in any::<u64>(),
        tls13 in any::<bool>(),
        c in 0usize..20_000,
        s in 0usize..20_000,
    ) {
        let run = || {
            let mut h = pair(seed, version(tls13), Schedule::seeded(seed), c, s).build().unwrap();
            let r = h.run();
            (r, h.transcript().to_text())
        };
        let (r, first) = run();
        prop_assert!(r.is_clean(), "seed {}: {}", seed, r);
        let (_, second) = run();
        prop_assert_eq!(first, second, "seed {} repeated differently", seed);
    }

    /// A cut anywhere ends both sides, and a side closes cleanly only if
    /// everything its peer sent arrived.
    #[test]
    fn a_cut_never_looks_like_a_clean_close(
        seed in any::<u64>(),
        tls13 in any::<bool>(),
        c2s in any::<bool>(),
        at in 0u64..3000,
    ) {
        let dir = if c2s { Dir::ClientToServer } else { Dir::ServerToClient };
        let r = pair(seed, version(tls13), Schedule::seeded(seed), 500, 500)
            .fault(Fault::Cut { dir, at })
            .build()
            .unwrap()
            .run();
        prop_assert_eq!(r.end, End::Finished, "seed {}: {}", seed, r);
        prop_assert!(closed_means_intact(&r), "seed {}: {}", seed, r);
        for side in [&r.client, &r.server] {
            prop_assert!(
                side.closed || matches!(side.error, Some(Error::UnexpectedEof { .. })),
                "seed {}: {}", seed, r
            );
        }
    }

    /// A corrupted byte anywhere ends both sides (after a timeout, modelled
    /// by cutting the link, if only a length grew), and never delivers
    /// altered data as a clean close.
    #[test]
    fn corruption_is_never_silent(
        seed in any::<u64>(),
        tls13 in any::<bool>(),
        c2s in any::<bool>(),
        at in 0u64..1500,
        xor in 1u8..=255,
    ) {
        let dir = if c2s { Dir::ClientToServer } else { Dir::ServerToClient };
        let mut h = pair(seed, version(tls13), Schedule::seeded(seed), 300, 300)
            .fault(Fault::Corrupt { dir, at, xor })
            .build()
            .unwrap();
        let mut r = h.run();
        if r.end == End::Stalled {
            h.cut_now();
            r = h.run();
        }
        prop_assert_eq!(r.end, End::Finished, "seed {}: {}", seed, r);
        prop_assert!(closed_means_intact(&r), "seed {}: {}", seed, r);
        // A server whose first two bytes were altered no longer sees a TLS
        // handshake record: it says so (`NotTls`) and leaves the bytes.
        let first_bytes = c2s && at < 2;
        for (side, is_server) in [(&r.client, false), (&r.server, true)] {
            prop_assert!(
                side.closed
                    || matches!(side.error, Some(Error::Protocol(_) | Error::UnexpectedEof { .. }))
                    || (is_server && first_bytes && matches!(side.error, Some(Error::NotTls(_)))),
                "seed {}: {}", seed, r
            );
        }
    }
}
