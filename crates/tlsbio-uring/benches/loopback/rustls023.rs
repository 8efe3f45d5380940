//! The loopback bench on rustls 0.23. Servers run on their own threads in
//! this process; every server thread adds the CPU time it used (from
//! `/proc/thread-self/schedstat`, in nanoseconds) to the run's total, so
//! CPU per handshake and per MiB is the server's alone, not the clients'
//! (which share the two cores with it).

#[path = "../../../tlsbio-mio/examples/common/echo.rs"]
mod mio_echo;
#[path = "../../examples/common/echo.rs"]
mod uring_echo;

use std::collections::HashMap;
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::thread;
use std::time::{Duration, Instant};

use rustls::pki_types::{PrivateKeyDer, PrivatePkcs8KeyDer, ServerName};
use rustls::{ClientConfig, ClientConnection, RootCertStore, ServerConfig, StreamOwned};
use tlsbio_uring::{LoopContext, Loops};

/// Client threads.
const CLIENTS: usize = 4;

/// The echo application's read size, for every server.
const READ_SIZE: usize = 16 * 1024;

/// Bytes each throughput client sends per round trip.
const CHUNK: usize = 64 * 1024;

struct Plan {
    rounds: usize,
    handshake_time: Duration,
    bytes_per_client: usize,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
enum Kind {
    Uring,
    Mio,
    TokioCurrent,
    TokioMulti,
}

impl Kind {
    fn name(self) -> &'static str {
        match self {
            Self::Uring => "tlsbio-uring",
            Self::Mio => "tlsbio-mio",
            Self::TokioCurrent => "tokio-rustls current_thread",
            Self::TokioMulti => "tokio-rustls multi_thread",
        }
    }
}

type Key = (Kind, usize);

#[derive(Default)]
struct Samples {
    handshakes: Vec<f64>,
    /// Server CPU nanoseconds per handshake.
    cpu_per_handshake: Vec<f64>,
    mib: Vec<f64>,
    /// Server CPU nanoseconds per MiB echoed (each way).
    cpu_per_mib: Vec<f64>,
}

pub(crate) fn main() {
    let quick = std::env::args().any(|a| a == "--quick");
    let plan = if quick {
        Plan {
            rounds: 1,
            handshake_time: Duration::from_millis(1500),
            bytes_per_client: 16 << 20,
        }
    } else {
        Plan {
            rounds: 5,
            handshake_time: Duration::from_secs(3),
            bytes_per_client: 64 << 20,
        }
    };
    if let Err(e) = tlsbio_uring::probe() {
        eprintln!("io_uring is unavailable here ({e}): nothing to compare");
        return;
    }
    let cores = thread::available_parallelism().map_or(2, |n| n.get());
    let mut keys = Vec::new();
    for threads in [1, cores] {
        for kind in [Kind::Uring, Kind::Mio, Kind::TokioCurrent, Kind::TokioMulti] {
            keys.push((kind, threads));
        }
    }
    let (client, server) = configs();
    let mut samples: HashMap<Key, Samples> = HashMap::new();
    for round in 0..plan.rounds {
        for &(kind, threads) in &keys {
            // Each phase on a fresh server, whose CPU total is complete
            // once its threads have ended.
            let running = Running::start(kind, threads, server.clone());
            let (count, hs) = handshakes_per_second(running.addr, &client, plan.handshake_time);
            let hs_cpu = running.stop();
            let running = Running::start(kind, threads, server.clone());
            let mib = echo_mib_per_second(running.addr, &client, plan.bytes_per_client);
            let echo_cpu = running.stop();
            let echoed = (CLIENTS * plan.bytes_per_client) as f64 / (1 << 20) as f64;
            let s = samples.entry((kind, threads)).or_default();
            s.handshakes.push(hs);
            s.cpu_per_handshake.push(hs_cpu as f64 / count as f64);
            s.mib.push(mib);
            s.cpu_per_mib.push(echo_cpu as f64 / echoed);
            eprintln!(
                "round {} {:<28} x{threads} {hs:>8.0} hs/s {:>6.0} us/hs  {mib:>6.0} MiB/s {:>6.2} ms/MiB",
                round + 1,
                kind.name(),
                s.cpu_per_handshake.last().unwrap() / 1e3,
                s.cpu_per_mib.last().unwrap() / 1e6,
            );
        }
    }
    print_table(&plan, &keys, &samples, cores);
}

