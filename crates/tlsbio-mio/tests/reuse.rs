//! A server connection's BIO memory, given back with `into_parts` and
//! reused for the next connection: both connections work, and the second
//! allocates no BIO memory of its own. `Server::recycle` does the same
//! for every connection a server ends.

mod support;

use support::{blocking_client, EchoServer};
use tlsbio_mio::{Capacities, Limits};

use std::io::{Read, Write};
use std::net::TcpListener as StdListener;
use std::thread;
use std::time::{Duration, Instant};

use mio::net::TcpStream;
use mio::{Events, Poll, Token};
use tlsbio::bio::VecBio;
use tlsbio::Engine;
use tlsbio_mio::Connection;

const LIMIT: usize = 64 * 1024;

/// Serves one connection on `conn`: reads 5 bytes, echoes them, until the
/// client's close. Bounded by a 10 s deadline.
fn echo_once(conn: &mut Connection, poll: &mut Poll) {
    conn.register(poll.registry()).unwrap();
    let mut events = Events::with_capacity(16);
    let deadline = Instant::now() + Duration::from_secs(10);
    let (mut buf, mut got) = ([0u8; 64], Vec::new());
    while got.len() < 5 {
        assert!(Instant::now() < deadline, "no echo request in 10 s");
        poll.poll(&mut events, Some(Duration::from_millis(100)))
            .unwrap();
        for event in &events {
            conn.ready(event);
        }
        match conn.read(&mut buf) {
            Ok(n) => got.extend_from_slice(&buf[..n]),
            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {}
            Err(e) => panic!("server read: {e}"),
        }
        conn.reregister(poll.registry()).unwrap();
    }
    assert_eq!(conn.write(&got).unwrap(), got.len());
    while !conn.is_flushed() {
        assert!(Instant::now() < deadline, "echo not flushed in 10 s");
        poll.poll(&mut events, Some(Duration::from_millis(100)))
            .unwrap();
        for event in &events {
            conn.ready(event);
        }
        conn.reregister(poll.registry()).unwrap();
    }
    conn.deregister(poll.registry()).unwrap();
}

#[test]
fn a_second_connection_runs_on_the_first_ones_buffers() {
    let (client, server) = support::configs();
    let listener = StdListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let clients = thread::spawn(move || {
        for _ in 0..2 {
            let tcp = std::net::TcpStream::connect(addr).unwrap();
            tcp.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
            let mut tls = tlsbio_blocking::Stream::connect(&client, "localhost", tcp).unwrap();
            tls.write_all(b"hello").unwrap();
            let mut echo = [0u8; 5];
            tls.read_exact(&mut echo).unwrap();
            assert_eq!(&echo, b"hello");
        }
    });

    let mut poll = Poll::new().unwrap();
    let accept = |listener: &StdListener| {
        let (socket, _) = listener.accept().unwrap();
        socket.set_nonblocking(true).unwrap();
        TcpStream::from_std(socket)
    };

    let bios = || (VecBio::with_limit(LIMIT), VecBio::with_limit(LIMIT));
    let (rbio, wbio) = bios();
    let mut first = Connection::new(
        Engine::server(&server, rbio, wbio),
        accept(&listener),
        Token(0),
    );
    echo_once(&mut first, &mut poll);
    let (engine, _socket) = first.into_parts();
    let (rbio, wbio) = engine.into_bios();
    let mut pool = [rbio.into_vec(), wbio.into_vec()];
    assert!(pool.iter().all(|b| b.capacity() > 0), "nothing to reuse");
    // Larger than one echo grows a fresh BIO to, so that the check below
    // tells a reused buffer from a new one.
    for buf in &mut pool {
        buf.reserve(32 * 1024);
    }
    let capacities = [pool[0].capacity(), pool[1].capacity()];

    let [r, w] = pool;
    let mut second = Connection::new(
        Engine::server(
            &server,
            VecBio::with_buffer(r, LIMIT),
            VecBio::with_buffer(w, LIMIT),
        ),
        accept(&listener),
        Token(1),
    );
    echo_once(&mut second, &mut poll);
    // The same flights fit in the same memory: nothing was allocated anew.
    let engine = second.engine();
    assert_eq!(
        [engine.rbio().allocated(), engine.wbio().allocated()],
        capacities
    );
    clients.join().unwrap();
}

