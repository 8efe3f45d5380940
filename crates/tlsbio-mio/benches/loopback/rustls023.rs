//! The loopback bench on rustls 0.23: the tlsbio-mio server next to a
//! tokio-rustls server with the same rustls config, both on one thread,
//! driven by the same blocking rustls clients, interleaved round by round
//! so that machine noise hits both alike.
//!
//! Prints a table; docs/benchmarks.md has the numbers from this machine.

#[path = "../../examples/common/echo.rs"]
mod common;

use std::collections::HashMap;
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::thread;
use std::time::{Duration, Instant};

use mio::{Events, Poll, Token};
use rustls::pki_types::{PrivateKeyDer, PrivatePkcs8KeyDer, ServerName};
use rustls::{ClientConfig, ClientConnection, RootCertStore, ServerConfig, StreamOwned};
use tlsbio_mio::{Limits, Server};

/// Client threads (the machine has two cores; the server gets one thread).
const CLIENTS: usize = 4;

/// The echo application's read size, for both servers.
const READ_SIZE: usize = 16 * 1024;

/// Bytes each throughput client sends per round trip.
const CHUNK: usize = 64 * 1024;

struct Plan {
    rounds: usize,
    handshake_time: Duration,
    bytes_per_client: usize,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
enum Impl {
    TlsbioMio,
    TokioRustls,
}

impl Impl {
    fn name(self) -> &'static str {
        match self {
            Self::TlsbioMio => "tlsbio-mio (1 thread)",
            Self::TokioRustls => "tokio-rustls (current_thread)",
        }
    }
}

pub(crate) fn main() {
    let quick = std::env::args().any(|a| a == "--quick");
    let plan = if quick {
        Plan {
            rounds: 1,
            handshake_time: Duration::from_secs(1),
            bytes_per_client: 16 << 20,
        }
    } else {
        Plan {
            rounds: 3,
            handshake_time: Duration::from_secs(3),
            bytes_per_client: 64 << 20,
        }
    };
    let (client, server) = configs();
    let mut handshakes: HashMap<Impl, Vec<f64>> = HashMap::new();
    let mut throughput: HashMap<Impl, Vec<f64>> = HashMap::new();
    for round in 0..plan.rounds {
        for which in [Impl::TlsbioMio, Impl::TokioRustls] {
            let running = Running::start(which, server.clone());
            let hs = handshakes_per_second(running.addr, &client, plan.handshake_time);
            let mib = echo_mib_per_second(running.addr, &client, plan.bytes_per_client);
            running.stop();
            eprintln!(
                "round {} {:<30} {:>9.1} handshakes/s {:>8.1} MiB/s",
                round + 1,
                which.name(),
                hs,
                mib
            );
            handshakes.entry(which).or_default().push(hs);
            throughput.entry(which).or_default().push(mib);
        }
    }
    let median = |v: &[f64]| {
        let mut v = v.to_vec();
        v.sort_by(f64::total_cmp);
        v[v.len() / 2]
    };
    let base_hs = median(&handshakes[&Impl::TokioRustls]);
    let base_mib = median(&throughput[&Impl::TokioRustls]);
    println!(
        "\nloopback, TLS 1.3, ECDSA P-256, X25519, {CLIENTS} client threads, median of {} round(s)",
        plan.rounds
    );
    println!(
        "| server | full handshakes/s | x tokio-rustls | echo MiB/s (each way) | x tokio-rustls |"
    );
    println!("|---|---:|---:|---:|---:|");
    for which in [Impl::TlsbioMio, Impl::TokioRustls] {
        let (hs, mib) = (median(&handshakes[&which]), median(&throughput[&which]));
        println!(
            "| {} | {hs:.0} | {:.2} | {mib:.0} | {:.2} |",
            which.name(),
            hs / base_hs,
            mib / base_mib
        );
    }
}

/// One rustls config pair for both servers: ECDSA P-256 from rcgen, the
/// aws-lc-rs provider, TLS 1.3; the client never resumes, so every
/// handshake is a full one.
fn configs() -> (Arc<ClientConfig>, Arc<ServerConfig>) {
    let cert = rcgen::generate_simple_self_signed(vec!["localhost".into()]).unwrap();
    let key = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(cert.key_pair.serialize_der()));
    let server = ServerConfig::builder()
        .with_no_client_auth()
        .with_single_cert(vec![cert.cert.der().clone()], key)
        .unwrap();
    let mut roots = RootCertStore::empty();
    roots.add(cert.cert.der().clone()).unwrap();
    let mut client = ClientConfig::builder()
        .with_root_certificates(roots)
        .with_no_client_auth();
    client.resumption = rustls::client::Resumption::disabled();
    (Arc::new(client), Arc::new(server))
}

/// A server on its own thread.
struct Running {
    addr: SocketAddr,
    stop: Arc<AtomicBool>,
    thread: thread::JoinHandle<()>,
}

