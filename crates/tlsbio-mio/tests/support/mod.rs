//! An instrumented echo server on the mio driver, and mio clients, for the
//! load tests.
#![allow(dead_code, unreachable_pub)]

#[path = "../../examples/common/echo.rs"]
pub mod echo;

use std::collections::HashSet;
use std::io;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::thread;
use std::time::{Duration, Instant};

use mio::{Events, Poll, Token};
use tlsbio::rustls::pki_types::ServerName;
use tlsbio::{ClientContext, ServerContext};
use tlsbio_memory::deterministic::DeterministicPki;
use tlsbio_mio::{Capacities, Closed, Connection, Limits, Server};

/// Configs with the normal provider and the deterministic certificates
/// (no files, nothing to generate at run time beyond two Ed25519 keys).
pub fn configs() -> (ClientContext, ServerContext) {
    let pki = DeterministicPki::new(1, &["localhost"]);
    (
        ClientContext::new(Arc::new(pki.stock_client_config())).unwrap(),
        ServerContext::new(Arc::new(pki.stock_server_config())).unwrap(),
    )
}

/// What the server saw.
#[derive(Debug, Default)]
pub struct Observed {
    /// Connections that ended, by how.
    pub graceful: usize,
    pub failed: usize,
    pub abortive: usize,
    /// Dropped at their handshake deadline.
    pub expired: usize,
    /// The most bytes one connection ever held, driver and application
    /// together.
    pub max_held: usize,
    /// Handshakes completed.
    pub handshakes: usize,
    /// How each connection that ended by itself ended.
    pub ends: Vec<Option<Closed>>,
    /// BIO buffers new connections took from the server's pool (every
    /// connection that ends is recycled), and what the pool held at the
    /// end.
    pub buffers_reused: u64,
    pub pooled_buffers: usize,
    /// The most memory any connection's write BIO had allocated.
    pub max_wbio_allocated: usize,
}

/// A running echo server; stops when dropped.
pub struct EchoServer {
    pub addr: SocketAddr,
    stop: Arc<AtomicBool>,
    thread: Option<thread::JoinHandle<io::Result<()>>>,
    pub observed: Arc<Mutex<Observed>>,
}

impl EchoServer {
    pub fn start(config: ServerContext, limits: Limits) -> Self {
        Self::start_with(config, limits, |_| {})
    }

    /// [`start`](Self::start), with `set_up` called on the server first.
    pub fn start_with(
        config: ServerContext,
        limits: Limits,
        set_up: impl FnOnce(&mut echo::EchoServer),
    ) -> Self {
        let poll = Poll::new().unwrap();
        let mut server = Server::bind(
            "127.0.0.1:0".parse().unwrap(),
            config,
            limits,
            poll.registry(),
            Token(0),
        )
        .unwrap();
        set_up(&mut server);
        let addr = server.local_addr().unwrap();
        let stop = Arc::new(AtomicBool::new(false));
        let observed = Arc::new(Mutex::new(Observed::default()));
        let thread = {
            let (stop, observed) = (stop.clone(), observed.clone());
            thread::spawn(move || serve(poll, server, &stop, &observed))
        };
        Self {
            addr,
            stop,
            thread: Some(thread),
            observed,
        }
    }

    /// Waits (bounded, 20 s) until the server has seen `n` connections
    /// end, then [`finish`](Self::finish)es.
    pub fn finish_after(self, n: usize) -> Observed {
        let start = Instant::now();
        while self.observed.lock().unwrap().ends.len() < n {
            assert!(
                start.elapsed() < Duration::from_secs(20),
                "the server never saw {n} connection(s) end"
            );
            thread::sleep(Duration::from_millis(10));
        }
        self.finish()
    }

    /// Stops the loop and returns what it saw.
    pub fn finish(mut self) -> Observed {
        self.stop.store(true, Ordering::SeqCst);
        let result = self.thread.take().unwrap().join().unwrap();
        result.expect("the server loop failed");
        std::mem::take(&mut *self.observed.lock().unwrap())
    }
}

impl Drop for EchoServer {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
    }
}

const READ_SIZE: usize = 16 * 1024;

