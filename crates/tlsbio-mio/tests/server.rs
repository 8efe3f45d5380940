//! The server helper's deadlines, driven by the Instants the test passes
//! in: nothing here waits for a real timeout.

mod support;

use std::net::TcpStream;
use std::thread;
use std::time::{Duration, Instant};

use mio::{Events, Poll, Token};
use support::configs;
use tlsbio_mio::{Connection, Expiry, Limits, Server};

/// A server with `limits` on 127.0.0.1, and a client thread that completes
/// a handshake with it and then keeps the connection open.
fn server_and_client<T>(
    limits: Limits,
) -> (
    Poll,
    Server<T>,
    thread::JoinHandle<tlsbio_blocking::Stream<TcpStream>>,
    std::net::SocketAddr,
) {
    let (client_config, server_config) = configs();
    let poll = Poll::new().unwrap();
    let server = Server::bind(
        "127.0.0.1:0".parse().unwrap(),
        server_config,
        limits,
        poll.registry(),
        Token(0),
    )
    .unwrap();
    let addr = server.local_addr().unwrap();
    let tls = thread::spawn(move || {
        let tcp = TcpStream::connect(addr).unwrap();
        tcp.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
        // Handshaken, then kept open until the test ends.
        tlsbio_blocking::Stream::connect(&client_config, "localhost", tcp).unwrap()
    });
    (poll, server, tls, addr)
}

/// Polls (bounded) until `enough(accepted, handshaken)`: accepts with
/// `make` at `now`, moves each connection's bytes, and shows `check` each
/// connection's token and state. Returns the accepted tokens and whether
/// a handshake finished.
fn serve_until<T>(
    poll: &mut Poll,
    server: &mut Server<T>,
    now: Instant,
    mut make: impl FnMut(&Connection) -> T,
    mut check: impl FnMut(Token, &T),
    enough: impl Fn(usize, bool) -> bool,
) -> (Vec<Token>, bool) {
    let mut events = Events::with_capacity(64);
    let mut accepted = Vec::new();
    let mut handshaken = false;
    for _ in 0..200 {
        poll.poll(&mut events, Some(Duration::from_millis(50)))
            .unwrap();
        for event in &events {
            if event.token() == server.token() {
                accepted.extend(server.accept_with(poll.registry(), now, &mut make).unwrap());
            } else if let Some((conn, state)) = server.entry_mut(event.token()) {
                check(event.token(), state);
                conn.ready(event);
                let _ = conn.read(&mut [0u8; 64]);
                handshaken |= !conn.is_handshaking();
                let _ = conn.reregister(poll.registry());
            }
        }
        if enough(accepted.len(), handshaken) {
            break;
        }
    }
    (accepted, handshaken)
}

#[test]
fn deadlines_follow_the_callers_clock_and_end_with_the_handshake() {
    let limits = Limits::default()
        .handshake_timeout(Duration::from_secs(5))
        .release_memory_after(None);
    let start = Instant::now();
    // A client that completes its handshake, and one that never sends.
    let (mut poll, mut server, tls, addr): (_, Server, _, _) = server_and_client(limits);
    let _silent = TcpStream::connect(addr).unwrap();
    let (accepted, handshaken) = serve_until(
        &mut poll,
        &mut server,
        start,
        |_| (),
        |_, _| {},
        |accepted, handshaken| handshaken && accepted == 2,
    );
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
    assert!(late[0].connection.is_handshaking());
    assert_eq!(late[0].reason, Expiry::Handshake);
    assert_eq!(server.len(), 1);
    assert_eq!(
        server.next_deadline(),
        None,
        "a finished handshake has no deadline"
    );
}

/// Each connection carries the application's state; a connection that
/// moves no bytes is first given its buffers back, then ended as idle, by
/// the caller's clock.
#[test]
fn idle_connections_release_then_expire_with_their_state() {
    let limits = Limits::default()
        .idle_timeout(Some(Duration::from_secs(3)))
        .release_memory_after(Some(Duration::from_secs(1)));
    let start = Instant::now();
    let (mut poll, mut server, tls, _): (_, Server<String>, _, _) = server_and_client(limits);
    let (accepted, handshaken) = serve_until(
        &mut poll,
        &mut server,
        start,
        |conn| format!("{:?}", conn.token()),
        |token, state| assert_eq!(state, &format!("{token:?}"), "the state follows its token"),
        |_, handshaken| handshaken,
    );
    let token = accepted.first().copied();
    assert!(handshaken);
    let token = token.unwrap();
    let _client = tls.join().unwrap();

    let at = |secs| start + Duration::from_secs(secs);
    let allocated = |server: &mut Server<String>| {
        let engine = server.get_mut(token).unwrap().engine();
        engine.rbio().allocated() + engine.wbio().allocated()
    };
    // The first look sees the handshake's bytes: not quiet yet.
    assert!(server.expire(poll.registry(), at(1)).is_empty());
    assert!(allocated(&mut server) > 0, "the handshake grew the BIOs");
    // One quiet second: buffers back, connection kept.
    assert!(server.expire(poll.registry(), at(2)).is_empty());
    assert_eq!(
        allocated(&mut server),
        0,
        "a quiet connection's buffers were given back"
    );
    assert!(server.expire(poll.registry(), at(3)).is_empty());
    // Three quiet seconds: ended as idle, with its state.
    let ended = server.expire(poll.registry(), at(4));
    assert_eq!(ended.len(), 1);
    assert_eq!(ended[0].reason, Expiry::Idle);
    assert_eq!(ended[0].state, format!("{token:?}"));
    assert!(server.is_empty());
    assert_eq!(server.next_deadline(), None);
}
