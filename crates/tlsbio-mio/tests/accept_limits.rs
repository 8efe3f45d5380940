//! Running out of file descriptors is transient: the server stops
//! accepting, backs off, and accepts the waiting connections once
//! descriptors are free again. Its own test binary, because it lowers the
//! whole process's descriptor limit.
#![cfg(target_os = "linux")]

mod support;

use std::net::TcpStream;
use std::time::{Duration, Instant};

use mio::{Events, Poll, Token};
use rustix::process::{getrlimit, setrlimit, Resource, Rlimit};
use support::configs;
use tlsbio_mio::{Limits, Server};

fn open_fds() -> u64 {
    std::fs::read_dir("/proc/self/fd").unwrap().count() as u64
}

#[test]
fn emfile_is_retried_not_fatal() {
    let (_, server_config) = configs();
    let mut poll = Poll::new().unwrap();
    let mut server: Server = Server::bind(
        "127.0.0.1:0".parse().unwrap(),
        server_config,
        Limits::default(),
        poll.registry(),
        Token(0),
    )
    .unwrap();
    let addr = server.local_addr().unwrap();
    let clients: Vec<TcpStream> = (0..4).map(|_| TcpStream::connect(addr).unwrap()).collect();
    // Let the kernel finish the handshakes into the backlog.
    let mut events = Events::with_capacity(8);
    poll.poll(&mut events, Some(Duration::from_millis(200)))
        .unwrap();

    let saved = getrlimit(Resource::Nofile);
    // Room for exactly one more descriptor (read_dir's own is closed by
    // now), so the second accept fails with EMFILE.
    let fds = open_fds();
    setrlimit(
        Resource::Nofile,
        Rlimit {
            current: Some(fds + 1),
            maximum: saved.maximum,
        },
    )
    .unwrap();
    let now = Instant::now();
    let first = server.accept(poll.registry(), now);
    // Give the descriptors back before asserting anything.
    setrlimit(Resource::Nofile, saved).unwrap();
    let first = first.expect("EMFILE is not an error");
    assert!(
        first.len() < clients.len(),
        "some accepts hit the limit: {first:?}"
    );
    assert!(server.accept_errors() >= 1);
    assert!(!server.accept_due(now), "it backs off first");
    let retry = server.next_deadline().expect("the retry is a deadline");
    assert!(server.accept_due(retry));

    // Descriptors are back: the waiting connections are accepted, though
    // no new readiness event came for them.
    let rest = server.accept(poll.registry(), retry).unwrap();
    assert_eq!(first.len() + rest.len(), clients.len());
    assert!(!server.accept_due(retry));
    assert_eq!(server.len(), clients.len());
}