fn serve(
    mut poll: Poll,
    mut server: echo::EchoServer,
    stop: &AtomicBool,
    observed: &Mutex<Observed>,
) -> io::Result<()> {
    let mut events = Events::with_capacity(1024);
    let mut handshaken: HashSet<Token> = HashSet::new();
    let mut buf = vec![0u8; READ_SIZE];
    while !stop.load(Ordering::SeqCst) {
        let now = Instant::now();
        let timeout = server
            .next_deadline()
            .map_or(Duration::from_millis(50), |d| {
                d.saturating_duration_since(now)
                    .min(Duration::from_millis(50))
            });
        poll.poll(&mut events, Some(timeout))?;
        for event in &events {
            let outcome = echo::on_event(&mut server, poll.registry(), event, &mut buf)?;
            let mut seen = observed.lock().unwrap_or_else(PoisonError::into_inner);
            match outcome {
                echo::Outcome::Open(token) => {
                    let (conn, unsent) = server.entry_mut(token).expect("open");
                    let held = conn.buffered() + unsent.len();
                    seen.max_held = seen.max_held.max(held);
                    let wbio = conn.engine().wbio().allocated();
                    seen.max_wbio_allocated = seen.max_wbio_allocated.max(wbio);
                    if !conn.is_handshaking() && handshaken.insert(token) {
                        seen.handshakes += 1;
                    }
                }
                echo::Outcome::Ended(conn, _) => {
                    // A graceful close means a handshake, counted here if
                    // the connection never came back open.
                    if !handshaken.remove(&conn.token()) && conn.closed() == Some(&Closed::Graceful)
                    {
                        seen.handshakes += 1;
                    }
                    seen.max_held = seen.max_held.max(conn.buffered());
                    seen.ends.push(conn.closed().cloned());
                    match conn.closed() {
                        Some(Closed::Graceful) | None => seen.graceful += 1,
                        Some(Closed::Failed(_) | Closed::Proxy(_)) => seen.failed += 1,
                        Some(Closed::Abortive(_)) => seen.abortive += 1,
                    }
                    server.recycle(*conn);
                }
                echo::Outcome::Accepted | echo::Outcome::Stale => {}
            }
        }
        let now = Instant::now();
        echo::retry_accept(&mut server, poll.registry(), now)?;
        for ended in server.expire(poll.registry(), now) {
            observed
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .expired += 1;
            server.recycle(ended.connection);
        }
    }
    let mut seen = observed.lock().unwrap_or_else(PoisonError::into_inner);
    seen.buffers_reused = server.buffers_reused();
    seen.pooled_buffers = server.pooled_buffers();
    Ok(())
}

/// The byte at offset `i` of client `id`'s stream.
pub fn pattern(id: usize, i: usize) -> u8 {
    (i.wrapping_mul(31) ^ id.wrapping_mul(7) ^ (i >> 10)) as u8
}

/// How long a busy loop may go without any event before it is declared a
/// lost wake-up. Generous: loaded CI machines stall.
const QUIET_LIMIT: Duration = Duration::from_secs(10);

/// One echo client's progress.
struct EchoClient {
    conn: Connection,
    sent: usize,
    checked: usize,
    shut: bool,
    done: bool,
    /// The next bytes of the stream, generated once and kept until the
    /// connection takes them: `outgoing[taken..]` is unsent.
    outgoing: Vec<u8>,
    taken: usize,
}

