//! `client`: like `openssl s_client`. Prints the handshake, then pipes
//! stdin to the server and the server's data to stdout.

use std::io::{self, Read, Write};
use std::net::{TcpStream, ToSocketAddrs};
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::mpsc;
use std::sync::Arc;
use std::thread;
use std::time::{Duration, Instant};

use clap::Args;
use tlsbio::rustls::ClientConfig;
use tlsbio::{ClientContext, EarlyDataStatus, Shutdown};
use tlsbio_blocking::{tls_error, Stream};

use crate::backend::{self, Trust};
use crate::trust::CaFileVerifier;
use crate::{pem, summary, Result};
use tlsbio_memory::trace::Tracer;

/// Connecting and the handshake must finish in this long.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

/// How often the pipe loop looks at stdin while waiting for the server.
const TICK: Duration = Duration::from_millis(50);

/// How long to wait for the server's close_notify after ours.
const CLOSE_WAIT: Duration = Duration::from_secs(5);

#[derive(Args, Debug)]
pub(crate) struct ClientArgs {
    /// The server, as HOST:PORT.
    address: String,
    /// CA certificates to trust, PEM (default: the system bundle).
    #[arg(long, value_name = "PEM")]
    ca: Option<PathBuf>,
    /// The name to send as SNI and check the certificate against (default:
    /// HOST).
    #[arg(long, value_name = "NAME")]
    sni: Option<String>,
    #[command(flatten)]
    negotiation: crate::Negotiation,
    /// A client certificate chain to present, PEM.
    #[arg(long, requires = "key", value_name = "PEM")]
    cert: Option<PathBuf>,
    /// The private key for --cert, PEM.
    #[arg(long, requires = "cert", value_name = "PEM")]
    key: Option<PathBuf>,
    /// Connect, close, and connect again, to show session resumption.
    #[arg(long)]
    reconnect: bool,
    /// With --reconnect: send TEXT as TLS 1.3 0-RTT early data on the
    /// second connection (before the server answers), and again after the
    /// handshake if the server refuses it. Needs a build on rustls 0.24
    /// (the rustls-0-24 feature).
    #[arg(long, requires = "reconnect", value_name = "TEXT")]
    early_data: Option<String>,
    /// Send a TLS 1.3 KeyUpdate right after the handshake.
    #[arg(long)]
    key_update: bool,
    /// Print every TLS record sent (>>>) and received (<<<) on stderr,
    /// with its handshake messages or alert, decrypted with this client's
    /// own secrets (like openssl s_client -msg).
    #[arg(long)]
    trace: bool,
}

/// The TCP stream, and with `--trace` the tracer that sees every byte each
/// way. Its lines are printed at the start of each socket call: by then
/// the engine has processed what came before, so its keys are logged.
struct Wire {
    tcp: TcpStream,
    trace: Option<Tracer>,
}

impl Wire {
    fn print_trace(&mut self) {
        if let Some(tracer) = &mut self.trace {
            for line in tracer.lines() {
                eprintln!("{line}");
            }
        }
    }
}

impl Read for Wire {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        self.print_trace();
        let n = self.tcp.read(buf)?;
        if let Some(tracer) = &mut self.trace {
            tracer.received(&buf[..n]);
        }
        Ok(n)
    }
}

impl Write for Wire {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.print_trace();
        let n = self.tcp.write(buf)?;
        if let Some(tracer) = &mut self.trace {
            tracer.sent(&buf[..n]);
        }
        Ok(n)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.tcp.flush()
    }
}

pub(crate) fn run(args: &ClientArgs) -> Result<ExitCode> {
    let (host, _) = args
        .address
        .rsplit_once(':')
        .ok_or_else(|| format!("{:?}: expected HOST:PORT", args.address))?;
    let host = host.trim_start_matches('[').trim_end_matches(']');
    let name = args.sni.clone().unwrap_or_else(|| host.to_string());
    // One tracer's key log on the config: the tracer of each connection
    // reads the secrets it collects.
    let tracing = args.trace.then(Tracer::new);
    let next = tracing.as_ref().map(Tracer::fresh);
    let key_log = tracing.as_ref().map(Tracer::key_log);
    #[cfg(not(feature = "rustls-0-24"))]
    if args.early_data.is_some() {
        return Err(
            "--early-data needs tlsbio built on rustls 0.24 (cargo build --features \
                    rustls-0-24): rustls 0.23's client cannot tell whether the server \
                    accepted early data"
                .into(),
        );
    }
    let (config, verifier) = config(args, key_log)?;
    let config = ClientContext::new(Arc::new(config)).map_err(|e| e.to_string())?;

    let mut tls = connect(args, &config, &name, verifier.as_deref(), tracing, None)?;
    if args.reconnect {
        close(&mut tls)?;
        let early = args.early_data.as_deref().map(str::as_bytes);
        tls = connect(args, &config, &name, verifier.as_deref(), next, early)?;
    }
    if args.key_update {
        tls.engine_mut()
            .key_update()
            .map_err(|e| format!("key update failed: {e}"))?;
        tls.flush().map_err(|e| failure("key update", &e))?;
        eprintln!("key update sent");
    }
    pipe(tls)
}

