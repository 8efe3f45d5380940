//! `server`: TLS on a TCP port, every connection on one thread over the
//! mio driver. Echo by default; `--http` answers one HTTP/1.1 request so
//! that curl and browsers work.

use std::io::{self, Write};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::{Duration, Instant};

use clap::Args;
use tlsbio::rustls::ServerConfig;
use tlsbio::ServerContext;
use tlsbio_mio::mio::{Events, Poll, Token};
use tlsbio_mio::{Capacities, Closed, Connection, Expiry, Limits, LoopContext, Server};

use crate::backend::{self, ServerError};
use crate::{pem, summary, Result};

/// How often the loop looks at the stop flag (deadlines are the server's).
const TICK: Duration = Duration::from_millis(200);

/// A connection that completes no handshake in this long is dropped.
const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);

/// A connection idle for this long is closed.
const IDLE_TIMEOUT: Duration = Duration::from_secs(30);

/// A connection quiet for this long gives its buffers back.
const QUIET: Duration = Duration::from_secs(1);

/// The most request-header bytes `--http` reads.
const MAX_REQUEST_HEAD: usize = 16 * 1024;

const LISTENER: Token = Token(0);

#[derive(Args, Debug)]
pub(crate) struct ServerArgs {
    /// Address to listen on (port 0 picks a free port; the chosen address
    /// is printed).
    #[arg(long, default_value = "127.0.0.1:8443")]
    listen: SocketAddr,
    /// Certificate chain, PEM. Without one, a self-signed certificate for
    /// localhost and 127.0.0.1 is generated and written to --cert-out.
    #[arg(long, requires = "key", value_name = "PEM")]
    cert: Option<PathBuf>,
    /// Private key for --cert, PEM.
    #[arg(long, requires = "cert", value_name = "PEM")]
    key: Option<PathBuf>,
    /// Where to write the generated certificate (default: a file in the
    /// temporary directory named after the port).
    #[arg(long, conflicts_with = "cert", value_name = "FILE")]
    cert_out: Option<PathBuf>,
    /// Require a client certificate issued by a CA in this PEM file.
    #[arg(long, value_name = "PEM")]
    client_ca: Option<PathBuf>,
    #[command(flatten)]
    negotiation: crate::Negotiation,
    /// Answer each connection with a minimal HTTP/1.1 "hello" response
    /// instead of echoing.
    #[arg(long)]
    http: bool,
    /// The most connections served at once; more are refused. Default:
    /// what the file-descriptor limit allows (the soft limit is raised to
    /// the hard one first), less a reserve.
    #[arg(long)]
    max_connections: Option<usize>,
    /// Every connection starts with a PROXY protocol header (v1 or v2),
    /// as a load balancer sends it; the client address it carries is the
    /// one logged.
    #[arg(long)]
    proxy_protocol: bool,
    /// Accept up to this many bytes of TLS 1.3 0-RTT early data from
    /// resuming clients (echoed, or read as the request, like any data;
    /// logged as replayable). Off by default.
    #[arg(long, value_name = "BYTES")]
    early_data: Option<u32>,
    /// Event loops, each on its own thread with its own listener on the
    /// port (SO_REUSEPORT). Default: the number of cores.
    #[arg(long, value_name = "N")]
    threads: Option<usize>,
    /// The I/O driver: readiness (mio, epoll) or completions (io_uring).
    #[arg(long, value_enum, default_value = "mio")]
    io: Io,
}

/// Descriptors kept back from connections: the listener, the poller,
/// stdio, files the process opens.
const RESERVED_FDS: u64 = 32;

/// Without a `--max-connections`, as many as the descriptor limit allows:
/// one event loop holds every connection at once, so a fixed small number
/// (a thread-per-connection habit) refuses clients for no reason.
fn default_max_connections() -> usize {
    use rustix::process::{getrlimit, setrlimit, Resource, Rlimit};
    let limit = getrlimit(Resource::Nofile);
    let raised = match (limit.current, limit.maximum) {
        (Some(current), Some(maximum)) if current < maximum => {
            let want = Rlimit {
                current: Some(maximum),
                maximum: Some(maximum),
            };
            if setrlimit(Resource::Nofile, want).is_ok() {
                Some(maximum)
            } else {
                Some(current)
            }
        }
        (current, None) => current.or(Some(1 << 20)),
        (current, _) => current,
    };
    let fds = raised.unwrap_or(1024).min(1 << 20);
    usize::try_from(fds.saturating_sub(RESERVED_FDS).max(1)).unwrap_or(usize::MAX)
}

