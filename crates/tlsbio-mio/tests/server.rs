//! The server helper's deadlines, driven by the Instants the test passes
//! in: nothing here waits for a real timeout.

mod support;

use std::net::TcpStream;
use std::thread;
use std::time::{Duration, Instant};

use mio::{Events, Poll, Token};
use support::configs;
use tlsbio_mio::{Limits, Server};

#[test]
fn deadlines_follow_the_callers_clock_and_end_with_the_handshake() {
    let (client_config, server_config) = configs();
    let mut poll = Poll::new().unwrap();
    let limits = Limits {
        handshake_timeout: Duration::from_secs(5),
        ..Limits::default()
    };
    let mut server = Server::bind(
        "127.0.0.1:0".parse().unwrap(),
        server_config,
        limits,
        poll.registry(),
        Token(0),
    )
    .unwrap();
    let addr = server.local_addr().unwrap();
    let start = Instant::now();

    // A client that completes its handshake, and one that never sends.
    let tls = thread::spawn(move || {
        let tcp = TcpStream::connect(addr).unwrap();
        tcp.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
        // Handshaken, then kept open until the test ends.
        tlsbio_blocking::Stream::connect(&client_config, "localhost", tcp).unwrap()
    });
    let _silent = TcpStream::connect(addr).unwrap();

    let mut events = Events::with_capacity(64);
    let mut accepted = Vec::new();
    let mut handshaken = false;
    for _ in 0..200 {
        poll.poll(&mut events, Some(Duration::from_millis(50)))
            .unwrap();
        for event in &events {
            if event.token() == server.token() {
                accepted.extend(server.accept(poll.registry(), start).unwrap());
            } else if let Some(conn) = server.get_mut(event.token()) {
                conn.ready(event);
                let _ = conn.read(&mut [0u8; 64]);
                if !conn.is_handshaking() {
                    handshaken = true;
                }
                let _ = conn.reregister(poll.registry());
            }
        }
        if handshaken && accepted.len() == 2 {
            break;
        }
    }
    assert!(handshaken && accepted.len() == 2, "{accepted:?}");
    let _client = tls.join().unwrap();

    // Only the silent connection still has a deadline: start + 5 s.
    assert_eq!(server.next_deadline(), Some(start + Duration::from_secs(5)));
    // Not yet at start + 4 s, by the caller's clock...
    assert!(server
        .expire(poll.registry(), start + Duration::from_secs(4))
        .is_empty());
    assert_eq!(server.len(), 2);
    // ...and at start + 5 s it goes, and the finished one stays.
    let late = server.expire(poll.registry(), start + Duration::from_secs(5));
    assert_eq!(late.len(), 1);
    assert!(late[0].is_handshaking());
    assert_eq!(server.len(), 1);
    assert_eq!(
        server.next_deadline(),
        None,
        "a finished handshake has no deadline"
    );
}
