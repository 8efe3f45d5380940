//! An io_uring echo server on its own thread, and the mio test clients
//! (tlsbio-mio's, reused: a client that checks every echoed byte).
#![allow(dead_code, unreachable_pub)]

#[path = "../../examples/common/echo.rs"]
pub mod echo;

#[path = "../../../tlsbio-mio/tests/support/mod.rs"]
pub mod mio_clients;

use std::io;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::thread;
use std::time::{Duration, Instant};

use tlsbio::ServerContext;
use tlsbio_uring::{Closed, Limits, Server};

#[allow(unused_imports)]
pub use mio_clients::{
    blocking_client, configs, never_reads, pattern, raw_client, run_echo_clients, slowloris,
    SLOW_LORIS_DEADLINE,
};

/// Whether io_uring works here. `false` (after printing why) lets a test
/// skip, except under `TLSBIO_REQUIRE_PEERS` (CI), where it fails.
pub fn uring_available() -> bool {
    match tlsbio_uring::probe() {
        Ok(()) => true,
        Err(e) if std::env::var_os("TLSBIO_REQUIRE_PEERS").is_some() => {
            panic!("io_uring is required (TLSBIO_REQUIRE_PEERS is set): {e}")
        }
        Err(e) => {
            eprintln!("skipped: {e}");
            false
        }
    }
}

/// What the server saw.
#[derive(Debug, Default)]
pub struct Observed {
    pub handshakes: usize,
    /// The most bytes one connection held, driver and application.
    pub max_held: usize,
    /// The most buffer memory one connection had allocated.
    pub max_allocated: usize,
    /// Dropped at their handshake deadline.
    pub expired: usize,
    /// How each connection that ended by itself ended.
    pub ends: Vec<Closed>,
}

impl Observed {
    pub fn count(&self, f: impl Fn(&Closed) -> bool) -> usize {
        self.ends.iter().filter(|c| f(c)).count()
    }
}

/// A running echo server; stops when finished or dropped.
pub struct EchoServer {
    pub addr: SocketAddr,
    stop: Arc<AtomicBool>,
    thread: Option<thread::JoinHandle<io::Result<()>>>,
    pub observed: Arc<Mutex<Observed>>,
}

impl EchoServer {
    pub fn start(context: ServerContext, limits: Limits) -> Self {
        let (tx, rx) = std::sync::mpsc::channel();
        let stop = Arc::new(AtomicBool::new(false));
        let observed = Arc::new(Mutex::new(Observed::default()));
        let thread = {
            let (stop, observed) = (stop.clone(), observed.clone());
            thread::spawn(move || {
                // The ring belongs to the thread that drives it.
                let server: echo::EchoServer =
                    Server::bind("127.0.0.1:0".parse().unwrap(), context, limits)?;
                tx.send(server.local_addr()?).unwrap();
                serve(server, &stop, &observed)
            })
        };
        let addr = rx.recv().expect("the server thread failed to bind");
        Self {
            addr,
            stop,
            thread: Some(thread),
            observed,
        }
    }

    /// Stops the loop and returns what it saw.
    pub fn finish(mut self) -> Observed {
        self.stop.store(true, Ordering::SeqCst);
        let result = self.thread.take().unwrap().join().unwrap();
        result.expect("the server loop failed");
        std::mem::take(&mut *self.observed.lock().unwrap())
    }

    pub fn observed(&self) -> std::sync::MutexGuard<'_, Observed> {
        self.observed.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

impl Drop for EchoServer {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
    }
}

fn serve(
    mut server: echo::EchoServer,
    stop: &AtomicBool,
    observed: &Mutex<Observed>,
) -> io::Result<()> {
    let mut ready = Vec::new();
    let mut buf = vec![0u8; 16 * 1024];
    let mut handshaken = std::collections::HashSet::new();
    while !stop.load(Ordering::SeqCst) {
        let now = Instant::now();
        let expired = server.expire(now).len();
        let timeout = server
            .next_deadline()
            .map_or(Duration::from_millis(20), |d| {
                d.saturating_duration_since(now)
                    .min(Duration::from_millis(20))
            });
        server.turn(now, Some(timeout), &mut ready)?;
        let now = Instant::now();
        let mut seen = observed.lock().unwrap_or_else(PoisonError::into_inner);
        seen.expired += expired;
        for &id in &ready {
            let allocated = server.get(id).map_or(0, |c| c.allocated());
            seen.max_allocated = seen.max_allocated.max(allocated);
            match echo::on_ready(&mut server, id, &mut buf, now) {
                echo::Outcome::Open { held, handshaking } => {
                    seen.max_held = seen.max_held.max(held);
                    if !handshaking && handshaken.insert(id) {
                        seen.handshakes += 1;
                    }
                }
                echo::Outcome::Ended(how) => {
                    if handshaken.remove(&id) || how == Some(Closed::Graceful) {
                        // counted (or a graceful close implies one)
                    }
                    seen.ends.push(how.unwrap_or(Closed::Graceful));
                }
                echo::Outcome::Stale => {}
            }
        }
    }
    Ok(())
}

/// Turns the server (echoing) until `done` says so, or 30 s pass.
pub fn turn_until(
    server: &mut echo::EchoServer,
    mut done: impl FnMut(&echo::EchoServer) -> bool,
) -> bool {
    let (mut ready, mut buf) = (Vec::new(), vec![0u8; 16 * 1024]);
    let start = Instant::now();
    while start.elapsed() < Duration::from_secs(30) {
        if done(server) {
            return true;
        }
        let now = Instant::now();
        server.expire(now);
        server
            .turn(now, Some(Duration::from_millis(10)), &mut ready)
            .unwrap();
        for &id in &ready {
            echo::on_ready(server, id, &mut buf, Instant::now());
        }
    }
    false
}

/// An echo server on 127.0.0.1 (any port) with the test certificates,
/// driven by the test's own thread ([`turn_until`]).
pub fn bind_echo(limits: Limits) -> echo::EchoServer {
    Server::bind("127.0.0.1:0".parse().unwrap(), configs().1, limits).unwrap()
}
