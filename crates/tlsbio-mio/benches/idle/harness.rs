//! The idle-memory harness: a server in a child process of this same
//! binary (`--serve KIND`), N client connections to it that handshake,
//! take in the server's tickets and sit idle, and the growth of the
//! child's resident set divided by N. tlsbio-mio's idle bench and
//! tlsbio-uring's include it (`#[path]`); each brings its servers.

use std::io::{self, BufRead, Write};
use std::net::SocketAddr;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use mio::{Events, Poll, Token};
use tlsbio::ClientContext;
use tlsbio_memory::deterministic::DeterministicPki;
use tlsbio_mio::Connection;

/// Where the servers listen (port chosen by the kernel).
pub(crate) const LOOPBACK: SocketAddr =
    SocketAddr::new(std::net::IpAddr::V4(std::net::Ipv4Addr::LOCALHOST), 0);

/// The certificates every server and client uses.
pub(crate) fn pki() -> DeterministicPki {
    DeterministicPki::new(1, &["localhost"])
}

/// The bench's `main`: in a child started with `--serve KIND`, runs
/// `serve(KIND)` (`None`: no such server); otherwise measures each of
/// `servers` (a `KIND` and the row's label) with 10 000 connections
/// (`--quick`: 2 000) and prints the table.
pub(crate) fn main(servers: &[(&str, &str)], serve: impl Fn(&str) -> Option<io::Result<()>>) {
    let args: Vec<String> = std::env::args().collect();
    if let Some(i) = args.iter().position(|a| a == "--serve") {
        let which = args.get(i + 1).map_or("", String::as_str);
        let result = serve(which)
            .unwrap_or_else(|| Err(io::Error::other(format!("unknown server {which:?}"))));
        if let Err(e) = result {
            eprintln!("server: {e}");
            std::process::exit(1);
        }
        return;
    }
    let n = if args.iter().any(|a| a == "--quick") {
        2_000
    } else {
        10_000
    };
    println!("| server | idle connections | resident before | resident after | per connection |");
    println!("|---|---:|---:|---:|---:|");
    for &(which, label) in servers {
        match measure(which, n) {
            Ok((before, after)) => println!(
                "| {label} | {n} | {:.1} MiB | {:.1} MiB | {:.1} KiB |",
                before as f64 / 1024.0,
                after as f64 / 1024.0,
                (after.saturating_sub(before)) as f64 / n as f64
            ),
            Err(e) => println!("| {label} | {n} | failed: {e} | | |"),
        }
    }
}

/// A server child: its port, and its resident set in KiB on demand.
struct Child_ {
    child: Child,
    addr: SocketAddr,
}

impl Child_ {
    fn start(which: &str) -> io::Result<Self> {
        let mut child = Command::new(std::env::current_exe()?)
            .args(["--serve", which])
            .stdout(Stdio::piped())
            .spawn()?;
        let mut line = String::new();
        io::BufReader::new(child.stdout.take().expect("piped")).read_line(&mut line)?;
        let addr = line
            .trim()
            .parse()
            .map_err(|_| io::Error::other(format!("no address from the server: {line:?}")))?;
        Ok(Self { child, addr })
    }

    fn rss_kib(&self) -> io::Result<u64> {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.child.id()))?;
        status
            .lines()
            .find_map(|l| l.strip_prefix("VmRSS:"))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
            .ok_or_else(|| io::Error::other("no VmRSS"))
    }
}

impl Drop for Child_ {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Opens `n` idle connections to a fresh `which` server; its resident set
/// (KiB) before and after.
fn measure(which: &str, n: usize) -> io::Result<(u64, u64)> {
    let server = Child_::start(which)?;
    std::thread::sleep(Duration::from_millis(200));
    let before = server.rss_kib()?;
    let context =
        ClientContext::new(Arc::new(pki().stock_client_config())).map_err(io::Error::other)?;
    let mut poll = Poll::new()?;
    let mut events = Events::with_capacity(1024);
    let mut clients: Vec<(Connection, bool)> = Vec::with_capacity(n);
    let mut settled = 0;
    let started = Instant::now();
    let mut buf = [0u8; 1024];
    while settled < n {
        if started.elapsed() > Duration::from_secs(120) {
            return Err(io::Error::other(format!(
                "only {settled} of {n} connections settled"
            )));
        }
        // Open in batches, so that the listen backlog never overflows.
        while clients.len() < n && clients.len() < settled + 256 {
            let token = Token(clients.len());
            let mut conn = Connection::connect(&context, "localhost", server.addr, token)?;
            conn.register(poll.registry())?;
            clients.push((conn, false));
        }
        poll.poll(&mut events, Some(Duration::from_millis(100)))?;
        for event in &events {
            let (conn, done) = &mut clients[event.token().0];
            conn.ready(event);
            // Read (the server's tickets) until there is nothing more.
            loop {
                match conn.read(&mut buf) {
                    Ok(0) => return Err(io::Error::other("the server closed a connection")),
                    Ok(_) => {}
                    Err(e) if e.kind() == io::ErrorKind::WouldBlock => break,
                    Err(e) => return Err(e),
                }
            }
            if !*done && !conn.is_handshaking() {
                *done = true;
                settled += 1;
            }
            conn.reregister(poll.registry())?;
        }
    }
    // Let the tickets land and the server go quiet (tlsbio-mio gives
    // buffers back after 1 s of it).
    std::thread::sleep(Duration::from_millis(2500));
    let after = server.rss_kib()?;
    drop(clients);
    Ok((before, after))
}

pub(crate) fn announce(addr: SocketAddr) -> io::Result<()> {
    let mut out = io::stdout();
    writeln!(out, "{addr}")?;
    out.flush()
}