/// The config, and the `--ca` verifier when there is one (it can say
/// whether it trusted a server's certificate as its own anchor).
fn config(
    args: &ClientArgs,
    key_log: Option<Arc<dyn tlsbio::rustls::KeyLog>>,
) -> Result<(ClientConfig, Option<Arc<CaFileVerifier>>)> {
    let (trust, verifier) = match &args.ca {
        Some(path) => {
            let verifier = CaFileVerifier::new(pem::roots(path)?, pem::certs(path)?)
                .map_err(|e| format!("{}: {e}", path.display()))?;
            (Trust::CaFile(verifier.clone()), Some(verifier))
        }
        None => (Trust::Roots(pem::system_roots()?), None),
    };
    let cert = match (&args.cert, &args.key) {
        (Some(cert), Some(key)) => Some((pem::certs(cert)?, pem::key(key)?)),
        _ => None,
    };
    let mut config = backend::client_config(args.negotiation.versions(), trust, cert)?;
    config.alpn_protocols = args.negotiation.alpn();
    if let Some(key_log) = key_log {
        config.key_log = key_log;
    }
    config.enable_early_data = args.early_data.is_some();
    Ok((config, verifier))
}

/// TCP connect and TLS handshake, then the summary on stderr.
fn connect(
    args: &ClientArgs,
    config: &ClientContext,
    name: &str,
    verifier: Option<&CaFileVerifier>,
    trace: Option<Tracer>,
    early: Option<&[u8]>,
) -> Result<Stream<Wire>> {
    let address = &args.address;
    let addr = address
        .to_socket_addrs()
        .map_err(|e| format!("cannot resolve {address}: {e}"))?
        .next()
        .ok_or_else(|| format!("{address} resolves to no address"))?;
    let tcp = TcpStream::connect_timeout(&addr, CONNECT_TIMEOUT)
        .map_err(|e| format!("cannot connect to {address}: {e}"))?;
    tcp.set_read_timeout(Some(CONNECT_TIMEOUT))
        .and_then(|()| tcp.set_write_timeout(Some(CONNECT_TIMEOUT)))
        .map_err(|e| format!("cannot set socket timeouts: {e}"))?;
    let wire = Wire { tcp, trace };
    let mut tls = Stream::client(config, name, wire).map_err(|e| e.to_string())?;
    let sent_early = match early {
        Some(bytes) => early_data(&mut tls, bytes)?,
        None => 0,
    };
    let done = tls.handshake();
    tls.get_mut().print_trace();
    done.map_err(|e| failure(&format!("handshake with {address}"), &e))?;
    eprintln!("connected to {address} (sni {name})");
    eprint!("{}", summary::handshake(tls.engine()));
    if let Some(bytes) = early {
        match tls.engine().early_data_status() {
            Some(EarlyDataStatus::Accepted) if sent_early == bytes.len() => {
                eprintln!("early data {sent_early} bytes accepted (0-RTT: replayable)");
            }
            status => {
                // Refused, cut short, or never sent: the rest goes now,
                // once.
                let rest = match status {
                    Some(EarlyDataStatus::Accepted) => &bytes[sent_early..],
                    _ => bytes,
                };
                eprintln!(
                    "early data {} ({} bytes sent again after the handshake)",
                    match status {
                        Some(EarlyDataStatus::Accepted) => "accepted in part",
                        Some(EarlyDataStatus::Rejected) => "rejected by the server",
                        _ => "not sent",
                    },
                    rest.len()
                );
                tls.write_all(rest)
                    .and_then(|()| tls.flush())
                    .map_err(|e| failure("writing the early data again", &e))?;
            }
        }
    }
    if verifier.is_some_and(CaFileVerifier::pinned_used) {
        eprintln!(
            "trust      the server's own certificate, from --ca (self-signed with CA:TRUE, \
             as openssl req -x509 makes it): accepted as its own trust anchor, name and dates checked"
        );
    }
    Ok(tls)
}