pub(crate) fn run(args: &ServerArgs) -> Result<ExitCode> {
    let threads = args
        .threads
        .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()))
        .max(1);
    if args.io == Io::Uring {
        if args.proxy_protocol {
            return Err(
                "--proxy-protocol is not supported with --io uring yet (use --io mio)".into(),
            );
        }
        if args.early_data.is_some() {
            return Err("--early-data is not supported with --io uring yet (use --io mio)".into());
        }
        tlsbio_uring::probe().map_err(|e| format!("--io uring: {e}"))?;
    }
    // Bound before the config is made: the default certificate file is
    // named after the port, which port 0 only reveals once bound.
    let listeners = tlsbio_mio::Loops::bind_all(args.listen, threads)
        .map_err(|e| format!("cannot listen on {}: {e}", args.listen))?;
    let local = listeners[0]
        .local_addr()
        .map_err(|e| format!("cannot read the listening address: {e}"))?;
    let config = ServerContext::new(Arc::new(config(args, local.port())?))
        .map_err(|e| format!("cannot use the server configuration: {e}"))?;
    // The limit is the process's: each loop gets its share.
    let max_connections = args.max_connections.unwrap_or_else(default_max_connections);
    let per_loop = max_connections.div_ceil(threads).max(1);
    let setup = Arc::new(LoopSetup {
        config,
        http: args.http,
        proxy_protocol: args.proxy_protocol,
        max_connections: per_loop,
    });
    let io = args.io;
    let loops = tlsbio_mio::Loops::run(listeners, move |ctx| match io {
        Io::Mio => serve_mio(ctx, &setup),
        Io::Uring => serve_uring(ctx, &setup),
    })
    .map_err(|e| format!("cannot start the event loops: {e}"))?;
    let flag = loops.stop_flag();
    ctrlc::set_handler(move || flag.store(true, Ordering::SeqCst))
        .map_err(|e| format!("cannot install the Ctrl-C handler: {e}"))?;

    println!("listening  {local}");
    println!("mode       {}", if args.http { "http" } else { "echo" });
    println!("io         {} x {threads} event loop(s)", io.name());
    println!("max conns  {max_connections}");
    // Tests and scripts wait for these lines.
    io::stdout().flush().ok();
    loops.join().map_err(|e| format!("{e}"))?;
    eprintln!("stopped");
    Ok(ExitCode::SUCCESS)
}

/// The I/O driver under `tlsbio server`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub(crate) enum Io {
    /// Readiness: epoll through mio.
    Mio,
    /// Completions: io_uring, the kernel reading and writing the BIOs.
    Uring,
}

impl Io {
    fn name(self) -> &'static str {
        match self {
            Io::Mio => "mio",
            Io::Uring => "uring",
        }
    }
}

/// What every loop is made with.
struct LoopSetup {
    config: ServerContext,
    http: bool,
    proxy_protocol: bool,
    max_connections: usize,
}

/// How long a stopping loop waits for its close_notify alerts to leave.
const STOP_LINGER: Duration = Duration::from_secs(2);

/// One mio event loop on its own listener, until the stop flag.
fn serve_mio(ctx: LoopContext, setup: &LoopSetup) -> io::Result<()> {
    let mut poll = Poll::new()?;
    let limits = Limits::default()
        .capacities(Capacities::default())
        .handshake_timeout(HANDSHAKE_TIMEOUT)
        .idle_timeout(Some(IDLE_TIMEOUT))
        .release_memory_after(Some(QUIET))
        .max_connections(setup.max_connections)
        .proxy_protocol(setup.proxy_protocol);
    let mut server: Server<Session> = Server::from_std(
        ctx.listener,
        setup.config.clone(),
        limits,
        poll.registry(),
        LISTENER,
    )?;
    let mut events = Events::with_capacity(1024);
    let mut buf = vec![0u8; 16 * 1024];
    while !ctx.stop.load(Ordering::SeqCst) {
        match poll.poll(&mut events, Some(TICK)) {
            Ok(()) => {}
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(io::Error::other(format!("poll failed: {e}"))),
        }
        let now = Instant::now();
        for event in &events {
            let token = event.token();
            if token == LISTENER {
                accept(&mut server, &poll, setup, now)?;
                continue;
            }
            let Some((conn, session)) = server.entry_mut(token) else {
                continue;
            };
            conn.ready(event);
            let end = match session.step(conn, &mut buf) {
                Some(note) => Some(format!("{} {note}", session.peer)),
                None => conn
                    .reregister(poll.registry())
                    .err()
                    .map(|e| format!("{} failed: {e}", session.peer)),
            };
            if let Some(line) = end {
                eprintln!("{line}");
                // Its BIO memory starts the next connection.
                if let Some((conn, _)) = server.remove(poll.registry(), token) {
                    server.recycle(conn);
                }
            }
        }
        if server.accept_due(now) {
            accept(&mut server, &poll, setup, now)?;
        }
        for ended in server.expire(poll.registry(), now) {
            let (mut conn, session) = (ended.connection, ended.state);
            if ended.reason == Expiry::Idle {
                let _ = conn.shutdown();
            }
            eprintln!(
                "{} failed: {}; closing",
                session.peer,
                expiry(ended.reason == Expiry::Handshake)
            );
            server.recycle(conn);
        }
    }
    eprintln!("stopping: closing {} connection(s)", server.len());
    let tokens: Vec<Token> = server.tokens().collect();
    for token in tokens {
        if let Some((mut conn, session)) = server.remove(poll.registry(), token) {
            // Tell the peer we are going (close_notify), then go.
            let _ = conn.shutdown();
            eprintln!("{} server stopping; sent close_notify", session.peer);
        }
    }
    Ok(())
}

