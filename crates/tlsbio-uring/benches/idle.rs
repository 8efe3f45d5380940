//! Resident memory per idle TLS connection on tlsbio-uring's server: N
//! clients connect to 127.0.0.1, handshake, take in the server's tickets
//! and sit idle; the server's resident set (`VmRSS` of its own process)
//! is read before the first connection and after the server had time to
//! go quiet, and the difference is divided by N. tlsbio-mio's idle bench
//! has the harness (included here) and the tlsbio-mio and raw rustls
//! rows to compare with.
//!
//! ```text
//! cargo bench -p tlsbio-uring --bench idle                 # 10 000 connections
//! cargo bench -p tlsbio-uring --bench idle -- --quick      # 2 000
//! ```

#[path = "../examples/common/echo.rs"]
mod echo;
#[path = "../../tlsbio-mio/benches/idle/harness.rs"]
mod harness;

use std::io;
use std::sync::Arc;
use std::time::{Duration, Instant};

use tlsbio::{Options, ServerContext};
use tlsbio_uring::{Limits, Server};

fn main() {
    if let Err(e) = tlsbio_uring::probe() {
        println!("skipped: {e}");
        return;
    }
    let servers = [
        ("uring", "tlsbio-uring Server"),
        (
            "uring-release",
            "tlsbio-uring Server, Options::release_buffers",
        ),
    ];
    harness::main(&servers, |which| match which {
        "uring" => Some(serve(false)),
        "uring-release" => Some(serve(true)),
        _ => None,
    });
}

/// The echo server, default limits but for the connection limit.
fn serve(release_buffers: bool) -> io::Result<()> {
    let context = ServerContext::new(Arc::new(harness::pki().stock_server_config()))
        .map_err(io::Error::other)?
        .with_options(Options::default().release_buffers(release_buffers));
    let limits = Limits::default().max_connections(20_000);
    let mut server: echo::EchoServer = Server::bind(harness::LOOPBACK, context, limits)?;
    harness::announce(server.local_addr()?)?;
    let (mut ready, mut buf) = (Vec::new(), vec![0u8; 16 * 1024]);
    loop {
        let now = Instant::now();
        server.expire(now);
        server.turn(now, Some(Duration::from_millis(100)), &mut ready)?;
        for &id in &ready {
            echo::on_ready(&mut server, id, &mut buf, Instant::now());
        }
    }
}
