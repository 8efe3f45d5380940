//! Transcripts: the text format round-trips, bad files get precise errors,
//! replay matches or names the divergence, and the ladder is stable.

mod support;

use support::*;
use tlsbio_memory::{ladder, replay, Dir, Fault, Mismatch, Schedule, Side, Transcript};

#[test]
fn text_round_trips() {
    for v in VERSIONS {
        for schedule in [Schedule::lockstep(), Schedule::seeded(4)] {
            let t = recorded(1, v, schedule, 300, 700);
            let text = t.to_text();
            assert!(text.starts_with("tlsbio-transcript 1\n"));
            assert_eq!(Transcript::parse(&text).unwrap(), t);
        }
    }
    // Faults round-trip too.
    for (fault, line) in [
        (
            Fault::Corrupt {
                dir: Dir::ServerToClient,
                at: 100,
                xor: 0x80,
            },
            "corrupt s>c 100 80",
        ),
        (
            Fault::Inject {
                dir: Dir::ClientToServer,
                at: 5,
                bytes: vec![0x16],
            },
            "inject c>s 16",
        ),
        (
            Fault::Cut {
                dir: Dir::ClientToServer,
                at: 40,
            },
            "cut c>s",
        ),
    ] {
        let mut h = pair(1, TLS13, Schedule::lockstep(), 10, 10)
            .fault(fault)
            .build()
            .unwrap();
        h.run();
        let text = h.transcript().to_text();
        assert!(text.contains(line), "{line} missing from\n{text}");
        assert_eq!(&Transcript::parse(&text).unwrap(), h.transcript());
    }
}

#[test]
fn bad_files_get_a_line_and_a_reason() {
    let good = recorded(1, TLS13, Schedule::lockstep(), 300, 700).to_text();
    let lines: Vec<&str> = good.lines().collect();
    let err = |text: &str| Transcript::parse(text).unwrap_err();

    let e = err(&good.replacen("tlsbio-transcript 1", "tlsbio-transcript 9", 1));
    assert_eq!(e.line, 1);
    assert!(e.message.contains("version 9 is not supported"), "{e}");

    let e = err(&good.replacen("end\n", "", 1));
    assert!(e.message.contains("cut off"), "{e}");

    let e = err("hello\n");
    assert!(e.message.contains("not a transcript"), "{e}");

    // A data line whose offset leaves a gap.
    let i = lines.iter().position(|l| l.starts_with("s>c ")).unwrap();
    let mut gap = lines.clone();
    let bumped = gap[i].replacen("s>c 0 ", "s>c 1 ", 1);
    gap[i] = &bumped;
    let e = err(&(gap.join("\n") + "\n"));
    assert_eq!(e.line, i + 1);
    assert!(
        e.message
            .contains("starts at offset 1, but 0 bytes came before"),
        "{e}"
    );

    let e = err(&good.replacen("run client", "run clyent", 1));
    assert!(e.message.contains("expected client or server"), "{e}");

    let e = err("tlsbio-transcript 1\nschedule lockstep\ncapacities 1 1 1 1\nscript client send=payload:99999999999 close=full reads=yes\n");
    assert!(e.message.contains("over the 64 MiB limit"), "{e}");

    let e = err("tlsbio-transcript 1\nrun client HS idle\nend\n");
    assert!(e.message.contains("before the header"), "{e}");
}

#[test]
fn replay_with_the_same_seed_matches_both_sides() {
    for v in VERSIONS {
        for schedule in [
            Schedule::lockstep(),
            Schedule::trickle(),
            Schedule::seeded(9),
        ] {
            let t = recorded(5, v, schedule, 300, 700);
            let (client, server) = endpoints(5, v);
            for endpoint in [client, server] {
                let done = replay(&t, &endpoint).unwrap_or_else(|d| panic!("{} {d}", name(v)));
                assert!(done.turns > 0 && done.bytes_in > 0 && done.bytes_out > 0);
                let out = t.stream(endpoint.side().sending());
                assert_eq!(done.bytes_out, out.len() as u64);
            }
        }
    }
}