fn median(v: &[f64]) -> f64 {
    let mut v = v.to_vec();
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

/// (max - min) / median, in percent.
fn spread(v: &[f64]) -> f64 {
    let max = v.iter().copied().fold(f64::MIN, f64::max);
    let min = v.iter().copied().fold(f64::MAX, f64::min);
    (max - min) / median(v) * 100.0
}

fn print_table(plan: &Plan, keys: &[Key], samples: &HashMap<Key, Samples>, cores: usize) {
    println!(
        "\nloopback, TLS 1.3, ECDSA P-256, X25519, {CLIENTS} client threads on the same {cores} \
         cores, median of {} round(s) (spread: max-min over the median)",
        plan.rounds
    );
    println!(
        "| server | loops | handshakes/s | spread | x tokio best | server CPU us/handshake | \
         echo MiB/s | spread | x tokio best | server CPU ms/MiB |"
    );
    println!("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
    for &(kind, threads) in keys {
        let s = &samples[&(kind, threads)];
        let best = |f: fn(&Samples) -> &Vec<f64>| {
            [Kind::TokioCurrent, Kind::TokioMulti]
                .iter()
                .map(|k| median(f(&samples[&(*k, threads)])))
                .fold(f64::MIN, f64::max)
        };
        println!(
            "| {} | {threads} | {:.0} | {:.0}% | {:.2} | {:.0} | {:.0} | {:.0}% | {:.2} | {:.2} |",
            kind.name(),
            median(&s.handshakes),
            spread(&s.handshakes),
            median(&s.handshakes) / best(|s| &s.handshakes),
            median(&s.cpu_per_handshake) / 1e3,
            median(&s.mib),
            spread(&s.mib),
            median(&s.mib) / best(|s| &s.mib),
            median(&s.cpu_per_mib) / 1e6,
        );
    }
}

/// One rustls config pair for every server: ECDSA P-256 from rcgen, the
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

/// This thread's CPU time so far, in nanoseconds.
fn thread_cpu_ns() -> u64 {
    std::fs::read_to_string("/proc/thread-self/schedstat")
        .ok()
        .and_then(|s| s.split_whitespace().next()?.parse().ok())
        .unwrap_or(0)
}

/// Adds the CPU time the calling thread uses from now until the meter is
/// dropped to `total`.
struct CpuMeter<'a> {
    total: &'a AtomicU64,
    last: u64,
}

impl<'a> CpuMeter<'a> {
    fn new(total: &'a AtomicU64) -> Self {
        Self {
            total,
            last: thread_cpu_ns(),
        }
    }
}

impl Drop for CpuMeter<'_> {
    fn drop(&mut self) {
        let spent = thread_cpu_ns().saturating_sub(self.last);
        self.total.fetch_add(spent, Ordering::Relaxed);
    }
}

/// Servers on their own threads.
struct Running {
    addr: SocketAddr,
    cpu: Arc<AtomicU64>,
    stop: Box<dyn FnOnce()>,
}

impl Running {
    fn start(kind: Kind, threads: usize, config: Arc<ServerConfig>) -> Self {
        let cpu = Arc::new(AtomicU64::new(0));
        let addr: SocketAddr = "127.0.0.1:0".parse().unwrap();
        if kind == Kind::TokioMulti {
            return tokio_multi(threads, config, cpu);
        }
        let meter = cpu.clone();
        let loops = Loops::spawn(addr, threads, move |ctx| {
            let meter = CpuMeter::new(&meter);
            match kind {
                Kind::Uring => uring_loop(ctx, config.clone(), meter),
                Kind::Mio => mio_loop(ctx, config.clone(), meter),
                Kind::TokioCurrent => tokio_current(ctx, config.clone(), meter),
                Kind::TokioMulti => unreachable!(),
            }
        })
        .unwrap();
        Self {
            addr: loops.local_addr(),
            cpu,
            stop: Box::new(move || {
                loops.stop();
                loops.join().unwrap();
            }),
        }
    }

    /// Stops the server and returns the CPU time its threads used.
    fn stop(self) -> u64 {
        (self.stop)();
        self.cpu.load(Ordering::Relaxed)
    }
}

