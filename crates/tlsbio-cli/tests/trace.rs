//! `tlsbio client --trace` on a real connection (to `tlsbio server` over
//! loopback): every record each way, decrypted with the client's own
//! secrets, in order, for TLS 1.3 (with a key update) and TLS 1.2.

mod support;

use support::*;

fn traced(pki: &Pki, extra: &[&str]) -> Vec<String> {
    let (_server, port) = tlsbio_server(pki, &[]);
    let address = format!("127.0.0.1:{port}");
    let ca = pki.path("ca.pem");
    let mut args = vec![
        "client",
        &address,
        "--ca",
        &ca,
        "--sni",
        "localhost",
        "--trace",
    ];
    args.extend_from_slice(extra);
    let mut client = Proc::spawn(TLSBIO, &args);
    client.send("traced line\n");
    client.expect("traced line");
    assert!(client.finish(), "{}", client.output());
    let stderr = client.stderr();
    assert!(
        !stderr.contains("did not decrypt") && !stderr.contains("(encrypted)"),
        "{stderr}"
    );
    stderr
        .lines()
        .filter(|l| l.starts_with(">>> ") || l.starts_with("<<< "))
        .map(str::to_string)
        .collect()
}

/// The client's encrypted Finished: the tlsbio server prefers
/// TLS13_AES_256_GCM_SHA384 on rustls 0.23 (a 48-byte Finished) and
/// TLS13_AES_128_GCM_SHA256 on 0.24 (32 bytes), as their aws-lc-rs
/// providers list them.
#[cfg(not(feature = "rustls-0-24"))]
const CLIENT_FINISHED: &str = ">>> ApplicationData 69 => Handshake 52 [Finished(48)]";
#[cfg(feature = "rustls-0-24")]
const CLIENT_FINISHED: &str = ">>> ApplicationData 53 => Handshake 36 [Finished(32)]";

/// Whether `lines` holds each of `wanted` (substrings), in this order.
fn in_order(lines: &[String], wanted: &[&str]) -> bool {
    let mut at = 0;
    for want in wanted {
        match lines[at..].iter().position(|l| l.contains(want)) {
            Some(i) => at += i + 1,
            None => return false,
        }
    }
    true
}

#[test]
fn trace_shows_every_tls13_record_decrypted() {
    let pki = Pki::new();
    let lines = traced(&pki, &["--tls13", "--key-update"]);
    for want in [
        &[
            ">>> Handshake",
            "<<< Handshake",
            "<<< ChangeCipherSpec 1",
            "[EncryptedExtensions(",
            CLIENT_FINISHED,
            ">>> ApplicationData 22 => Handshake 5 [KeyUpdate(1)]",
            // The server answers the key update with its own.
            "<<< ApplicationData 22 => Handshake 5 [KeyUpdate(1)]",
        ][..],
        &["[ClientHello(", "[ServerHello("],
        &[
            ">>> ApplicationData 29 => ApplicationData 12",
            "<<< ApplicationData 29 => ApplicationData 12",
            ">>> ApplicationData 19 => Alert 2 [warning CloseNotify]",
        ],
        &["NewSessionTicket("],
        &["<<< ApplicationData 19 => Alert 2 [warning CloseNotify]"],
    ] {
        assert!(
            in_order(&lines, want),
            "{want:?} not in order in {lines:#?}"
        );
    }
}

#[test]
fn trace_shows_every_tls12_record_decrypted() {
    let pki = Pki::new();
    let lines = traced(&pki, &["--tls12"]);
    let want = [
        "[ClientHello(",
        "ServerHelloDone(0)]",
        ">>> Handshake 37 [ClientKeyExchange(",
        ">>> ChangeCipherSpec 1",
        ">>> Handshake 40 => Handshake 16 [Finished(12)]",
        "<<< ChangeCipherSpec 1",
        "<<< Handshake 40 => Handshake 16 [Finished(12)]",
        ">>> ApplicationData 36 => ApplicationData 12",
        "<<< ApplicationData 36 => ApplicationData 12",
    ];
    assert!(in_order(&lines, &want), "{lines:#?}");
}