/// One io_uring event loop (and ring) on its own listener, until the stop
/// flag.
fn serve_uring(ctx: LoopContext, setup: &LoopSetup) -> io::Result<()> {
    let limits = tlsbio_uring::Limits::default()
        .handshake_timeout(HANDSHAKE_TIMEOUT)
        .idle_timeout(Some(IDLE_TIMEOUT))
        .release_memory_after(Some(QUIET))
        .max_connections(setup.max_connections);
    let http = setup.http;
    let mut server: tlsbio_uring::Server<Session> =
        tlsbio_uring::Server::from_std(ctx.listener, setup.config.clone(), limits, move |conn| {
            Session::new(conn.peer_addr(), http)
        })?;
    let (mut ready, mut buf) = (Vec::new(), vec![0u8; 16 * 1024]);
    while !ctx.stop.load(Ordering::SeqCst) {
        let now = Instant::now();
        for ended in server.expire(now) {
            let handshake = ended.reason == tlsbio_uring::Expiry::Handshake;
            eprintln!(
                "{} failed: {}; closing",
                ended.state.peer,
                expiry(handshake)
            );
        }
        let wait = server
            .next_deadline()
            .map_or(TICK, |d| d.saturating_duration_since(now).min(TICK));
        server.turn(now, Some(wait), &mut ready)?;
        let now = Instant::now();
        for &id in &ready {
            let Some((conn, session)) = server.entry_mut(id) else {
                continue;
            };
            if let Some(note) = session.step(conn, &mut buf) {
                eprintln!("{} {note}", session.peer);
                server.close(id, now);
            }
        }
    }
    let closing = server.shut_down(Instant::now());
    eprintln!("stopping: closing {} connection(s)", closing.len());
    for session in &closing {
        eprintln!("{} server stopping; sent close_notify", session.peer);
    }
    let started = Instant::now();
    while !server.is_empty() && started.elapsed() < STOP_LINGER {
        let now = Instant::now();
        server.expire(now);
        server.turn(now, Some(Duration::from_millis(20)), &mut ready)?;
    }
    Ok(())
}

fn expiry(in_handshake: bool) -> String {
    if in_handshake {
        format!("no handshake in {HANDSHAKE_TIMEOUT:?}")
    } else {
        format!("no progress for {IDLE_TIMEOUT:?}")
    }
}

/// Accepts what is waiting, each connection with its session.
fn accept(
    server: &mut Server<Session>,
    poll: &Poll,
    setup: &LoopSetup,
    now: Instant,
) -> io::Result<()> {
    let (refused, errors) = (server.refused(), server.accept_errors());
    let http = setup.http;
    server
        .accept_with(poll.registry(), now, |conn| {
            Session::new(conn.socket().peer_addr().ok(), http)
        })
        .map_err(|e| io::Error::other(format!("accept failed: {e}")))?;
    for _ in refused..server.refused() {
        eprintln!("refused: {} connections already", setup.max_connections);
    }
    if server.accept_errors() > errors {
        eprintln!("accept paused: out of file descriptors; retrying shortly");
    }
    Ok(())
}

