//! `tlsbio server` and `tlsbio client` against real peers: OpenSSL's
//! s_client and s_server, Python's ssl module, curl and GnuTLS. Each test
//! skips, saying why, when its peer is not installed; CI installs them all
//! and sets TLSBIO_REQUIRE_PEERS so that nothing skips there.

mod support;

use support::*;

// ---- OpenSSL s_client -> tlsbio server ----

/// s_client connects, sends a line, sees it echoed, and closes; returns
/// s_client's output.
fn s_client_echo(port: u16, pki: &Pki, extra: &[&str]) -> Proc {
    let mut client = s_client(port, pki, extra);
    client.expect("Verify return code: 0 (ok)");
    client.send("ping from openssl\n");
    client.expect("\nping from openssl\n");
    client
}

#[test]
fn openssl_s_client_to_tlsbio_server_tls13_with_alpn() {
    if !have("openssl") {
        return;
    }
    let pki = Pki::new();
    let (server, port) = tlsbio_server(&pki, &["--alpn", "h2", "--alpn", "http/1.1"]);
    let mut client = s_client_echo(port, &pki, &["-tls1_3", "-alpn", "http/1.1"]);
    assert!(client.stdout().contains("TLSv1.3"), "{}", client.output());
    assert!(
        client.stdout().contains("ALPN protocol: http/1.1"),
        "{}",
        client.output()
    );
    client.finish();
    // s_client sends close_notify at EOF of its stdin; the server echoes
    // it back and says so.
    server.expect("closed cleanly");
    server.expect("TLSv1_3 TLS13_");
}

#[test]
fn the_negotiated_group_is_reported_on_both_sides() {
    if !have("openssl") {
        return;
    }
    let pki = Pki::new();
    for (openssl, rustls) in [("P-256", "secp256r1"), ("X25519", "X25519")] {
        // The tlsbio server's log line names the group s_client insisted on.
        let (server, port) = tlsbio_server(&pki, &[]);
        let mut client = s_client_echo(port, &pki, &["-groups", openssl]);
        client.finish();
        server.expect(&format!("group={rustls} "));
        // The tlsbio client's summary names the group s_server insisted on.
        let (s_server, port) = s_server(&pki, &["-groups", openssl]);
        let mut client = tlsbio_client(port, &pki, &[], "group?\n");
        s_server.expect("group?");
        assert!(client.finish(), "{}", client.output());
        let out = client.stderr();
        assert!(
            out.contains(&format!("group      {rustls}\n")),
            "{openssl}: {out}"
        );
    }
}

#[test]
fn openssl_s_client_to_tlsbio_server_tls12() {
    if !have("openssl") {
        return;
    }
    let pki = Pki::new();
    let (server, port) = tlsbio_server(&pki, &[]);
    let mut client = s_client_echo(port, &pki, &["-tls1_2"]);
    assert!(client.stdout().contains("TLSv1.2"), "{}", client.output());
    client.finish();
    server.expect("TLSv1_2 TLS_ECDHE_ECDSA_");
    server.expect("closed cleanly");
}

#[test]
fn openssl_s_client_presents_a_client_certificate_to_tlsbio_server() {
    if !have("openssl") {
        return;
    }
    let pki = Pki::new();
    let ca = pki.path("ca.pem");
    let (server, port) = tlsbio_server(&pki, &["--client-ca", &ca]);
    let (cert, key) = (pki.path("client.pem"), pki.path("client.key"));
    let mut client = s_client_echo(port, &pki, &["-cert", &cert, "-key", &key]);
    client.finish();
    server.expect("client-cert=CN=tlsbio interop client");

    // Without one, the server refuses the handshake and says why.
    let connect = format!("127.0.0.1:{port}");
    let mut bare = Proc::spawn(
        "openssl",
        &["s_client", "-connect", &connect, "-CAfile", &ca],
    );
    bare.send("never echoed\n");
    bare.finish();
    server.expect("failed: the peer sent no certificate, and one is required");
}

#[test]
fn openssl_s_client_resumes_a_session_with_tlsbio_server() {
    if !have("openssl") {
        return;
    }
    let pki = Pki::new();
    let (_server, port) = tlsbio_server(&pki, &[]);
    for version in ["-tls1_3", "-tls1_2"] {
        let session = scratch(&pki, &format!("session{version}.pem"));
        let session = session.to_str().unwrap();
        let mut first = s_client_echo(port, &pki, &[version, "-sess_out", session]);
        assert!(first.stdout().contains("New, TLSv1."), "{}", first.output());
        first.finish();
        let mut second = s_client_echo(port, &pki, &[version, "-sess_in", session]);
        assert!(
            second.stdout().contains("Reused, TLSv1."),
            "{version}: {}",
            second.output()
        );
        second.finish();
    }
}