/// A finished ping over a fresh connection, closed with close_notify both
/// ways: when it returns, the server has ended the connection (and the
/// test server has recycled it).
fn ping(server: &EchoServer) {
    let mut tls = blocking_client(server.addr);
    tls.write_all(b"ping").unwrap();
    let mut buf = [0u8; 4];
    tls.read_exact(&mut buf).unwrap();
    assert_eq!(&buf, b"ping");
    tls.shutdown_and_wait().unwrap();
}

#[test]
fn a_server_starts_each_next_connection_on_recycled_buffers() {
    // No release on a quiet timer: a stalled test machine must not empty
    // the buffers before they are recycled.
    let limits = Limits::default().release_memory_after(None);
    let server = EchoServer::start(support::configs().1, limits);
    for _ in 0..3 {
        ping(&server);
    }
    let seen = server.finish_after(3);
    assert_eq!(seen.graceful, 3);
    // The first connection allocated its two buffers; the second and
    // third started on the one before's.
    assert_eq!(seen.buffers_reused, 4);
    assert_eq!(seen.pooled_buffers, 2);
}

#[test]
fn with_unequal_capacities_each_side_gets_a_buffer_within_its_own() {
    let capacities = Capacities {
        read: 64 * 1024,
        write: 4096,
    };
    let limits = (Limits::default().release_memory_after(None)).capacities(capacities);
    let server = EchoServer::start(support::configs().1, limits);
    // The first connection's read buffer grows past the write capacity.
    let data = vec![0x5a; 20 * 1024];
    let mut tls = blocking_client(server.addr);
    tls.write_all(&data).unwrap();
    let mut echo = vec![0; data.len()];
    tls.read_exact(&mut echo).unwrap();
    assert_eq!(echo, data);
    tls.shutdown_and_wait().unwrap();
    ping(&server);
    let seen = server.finish_after(2);
    // Both of the second connection's BIOs came from the pool, the large
    // buffer not as the write BIO.
    assert_eq!(seen.buffers_reused, 2);
    assert!(
        seen.max_wbio_allocated <= capacities.write,
        "a write BIO held {} bytes of memory, over its {} capacity",
        seen.max_wbio_allocated,
        capacities.write
    );
}

#[test]
fn a_pool_of_zero_keeps_nothing() {
    let server = EchoServer::start_with(support::configs().1, Limits::default(), |s| {
        s.set_buffer_pool(0)
    });
    for _ in 0..2 {
        ping(&server);
    }
    let seen = server.finish_after(2);
    assert_eq!((seen.buffers_reused, seen.pooled_buffers), (0, 0));
}

#[test]
fn buffers_a_quiet_connection_gave_back_are_not_pooled() {
    // Quiet for 20 ms: buffers given back; for 1.5 s: ended. (The wide
    // gap is for loaded machines: a server loop stalled past the idle
    // timeout would end the connection without releasing it first.)
    let limits = Limits::default()
        .release_memory_after(Some(Duration::from_millis(20)))
        .idle_timeout(Some(Duration::from_millis(1500)));
    let server = EchoServer::start(support::configs().1, limits);
    let tls = blocking_client(server.addr);
    let start = Instant::now();
    while server.observed.lock().unwrap().expired < 1 {
        assert!(start.elapsed() < Duration::from_secs(20), "never expired");
        thread::sleep(Duration::from_millis(10));
    }
    drop(tls);
    let seen = server.finish();
    assert_eq!(seen.expired, 1);
    assert_eq!(seen.pooled_buffers, 0);
}
