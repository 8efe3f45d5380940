//! Transcripts: the text format round-trips, bad files get precise errors,
//! replay matches or names the divergence, and the ladder is stable.

mod support;

use support::*;
use tlsbio_memory::{ladder, replay, Dir, Fault, Mismatch, Schedule, Script, Side, Transcript};

#[test]
fn text_round_trips() {
    for v in VERSIONS {
        for schedule in [Schedule::lockstep(), Schedule::seeded(4)] {
            let t = recorded(1, v, schedule, 300, 700);
            let text = t.to_text();
            assert!(text.starts_with("tlsbio-transcript 2\n"));
            assert!(text.contains("\nsecret "), "no secrets in\n{text}");
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

    let e = err(&good.replacen("tlsbio-transcript 2", "tlsbio-transcript 9", 1));
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

/// The snapshots of the rustls tlsbio is built with: the wire differs
/// between 0.23 and 0.24 (0.24's ClientHello is 21 bytes shorter, and its
/// aws-lc-rs provider prefers TLS13_AES_128_GCM_SHA256 where 0.23's lists
/// TLS13_AES_256_GCM_SHA384 first, so a TLS 1.3 Finished is 32 bytes, not
/// 48), so each has its own (docs/deterministic-testing.md).
#[cfg(not(feature = "rustls-0-24"))]
const SNAPSHOTS: &str = "tests/snapshots";
#[cfg(feature = "rustls-0-24")]
const SNAPSHOTS: &str = "tests/snapshots/rustls-0.24";

/// Compares `drawn` with `tests/snapshots/ladder-NAME.txt` (for rustls
/// 0.24, `tests/snapshots/rustls-0.24/`); `TLSBIO_BLESS=1 cargo test -p
/// tlsbio-memory --test transcript` (with `--features rustls-0-24` for
/// those) rewrites the snapshots after an intended change (review the
/// diff).
fn snapshot(name: &str, drawn: &str) {
    let file = format!(
        "{}/{SNAPSHOTS}/ladder-{name}.txt",
        env!("CARGO_MANIFEST_DIR")
    );
    if std::env::var_os("TLSBIO_BLESS").is_some() {
        std::fs::write(&file, drawn).unwrap();
    }
    let want = std::fs::read_to_string(&file)
        .unwrap_or_else(|e| panic!("{file}: {e}; run with TLSBIO_BLESS=1 to create it"));
    assert_eq!(
        drawn, want,
        "{name}: ladder changed; rerun with TLSBIO_BLESS=1 if intended"
    );
}

fn contains_all(drawn: &str, needles: &[&str]) {
    for needle in needles {
        assert!(drawn.contains(needle), "{needle} missing:\n{drawn}");
    }
}

/// The ladders of fixed runs, decrypted with the secrets the transcript
/// carries, compared with the checked-in snapshots.
#[test]
fn ladder_snapshots() {
    for v in VERSIONS {
        let t = recorded(1, v, Schedule::lockstep(), 300, 700);
        let drawn = ladder(&t);
        snapshot(&name(v).to_lowercase().replace('.', ""), &drawn);
        contains_all(
            &drawn,
            &[
                "ClientHello",
                "ServerHello",
                "Finished(",
                "[warning CloseNotify]",
                "CLOSED closed",
            ],
        );
        assert!(
            !drawn.contains("(encrypted)"),
            "a record stayed encrypted:\n{drawn}"
        );
        assert!(!drawn.contains("did not decrypt"), "{drawn}");
        let _ = Side::Client;
    }
}

#[test]
fn ladder_snapshot_tls13_shows_the_encrypted_handshake_and_data() {
    let drawn = ladder(&recorded(1, TLS13, Schedule::lockstep(), 300, 700));
    contains_all(
        &drawn,
        &[
            "=> Handshake",
            "EncryptedExtensions(",
            "Certificate(",
            "CertificateVerify(",
            "NewSessionTicket(",
            "=> ApplicationData 300",
            "=> ApplicationData 700",
        ],
    );
}

#[test]
fn ladder_snapshot_tls12_decrypts_after_change_cipher_spec() {
    let drawn = ladder(&recorded(1, TLS12, Schedule::lockstep(), 300, 700));
    contains_all(
        &drawn,
        &[
            "ChangeCipherSpec 1",
            "Handshake 40 => Handshake 16 [Finished(12)]",
            "=> ApplicationData 300",
            "Alert 26 => Alert 2 [warning CloseNotify]",
        ],
    );
}

#[test]
fn ladder_snapshot_key_update_follows_the_new_keys() {
    let (client, server) = endpoints(3, TLS13);
    let mut h = tlsbio_memory::Harness::builder(client, server)
        .schedule(Schedule::lockstep())
        .client_script(Script::sending(Side::Client, 200).key_update())
        .server_script(Script::sending(Side::Server, 200))
        .build()
        .unwrap();
    assert!(h.run().is_clean());
    let drawn = ladder(h.transcript());
    snapshot("tls13-key-update", &drawn);
    contains_all(&drawn, &["KeyUpdate(1)", "[warning CloseNotify]"]);
    assert!(
        !drawn.contains("(encrypted)") && !drawn.contains("did not decrypt"),
        "{drawn}"
    );
}

#[test]
fn ladder_snapshot_resumption() {
    for v in VERSIONS {
        let (client, server) = endpoints(4, v);
        let mut drawn = String::new();
        for _ in 0..2 {
            let mut h = tlsbio_memory::Harness::builder(client.clone(), server.clone())
                .client_script(Script::sending(Side::Client, 100))
                .server_script(Script::sending(Side::Server, 100))
                .build()
                .unwrap();
            assert!(h.run().is_clean());
            drawn = ladder(h.transcript());
        }
        let name = format!("{}-resumed", name(v).to_lowercase().replace('.', ""));
        snapshot(&name, &drawn);
        assert!(
            !drawn.contains("(encrypted)") && !drawn.contains("did not decrypt"),
            "{drawn}"
        );
        // A resumption has no Certificate.
        assert!(!drawn.contains("Certificate("), "{drawn}");
    }
}

#[test]
fn ladder_snapshot_corrupt_byte_is_named() {
    let mut h = pair(5, TLS13, Schedule::lockstep(), 100, 100)
        .fault(Fault::Corrupt {
            dir: Dir::ServerToClient,
            at: 300,
            xor: 0x01,
        })
        .build()
        .unwrap();
    h.run();
    let drawn = ladder(h.transcript());
    snapshot("tls13-corrupt", &drawn);
    contains_all(
        &drawn,
        &["(did not decrypt: corrupted?)", "[fatal BadRecordMac]"],
    );
}

#[test]
fn version_1_transcripts_load_and_stay_encrypted() {
    let t = recorded(1, TLS13, Schedule::lockstep(), 300, 700);
    let v1 = t
        .to_text()
        .replacen("tlsbio-transcript 2", "tlsbio-transcript 1", 1)
        .lines()
        .filter(|l| !l.starts_with("secret "))
        .map(|l| format!("{l}\n"))
        .collect::<String>();
    let old = Transcript::parse(&v1).unwrap();
    assert!(old.secrets.is_empty());
    assert_eq!(old.entries, t.entries);
    let drawn = ladder(&old);
    contains_all(&drawn, &["ApplicationData", "(encrypted)", "ServerHello("]);
    assert!(
        !drawn.contains("=> Handshake"),
        "decrypted without secrets:\n{drawn}"
    );
    // A secret line is not version 1.
    let with_secret = v1.replacen("end\n", "secret CLIENT_RANDOM 00 00\nend\n", 1);
    assert!(Transcript::parse(&with_secret).is_err());
}

#[test]
fn bad_secret_lines_name_the_line() {
    let good = recorded(1, TLS13, Schedule::lockstep(), 30, 70).to_text();
    let n = good.lines().position(|l| l.starts_with("secret ")).unwrap() + 1;
    let line = good.lines().nth(n - 1).unwrap().to_string();
    let random = line.split(' ').nth(2).unwrap().to_string();
    for (bad, why) in [
        (
            line.replacen("secret ", "secret lower_case ", 1),
            "not a key log label",
        ),
        (
            line.replacen(&random, "abcd", 1),
            "client random is 32 bytes",
        ),
        (line.replacen(&random, "zz", 1), "not hex"),
        ("secret CLIENT_RANDOM".to_string(), "missing client random"),
    ] {
        let text = good.replacen(&line, &bad, 1);
        let e = Transcript::parse(&text).unwrap_err();
        assert_eq!(e.line, n, "{bad}: {e}");
        assert!(e.message.contains(why), "{bad}: {e}");
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

/// Edited secrets make records fail to open, never the ladder panic.
#[test]
fn wrong_secrets_show_as_not_decrypting() {
    let good = recorded(1, TLS13, Schedule::lockstep(), 30, 70).to_text();
    for replacement in ["00", &"ab".repeat(48), &"cd".repeat(64)] {
        let edited: String = good
            .lines()
            .map(|l| match l.strip_prefix("secret ") {
                Some(rest) => {
                    let mut parts = rest.split(' ');
                    let (label, random) = (parts.next().unwrap(), parts.next().unwrap());
                    format!("secret {label} {random} {replacement}\n")
                }
                None => format!("{l}\n"),
            })
            .collect();
        let drawn = ladder(&Transcript::parse(&edited).unwrap());
        assert!(drawn.contains("(did not decrypt: corrupted?)"), "{drawn}");
    }
}

/// A HelloRetryRequest: the client's key share is for X25519, the server
/// takes only P-256 (both seeded), so the run is byte-identical each time.
#[test]
fn ladder_snapshot_hello_retry_request() {
    use std::sync::Arc;
    use tlsbio_memory::deterministic::{DeterministicPki, InsecureDeterministicCrypto, KxGroup};
    use tlsbio_memory::{Endpoint, Harness};

    let run = || {
        let pki = DeterministicPki::new(6, &["localhost"]);
        let client = InsecureDeterministicCrypto::new(6)
            .with_groups(&[KxGroup::X25519, KxGroup::Secp256r1])
            .client_config(&pki, TLS13);
        let server = InsecureDeterministicCrypto::new(6)
            .with_groups(&[KxGroup::Secp256r1])
            .server_config(&pki, TLS13);
        let mut h = Harness::builder(
            Endpoint::client(Arc::new(client), "localhost").unwrap(),
            Endpoint::Server(Arc::new(server)),
        )
        .client_script(Script::sending(Side::Client, 100))
        .server_script(Script::sending(Side::Server, 100))
        .build()
        .unwrap();
        let report = h.run();
        assert!(report.is_clean(), "{report}");
        assert_eq!(
            h.engine(Side::Client).key_exchange_group(),
            Some(tlsbio_memory::tlsbio::NamedGroup::secp256r1)
        );
        // The server knows its ClientHello across the retry.
        assert_eq!(h.engine(Side::Server).server_name(), Some("localhost"));
        h.transcript().clone()
    };
    let t = run();
    assert_eq!(
        t.to_text(),
        run().to_text(),
        "a seeded P-256 run repeats byte for byte"
    );
    let drawn = ladder(&t);
    snapshot("tls13-hello-retry", &drawn);
    // Two ClientHellos, the retry request (a ServerHello with the special
    // random), then the real ServerHello; everything after decrypts.
    assert_eq!(drawn.matches("[ClientHello(").count(), 2, "{drawn}");
    assert_eq!(drawn.matches("[ServerHello(").count(), 2, "{drawn}");
    assert!(drawn.contains("EncryptedExtensions("), "{drawn}");
    assert!(
        !drawn.contains("(encrypted)") && !drawn.contains("did not decrypt"),
        "{drawn}"
    );
}