#[test]
fn replay_against_another_seed_names_the_server_random() {
    let t = recorded(5, TLS13, Schedule::lockstep(), 300, 700);
    let (_, other_server) = endpoints(6, TLS13);
    let d = replay(&t, &other_server).unwrap_err();
    match &d.mismatch {
        Mismatch::Byte {
            dir,
            offset,
            location,
            ..
        } => {
            assert_eq!(*dir, Dir::ServerToClient);
            // Record header (5) + handshake header (4) + legacy version (2):
            // the random starts at byte 11.
            assert_eq!(*offset, 11, "{d}");
            assert!(location.contains("record 0"), "{d}");
            assert!(location.contains("ServerHello byte 6"), "{d}");
        }
        other => panic!("{other:?}"),
    }
    let text = d.to_string();
    assert!(text.starts_with("replay diverged at entry "), "{text}");
}

#[test]
fn replay_against_a_tls12_only_server_names_the_version() {
    let t = recorded(5, TLS13, Schedule::lockstep(), 300, 700);
    let (_, tls12) = endpoints(5, TLS12);
    let d = replay(&t, &tls12).unwrap_err();
    match &d.mismatch {
        Mismatch::Turn {
            expected,
            got,
            error,
        } => {
            assert_eq!(expected.0, tlsbio::HandshakeState::Handshaking, "{d}");
            assert_eq!(got.0, tlsbio::HandshakeState::Failed, "{d}");
            let error = error.as_ref().unwrap().to_string();
            assert!(error.contains("Tls12NotOfferedOrEnabled"), "{d}");
        }
        other => panic!("{other:?}"),
    }
    assert!(
        d.to_string().contains("the recording has HS want-read:5"),
        "{d}"
    );
}

#[test]
fn a_client_replay_with_corruption_uncorrupts_its_own_bytes() {
    let mut h = pair(2, TLS13, Schedule::lockstep(), 10, 10)
        .fault(Fault::Corrupt {
            dir: Dir::ClientToServer,
            at: 20,
            xor: 0xff,
        })
        .build()
        .unwrap();
    h.run();
    let (client, server) = endpoints(2, TLS13);
    replay(h.transcript(), &client).unwrap();
    replay(h.transcript(), &server).unwrap();
}

/// The ladder of a fixed run, compared with the checked-in snapshot.
/// `TLSBIO_BLESS=1 cargo test -p tlsbio-memory --test transcript` rewrites
/// the snapshots after an intended change; review the diff.
#[test]
fn ladder_snapshots() {
    for v in VERSIONS {
        let t = recorded(1, v, Schedule::lockstep(), 300, 700);
        let drawn = ladder(&t);
        let file = format!(
            "{}/tests/snapshots/ladder-{}.txt",
            env!("CARGO_MANIFEST_DIR"),
            name(v).to_lowercase().replace('.', "")
        );
        if std::env::var_os("TLSBIO_BLESS").is_some() {
            std::fs::write(&file, &drawn).unwrap();
        }
        let want = std::fs::read_to_string(&file)
            .unwrap_or_else(|e| panic!("{file}: {e}; run with TLSBIO_BLESS=1 to create it"));
        assert_eq!(
            drawn, want,
            "ladder changed; rerun with TLSBIO_BLESS=1 if intended"
        );
        // It names what a person looks for.
        for needle in ["ClientHello", "ServerHello", "(encrypted)", "CLOSED closed"] {
            assert!(drawn.contains(needle), "{needle} missing:\n{drawn}");
        }
        let _ = Side::Client;
    }
}

#[test]
fn record_count_counts_whole_records_only() {
    let t = recorded(1, TLS13, Schedule::lockstep(), 100, 100);
    let (c2s, s2c) = (
        t.record_count(Dir::ClientToServer),
        t.record_count(Dir::ServerToClient),
    );
    // c>s: ClientHello, CCS, Finished, data, close_notify. s>c:
    // ServerHello, CCS, the encrypted flight, a ticket, data, close_notify.
    assert_eq!((c2s, s2c), (5, 6));
    // The same bytes delivered one at a time are the same records.
    let trickled = recorded(1, TLS13, Schedule::trickle(), 100, 100);
    assert_eq!(trickled.record_count(Dir::ClientToServer), c2s);
    // A stream cut inside its last record has one record fewer.
    let mut cut = t.clone();
    let last = cut
        .entries
        .iter()
        .rposition(|e| {
            matches!(
                e,
                tlsbio_memory::Entry::Data {
                    dir: Dir::ServerToClient,
                    ..
                }
            )
        })
        .unwrap();
    if let tlsbio_memory::Entry::Data { bytes, .. } = &mut cut.entries[last] {
        bytes.pop();
    }
    assert_eq!(cut.record_count(Dir::ServerToClient), s2c - 1);
}
