//! What `Server::recycle` saves: N connections one after another to a
//! tlsbio-mio echo server on 127.0.0.1 (handshake, 4 KiB echoed, close_notify
//! both ways), with the server's buffer pool off (`set_buffer_pool(0)`)
//! and on (the default 32 buffers), counting the process's allocations
//! and bytes allocated with a counting allocator. The client runs in the
//! same process and does the same work in both runs, so the difference
//! between the rows is the server's.
//!
//! ```text
//! cargo bench -p tlsbio-mio --bench recycle                # 500 connections each
//! cargo bench -p tlsbio-mio --bench recycle -- --quick     # 100
//! ```

#[path = "../tests/support/mod.rs"]
mod support;

use std::alloc::System;
use std::io;
use std::net::SocketAddr;
use std::thread;
use std::time::{Duration, Instant};

use mio::{Events, Poll, Token};
use stats_alloc::{Region, StatsAlloc, INSTRUMENTED_SYSTEM};
use support::echo;
use tlsbio::{ClientContext, ServerContext};
use tlsbio_mio::{Limits, Server};

#[global_allocator]
static GLOBAL: &StatsAlloc<System> = &INSTRUMENTED_SYSTEM;

const LISTENER: Token = Token(0);
const ECHOED: usize = 4096;

fn main() {
    support::print_recycle_table(measure);
}

/// Serves `n` sequential connections; returns (allocations, bytes
/// allocated) for the whole run, client included, and the buffers reused.
fn measure(
    client: &ClientContext,
    context: &ServerContext,
    pool: usize,
    n: usize,
) -> io::Result<((usize, usize), u64)> {
    let mut poll = Poll::new()?;
    let loopback = SocketAddr::from(([127, 0, 0, 1], 0));
    let mut server: echo::EchoServer = Server::bind(
        loopback,
        context.clone(),
        Limits::default(),
        poll.registry(),
        LISTENER,
    )?;
    server.set_buffer_pool(pool);
    let addr = server.local_addr()?;
    let mut events = Events::with_capacity(64);
    let mut buf = vec![0u8; 16 * 1024];
    let region = Region::new(GLOBAL);
    let clients = {
        let client = client.clone();
        thread::spawn(move || support::echo_one_after_another(&client, addr, n, ECHOED))
    };
    let (mut ended, deadline) = (0, Instant::now() + Duration::from_secs(120));
    while ended < n {
        if Instant::now() > deadline {
            return Err(io::Error::other(format!("{ended} of {n} ended in 120 s")));
        }
        poll.poll(&mut events, Some(Duration::from_millis(100)))?;
        for event in &events {
            if let echo::Outcome::Ended(conn, _) =
                echo::on_event(&mut server, poll.registry(), event, &mut buf)?
            {
                ended += 1;
                server.recycle(*conn);
            }
        }
    }
    clients
        .join()
        .map_err(|_| io::Error::other("a client panicked"))??;
    Ok((support::counted(region.change()), server.buffers_reused()))
}
