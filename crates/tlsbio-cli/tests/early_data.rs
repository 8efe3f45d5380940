//! `tlsbio server --early-data` with `openssl s_client -early_data`: a
//! resumed client's 0-RTT data is accepted and echoed, and the same
//! session used a second time (a replay) has its early data rejected,
//! because rustls' session IDs are single-use.
//!
//! The same on both rustls backends: on 0.24 the server (a fixed config)
//! runs on rustls' `Connection` API, which hands early data out.

mod support;

use support::*;

/// `openssl s_client` over TLS 1.3 (0-RTT is a TLS 1.3 feature).
fn s_client13(port: u16, pki: &Pki, extra: &[&str]) -> Proc {
    let mut args = vec!["-tls1_3"];
    args.extend_from_slice(extra);
    s_client(port, pki, &args)
}

#[test]
fn openssl_early_data_is_accepted_once_and_a_replay_is_rejected() {
    if !have("openssl") {
        return;
    }
    let pki = Pki::new();
    let (server, port) = tlsbio_server(&pki, &["--early-data", "1024"]);
    let session = scratch(&pki, "session.pem");
    let session = session.to_str().unwrap();
    let early = scratch(&pki, "early.txt");
    std::fs::write(&early, "early hello\n").unwrap();
    let early = early.to_str().unwrap();

    // A full handshake that saves the session (its ticket allows 0-RTT).
    let mut first = s_client13(port, &pki, &["-sess_out", session]);
    first.send("first\n");
    first.expect("\nfirst\n");
    first.finish();
    server.expect("resumed=no");

    // Resumed with early data: accepted, and echoed like any data.
    let mut second = s_client13(port, &pki, &["-sess_in", session, "-early_data", early]);
    second.expect("Early data was accepted");
    second.expect("\nearly hello\n");
    second.finish();
    server.expect("early data: 12 bytes accepted (0-RTT: replayable)");
    server.expect("resumed=yes");

    // The same session again, as an attacker replaying it would: the
    // server has consumed it, so no resumption and no early data.
    let mut replay = s_client13(port, &pki, &["-sess_in", session, "-early_data", early]);
    replay.expect("Early data was rejected");
    replay.finish();
    server.expect("resumed=no");
    assert_eq!(
        server.stderr().matches("early data:").count(),
        1,
        "the replayed early data was accepted:\n{}",
        server.output()
    );
}

#[test]
fn without_the_flag_early_data_is_not_offered_and_the_session_still_resumes() {
    if !have("openssl") {
        return;
    }
    let pki = Pki::new();
    let (server, port) = tlsbio_server(&pki, &[]);
    let session = scratch(&pki, "session.pem");
    let session = session.to_str().unwrap();
    let early = scratch(&pki, "early.txt");
    std::fs::write(&early, "early hello\n").unwrap();
    let mut first = s_client13(port, &pki, &["-sess_out", session]);
    first.send("first\n");
    first.expect("\nfirst\n");
    first.finish();
    // The ticket does not allow 0-RTT, so OpenSSL does not send it, and
    // the data goes after the handshake instead.
    let early = early.to_str().unwrap();
    let mut second = s_client13(port, &pki, &["-sess_in", session, "-early_data", early]);
    second.expect("Early data was not sent");
    second.finish();
    server.expect("resumed=yes");
    assert!(
        !server.stderr().contains("early data:"),
        "{}",
        server.output()
    );
}

/// A whole HTTP request in 0-RTT is answered at once (nothing else will
/// arrive to prompt the answer).
#[test]
fn an_http_request_in_early_data_is_answered() {
    if !have("openssl") {
        return;
    }
    let pki = Pki::new();
    let (server, port) = tlsbio_server(&pki, &["--early-data", "4096", "--http"]);
    let session = scratch(&pki, "session.pem");
    let session = session.to_str().unwrap();
    let request = scratch(&pki, "request.txt");
    std::fs::write(&request, "GET / HTTP/1.1\r\nHost: localhost\r\n\r\n").unwrap();
    let request = request.to_str().unwrap();
    let mut first = s_client13(port, &pki, &["-sess_out", session, "-ign_eof"]);
    first.send("GET / HTTP/1.1\r\nHost: localhost\r\n\r\n");
    first.expect("hello from tlsbio over TLSv1_3");
    first.finish();
    let mut second = s_client13(
        port,
        &pki,
        &["-sess_in", session, "-early_data", request, "-ign_eof"],
    );
    second.expect("Early data was accepted");
    second.expect("hello from tlsbio over TLSv1_3");
    second.finish();
    server.expect("early data: 35 bytes accepted");
}

/// tlsbio on both ends (rustls 0.24 builds, where the client sends 0-RTT):
/// the reconnect's early data is accepted by `tlsbio server` and echoed.
#[cfg(feature = "rustls-0-24")]
#[test]
fn tlsbio_client_early_data_to_tlsbio_server() {
    let pki = Pki::new();
    let (server, port) = tlsbio_server(&pki, &["--early-data", "1024"]);
    let ca = pki.path("ca.pem");
    let address = format!("localhost:{port}");
    let mut client = Proc::spawn(
        TLSBIO,
        &[
            "client",
            &address,
            "--ca",
            &ca,
            "--reconnect",
            "--early-data",
            "zero round trips\n",
        ],
    );
    client.expect("zero round trips");
    client.close_stdin();
    assert!(client.finish(), "{}", client.output());
    let out = client.stderr();
    assert!(out.contains("early data 17 bytes accepted"), "{out}");
    server.expect("early data: 17 bytes accepted");
}
