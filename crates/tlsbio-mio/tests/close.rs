//! Graceful and abortive closes are reported distinctly.

mod support;

use std::io::{Read, Write};
use std::net::{Shutdown, TcpStream};
use std::thread;
use std::time::Duration;

use support::*;
use tlsbio_mio::{AbortReason, Closed, Limits};

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
    assert_eq!(server.finish_after(1).ends, [Some(Closed::Graceful)]);
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
        server.finish_after(1).ends,
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
    let ends = server.finish_after(1).ends;
    assert!(
        matches!(ends[..], [Some(Closed::Abortive(AbortReason::Socket(_)))]),
        "{ends:?}"
    );
}