#[test]
fn openssl_s_client_key_update_keeps_the_tlsbio_server_echoing() {
    if !have("openssl") {
        return;
    }
    let pki = Pki::new();
    let (server, port) = tlsbio_server(&pki, &[]);
    let mut client = s_client_echo(port, &pki, &["-tls1_3"]);
    // s_client's "K" command: KeyUpdate, asking the server to update too.
    client.send("K\n");
    client.expect("KEYUPDATE");
    client.send("after the key update\n");
    client.expect("\nafter the key update\n");
    client.finish();
    server.expect("closed cleanly");
}

// ---- tlsbio client -> OpenSSL s_server ----

/// s_server on a free port with the PKI's server certificate.
fn s_server(pki: &Pki, extra: &[&str]) -> (Proc, u16) {
    let port = free_port();
    let accept = port.to_string();
    let (cert, key) = (pki.path("server.pem"), pki.path("server.key"));
    let mut args = vec!["s_server", "-accept", &accept, "-cert", &cert, "-key", &key];
    args.extend_from_slice(extra);
    let server = Proc::spawn("openssl", &args);
    server.expect("ACCEPT");
    (server, port)
}

/// `tlsbio client` sends `line` and closes its stdin.
fn tlsbio_client(port: u16, pki: &Pki, extra: &[&str], line: &str) -> Proc {
    let ca = pki.path("ca.pem");
    let address = format!("localhost:{port}");
    let mut args = vec!["client", &address, "--ca", &ca];
    args.extend_from_slice(extra);
    let mut client = Proc::spawn(TLSBIO, &args);
    client.send(line);
    client
}

#[test]
fn tlsbio_client_to_openssl_s_server_tls13_and_tls12_with_alpn() {
    if !have("openssl") {
        return;
    }
    let pki = Pki::new();
    for (flag, version) in [("--tls13", "TLSv1_3"), ("--tls12", "TLSv1_2")] {
        let (mut server, port) = s_server(&pki, &["-alpn", "h2"]);
        let mut client = tlsbio_client(port, &pki, &[flag, "--alpn", "h2"], "hello from tlsbio\n");
        server.expect("hello from tlsbio");
        server.send("hello from openssl\n");
        client.expect("hello from openssl");
        assert!(client.finish(), "{}", client.output());
        let out = client.stderr();
        assert!(out.contains(&format!("protocol   {version}")), "{out}");
        assert!(out.contains("alpn       h2"), "{out}");
        assert!(out.contains("subject  CN=localhost"), "{out}");
        server.close_stdin();
    }
}

#[test]
fn tlsbio_client_presents_a_client_certificate_to_openssl_s_server() {
    if !have("openssl") {
        return;
    }
    let pki = Pki::new();
    let ca = pki.path("ca.pem");
    let (server, port) = s_server(&pki, &["-Verify", "1", "-CAfile", &ca]);
    let (cert, key) = (pki.path("client.pem"), pki.path("client.key"));
    let mut client = tlsbio_client(port, &pki, &["--cert", &cert, "--key", &key], "mtls\n");
    server.expect("mtls");
    server.expect("tlsbio interop client");
    assert!(client.finish(), "{}", client.output());
}

#[test]
fn tlsbio_client_resumes_with_openssl_s_server() {
    if !have("openssl") {
        return;
    }
    let pki = Pki::new();
    for flag in ["--tls13", "--tls12"] {
        let (server, port) = s_server(&pki, &[]);
        let mut client = tlsbio_client(port, &pki, &[flag, "--reconnect"], "resumed?\n");
        server.expect("resumed?");
        assert!(client.finish(), "{}", client.output());
        let out = client.stderr();
        assert!(
            out.contains("resumed    no") && out.contains("resumed    yes"),
            "{flag}: {out}"
        );
    }
}

/// Client 0-RTT (rustls 0.24 builds): the reconnect sends its early data
/// before s_server answers; s_server prints it as early data, and the
/// client's summary says it was accepted.
#[cfg(feature = "rustls-0-24")]
#[test]
fn tlsbio_client_sends_early_data_to_openssl_s_server() {
    if !have("openssl") {
        return;
    }
    let pki = Pki::new();
    let (server, port) = s_server(&pki, &["-tls1_3", "-early_data"]);
    let mut client = tlsbio_client(
        port,
        &pki,
        &[
            "--tls13",
            "--reconnect",
            "--early-data",
            "early via 0-rtt\n",
        ],
        "after the handshake\n",
    );
    server.expect("early via 0-rtt");
    server.expect("after the handshake");
    assert!(client.finish(), "{}", client.output());
    let out = client.stderr();
    assert!(
        out.contains("early data 16 bytes accepted") && out.contains("resumed    yes"),
        "{out}"
    );
    let served = server.stdout();
    assert!(served.contains("Early data received"), "{served}");
}

