//! The C examples against real peers: the epoll echo server (built with
//! AddressSanitizer + UBSan, so a leak or a bad access fails the test)
//! talks to `openssl s_client` and Python's `ssl`; the C client talks to
//! `openssl s_server`. 127.0.0.1 only; every wait has a deadline.

mod support;

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::thread;
use std::time::{Duration, Instant};

use support::*;

const TIMEOUT: Duration = Duration::from_secs(20);

/// Kills the child when dropped, so no test leaves a server behind.
struct Reaper(Child);

impl Drop for Reaper {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// Lines of `r`, sent to a channel by a thread, so that reads can time out.
fn lines(r: impl Read + Send + 'static) -> mpsc::Receiver<String> {
    let (tx, rx) = mpsc::channel();
    thread::spawn(move || {
        for line in BufReader::new(r).lines().map_while(Result::ok) {
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    rx
}

fn wait_for(rx: &mpsc::Receiver<String>, what: &str) -> Vec<String> {
    let deadline = Instant::now() + TIMEOUT;
    let mut seen = Vec::new();
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        match rx.recv_timeout(left) {
            Ok(line) => {
                let done = line.contains(what);
                seen.push(line);
                if done {
                    return seen;
                }
            }
            Err(_) => panic!("no line with {what:?} within {TIMEOUT:?}; saw {seen:?}"),
        }
    }
}

/// Waits for the child to exit, killing it after the deadline.
fn wait_exit(child: &mut Child) -> std::process::ExitStatus {
    let deadline = Instant::now() + TIMEOUT;
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            return status;
        }
        assert!(
            Instant::now() < deadline,
            "the process did not exit within {TIMEOUT:?}"
        );
        thread::sleep(Duration::from_millis(20));
    }
}

#[test]
fn c_echo_server_with_openssl_and_python_clients() {
    if !(have("cc") && have("openssl") && have("python3")) {
        return;
    }
    let dir = scratch("echo-server");
    write_pki(&dir);
    let exe = compile(
        "echo_server",
        &["examples/c/echo_server.c"],
        &dir,
        Mode::Sanitized,
    );
    let port = free_port();
    let mut server = Reaper(
        command(&exe, Mode::Sanitized)
            .arg(port.to_string())
            .arg(dir.join("server.pem"))
            .arg(dir.join("server.key"))
            .arg("2")
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap(),
    );
    let out = lines(server.0.stdout.take().unwrap());
    let err = lines(server.0.stderr.take().unwrap());
    wait_for(&out, "listening on");

    // openssl s_client: a line out, the same line back.
    let mut s_client = Reaper(
        Command::new("openssl")
            .args([
                "s_client",
                "-quiet",
                "-no_ign_eof",
                "-servername",
                "localhost",
            ])
            .arg("-connect")
            .arg(format!("127.0.0.1:{port}"))
            .arg("-CAfile")
            .arg(dir.join("ca.pem"))
            .args(["-verify_return_error"])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap(),
    );
    let echoed = lines(s_client.0.stdout.take().unwrap());
    let mut stdin = s_client.0.stdin.take().unwrap();
    stdin.write_all(b"hello from s_client\n").unwrap();
    stdin.flush().unwrap();
    wait_for(&echoed, "hello from s_client");
    drop(stdin); // EOF: s_client closes
    let _ = wait_exit(&mut s_client.0);
    println!("openssl s_client: echoed");

    // Python: 100 kB both ways, then close_notify both ways (unwrap).
    let script = r#"
import socket, ssl, sys
ctx = ssl.create_default_context(cafile=sys.argv[2])
with socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=20) as s:
    with ctx.wrap_socket(s, server_hostname="localhost") as t:
        data = bytes(range(256)) * 400
        t.sendall(data)
        got = b""
        while len(got) < len(data):
            chunk = t.recv(65536)
            assert chunk, "closed early"
            got += chunk
        assert got == data, "echo differs"
        print(t.version(), t.cipher()[0], len(got))
        t.unwrap()
        print("clean close")
"#;
    let py = Command::new("python3")
        .arg("-c")
        .arg(script)
        .arg(port.to_string())
        .arg(dir.join("ca.pem"))
        .output()
        .unwrap();
    assert_success("python ssl client", &py);
    assert!(String::from_utf8_lossy(&py.stdout).contains("clean close"));

    // Two connections served: the server exits, and ASan found nothing.
    let status = wait_exit(&mut server.0);
    let log: Vec<String> = err.try_iter().collect();
    assert!(
        status.success(),
        "echo server: {status}\n{}",
        log.join("\n")
    );
    assert!(
        log.iter().any(|l| l.contains("served 2 connections")),
        "{log:?}"
    );
}

#[test]
fn c_client_against_openssl_s_server() {
    if !(have("cc") && have("openssl")) {
        return;
    }
    let dir = scratch("client");
    write_pki(&dir);
    let exe = compile("client", &["examples/c/client.c"], &dir, Mode::Sanitized);
    for version in ["-tls1_3", "-tls1_2"] {
        let port = free_port();
        let mut s_server = Reaper(
            Command::new("openssl")
                .args(["s_server", "-www", "-naccept", "1", version])
                .arg("-accept")
                .arg(format!("127.0.0.1:{port}"))
                .arg("-cert")
                .arg(dir.join("server.pem"))
                .arg("-key")
                .arg(dir.join("server.key"))
                .stdout(Stdio::piped())
                .stderr(Stdio::null())
                .spawn()
                .unwrap(),
        );
        let out = lines(s_server.0.stdout.take().unwrap());
        wait_for(&out, "ACCEPT");
        let mut client = command(&exe, Mode::Sanitized);
        client
            .args(["localhost", &port.to_string()])
            .arg(dir.join("ca.pem"))
            .arg("GET / HTTP/1.0\r\n\r\n");
        let output = client.output().unwrap();
        let stdout = String::from_utf8_lossy(&output.stdout);
        let stderr = String::from_utf8_lossy(&output.stderr);
        println!("{version}: {stderr}");
        assert!(
            stdout.starts_with("HTTP/1.0 200 ok"),
            "{version}: unexpected reply:\n{stdout}\n{stderr}"
        );
        let expected = if version == "-tls1_3" {
            "TLSv1.3"
        } else {
            "TLSv1.2"
        };
        assert!(
            stderr.contains(&format!("connected: {expected}")),
            "{stderr}"
        );
        // s_server -www closes with close_notify.
        assert!(
            output.status.success(),
            "{version}: {}\n{stderr}",
            output.status
        );
    }
}