/// Writes `bytes` as early data into the engine before the handshake;
/// the bytes taken (0 when the server's ticket allows none).
fn early_data(tls: &mut Stream<Wire>, bytes: &[u8]) -> Result<usize> {
    match tls.engine_mut().write_early_data(bytes) {
        Ok(n) => Ok(n),
        Err(tlsbio::Error::Usage(tlsbio::Usage::EarlyDataUnavailable)) => Ok(0),
        Err(e) => Err(format!("early data: {e}")),
    }
}

/// Sends close_notify and waits (briefly) for the server's.
fn close(tls: &mut Stream<Wire>) -> Result<()> {
    tls.get_ref()
        .tcp
        .set_read_timeout(Some(CLOSE_WAIT))
        .map_err(|e| e.to_string())?;
    let closed = tls.shutdown_and_wait();
    tls.get_mut().print_trace();
    match closed {
        Ok(()) => eprintln!("closed cleanly"),
        Err(e) => eprintln!(
            "close: {}",
            tls_error(&e).map_or(e.to_string(), |t| t.to_string())
        ),
    }
    Ok(())
}

fn pipe(mut tls: Stream<Wire>) -> Result<ExitCode> {
    let code = pipe_data(&mut tls);
    tls.get_mut().print_trace();
    code
}

fn pipe_data(tls: &mut Stream<Wire>) -> Result<ExitCode> {
    let (tx, rx) = mpsc::channel::<Option<Vec<u8>>>();
    thread::spawn(move || {
        let mut stdin = io::stdin().lock();
        let mut buf = vec![0u8; 16 * 1024];
        loop {
            match stdin.read(&mut buf) {
                Ok(0) | Err(_) => {
                    let _ = tx.send(None);
                    return;
                }
                Ok(n) => {
                    if tx.send(Some(buf[..n].to_vec())).is_err() {
                        return;
                    }
                }
            }
        }
    });
    tls.get_ref()
        .tcp
        .set_read_timeout(Some(TICK))
        .map_err(|e| e.to_string())?;
    let mut stdout = io::stdout().lock();
    let mut buf = vec![0u8; 16 * 1024];
    let mut closed_at: Option<Instant> = None;
    loop {
        while closed_at.is_none() {
            match rx.try_recv() {
                Ok(Some(data)) => tls
                    .write_all(&data)
                    .and_then(|()| tls.flush())
                    .map_err(|e| failure("sending", &e))?,
                // stdin ended: half-close, then wait for the server's side.
                Ok(None) | Err(mpsc::TryRecvError::Disconnected) => {
                    tls.shutdown().map_err(|e| failure("closing", &e))?;
                    closed_at = Some(Instant::now());
                }
                Err(mpsc::TryRecvError::Empty) => break,
            }
        }
        match tls.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => {
                stdout
                    .write_all(&buf[..n])
                    .and_then(|()| stdout.flush())
                    .map_err(|e| format!("cannot write to stdout: {e}"))?;
            }
            Err(e)
                if matches!(
                    e.kind(),
                    io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut
                ) =>
            {
                if closed_at.is_some_and(|t| t.elapsed() > CLOSE_WAIT) {
                    eprintln!("server did not close within {CLOSE_WAIT:?} of our close_notify");
                    return Ok(ExitCode::SUCCESS);
                }
            }
            Err(e) => return Err(failure("receiving", &e)),
        }
    }
    // The server closed cleanly; close our side too if stdin has not.
    if closed_at.is_none()
        && tls.shutdown().map_err(|e| failure("closing", &e))? != Shutdown::Complete
    {
        eprintln!("server closed; sent close_notify");
    } else {
        eprintln!("closed cleanly (close_notify both ways)");
    }
    Ok(ExitCode::SUCCESS)
}

/// One line: what we were doing and why it failed, with the TLS error's
/// own words when TLS failed.
fn failure(doing: &str, e: &io::Error) -> String {
    match tls_error(e) {
        Some(tls) => format!("{doing} failed: {tls}"),
        None if e.kind() == io::ErrorKind::WouldBlock || e.kind() == io::ErrorKind::TimedOut => {
            format!("{doing} failed: timed out")
        }
        None => format!("{doing} failed: {e}"),
    }
}