fn config(args: &ServerArgs, port: u16) -> Result<ServerConfig> {
    let (chain, key) = match (&args.cert, &args.key) {
        (Some(cert), Some(key)) => (
            pem::certs(cert).map_err(|e| format!("--cert: {e}"))?,
            pem::key(key).map_err(|e| format!("--key: {e}"))?,
        ),
        _ => {
            let out = args
                .cert_out
                .clone()
                .unwrap_or_else(|| pem::default_cert_out(port));
            let pair = pem::self_signed(&out)?;
            println!(
                "certificate {} (self-signed for localhost, 127.0.0.1)",
                out.display()
            );
            pair
        }
    };
    let client_roots = match &args.client_ca {
        Some(path) => Some(pem::roots(path).map_err(|e| format!("--client-ca: {e}"))?),
        None => None,
    };
    let mut config = backend::server_config(args.negotiation.versions(), client_roots, chain, key)
        .map_err(|e| match e {
            ServerError::ClientCa(e) => format!(
                "--client-ca {}: {e}",
                args.client_ca
                    .as_deref()
                    .unwrap_or(Path::new("-"))
                    .display()
            ),
            ServerError::Key(tlsbio::rustls::Error::InconsistentKeys(_)) => format!(
                "--key {} is not the private key of the first certificate in --cert {}: \
                 give the key that belongs to the leaf (the chain's first certificate)",
                args.key.as_deref().unwrap_or(Path::new("-")).display(),
                args.cert.as_deref().unwrap_or(Path::new("-")).display(),
            ),
            ServerError::Key(e) => format!("certificate and key are not usable together: {e}"),
            ServerError::NoCertificate => format!(
                "--cert {} holds no certificate",
                args.cert.as_deref().unwrap_or(Path::new("-")).display()
            ),
        })?;
    config.alpn_protocols = args.negotiation.alpn();
    config.max_early_data_size = args.early_data.unwrap_or(0);
    Ok(config)
}

/// One connection's application state.
struct Session {
    peer: SocketAddr,
    http: bool,
    /// Bytes read and not yet written back (echo), or the response.
    out: Vec<u8>,
    /// The HTTP request head so far.
    head: Vec<u8>,
    echoed: u64,
    handshake_logged: bool,
    proxy_logged: bool,
    /// 0-RTT bytes read, once early data is finished with (`None`
    /// before).
    early: Option<u64>,
    early_bytes: u64,
    /// A response is queued: close with this line once it is written.
    then_close: Option<String>,
    /// Set once our close_notify is queued: the line to log when it has
    /// left.
    closing: Option<String>,
}

impl Session {
    fn new(peer: Option<SocketAddr>, http: bool) -> Self {
        let peer = peer.unwrap_or_else(|| SocketAddr::from(([0, 0, 0, 0], 0)));
        Self {
            peer,
            http,
            out: Vec::new(),
            head: Vec::new(),
            echoed: 0,
            handshake_logged: false,
            proxy_logged: false,
            early: None,
            early_bytes: 0,
            then_close: None,
            closing: None,
        }
    }

    /// Does what can be done now; the log line once the connection is
    /// finished with.
    fn step(&mut self, conn: &mut impl Plaintext, buf: &mut [u8]) -> Option<String> {
        match self.run(conn, buf) {
            Ok(None) => None,
            Ok(Some(note)) => Some(note),
            // Some clients (Python's ssl, curl on abort) close without
            // close_notify: a truncation as far as TLS knows. Say so.
            Err(e) if e.kind() == io::ErrorKind::UnexpectedEof && !conn.is_handshaking() => {
                Some(format!(
                    "echoed {} bytes; peer closed without close_notify (unexpected eof)",
                    self.echoed
                ))
            }
            Err(e) if is_plain_http(&e) => {
                // Like nginx's 497: say, in the client's own protocol, to
                // use https. One short write on a fresh socket; if even
                // that does not fit, the client just sees the close.
                conn.answer_plainly(PLAIN_HTTP_ANSWER);
                Some("failed: plain http on the tls port; answered 400 (use https)".into())
            }
            Err(e) if is_proxy_header(&e) => Some(
                "failed: the client sent a PROXY protocol header, but --proxy-protocol is off \
                 (turn it on when a load balancer that sends one is in front)"
                    .into(),
            ),
            Err(e) => Some(describe(&e)),
        }
    }