/// `count` clients in one mio loop, each sending `len` bytes and checking
/// the echo byte for byte, then closing with close_notify both ways.
/// Returns how many completed; panics on a wrong byte.
///
/// A lost wake-up shows as a quiet poller while clients are unfinished:
/// that panics after `QUIET_LIMIT` without a single event.
pub fn run_echo_clients(
    addr: SocketAddr,
    config: ClientContext,
    capacities: Capacities,
    count: usize,
    len: usize,
    limit: Duration,
) -> usize {
    let mut poll = Poll::new().unwrap();
    let mut clients: Vec<EchoClient> = (0..count)
        .map(|id| {
            let socket = mio::net::TcpStream::connect(addr).unwrap();
            let name = ServerName::try_from("localhost").unwrap();
            let mut conn =
                Connection::client(&config, name, socket, Token(id), capacities).unwrap();
            conn.register(poll.registry()).unwrap();
            EchoClient {
                conn,
                sent: 0,
                checked: 0,
                shut: false,
                done: false,
                outgoing: Vec::with_capacity(READ_SIZE),
                taken: 0,
            }
        })
        .collect();
    let mut events = Events::with_capacity(1024);
    let mut buf = vec![0u8; READ_SIZE];
    let started = Instant::now();
    let mut done = 0;
    let mut quiet_since = Instant::now();
    while done < count && started.elapsed() < limit {
        poll.poll(&mut events, Some(Duration::from_millis(100)))
            .unwrap();
        if events.is_empty() {
            assert!(
                quiet_since.elapsed() < QUIET_LIMIT,
                "lost wake-up: no event for {QUIET_LIMIT:?} with {} of {count} clients unfinished",
                count - done
            );
            continue;
        }
        quiet_since = Instant::now();
        let ids: Vec<usize> = events.iter().map(|e| e.token().0).collect();
        for event in &events {
            clients[event.token().0].conn.ready(event);
        }
        for id in ids {
            let c = &mut clients[id];
            if c.done {
                continue;
            }
            // Write while the socket takes it. Each byte of the stream is
            // generated once: with a small write BIO a write takes a few
            // hundred bytes, and making a whole chunk again for each (as
            // this loop once did) cost an unoptimised build ~300 ms per
            // client per pass, long enough for the server's handshake
            // deadline to expire the clients still waiting for their turn.
            while !c.conn.is_handshaking() && c.sent < len {
                if c.taken == c.outgoing.len() {
                    let n = (len - c.sent).min(READ_SIZE);
                    let from = c.sent;
                    c.outgoing.clear();
                    c.outgoing.extend((0..n).map(|k| pattern(id, from + k)));
                    c.taken = 0;
                }
                match c.conn.write(&c.outgoing[c.taken..]) {
                    Ok(w) => {
                        c.sent += w;
                        c.taken += w;
                    }
                    Err(e) if e.kind() == io::ErrorKind::WouldBlock => break,
                    Err(e) => panic!("client {id}: write: {e}"),
                }
            }
            loop {
                match c.conn.read(&mut buf) {
                    Ok(0) => {
                        assert_eq!(c.checked, len, "client {id}: close before all echoed");
                        c.done = true;
                        done += 1;
                        break;
                    }
                    Ok(n) => {
                        for (k, b) in buf[..n].iter().enumerate() {
                            assert_eq!(
                                *b,
                                pattern(id, c.checked + k),
                                "client {id}: byte {}",
                                c.checked + k
                            );
                        }
                        c.checked += n;
                    }
                    Err(e) if e.kind() == io::ErrorKind::WouldBlock => break,
                    Err(e) => panic!("client {id}: read: {e}"),
                }
            }
            if c.checked == len && !c.shut {
                c.conn.shutdown().unwrap();
                c.shut = true;
            }
            c.conn.reregister(poll.registry()).unwrap();
        }
    }
    done
}

// ---- hostile clients, shared with tlsbio-uring's tests ----

/// A blocking TLS client, handshaken, with a 10 s read timeout.
pub fn blocking_client(addr: SocketAddr) -> tlsbio_blocking::Stream<std::net::TcpStream> {
    let (client, _) = configs();
    let tcp = std::net::TcpStream::connect(addr).unwrap();
    tcp.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    tlsbio_blocking::Stream::connect(&client, "localhost", tcp).unwrap()
}

/// A client that handshakes and sends, but never reads: the server's echo
/// backs up, and it must stop reading rather than buffer. Returns how many
/// bytes it wrote before it was pushed back (`None`: never pushed back).
pub fn never_reads(addr: SocketAddr, config: ClientContext) -> thread::JoinHandle<Option<usize>> {
    thread::spawn(move || {
        use std::io::Write;
        let tcp = std::net::TcpStream::connect(addr).unwrap();
        tcp.set_write_timeout(Some(Duration::from_millis(500)))
            .unwrap();
        let mut tls = tlsbio_blocking::Stream::connect(&config, "localhost", tcp).unwrap();
        let chunk = vec![7u8; 64 * 1024];
        let mut written = 0usize;
        while written < 256 << 20 {
            match tls.write(&chunk) {
                Ok(n) => written += n,
                Err(_) => return Some(written), // blocked: backpressure
            }
        }
        None
    })
}