/// Without `-early_data` s_server's tickets allow none: the client sends
/// the bytes after the handshake instead, once.
#[cfg(feature = "rustls-0-24")]
#[test]
fn tlsbio_client_sends_early_data_late_when_the_ticket_allows_none() {
    if !have("openssl") {
        return;
    }
    let pki = Pki::new();
    let (server, port) = s_server(&pki, &["-tls1_3"]);
    let mut client = tlsbio_client(
        port,
        &pki,
        &["--tls13", "--reconnect", "--early-data", "sent late\n"],
        "then this\n",
    );
    server.expect("then this");
    assert!(client.finish(), "{}", client.output());
    let out = client.stderr();
    assert!(
        out.contains("early data not sent (10 bytes sent again after the handshake)"),
        "{out}"
    );
    let served = server.stdout();
    assert_eq!(served.matches("sent late").count(), 1, "{served}");
    assert!(!served.contains("Early data received"), "{served}");
}

/// On rustls 0.23 `--early-data` is refused before connecting, with the
/// reason.
#[cfg(not(feature = "rustls-0-24"))]
#[test]
fn tlsbio_client_early_data_needs_rustls_0_24() {
    let mut client = Proc::spawn(
        TLSBIO,
        &["client", "localhost:1", "--reconnect", "--early-data", "x"],
    );
    assert!(!client.finish());
    assert!(
        client
            .stderr()
            .contains("--early-data needs tlsbio built on rustls 0.24"),
        "{}",
        client.output()
    );
}

#[test]
fn tlsbio_client_key_update_with_openssl_s_server() {
    if !have("openssl") {
        return;
    }
    let pki = Pki::new();
    let (server, port) = s_server(&pki, &[]);
    let mut client = tlsbio_client(port, &pki, &["--key-update"], "after key update\n");
    server.expect("after key update");
    assert!(client.finish(), "{}", client.output());
    assert!(client.stderr().contains("key update sent"));
}

#[test]
fn tlsbio_client_reports_a_certificate_for_another_name_in_one_line() {
    if !have("openssl") {
        return;
    }
    let pki = Pki::new();
    let (_server, port) = s_server(&pki, &[]);
    let mut client = tlsbio_client(port, &pki, &["--sni", "other.example"], "");
    assert!(!client.finish(), "{}", client.output());
    let err = client.stderr();
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(err.starts_with("tlsbio: error: handshake with"), "{err}");
    assert!(
        err.contains("not valid for \"other.example\" (it is for"),
        "{err}"
    );
}

// ---- Python's ssl module ----

const PYTHON_CLIENT: &str = r#"
import socket, ssl, sys
ctx = ssl.create_default_context(cafile=sys.argv[2])
with socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=10) as raw:
    with ctx.wrap_socket(raw, server_hostname="localhost") as tls:
        tls.sendall(b"ping from python\n")
        got = b""
        while not got.endswith(b"\n"):
            got += tls.recv(1024)
        print(tls.version(), got.decode().strip())
"#;

const PYTHON_SERVER: &str = r#"
import socket, ssl, sys
ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
ctx.load_cert_chain(sys.argv[1], sys.argv[2])
with socket.create_server(("127.0.0.1", 0)) as listener:
    print("port", listener.getsockname()[1], flush=True)
    listener.settimeout(10)
    raw, _ = listener.accept()
    raw.settimeout(10)
    tls = ctx.wrap_socket(raw, server_side=True)
    got = b""
    while not got.endswith(b"\n"):
        got += tls.recv(1024)
    print("python got", got.decode().strip(), flush=True)
    tls.sendall(b"pong from python\n")
    tls.unwrap()
    raw.close()
"#;

#[test]
fn python_ssl_client_to_tlsbio_server() {
    if !have("python3") {
        return;
    }
    let pki = Pki::new();
    let (server, port) = tlsbio_server(&pki, &[]);
    let ca = pki.path("ca.pem");
    let mut client = Proc::spawn("python3", &["-c", PYTHON_CLIENT, &port.to_string(), &ca]);
    assert!(client.finish(), "{}", client.output());
    assert!(
        client.stdout().contains("TLSv1.3 ping from python"),
        "{}",
        client.output()
    );
    // Python closes without close_notify: the server must call that a
    // truncation, not a clean close.
    server.expect("peer closed without close_notify (unexpected eof)");
}

#[test]
fn tlsbio_client_to_python_ssl_server() {
    if !have("python3") {
        return;
    }
    let pki = Pki::new();
    let (cert, key) = (pki.path("server.pem"), pki.path("server.key"));
    let server = Proc::spawn("python3", &["-c", PYTHON_SERVER, &cert, &key]);
    server.expect("port ");
    let port: u16 = server
        .stdout()
        .lines()
        .find_map(|l| l.strip_prefix("port ")?.trim().parse().ok())
        .unwrap();
    let mut client = tlsbio_client(port, &pki, &[], "ping from tlsbio\n");
    server.expect("python got ping from tlsbio");
    client.expect("pong from python");
    assert!(client.finish(), "{}", client.output());
}

