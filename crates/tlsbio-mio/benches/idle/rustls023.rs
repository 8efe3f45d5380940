//! The idle-memory bench on rustls 0.23 (see `../idle.rs`).

#[path = "../../examples/common/echo.rs"]
mod echo;

use std::collections::HashMap;
use std::io::{self, BufRead, Read, Write};
use std::net::SocketAddr;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use mio::net::{TcpListener, TcpStream};
use mio::{Events, Interest, Poll, Token};
use tlsbio::rustls::ServerConnection;
use tlsbio::{ClientContext, ServerContext};
use tlsbio_memory::deterministic::DeterministicPki;
use tlsbio_mio::{Connection, Limits, Server};

const LISTENER: Token = Token(0);

/// Where the servers listen (port chosen by the kernel).
const LOOPBACK: SocketAddr =
    SocketAddr::new(std::net::IpAddr::V4(std::net::Ipv4Addr::LOCALHOST), 0);

fn pki() -> DeterministicPki {
    DeterministicPki::new(1, &["localhost"])
}

pub(crate) fn main() {
    let args: Vec<String> = std::env::args().collect();
    if let Some(i) = args.iter().position(|a| a == "--serve") {
        let result = match args.get(i + 1).map(String::as_str) {
            Some("tlsbio") => serve_tlsbio(false),
            Some("tlsbio-release") => serve_tlsbio(true),
            Some("rustls") => serve_rustls(),
            other => Err(io::Error::other(format!("unknown server {other:?}"))),
        };
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
    for which in ["tlsbio", "tlsbio-release", "rustls"] {
        match measure(which, n) {
            Ok((before, after)) => println!(
                "| {} | {n} | {:.1} MiB | {:.1} MiB | {:.1} KiB |",
                match which {
                    "tlsbio" => "tlsbio-mio Server",
                    "tlsbio-release" => "tlsbio-mio Server, Options::release_buffers",
                    _ => "raw rustls over mio",
                },
                before as f64 / 1024.0,
                after as f64 / 1024.0,
                (after.saturating_sub(before)) as f64 / n as f64
            ),
            Err(e) => println!("| {which} | {n} | failed: {e} | | |"),
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

fn announce(addr: SocketAddr) -> io::Result<()> {
    let mut out = io::stdout();
    writeln!(out, "{addr}")?;
    out.flush()
}

fn serve_tlsbio(release_buffers: bool) -> io::Result<()> {
    let mut poll = Poll::new()?;
    let context = ServerContext::new(Arc::new(pki().stock_server_config()))
        .map_err(io::Error::other)?
        .with_options(tlsbio::Options::default().release_buffers(release_buffers));
    let limits = Limits::default().max_connections(20_000);
    let mut server: echo::EchoServer =
        Server::bind(LOOPBACK, context, limits, poll.registry(), LISTENER)?;
    announce(server.local_addr()?)?;
    let mut events = Events::with_capacity(1024);
    let mut buf = vec![0u8; 16 * 1024];
    loop {
        poll.poll(&mut events, Some(Duration::from_millis(100)))?;
        for event in &events {
            echo::on_event(&mut server, poll.registry(), event, &mut buf)?;
        }
        let now = Instant::now();
        echo::retry_accept(&mut server, poll.registry(), now)?;
        server.expire(poll.registry(), now);
    }
}

/// The obvious raw rustls server: a `ServerConnection` per socket, echo.
fn serve_rustls() -> io::Result<()> {
    let config = Arc::new(pki().stock_server_config());
    let mut poll = Poll::new()?;
    let mut listener = TcpListener::bind(LOOPBACK)?;
    poll.registry()
        .register(&mut listener, LISTENER, Interest::READABLE)?;
    announce(listener.local_addr()?)?;
    let mut conns: HashMap<Token, (TcpStream, ServerConnection)> = HashMap::new();
    let mut next = 1usize;
    let mut events = Events::with_capacity(1024);
    let mut buf = vec![0u8; 16 * 1024];
    loop {
        poll.poll(&mut events, Some(Duration::from_millis(100)))?;
        for event in &events {
            if event.token() == LISTENER {
                while let Ok((mut socket, _)) = listener.accept() {
                    socket.set_nodelay(true)?;
                    let token = Token(next);
                    next += 1;
                    poll.registry().register(
                        &mut socket,
                        token,
                        Interest::READABLE | Interest::WRITABLE,
                    )?;
                    let tls = ServerConnection::new(config.clone()).map_err(io::Error::other)?;
                    conns.insert(token, (socket, tls));
                }
                continue;
            }
            let token = event.token();
            let Some((socket, tls)) = conns.get_mut(&token) else {
                continue;
            };
            let mut closed = false;
            loop {
                match tls.read_tls(socket) {
                    Ok(0) => {
                        closed = true;
                        break;
                    }
                    Ok(_) => {}
                    Err(e) if e.kind() == io::ErrorKind::WouldBlock => break,
                    Err(_) => {
                        closed = true;
                        break;
                    }
                }
                if tls.process_new_packets().is_err() {
                    closed = true;
                    break;
                }
            }
            loop {
                match tls.reader().read(&mut buf) {
                    Ok(0) => break,
                    Ok(n) => {
                        let _ = tls.writer().write_all(&buf[..n]);
                    }
                    Err(_) => break,
                }
            }
            while tls.wants_write() {
                match tls.write_tls(socket) {
                    Ok(_) => {}
                    Err(_) => break,
                }
            }
            if closed {
                if let Some((mut socket, _)) = conns.remove(&token) {
                    let _ = poll.registry().deregister(&mut socket);
                }
            }
        }
    }
}
