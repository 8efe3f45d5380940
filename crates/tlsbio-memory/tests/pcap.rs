//! Captures for Wireshark, checked with tshark: with the run's keylog it
//! decodes the handshake messages, the decrypted application data is the
//! bytes the harness sent, and a truncated run shows the missing
//! close_notify. Skips (saying why) without tshark, unless
//! `TLSBIO_REQUIRE_PEERS` is set, as in CI.

mod support;

use std::path::{Path, PathBuf};
use std::process::Command;

use support::*;
use tlsbio_memory::{payload, pcap, Dir, Fault, Schedule, Side, Transcript};

fn have_tshark() -> bool {
    let found = Command::new("tshark").arg("--version").output().is_ok();
    if !found {
        assert!(
            std::env::var_os("TLSBIO_REQUIRE_PEERS").is_none(),
            "tshark is not installed but TLSBIO_REQUIRE_PEERS is set"
        );
        eprintln!("skipping: tshark is not installed (.ci/run installs it)");
    }
    found
}

/// Writes the capture and keylog of `t` into a fresh directory.
fn export(t: &Transcript, name: &str) -> (PathBuf, PathBuf) {
    let dir = std::env::temp_dir().join(format!("tlsbio-pcap-{}-{name}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let (capture, keys) = (dir.join("run.pcapng"), dir.join("run.keys"));
    let mut file = std::fs::File::create(&capture).unwrap();
    pcap::write(t, &mut file).unwrap();
    std::fs::write(&keys, t.keylog()).unwrap();
    (capture, keys)
}

/// One row per TLS packet: source address, then each field (comma lists).
fn tshark(capture: &Path, keys: &Path, fields: &[&str]) -> Vec<Vec<String>> {
    let mut cmd = Command::new("tshark");
    cmd.arg("-r")
        .arg(capture)
        .arg("-o")
        .arg(format!("tls.keylog_file:{}", keys.display()))
        .args(["-Y", "tls", "-T", "fields", "-e", "ip.src"]);
    for field in fields {
        cmd.args(["-e", field]);
    }
    let out = cmd.output().expect("run tshark");
    assert!(
        out.status.success(),
        "tshark: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(|l| l.split('\t').map(str::to_string).collect())
        .collect()
}

/// The decrypted application data each way, and every handshake type.
fn decoded(t: &Transcript, name: &str) -> (Vec<u8>, Vec<u8>, Vec<String>) {
    let (capture, keys) = export(t, name);
    let rows = tshark(&capture, &keys, &["tls.handshake.type", "data.data"]);
    let (mut up, mut down, mut types) = (Vec::new(), Vec::new(), Vec::new());
    for row in rows {
        types.extend(
            row[1]
                .split(',')
                .filter(|s| !s.is_empty())
                .map(str::to_string),
        );
        let data: Vec<u8> = row[2]
            .split(',')
            .flat_map(|chunk| {
                (0..chunk.len() / 2)
                    .map(move |i| u8::from_str_radix(&chunk[2 * i..2 * i + 2], 16).unwrap())
            })
            .collect();
        if row[0] == "10.0.0.1" {
            up.extend(data);
        } else {
            down.extend(data);
        }
    }
    (up, down, types)
}

#[test]
fn tshark_decodes_tls13_and_the_data_is_what_was_sent() {
    if !have_tshark() {
        return;
    }
    let t = recorded(1, TLS13, Schedule::seeded(3), 3000, 7000);
    let (up, down, types) = decoded(&t, "tls13");
    // ClientHello, ServerHello, EncryptedExtensions, Certificate,
    // CertificateVerify, Finished, NewSessionTicket: all decoded.
    for typ in ["1", "2", "8", "11", "15", "20", "4"] {
        assert!(
            types.iter().any(|t| t == typ),
            "handshake type {typ} missing: {types:?}"
        );
    }
    assert_eq!(
        up,
        payload(Side::Client, 3000),
        "client data as tshark decrypted it"
    );
    assert_eq!(
        down,
        payload(Side::Server, 7000),
        "server data as tshark decrypted it"
    );
}

#[test]
fn tshark_decodes_tls12_and_the_data_is_what_was_sent() {
    if !have_tshark() {
        return;
    }
    let t = recorded(1, TLS12, Schedule::lockstep(), 300, 700);
    let (up, down, types) = decoded(&t, "tls12");
    // ClientHello, ServerHello, Certificate, ServerKeyExchange,
    // ServerHelloDone, ClientKeyExchange, Finished (decrypted).
    for typ in ["1", "2", "11", "12", "14", "16", "20"] {
        assert!(
            types.iter().any(|t| t == typ),
            "handshake type {typ} missing: {types:?}"
        );
    }
    assert_eq!(up, payload(Side::Client, 300));
    assert_eq!(down, payload(Side::Server, 700));
}

#[test]
fn a_truncated_run_shows_the_missing_close_notify() {
    if !have_tshark() {
        return;
    }
    // Cut the link where the client's close_notify (the last 24 bytes it
    // sends) would start.
    let clean = recorded(1, TLS13, Schedule::lockstep(), 300, 700);
    let at = clean.stream(Dir::ClientToServer).len() as u64 - 24;
    let mut h = pair(1, TLS13, Schedule::lockstep(), 300, 700)
        .fault(Fault::Cut {
            dir: Dir::ClientToServer,
            at,
        })
        .build()
        .unwrap();
    h.run();
    let (capture, keys) = export(h.transcript(), "cut");
    let closes = |rows: &[Vec<String>], from: &str| {
        rows.iter()
            .filter(|r| r[0] == from && r[1].split(',').any(|d| d == "0"))
            .count()
    };
    let alerts = tshark(&capture, &keys, &["tls.alert_message.desc"]);
    let clean_alerts = {
        let (capture, keys) = export(&clean, "clean");
        tshark(&capture, &keys, &["tls.alert_message.desc"])
    };
    assert_eq!(
        closes(&clean_alerts, "10.0.0.1"),
        1,
        "the clean run has the client's close_notify"
    );
    assert_eq!(
        closes(&alerts, "10.0.0.1"),
        0,
        "the cut run must not: {alerts:?}"
    );
    // And the capture says how the stream ended: a reset.
    let out = Command::new("tshark")
        .arg("-r")
        .arg(&capture)
        .args(["-Y", "tcp.flags.reset == 1", "-T", "fields", "-e", "ip.src"])
        .output()
        .unwrap();
    assert_eq!(String::from_utf8_lossy(&out.stdout).trim(), "10.0.0.1");
}