// ---- curl ----

#[test]
fn curl_to_tlsbio_server_http_tls13_and_tls12() {
    if !have("curl") {
        return;
    }
    let pki = Pki::new();
    let (server, port) = tlsbio_server(&pki, &["--http", "--alpn", "http/1.1"]);
    let ca = pki.path("ca.pem");
    let url = format!("https://localhost:{port}/hello");
    for (flags, version) in [
        (vec!["--tlsv1.3"], "TLSv1_3"),
        (vec!["--tlsv1.2", "--tls-max", "1.2"], "TLSv1_2"),
    ] {
        let mut args = vec!["-sS", "--max-time", "10", "--cacert", &ca];
        args.extend(flags);
        args.push(&url);
        let mut curl = Proc::spawn("curl", &args);
        assert!(curl.finish(), "{}", curl.output());
        assert_eq!(curl.stdout(), format!("hello from tlsbio over {version}\n"));
    }
    server.expect("answered \"GET /hello HTTP/1.1\"; sent close_notify");
}

/// Plain HTTP on the TLS port gets a readable 400 that says to use https,
/// not a TLS alert (the engine's `Error::NotTls`).
#[test]
fn curl_over_plain_http_to_the_tls_port_is_told_to_use_https() {
    if !have("curl") {
        return;
    }
    let pki = Pki::new();
    let (server, port) = tlsbio_server(&pki, &[]);
    let url = format!("http://127.0.0.1:{port}/");
    let mut curl = Proc::spawn("curl", &["-sS", "-i", "--max-time", "10", &url]);
    curl.finish();
    let out = curl.stdout();
    assert!(
        out.starts_with("HTTP/1.1 400 Bad Request"),
        "{}",
        curl.output()
    );
    assert!(out.contains("use https://"), "{out}");
    server.expect("plain http on the tls port; answered 400");
}

// ---- GnuTLS ----

#[test]
fn gnutls_cli_to_tlsbio_server() {
    if !have("gnutls-cli") {
        return;
    }
    let pki = Pki::new();
    let (server, port) = tlsbio_server(&pki, &["--alpn", "h2"]);
    let ca = pki.path("ca.pem");
    let port_arg = port.to_string();
    let mut client = Proc::spawn(
        "gnutls-cli",
        &[
            "--x509cafile",
            &ca,
            "--alpn",
            "h2",
            "-p",
            &port_arg,
            "localhost",
        ],
    );
    client.send("ping from gnutls\n");
    client.expect("ping from gnutls\n");
    client.finish();
    assert!(
        client.stdout().contains("- Description: (TLS1.3"),
        "{}",
        client.output()
    );
    server.expect("alpn=h2");
}

#[test]
fn tlsbio_client_to_gnutls_serv_echo() {
    if !have("gnutls-serv") {
        return;
    }
    let pki = Pki::new();
    let port = free_port();
    let (cert, key) = (pki.path("server.pem"), pki.path("server.key"));
    let port_arg = port.to_string();
    let _server = Proc::spawn(
        "gnutls-serv",
        &[
            "--echo",
            "-p",
            &port_arg,
            "--x509certfile",
            &cert,
            "--x509keyfile",
            &key,
        ],
    );
    wait_listening(port);
    let mut client = tlsbio_client(port, &pki, &[], "ping from tlsbio\n");
    client.expect("ping from tlsbio");
    assert!(client.finish(), "{}", client.output());
}

#[test]
fn openssl_s_client_verifies_the_generated_certificate_from_the_printed_path() {
    if !have("openssl") {
        return;
    }
    let pki = Pki::new();
    let out = scratch(&pki, "generated.pem");
    let out = out.to_str().unwrap();
    let server = Proc::spawn(
        TLSBIO,
        &["server", "--listen", "127.0.0.1:0", "--cert-out", out],
    );
    server.expect("listening");
    let stdout = server.stdout();
    let printed = stdout
        .lines()
        .find_map(|l| l.strip_prefix("certificate "))
        .and_then(|l| l.split(" (").next())
        .unwrap_or_else(|| panic!("no certificate path in {stdout}"));
    assert_eq!(printed, out);
    let port = stdout
        .lines()
        .find_map(|l| l.strip_prefix("listening"))
        .and_then(|a| a.trim().rsplit(':').next()?.parse::<u16>().ok())
        .unwrap();
    let connect = format!("127.0.0.1:{port}");
    let mut client = Proc::spawn(
        "openssl",
        &[
            "s_client",
            "-connect",
            &connect,
            "-CAfile",
            printed,
            "-verify_return_error",
        ],
    );
    client.expect("Verify return code: 0 (ok)");
    client.finish();
}
