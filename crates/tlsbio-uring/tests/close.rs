//! Graceful, truncated and reset closes are reported distinctly.

mod support;

use std::io::{Read, Write};
use std::net::{Shutdown, TcpStream};
use std::thread;
use std::time::{Duration, Instant};

use support::*;
use tlsbio_uring::{Closed, Limits};

/// Waits (bounded) until the server has seen `n` connections end.
fn ends_after(server: EchoServer, n: usize) -> Vec<Closed> {
    let start = Instant::now();
    while server.observed().ends.len() < n {
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

fn ping(tls: &mut tlsbio_blocking::Stream<TcpStream>) {
    tls.write_all(b"ping").unwrap();
    let mut buf = [0u8; 4];
    tls.read_exact(&mut buf).unwrap();
    assert_eq!(&buf, b"ping");
}

#[test]
fn close_notify_both_ways_is_graceful() {
    if !uring_available() {
        return;
    }
    let server = EchoServer::start(configs().1, Limits::default());
    let mut tls = connect(&server);
    ping(&mut tls);
    // Our close_notify, then the server's in reply.
    tls.shutdown_and_wait().unwrap();
    assert_eq!(ends_after(server, 1), [Closed::Graceful]);
}

#[test]
fn a_stream_cut_without_close_notify_is_truncation() {
    if !uring_available() {
        return;
    }
    let server = EchoServer::start(configs().1, Limits::default());
    let mut tls = connect(&server);
    ping(&mut tls);
    tls.get_ref().shutdown(Shutdown::Both).unwrap();
    assert_eq!(ends_after(server, 1), [Closed::Truncated]);
}

#[test]
fn a_reset_is_reported_as_one() {
    if !uring_available() {
        return;
    }
    let server = EchoServer::start(configs().1, Limits::default());
    let mut tls = connect(&server);
    // Send a lot and read none of the echo: closing a socket with unread
    // data makes the kernel send a reset.
    tls.write_all(&vec![1u8; 512 * 1024]).unwrap();
    thread::sleep(Duration::from_millis(100));
    drop(tls);
    let ends = ends_after(server, 1);
    assert!(matches!(ends[..], [Closed::Reset(_)]), "{ends:?}");
}

#[test]
fn a_limit_this_driver_cannot_keep_is_refused_not_ignored() {
    if !uring_available() {
        return;
    }
    let limits = Limits::default().proxy_protocol(true);
    let err = tlsbio_uring::Server::<()>::bind("127.0.0.1:0".parse().unwrap(), configs().1, limits)
        .unwrap_err();
    assert_eq!(err.kind(), std::io::ErrorKind::Unsupported);
    assert!(err.to_string().contains("PROXY"), "{err}");
}
