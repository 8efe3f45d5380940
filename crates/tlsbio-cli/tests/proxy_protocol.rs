//! `tlsbio server --proxy-protocol` behind a hand-made load balancer:
//! PROXY v1 and v2 headers before the ClientHello (Python's `ssl` wraps
//! the socket after the header is sent), the client address in the log,
//! and every broken header (missing, truncated, oversized, malformed) a
//! clear logged error with nothing left hanging.

mod support;

use support::*;

/// Sends `header` (raw bytes given as a Python expression), then, if
/// `tls`, a TLS session that sends a line and reads it back; prints what
/// happened.
const CLIENT: &str = r#"
import socket, ssl, sys
port, ca, header, tls = int(sys.argv[1]), sys.argv[2], eval(sys.argv[3]), sys.argv[4] == "tls"
s = socket.create_connection(("127.0.0.1", port), timeout=10)
s.sendall(header)
if tls:
    ctx = ssl.create_default_context(cafile=ca)
    t = ctx.wrap_socket(s, server_hostname="localhost")
    t.sendall(b"through the proxy\n")
    print("echo:", t.recv(100))
    t.unwrap()
else:
    s.shutdown(socket.SHUT_WR)
    print("closed by server:", s.recv(100) == b"")
"#;

fn client(port: u16, pki: &Pki, header: &str, tls: bool) -> Proc {
    let mode = if tls { "tls" } else { "raw" };
    let mut p = Proc::spawn(
        "python3",
        &[
            "-c",
            CLIENT,
            &port.to_string(),
            &pki.path("ca.pem"),
            header,
            mode,
        ],
    );
    assert!(p.finish(), "{}", p.output());
    p
}

fn v2(src: [u8; 4], sport: u16) -> String {
    let mut bytes = b"\r\n\r\n\0\r\nQUIT\n".to_vec();
    bytes.extend_from_slice(&[0x21, 0x11, 0, 12]);
    bytes.extend_from_slice(&src);
    bytes.extend_from_slice(&[10, 0, 0, 1]);
    bytes.extend_from_slice(&sport.to_be_bytes());
    bytes.extend_from_slice(&443u16.to_be_bytes());
    let hex: String = bytes.iter().map(|b| format!("\\x{b:02x}")).collect();
    format!("b\"{hex}\"")
}

#[test]
fn v1_and_v2_headers_carry_the_client_address_into_the_log() {
    if !have("python3") {
        return;
    }
    let pki = Pki::new();
    let (server, port) = tlsbio_server(&pki, &["--proxy-protocol"]);
    let c = client(
        port,
        &pki,
        r#"b"PROXY TCP4 192.0.2.1 198.51.100.7 51234 443\r\n""#,
        true,
    );
    assert!(
        c.stdout().contains("echo: b'through the proxy\\n'"),
        "{}",
        c.output()
    );
    server.expect("PROXY v1 from 192.0.2.1:51234 to 198.51.100.7:443");
    server.expect("192.0.2.1:51234 handshake TLSv1_3");
    server.expect("192.0.2.1:51234 echoed 18 bytes; closed cleanly");

    let c = client(port, &pki, &v2([203, 0, 113, 9], 4000), true);
    assert!(c.stdout().contains("echo:"), "{}", c.output());
    server.expect("PROXY v2 from 203.0.113.9:4000 to 10.0.0.1:443");
    server.expect("203.0.113.9:4000 echoed 18 bytes; closed cleanly");
}

#[test]
fn broken_headers_are_logged_errors_and_nothing_hangs() {
    if !have("python3") {
        return;
    }
    let pki = Pki::new();
    let (server, port) = tlsbio_server(&pki, &["--proxy-protocol"]);
    // Each one: the server closes (the client's recv sees EOF), and says why.
    for (header, why) in [
        (
            r#"b"PROXY TCP4 1.2.3.4""#,
            "ended inside the PROXY protocol header (after 18 bytes)",
        ),
        (
            r#"b"PROXY " + b"x" * 200"#,
            "PROXY protocol header longer than 107 bytes",
        ),
        (
            r#"b"\r\n\r\n\x00\r\nQUIT\n\x21\x11\xff\xff""#,
            "PROXY protocol header longer than 4112 bytes",
        ),
        (
            r#"b"PROXY TCP4 1.2.3.4 5.6.7.8 1 99999\r\n""#,
            "a v1 port must be a decimal",
        ),
        (r#"b"\x16\x03\x01\x00\x05hello""#, "does not start with one"),
    ] {
        let c = client(port, &pki, header, false);
        assert!(
            c.stdout().contains("closed by server: True"),
            "{header}: {}",
            c.output()
        );
        server.expect(why);
    }
}

#[test]
fn a_header_without_the_flag_is_reported_as_not_tls() {
    if !have("python3") {
        return;
    }
    let pki = Pki::new();
    let (server, port) = tlsbio_server(&pki, &[]);
    let c = client(
        port,
        &pki,
        r#"b"PROXY TCP4 1.2.3.4 5.6.7.8 1 2\r\n""#,
        false,
    );
    assert!(
        c.stdout().contains("closed by server: True"),
        "{}",
        c.output()
    );
    server.expect("sent a PROXY protocol header, but --proxy-protocol is off");
}
