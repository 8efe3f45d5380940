//! The blocking stream over real sockets: TCP on 127.0.0.1, Unix socket
//! pairs, non-blocking sockets, timeouts, EOF and TLS failures.

use std::io::{self, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::{mpsc, Arc};
use std::thread;
use std::time::Duration;

use tlsbio::bio::Bio;
use tlsbio::AlertDescription;
use tlsbio::{ClientContext, Error, ServerContext, Shutdown};
use tlsbio_blocking::{tls_error, tlsbio, Stream};
use tlsbio_memory::deterministic::DeterministicPki;

/// Every test gives up after this long instead of hanging CI.
const TIMEOUT: Duration = Duration::from_secs(20);

fn configs(seed: u64) -> (ClientContext, ServerContext) {
    let pki = DeterministicPki::new(seed, &["localhost"]);
    (
        ClientContext::new(Arc::new(pki.stock_client_config())).unwrap(),
        ServerContext::new(Arc::new(pki.stock_server_config())).unwrap(),
    )
}

/// A connected TCP pair on 127.0.0.1 with timeouts set.
fn tcp_pair() -> (TcpStream, TcpStream) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let client = TcpStream::connect(listener.local_addr().unwrap()).unwrap();
    let (server, _) = listener.accept().unwrap();
    for s in [&client, &server] {
        s.set_read_timeout(Some(TIMEOUT)).unwrap();
        s.set_write_timeout(Some(TIMEOUT)).unwrap();
    }
    (client, server)
}

fn pattern(len: usize) -> Vec<u8> {
    (0..len).map(|i| (i * 7 % 251) as u8).collect()
}

/// A server thread that echoes until the client's close_notify, then
/// closes its side too.
fn spawn_echo(server: ServerContext, tcp: TcpStream) -> thread::JoinHandle<io::Result<u64>> {
    thread::spawn(move || {
        let mut tls = Stream::accept(&server, tcp)?;
        let mut echoed = 0u64;
        let mut buf = vec![0u8; 32 * 1024];
        loop {
            let n = tls.read(&mut buf)?;
            if n == 0 {
                break;
            }
            tls.write_all(&buf[..n])?;
            tls.flush()?;
            echoed += n as u64;
        }
        assert_eq!(tls.shutdown()?, Shutdown::Complete);
        Ok(echoed)
    })
}

#[test]
fn tcp_echo_round_trips_a_megabyte_and_closes_cleanly() {
    let (client_config, server_config) = configs(1);
    let (client_tcp, server_tcp) = tcp_pair();
    let server = spawn_echo(server_config, server_tcp);

    let mut tls = Stream::connect(&client_config, "localhost", client_tcp).unwrap();
    assert!(!tls.engine().is_handshaking());
    let data = pattern(1 << 20);
    let mut back = vec![0u8; 64 * 1024];
    for chunk in data.chunks(64 * 1024) {
        tls.write_all(chunk).unwrap();
        tls.flush().unwrap();
        tls.read_exact(&mut back[..chunk.len()]).unwrap();
        assert_eq!(&back[..chunk.len()], chunk);
    }
    tls.shutdown_and_wait().unwrap();
    // After the peer's close_notify, reads say end of stream, every time.
    assert_eq!(tls.read(&mut back).unwrap(), 0);
    assert_eq!(tls.read(&mut back).unwrap(), 0);
    assert_eq!(server.join().unwrap().unwrap(), 1 << 20);
}

#[cfg(unix)]
#[test]
fn works_over_a_unix_socket_pair() {
    use std::os::unix::net::UnixStream;
    let (client_config, server_config) = configs(2);
    let (a, b) = UnixStream::pair().unwrap();
    a.set_read_timeout(Some(TIMEOUT)).unwrap();
    b.set_read_timeout(Some(TIMEOUT)).unwrap();
    let server = thread::spawn(move || {
        let mut tls = Stream::accept(&server_config, b).unwrap();
        let mut got = Vec::new();
        tls.read_to_end(&mut got).unwrap();
        got
    });
    let mut tls = Stream::connect(&client_config, "localhost", a).unwrap();
    tls.write_all(b"over a unix socket").unwrap();
    assert_eq!(tls.shutdown().unwrap(), Shutdown::Sent);
    assert_eq!(server.join().unwrap(), b"over a unix socket");
}

