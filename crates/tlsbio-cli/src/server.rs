//! `server`: TLS on a TCP port, one thread per connection over the
//! blocking driver. Echo by default; `--http` answers one HTTP/1.1
//! request so that curl and browsers work.

use std::io::{self, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::thread;
use std::time::{Duration, Instant};

use clap::Args;
use tlsbio::rustls::server::WebPkiClientVerifier;
use tlsbio::rustls::ServerConfig;
use tlsbio_blocking::{tls_error, Stream};

use crate::{pem, summary, Result};

/// How often a waiting connection looks at the stop flag.
const TICK: Duration = Duration::from_millis(200);

/// A connection that completes no handshake in this long is dropped.
const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);

/// A connection idle for this long is closed.
const IDLE_TIMEOUT: Duration = Duration::from_secs(30);

/// The most request-header bytes `--http` reads.
const MAX_REQUEST_HEAD: usize = 16 * 1024;

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
    /// The most connections served at once; more are refused.
    #[arg(long, default_value_t = 64)]
    max_connections: usize,
}

pub(crate) fn run(args: &ServerArgs) -> Result<ExitCode> {
    let listener = TcpListener::bind(args.listen)
        .map_err(|e| format!("cannot listen on {}: {e}", args.listen))?;
    let local = listener
        .local_addr()
        .map_err(|e| format!("cannot read the listening address: {e}"))?;
    let config = Arc::new(config(args, local.port())?);

    let stop = Arc::new(AtomicBool::new(false));
    let flag = stop.clone();
    ctrlc::set_handler(move || flag.store(true, Ordering::SeqCst))
        .map_err(|e| format!("cannot install the Ctrl-C handler: {e}"))?;

    println!("listening  {local}");
    println!("mode       {}", if args.http { "http" } else { "echo" });
    // Tests and scripts wait for these lines.
    io::stdout().flush().ok();

    // Polling accept lets Ctrl-C stop the loop without a second thread.
    listener
        .set_nonblocking(true)
        .map_err(|e| format!("cannot make the listener non-blocking: {e}"))?;
    let active = Arc::new(AtomicUsize::new(0));
    let mut workers = Vec::new();
    while !stop.load(Ordering::SeqCst) {
        let (tcp, peer) = match listener.accept() {
            Ok(accepted) => accepted,
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                thread::sleep(Duration::from_millis(20));
                continue;
            }
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => {
                eprintln!("accept failed: {e}");
                continue;
            }
        };
        if active.load(Ordering::SeqCst) >= args.max_connections {
            eprintln!(
                "{peer} refused: {} connections already",
                args.max_connections
            );
            continue;
        }
        active.fetch_add(1, Ordering::SeqCst);
        let (config, stop, active, http) =
            (config.clone(), stop.clone(), active.clone(), args.http);
        workers.retain(|w: &thread::JoinHandle<()>| !w.is_finished());
        workers.push(thread::spawn(move || {
            let mut conn = Connection {
                peer,
                stop,
                last_progress: Instant::now(),
            };
            match conn.serve(config, tcp, http) {
                Ok(note) => eprintln!("{peer} {note}"),
                Err(e) => eprintln!("{peer} {}", describe(&e)),
            }
            active.fetch_sub(1, Ordering::SeqCst);
        }));
    }
    eprintln!(
        "stopping: waiting for {} connection(s)",
        active.load(Ordering::SeqCst)
    );
    for worker in workers {
        let _ = worker.join();
    }
    eprintln!("stopped");
    Ok(ExitCode::SUCCESS)
}