/// A raw TCP client that sends `bytes` and returns all it gets back
/// before the close.
pub fn raw_client(addr: SocketAddr, bytes: &'static [u8]) -> thread::JoinHandle<Vec<u8>> {
    thread::spawn(move || {
        use std::io::{Read, Write};
        let mut s = std::net::TcpStream::connect(addr).unwrap();
        s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
        s.write_all(bytes).unwrap();
        let mut reply = Vec::new();
        let _ = s.read_to_end(&mut reply);
        reply
    })
}

/// The handshake deadline of the slow-loris tests' servers. Every other
/// client of those servers must finish its handshake within it too, while
/// one client loop serves them all in an unoptimised build on a loaded
/// machine: at 1 s, a pass of that loop beside the other load tests
/// sometimes took longer, and the server dropped an honest client (CI saw
/// "broken pipe"). The slow-loris sends for 30 s, far longer.
pub const SLOW_LORIS_DEADLINE: Duration = Duration::from_secs(5);

/// A slow-loris: one byte of a ClientHello every 100 ms, for 30 s at
/// most. Whether the server dropped it.
pub fn slowloris(addr: SocketAddr) -> thread::JoinHandle<bool> {
    thread::spawn(move || {
        use std::io::{Read, Write};
        let mut s = std::net::TcpStream::connect(addr).unwrap();
        s.set_read_timeout(Some(Duration::from_millis(100)))
            .unwrap();
        let hello = [22u8, 3, 1, 0x02, 0x00, 1, 0, 1, 0xfc, 3, 3];
        for i in 0..300 {
            if s.write_all(&[hello[i % hello.len()]]).is_err() {
                return true; // reset: dropped
            }
            match s.read(&mut [0u8; 64]) {
                Ok(0) => return true, // closed: dropped
                Ok(_) => {}           // an alert is fine too; keep going
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => {}
                Err(e) if e.kind() == io::ErrorKind::TimedOut => {}
                Err(_) => return true,
            }
        }
        false
    })
}

/// `n` connections to `addr`, one after another: handshake, `echoed`
/// bytes there and back (checked), close_notify both ways. For the
/// benchmarks of a server's per-connection cost.
pub fn echo_one_after_another(
    client: &ClientContext,
    addr: SocketAddr,
    n: usize,
    echoed: usize,
) -> io::Result<()> {
    use std::io::{Read, Write};
    let data = vec![7u8; echoed];
    let mut echo = vec![0u8; echoed];
    for _ in 0..n {
        let tcp = std::net::TcpStream::connect(addr)?;
        tcp.set_read_timeout(Some(Duration::from_secs(10)))?;
        let mut tls =
            tlsbio_blocking::Stream::connect(client, "localhost", tcp).map_err(io::Error::other)?;
        tls.write_all(&data)?;
        tls.read_exact(&mut echo)?;
        if echo != data {
            return Err(io::Error::other("the echo differs"));
        }
        tls.shutdown_and_wait()?;
    }
    Ok(())
}

/// The table both recycle benchmarks print (`--quick`: 100 connections,
/// otherwise 500): `measure(client, server, pool, n)` serves `n`
/// connections one after another with a buffer pool of `pool` and returns
/// what [`counted`] says of the run and the buffers reused.
pub fn print_recycle_table(
    measure: impl Fn(&ClientContext, &ServerContext, usize, usize) -> io::Result<((usize, usize), u64)>,
) {
    let quick = std::env::args().any(|a| a == "--quick");
    let n = if quick { 100 } else { 500 };
    let (client, server) = configs();
    println!("| server's buffer pool | connections | allocations / connection | KiB allocated / connection | BIO buffers reused |");
    println!("|---|---:|---:|---:|---:|");
    for pool in [0, 32] {
        match measure(&client, &server, pool, n) {
            Ok(((allocations, bytes), reused)) => println!(
                "| {pool} | {n} | {:.1} | {:.1} | {reused} |",
                allocations as f64 / n as f64,
                bytes as f64 / 1024.0 / n as f64
            ),
            Err(e) => println!("| {pool} | {n} | failed: {e} | | |"),
        }
    }
}

/// Allocations (reallocations included) and bytes allocated (growth by
/// reallocation included) in a counting allocator's change.
pub fn counted(change: stats_alloc::Stats) -> (usize, usize) {
    (
        change.allocations + change.reallocations,
        change.bytes_allocated + change.bytes_reallocated.max(0) as usize,
    )
}