/// Retries `f` on `WouldBlock`, counting the retries, within a bound.
fn retry<T>(would_block: &mut u64, mut f: impl FnMut() -> io::Result<T>) -> Option<T> {
    match f() {
        Ok(v) => Some(v),
        Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
            *would_block += 1;
            None
        }
        Err(e) => panic!("unexpected error: {e}"),
    }
}

#[test]
fn non_blocking_sockets_lose_nothing_across_would_block() {
    let (client_config, server_config) = configs(3);
    let (client_tcp, server_tcp) = tcp_pair();
    client_tcp.set_nonblocking(true).unwrap();
    server_tcp.set_nonblocking(true).unwrap();
    let mut client = Stream::client(&client_config, "localhost", client_tcp).unwrap();
    let mut server = Stream::server(&server_config, server_tcp);

    // One thread plays both sides. The client writes 8 MiB, far more than
    // the kernel buffers hold, while the server reads in small bites, so
    // both sides see WouldBlock many times.
    let data = pattern(8 << 20);
    let mut sent = 0;
    let mut received = Vec::with_capacity(data.len());
    let mut buf = [0u8; 3000];
    let (mut client_blocked, mut server_blocked) = (0u64, 0u64);
    let mut rounds = 0u64;
    while received.len() < data.len() {
        rounds += 1;
        assert!(
            rounds < 10_000_000,
            "no progress: sent {sent}, received {}",
            received.len()
        );
        if sent < data.len() {
            let end = (sent + 100_000).min(data.len());
            if let Some(n) = retry(&mut client_blocked, || client.write(&data[sent..end])) {
                sent += n;
            }
        } else {
            retry(&mut client_blocked, || client.flush());
        }
        for _ in 0..4 {
            match retry(&mut server_blocked, || server.read(&mut buf)) {
                Some(0) => panic!("server saw end of stream early"),
                Some(n) => received.extend_from_slice(&buf[..n]),
                None => break,
            }
        }
    }
    assert!(
        received == data,
        "the byte stream differs from what was sent"
    );
    assert!(
        client_blocked > 0 && server_blocked > 0,
        "WouldBlock never happened"
    );
    eprintln!("would-block: client {client_blocked}, server {server_blocked}; rounds {rounds}");
}

#[test]
fn eof_without_close_notify_is_unexpected_eof_after_the_data() {
    let (client_config, server_config) = configs(4);
    let (client_tcp, server_tcp) = tcp_pair();
    let server = thread::spawn(move || {
        let mut tls = Stream::accept(&server_config, server_tcp).unwrap();
        tls.write_all(b"all of it").unwrap();
        tls.flush().unwrap();
        // Close the socket without close_notify: a truncation attack.
        drop(tls.into_inner());
    });
    let mut tls = Stream::connect(&client_config, "localhost", client_tcp).unwrap();
    let mut got = [0u8; 9];
    tls.read_exact(&mut got).unwrap();
    assert_eq!(&got, b"all of it");
    let err = tls.read(&mut [0u8; 16]).unwrap_err();
    assert_eq!(err.kind(), io::ErrorKind::UnexpectedEof);
    assert!(matches!(
        tls_error(&err),
        Some(Error::UnexpectedEof {
            during_handshake: false,
            ..
        })
    ));
    server.join().unwrap();
}