fn config(args: &ServerArgs, port: u16) -> Result<ServerConfig> {
    let (chain, key) = match (&args.cert, &args.key) {
        (Some(cert), Some(key)) => (pem::certs(cert)?, pem::key(key)?),
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
    let builder = ServerConfig::builder_with_protocol_versions(args.negotiation.versions());
    let builder = match &args.client_ca {
        Some(path) => {
            let verifier = WebPkiClientVerifier::builder(Arc::new(pem::roots(path)?))
                .build()
                .map_err(|e| format!("--client-ca {}: {e}", path.display()))?;
            builder.with_client_cert_verifier(verifier)
        }
        None => builder.with_no_client_auth(),
    };
    let mut config = builder
        .with_single_cert(chain, key)
        .map_err(|e| format!("certificate and key are not usable together: {e}"))?;
    config.alpn_protocols = args.negotiation.alpn();
    Ok(config)
}

/// One connection's thread.
struct Connection {
    peer: SocketAddr,
    stop: Arc<AtomicBool>,
    last_progress: Instant,
}

impl Connection {
    fn serve(
        &mut self,
        config: Arc<ServerConfig>,
        tcp: TcpStream,
        http: bool,
    ) -> io::Result<String> {
        tcp.set_nonblocking(false)?;
        tcp.set_read_timeout(Some(TICK))?;
        tcp.set_write_timeout(Some(TICK))?;
        let mut tls = Stream::server(config, tcp).map_err(io::Error::other)?;
        self.patiently(&mut tls, HANDSHAKE_TIMEOUT, Stream::handshake)?;
        eprintln!("{} handshake {}", self.peer, summary::line(tls.engine()));
        if http {
            self.http(&mut tls)
        } else {
            self.echo(&mut tls)
        }
    }

    fn echo(&mut self, tls: &mut Stream<TcpStream>) -> io::Result<String> {
        let mut buf = vec![0u8; 16 * 1024];
        let mut echoed = 0u64;
        loop {
            let n = match self.patiently(tls, IDLE_TIMEOUT, |t| t.read(&mut buf)) {
                Ok(n) => n,
                // Some clients (Python's ssl, curl on abort) close without
                // close_notify. That is a truncation as far as TLS knows;
                // say so and stop.
                Err(e) if e.kind() == io::ErrorKind::UnexpectedEof => {
                    return Ok(format!(
                        "echoed {echoed} bytes; peer closed without close_notify (unexpected eof)"
                    ));
                }
                Err(e) => return Err(e),
            };
            if n == 0 {
                break;
            }
            self.write_all(tls, &buf[..n])?;
            echoed += n as u64;
        }
        self.patiently(tls, IDLE_TIMEOUT, Stream::shutdown)?;
        Ok(format!(
            "echoed {echoed} bytes; closed cleanly (close_notify both ways)"
        ))
    }

    fn http(&mut self, tls: &mut Stream<TcpStream>) -> io::Result<String> {
        let mut head = Vec::new();
        let mut buf = [0u8; 4096];
        while !head.windows(4).any(|w| w == b"\r\n\r\n") {
            if head.len() > MAX_REQUEST_HEAD {
                return Err(io::Error::new(
                    io::ErrorKind::InvalidData,
                    "request head over 16 KiB",
                ));
            }
            let n = self.patiently(tls, IDLE_TIMEOUT, |t| t.read(&mut buf))?;
            if n == 0 {
                return Ok("closed before sending a request".into());
            }
            head.extend_from_slice(&buf[..n]);
        }
        let request_line =
            String::from_utf8_lossy(head.split(|&b| b == b'\r').next().unwrap_or(&[])).into_owned();
        let body = format!(
            "hello from tlsbio over {}\n",
            tls.engine()
                .protocol_version()
                .map_or("tls".into(), |v| format!("{v:?}"))
        );
        let response = format!(
            "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: {}\r\n\
             Connection: close\r\n\r\n{body}",
            body.len()
        );
        self.write_all(tls, response.as_bytes())?;
        self.patiently(tls, IDLE_TIMEOUT, Stream::shutdown)?;
        Ok(format!("answered {request_line:?}; sent close_notify"))
    }

    fn write_all(&mut self, tls: &mut Stream<TcpStream>, mut data: &[u8]) -> io::Result<()> {
        while !data.is_empty() {
            let n = self.patiently(tls, IDLE_TIMEOUT, |t| t.write(data))?;
            data = &data[n..];
        }
        self.patiently(tls, IDLE_TIMEOUT, Stream::flush)
    }

    /// Repeats `op` through socket timeouts until it completes, the server
    /// stops, or the connection has made no progress for `limit`.
    fn patiently<T>(
        &mut self,
        tls: &mut Stream<TcpStream>,
        limit: Duration,
        mut op: impl FnMut(&mut Stream<TcpStream>) -> io::Result<T>,
    ) -> io::Result<T> {
        loop {
            match op(tls) {
                Ok(value) => {
                    self.last_progress = Instant::now();
                    return Ok(value);
                }
                Err(e)
                    if matches!(
                        e.kind(),
                        io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut
                    ) =>
                {
                    if self.stop.load(Ordering::SeqCst) {
                        // Tell the peer we are going, then go.
                        let _ = tls.shutdown();
                        return Err(io::Error::new(
                            io::ErrorKind::Interrupted,
                            "server stopping; sent close_notify",
                        ));
                    }
                    if self.last_progress.elapsed() > limit {
                        return Err(io::Error::new(
                            io::ErrorKind::TimedOut,
                            format!("no progress for {limit:?}; closing"),
                        ));
                    }
                }
                Err(e) => return Err(e),
            }
        }
    }
}

/// One line for a failed connection, with the alert if TLS failed.
fn describe(e: &io::Error) -> String {
    match tls_error(e) {
        Some(tls) => format!("failed: {tls}"),
        None => format!("failed: {e}"),
    }
}
