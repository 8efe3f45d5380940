//! Graceful and abortive closes are reported distinctly.

mod support;

use std::io::{Read, Write};
use std::net::{Shutdown, TcpStream};
use std::thread;
use std::time::{Duration, Instant};

use support::*;
use tlsbio_mio::{AbortReason, Closed, Limits};

/// Waits (bounded) until the server has seen `n` connections end.
fn ends_after(server: EchoServer, n: usize) -> Vec<Option<Closed>> {
    let start = Instant::now();
    while server.observed.lock().unwrap().ends.len() < n {
        assert!(
            start.elapsed() < Duration::from_secs(20),
            "the server never saw the end"
        );
        thread::sleep(Duration::from_millis(10));
    }
    server.finish().ends
}

fn connect(server: &EchoServer) -> tlsbio_blocking::Stream<TcpStream> {
    blocking_client(server.addr)
}

#[test]
fn close_notify_both_ways_is_graceful() {
    let server = EchoServer::start(configs().1, Limits::default());
    let mut tls = connect(&server);
    tls.write_all(b"ping").unwrap();
    let mut buf = [0u8; 4];
    tls.read_exact(&mut buf).unwrap();
    assert_eq!(&buf, b"ping");
    tls.shutdown_and_wait().unwrap();
    assert_eq!(ends_after(server, 1), [Some(Closed::Graceful)]);
}

#[test]
fn a_stream_cut_without_close_notify_is_truncation() {
    let server = EchoServer::start(configs().1, Limits::default());
    let mut tls = connect(&server);
    tls.write_all(b"ping").unwrap();
    let mut buf = [0u8; 4];
    tls.read_exact(&mut buf).unwrap();
    tls.get_ref().shutdown(Shutdown::Both).unwrap();
    assert_eq!(
        ends_after(server, 1),
        [Some(Closed::Abortive(AbortReason::Truncated))]
    );
}

#[test]
fn a_reset_is_a_socket_abort() {
    let server = EchoServer::start(configs().1, Limits::default());
    let mut tls = connect(&server);
    // Send a lot and read none of the echo: closing a socket with unread
    // data makes the kernel send a reset.
    tls.write_all(&vec![1u8; 512 * 1024]).unwrap();
    thread::sleep(Duration::from_millis(100));
    drop(tls);
    let ends = ends_after(server, 1);
    assert!(
        matches!(ends[..], [Some(Closed::Abortive(AbortReason::Socket(_)))]),
        "{ends:?}"
    );
}
