//! What the server's buffer pool saves: N connections one after another
//! to a tlsbio-uring echo server on 127.0.0.1 (handshake, 4 KiB echoed,
//! close_notify both ways), with the pool off (`set_buffer_pool(0)`) and
//! on (the default 32 buffers), counting the process's allocations and
//! bytes allocated with a counting allocator. The client runs in the same
//! process and does the same work in both runs, so the difference between
//! the rows is the server's.
//!
//! ```text
//! cargo bench -p tlsbio-uring --bench recycle                # 500 connections each
//! cargo bench -p tlsbio-uring --bench recycle -- --quick     # 100
//! ```

#[path = "../examples/common/echo.rs"]
mod echo;
#[path = "../../tlsbio-mio/tests/support/mod.rs"]
mod mio_clients;

use std::alloc::System;
use std::io;
use std::thread;
use std::time::{Duration, Instant};

use stats_alloc::{Region, StatsAlloc, INSTRUMENTED_SYSTEM};
use tlsbio::{ClientContext, ServerContext};
use tlsbio_uring::{Limits, Server};

#[global_allocator]
static GLOBAL: &StatsAlloc<System> = &INSTRUMENTED_SYSTEM;

const ECHOED: usize = 4096;

fn main() {
    if let Err(e) = tlsbio_uring::probe() {
        println!("skipped: {e}");
        return;
    }
    mio_clients::print_recycle_table(measure);
}

/// Serves `n` sequential connections; returns (allocations, bytes
/// allocated) for the whole run, client included, and the buffers reused.
fn measure(
    client: &ClientContext,
    context: &ServerContext,
    pool: usize,
    n: usize,
) -> io::Result<((usize, usize), u64)> {
    let mut server: echo::EchoServer = Server::bind(
        "127.0.0.1:0".parse().expect("an address"),
        context.clone(),
        Limits::default(),
    )?;
    server.set_buffer_pool(pool);
    let addr = server.local_addr()?;
    let (mut ready, mut buf) = (Vec::new(), vec![0u8; 16 * 1024]);
    let region = Region::new(GLOBAL);
    let clients = {
        let client = client.clone();
        thread::spawn(move || mio_clients::echo_one_after_another(&client, addr, n, ECHOED))
    };
    let deadline = Instant::now() + Duration::from_secs(120);
    while !(clients.is_finished() && server.is_empty()) {
        let now = Instant::now();
        if now > deadline {
            return Err(io::Error::other(format!(
                "{} of {n} accepted in 120 s",
                server.stats().accepted
            )));
        }
        server.expire(now);
        server.turn(now, Some(Duration::from_millis(100)), &mut ready)?;
        for &id in &ready {
            echo::on_ready(&mut server, id, &mut buf, Instant::now());
        }
    }
    clients
        .join()
        .map_err(|_| io::Error::other("a client panicked"))??;
    Ok((
        mio_clients::counted(region.change()),
        server.stats().buffers_reused,
    ))
}