    fn run(&mut self, conn: &mut impl Plaintext, buf: &mut [u8]) -> io::Result<Option<String>> {
        loop {
            if let (false, Some(header)) = (self.proxy_logged, conn.proxy_header()) {
                self.proxy_logged = true;
                eprintln!("{} {header}", self.peer);
                // From here on the log names the client, not the proxy.
                if let Some(client) = header.source() {
                    self.peer = client;
                }
            }
            if self.early.is_none() && !self.read_early(conn, buf)? {
                return Ok(None);
            }
            if !self.handshake_logged && !conn.is_handshaking() && !conn.has_ended() {
                self.handshake_logged = true;
                eprintln!("{} handshake {}", self.peer, conn.summary());
            }
            while !self.out.is_empty() {
                match conn.write(&self.out) {
                    Ok(n) => drop(self.out.drain(..n)),
                    Err(e) if e.kind() == io::ErrorKind::WouldBlock => return Ok(None),
                    Err(e) => return Err(e),
                }
            }
            if let Some(note) = self.then_close.take() {
                conn.shutdown()?;
                self.closing = Some(note);
            }
            if let Some(note) = &self.closing {
                // Done once our close_notify has left (or the peer is gone).
                return Ok((conn.is_flushed() || conn.ended_badly()).then(|| note.clone()));
            }
            let n = match conn.read(buf) {
                Ok(n) => n,
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => return Ok(None),
                Err(e) => return Err(e),
            };
            if self.http {
                self.http(conn, &buf[..n])?;
            } else if n == 0 {
                conn.shutdown()?;
                self.closing = Some(format!(
                    "echoed {} bytes; closed cleanly (close_notify both ways)",
                    self.echoed
                ));
            } else {
                self.out.extend_from_slice(&buf[..n]);
                self.echoed += n as u64;
            }
        }
    }

    /// Reads 0-RTT data as if it were ordinary data (the echo and the
    /// HTTP responder are idempotent), logging it as replayable; whether
    /// early data is finished with.
    fn read_early(&mut self, conn: &mut impl Plaintext, buf: &mut [u8]) -> io::Result<bool> {
        loop {
            match conn.read_early_data(buf) {
                Ok(0) => {
                    if self.early_bytes > 0 {
                        eprintln!(
                            "{} early data: {} bytes accepted (0-RTT: replayable)",
                            self.peer, self.early_bytes
                        );
                    }
                    self.early = Some(self.early_bytes);
                    if self.http && !self.head.is_empty() {
                        // A request that came whole in 0-RTT: answer it
                        // now, not after data that may never come.
                        let head = std::mem::take(&mut self.head);
                        self.http(conn, &head)?;
                    }
                    return Ok(true);
                }
                Ok(n) => {
                    self.early_bytes += n as u64;
                    if self.http {
                        self.head.extend_from_slice(&buf[..n]);
                    } else {
                        self.out.extend_from_slice(&buf[..n]);
                        self.echoed += n as u64;
                    }
                }
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => return Ok(false),
                Err(e) => return Err(e),
            }
        }
    }

    fn http(&mut self, conn: &mut impl Plaintext, data: &[u8]) -> io::Result<()> {
        if data.is_empty() {
            conn.shutdown()?;
            self.closing = Some("closed before sending a request".into());
            return Ok(());
        }
        self.head.extend_from_slice(data);
        if !self.head.windows(4).any(|w| w == b"\r\n\r\n") {
            if self.head.len() > MAX_REQUEST_HEAD {
                return Err(io::Error::new(
                    io::ErrorKind::InvalidData,
                    "request head over 16 KiB",
                ));
            }
            return Ok(());
        }
        let request_line =
            String::from_utf8_lossy(self.head.split(|&b| b == b'\r').next().unwrap_or(&[]))
                .into_owned();
        let body = format!(
            "hello from tlsbio over {}\n",
            conn.protocol_version()
                .map_or("tls".into(), |v| format!("{v:?}"))
        );
        let response = format!(
            "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: {}\r\n\
             Connection: close\r\n\r\n{body}",
            body.len()
        );
        // `run` writes it, then sends close_notify.
        self.out.extend_from_slice(response.as_bytes());
        self.then_close = Some(format!("answered {request_line:?}; sent close_notify"));
        Ok(())
    }
}