fn uring_loop(
    ctx: LoopContext,
    config: Arc<ServerConfig>,
    _meter: CpuMeter<'_>,
) -> std::io::Result<()> {
    let mut server: uring_echo::EchoServer = tlsbio_uring::Server::from_std(
        ctx.listener,
        tlsbio::ServerContext::new(config).unwrap(),
        tlsbio_uring::Limits::default(),
        |_| Vec::new(),
    )?;
    let (mut ready, mut buf) = (Vec::new(), vec![0u8; READ_SIZE]);
    while !ctx.stop.load(Ordering::SeqCst) {
        let now = Instant::now();
        server.turn(now, Some(Duration::from_millis(10)), &mut ready)?;
        for &id in &ready {
            uring_echo::on_ready(&mut server, id, &mut buf, now);
        }
    }
    Ok(())
}

fn mio_loop(
    ctx: LoopContext,
    config: Arc<ServerConfig>,
    _meter: CpuMeter<'_>,
) -> std::io::Result<()> {
    use mio::{Events, Poll, Token};
    let mut poll = Poll::new()?;
    let mut server: mio_echo::EchoServer = tlsbio_mio::Server::from_std(
        ctx.listener,
        tlsbio::ServerContext::new(config).unwrap(),
        tlsbio_mio::Limits::default(),
        poll.registry(),
        Token(0),
    )?;
    let mut events = Events::with_capacity(1024);
    let mut buf = vec![0u8; READ_SIZE];
    while !ctx.stop.load(Ordering::SeqCst) {
        poll.poll(&mut events, Some(Duration::from_millis(10)))?;
        for event in &events {
            mio_echo::on_event(&mut server, poll.registry(), event, &mut buf)?;
        }
        mio_echo::retry_accept(&mut server, poll.registry(), Instant::now())?;
    }
    Ok(())
}

/// The echo application on tokio-rustls, as its users write it.
async fn tokio_echo(
    listener: tokio::net::TcpListener,
    acceptor: tokio_rustls::TlsAcceptor,
    stop: Arc<AtomicBool>,
) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    while !stop.load(Ordering::SeqCst) {
        let accepted = tokio::time::timeout(Duration::from_millis(10), listener.accept()).await;
        let Ok(Ok((socket, _))) = accepted else {
            continue;
        };
        // As the tlsbio servers do for every accepted socket.
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
}

fn tokio_current(
    ctx: LoopContext,
    config: Arc<ServerConfig>,
    _meter: CpuMeter<'_>,
) -> std::io::Result<()> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_io()
        .enable_time()
        .build()?;
    runtime.block_on(async {
        ctx.listener.set_nonblocking(true)?;
        let listener = tokio::net::TcpListener::from_std(ctx.listener)?;
        let acceptor = tokio_rustls::TlsAcceptor::from(config);
        let stop = ctx.stop.clone();
        let server = tokio::spawn(tokio_echo(listener, acceptor, stop));
        while !ctx.stop.load(Ordering::SeqCst) {
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        let _ = server.await;
        Ok(())
    })
}

fn tokio_multi(threads: usize, config: Arc<ServerConfig>, cpu: Arc<AtomicU64>) -> Running {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let stop = Arc::new(AtomicBool::new(false));
    let meter = cpu.clone();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(threads)
        .enable_io()
        .enable_time()
        // Each worker adds its CPU time when it stops.
        .on_thread_start(move || {
            START.with(|s| s.set(thread_cpu_ns()));
        })
        .on_thread_stop(move || {
            let spent = thread_cpu_ns() - START.with(|s| s.get());
            meter.fetch_add(spent, Ordering::Relaxed);
        })
        .build()
        .unwrap();
    listener.set_nonblocking(true).unwrap();
    let flag = stop.clone();
    let server = runtime.spawn(async move {
        let listener = tokio::net::TcpListener::from_std(listener).unwrap();
        tokio_echo(listener, tokio_rustls::TlsAcceptor::from(config), flag).await;
    });
    Running {
        addr,
        cpu: cpu.clone(),
        stop: Box::new(move || {
            stop.store(true, Ordering::SeqCst);
            let _ = runtime.block_on(server);
            runtime.shutdown_timeout(Duration::from_secs(5));
        }),
    }
}

thread_local! {
    static START: std::cell::Cell<u64> = const { std::cell::Cell::new(0) };
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
/// proven by a one-byte echo: how many, and per second.
fn handshakes_per_second(
    addr: SocketAddr,
    config: &Arc<ClientConfig>,
    time: Duration,
) -> (u64, f64) {
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
    let total = counts.iter().sum::<u64>();
    (total, total as f64 / start.elapsed().as_secs_f64())
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