#[test]
fn a_read_timeout_surfaces_and_the_retry_resumes_mid_record() {
    let (client_config, server_config) = configs(5);
    let (client_tcp, server_tcp) = tcp_pair();
    let (go, wait) = mpsc::channel::<()>();
    let server = thread::spawn(move || {
        let mut tls = Stream::accept(&server_config, server_tcp).unwrap();
        // Encrypt one record and send only its first half.
        assert_eq!(tls.engine_mut().write(b"late but whole").unwrap(), 14);
        let record = tls.engine_mut().pop_output().unwrap();
        let n = record.len();
        tls.get_mut().write_all(&record[..n / 2]).unwrap();
        wait.recv().unwrap();
        tls.get_mut().write_all(&record[n / 2..]).unwrap();
        wait.recv().unwrap();
    });
    let mut tls = Stream::connect(&client_config, "localhost", client_tcp).unwrap();
    tls.get_ref()
        .set_read_timeout(Some(Duration::from_millis(100)))
        .unwrap();
    let mut buf = [0u8; 64];
    let err = tls.read(&mut buf).unwrap_err();
    assert!(
        matches!(
            err.kind(),
            io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut
        ),
        "{err:?}"
    );
    assert!(tls.engine().rbio().pending() > 0, "the half record is kept");
    go.send(()).unwrap();
    tls.get_ref().set_read_timeout(Some(TIMEOUT)).unwrap();
    let n = tls.read(&mut buf).unwrap();
    assert_eq!(&buf[..n], b"late but whole");
    go.send(()).unwrap();
    server.join().unwrap();
}

#[test]
fn a_certificate_for_another_name_fails_both_sides_with_the_alert() {
    let (client_config, server_config) = configs(6);
    let (client_tcp, server_tcp) = tcp_pair();
    let server = thread::spawn(move || Stream::accept(&server_config, server_tcp).unwrap_err());
    let err = Stream::connect(&client_config, "other.example", client_tcp).unwrap_err();
    assert_eq!(err.kind(), io::ErrorKind::InvalidData);
    let Some(Error::Protocol(p)) = tls_error(&err) else {
        panic!("not a protocol error: {err:?}");
    };
    assert!(
        matches!(
            p.rustls_error(),
            tlsbio::rustls::Error::InvalidCertificate(
                tlsbio::CertificateError::NotValidForName
                    | tlsbio::CertificateError::NotValidForNameContext { .. }
            )
        ),
        "{p}"
    );
    // TLS 1.3: the certificate comes under handshake keys, so the alert
    // is encrypted too.
    assert_eq!(p.alert_sent(), tlsbio::AlertSent::Encrypted);
    let server_err = server.join().unwrap();
    let Some(Error::Protocol(p)) = tls_error(&server_err) else {
        panic!("not a protocol error: {server_err:?}");
    };
    // The client's alert reached the server before the client's error
    // was returned.
    assert_eq!(p.alert_received(), Some(AlertDescription::BadCertificate));
}

#[test]
fn write_after_shutdown_is_broken_pipe_and_reads_still_work() {
    let (client_config, server_config) = configs(8);
    let (client_tcp, server_tcp) = tcp_pair();
    let server = thread::spawn(move || {
        let mut tls = Stream::accept(&server_config, server_tcp).unwrap();
        let mut got = Vec::new();
        tls.read_to_end(&mut got).unwrap();
        // Half-close: the client's side is closed, ours is still open.
        tls.write_all(b"reply after your close").unwrap();
        tls.shutdown().unwrap();
        got
    });
    let mut tls = Stream::connect(&client_config, "localhost", client_tcp).unwrap();
    tls.write_all(b"request").unwrap();
    assert_eq!(tls.shutdown().unwrap(), Shutdown::Sent);
    let err = tls.write(b"more").unwrap_err();
    assert_eq!(err.kind(), io::ErrorKind::BrokenPipe);
    let mut reply = Vec::new();
    tls.read_to_end(&mut reply).unwrap();
    assert_eq!(reply, b"reply after your close");
    assert_eq!(tls.shutdown().unwrap(), Shutdown::Complete);
    assert_eq!(server.join().unwrap(), b"request");
}