impl Running {
    fn start(which: Impl, config: Arc<ServerConfig>) -> Self {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        let stop = Arc::new(AtomicBool::new(false));
        let flag = stop.clone();
        let thread = thread::spawn(move || match which {
            Impl::TlsbioMio => mio_server(listener, config, &flag),
            Impl::TokioRustls => tokio_server(listener, config, &flag),
        });
        Self { addr, stop, thread }
    }

    fn stop(self) {
        self.stop.store(true, Ordering::SeqCst);
        // Wake an accept that is waiting.
        let _ = TcpStream::connect(self.addr);
        self.thread.join().unwrap();
    }
}

fn mio_server(listener: std::net::TcpListener, config: Arc<ServerConfig>, stop: &AtomicBool) {
    const LISTENER: Token = Token(0);
    let mut poll = Poll::new().unwrap();
    let mut server: common::EchoServer = Server::from_std(
        listener,
        tlsbio::ServerContext::new(config).unwrap(),
        Limits::default(),
        poll.registry(),
        LISTENER,
    )
    .unwrap();
    let mut events = Events::with_capacity(1024);
    let mut buf = vec![0u8; READ_SIZE];
    while !stop.load(Ordering::SeqCst) {
        poll.poll(&mut events, Some(Duration::from_millis(50)))
            .unwrap();
        for event in &events {
            common::on_event(&mut server, poll.registry(), event, &mut buf).unwrap();
        }
        common::retry_accept(&mut server, poll.registry(), std::time::Instant::now()).unwrap();
    }
}

fn tokio_server(listener: std::net::TcpListener, config: Arc<ServerConfig>, stop: &AtomicBool) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_io()
        .build()
        .unwrap();
    runtime.block_on(async {
        listener.set_nonblocking(true).unwrap();
        let listener = tokio::net::TcpListener::from_std(listener).unwrap();
        let acceptor = tokio_rustls::TlsAcceptor::from(config);
        loop {
            let Ok((socket, _)) = listener.accept().await else {
                continue;
            };
            if stop.load(Ordering::SeqCst) {
                return;
            }
            // As the tlsbio-mio server does for every accepted socket.
            socket.set_nodelay(true).unwrap();
            let acceptor = acceptor.clone();
            tokio::spawn(async move {
                let Ok(mut tls) = acceptor.accept(socket).await else {
                    return;
                };
                let mut buf = vec![0u8; READ_SIZE];
                loop {
                    match tls.read(&mut buf).await {
                        Ok(0) | Err(_) => break,
                        Ok(n) => {
                            if tls.write_all(&buf[..n]).await.is_err() {
                                return;
                            }
                        }
                    }
                }
                let _ = tls.shutdown().await;
            });
        }
    });
}

fn connect(
    addr: SocketAddr,
    config: &Arc<ClientConfig>,
) -> StreamOwned<ClientConnection, TcpStream> {
    let tcp = TcpStream::connect(addr).unwrap();
    tcp.set_nodelay(true).unwrap();
    let name = ServerName::try_from("localhost").unwrap();
    let conn = ClientConnection::new(config.clone(), name).unwrap();
    StreamOwned::new(conn, tcp)
}

/// Full handshakes completed by `CLIENTS` threads in `time`, each one
/// proven by a one-byte echo, per second.
fn handshakes_per_second(addr: SocketAddr, config: &Arc<ClientConfig>, time: Duration) -> f64 {
    let start = Instant::now();
    let counts: Vec<u64> = (0..CLIENTS)
        .map(|_| {
            let config = config.clone();
            thread::spawn(move || {
                let mut n = 0u64;
                while start.elapsed() < time {
                    let mut tls = connect(addr, &config);
                    tls.write_all(b"x").unwrap();
                    let mut b = [0u8; 1];
                    tls.read_exact(&mut b).unwrap();
                    tls.conn.send_close_notify();
                    let _ = tls.flush();
                    n += 1;
                }
                n
            })
        })
        .collect::<Vec<_>>()
        .into_iter()
        .map(|t| t.join().unwrap())
        .collect();
    counts.iter().sum::<u64>() as f64 / start.elapsed().as_secs_f64()
}

/// Echo throughput: `CLIENTS` connections each send `bytes` in 64 KiB
/// chunks and read each chunk back; MiB/s of echoed data, one way.
fn echo_mib_per_second(addr: SocketAddr, config: &Arc<ClientConfig>, bytes: usize) -> f64 {
    let start = Instant::now();
    let threads: Vec<_> = (0..CLIENTS)
        .map(|_| {
            let config = config.clone();
            thread::spawn(move || {
                let mut tls = connect(addr, &config);
                let out = vec![0x5a; CHUNK];
                let mut back = vec![0u8; CHUNK];
                for _ in 0..bytes / CHUNK {
                    tls.write_all(&out).unwrap();
                    tls.read_exact(&mut back).unwrap();
                    assert_eq!(back, out, "the echo differs");
                }
                tls.conn.send_close_notify();
                let _ = tls.flush();
            })
        })
        .collect();
    for t in threads {
        t.join().unwrap();
    }
    (CLIENTS * bytes) as f64 / (1 << 20) as f64 / start.elapsed().as_secs_f64()
}