/// What [`Session`] needs of a connection, from either driver.
trait Plaintext {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize>;
    fn read_early_data(&mut self, buf: &mut [u8]) -> io::Result<usize>;
    fn write(&mut self, buf: &[u8]) -> io::Result<usize>;
    fn shutdown(&mut self) -> io::Result<tlsbio::Shutdown>;
    fn is_handshaking(&self) -> bool;
    fn is_flushed(&self) -> bool;
    /// Ended at all, and ended other than gracefully.
    fn has_ended(&self) -> bool;
    fn ended_badly(&self) -> bool;
    fn proxy_header(&self) -> Option<&tlsbio::proxy::Header>;
    fn summary(&self) -> String;
    fn protocol_version(&self) -> Option<tlsbio::ProtocolVersion>;
    /// One short write straight to the socket, for a peer that does not
    /// speak TLS.
    fn answer_plainly(&mut self, bytes: &[u8]);
}

impl Plaintext for Connection {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        Connection::read(self, buf)
    }
    fn read_early_data(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        Connection::read_early_data(self, buf)
    }
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        Connection::write(self, buf)
    }
    fn shutdown(&mut self) -> io::Result<tlsbio::Shutdown> {
        Connection::shutdown(self)
    }
    fn is_handshaking(&self) -> bool {
        Connection::is_handshaking(self)
    }
    fn is_flushed(&self) -> bool {
        Connection::is_flushed(self)
    }
    fn has_ended(&self) -> bool {
        self.closed().is_some()
    }
    fn ended_badly(&self) -> bool {
        self.closed().is_some_and(|c| *c != Closed::Graceful)
    }
    fn proxy_header(&self) -> Option<&tlsbio::proxy::Header> {
        Connection::proxy_header(self)
    }
    fn summary(&self) -> String {
        summary::line(self.engine())
    }
    fn protocol_version(&self) -> Option<tlsbio::ProtocolVersion> {
        self.engine().protocol_version()
    }
    fn answer_plainly(&mut self, bytes: &[u8]) {
        let _ = (&mut self.socket()).write(bytes);
    }
}

/// io_uring connections have no PROXY header or 0-RTT support here (the
/// server refuses those options with `--io uring`).
impl Plaintext for tlsbio_uring::Connection {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        tlsbio_uring::Connection::read(self, buf)
    }
    fn read_early_data(&mut self, _: &mut [u8]) -> io::Result<usize> {
        Ok(0)
    }
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        tlsbio_uring::Connection::write(self, buf)
    }
    fn shutdown(&mut self) -> io::Result<tlsbio::Shutdown> {
        tlsbio_uring::Connection::shutdown(self)
    }
    fn is_handshaking(&self) -> bool {
        tlsbio_uring::Connection::is_handshaking(self)
    }
    fn is_flushed(&self) -> bool {
        tlsbio_uring::Connection::is_flushed(self)
    }
    fn has_ended(&self) -> bool {
        self.closed().is_some()
    }
    fn ended_badly(&self) -> bool {
        self.closed()
            .is_some_and(|c| *c != tlsbio_uring::Closed::Graceful)
    }
    fn proxy_header(&self) -> Option<&tlsbio::proxy::Header> {
        None
    }
    fn summary(&self) -> String {
        summary::line(self.engine())
    }
    fn protocol_version(&self) -> Option<tlsbio::ProtocolVersion> {
        self.engine().protocol_version()
    }
    fn answer_plainly(&mut self, bytes: &[u8]) {
        // The socket is blocking (the ring does not need it otherwise):
        // a short write on a fresh socket does not wait.
        let _ = (&mut self.socket()).write(bytes);
    }
}

/// One line for a failed connection, with the alert if TLS failed.
/// What a plain-HTTP client on the TLS port gets instead of a TLS alert it
/// could not read.
const PLAIN_HTTP_ANSWER: &[u8] = b"HTTP/1.1 400 Bad Request\r\nContent-Type: text/plain\r\n\
    Content-Length: 45\r\nConnection: close\r\n\r\n\
    this is a tls port: use https:// instead.\r\n\r\n";

fn is_plain_http(e: &io::Error) -> bool {
    matches!(
        tlsbio::Error::from_io(e),
        Some(tlsbio::Error::NotTls(tlsbio::NotTls::Http))
    )
}

fn is_proxy_header(e: &io::Error) -> bool {
    matches!(
        tlsbio::Error::from_io(e),
        Some(tlsbio::Error::NotTls(
            tlsbio::NotTls::ProxyV1 | tlsbio::NotTls::ProxyV2
        ))
    )
}

fn describe(e: &io::Error) -> String {
    match tlsbio::Error::from_io(e) {
        Some(tls) => format!("failed: {tls}"),
        None => format!("failed: {e}"),
    }
}
