//! Retired connections' BIO memory is what the next connections start on
//! (`Server::set_buffer_pool`): counted with the server's counters and
//! the crate's live-allocation count, connection by connection.
//!
//! The server runs on the test's own thread: the allocation count
//! ([`tlsbio_uring::live_allocations`]) is per thread.

mod support;

use std::io::{Read, Write};
use std::thread;

use support::*;
use tlsbio_uring::{live_allocations, Limits, ServerStats};

/// Serves `n` connections strictly one after another (each echoes a few
/// bytes and closes with close_notify both ways), letting every operation
/// of one complete before the next connects. Returns the server's counters
/// and how many buffers are alive beyond `baseline` while it still exists.
fn one_after_another(pool: Option<usize>, n: usize) -> (ServerStats, usize) {
    let baseline = live_allocations();
    let mut server = bind_echo(Limits::default());
    if let Some(pool) = pool {
        server.set_buffer_pool(pool);
    }
    let addr = server.local_addr().unwrap();
    for i in 0..n {
        let client = thread::spawn(move || {
            let mut tls = blocking_client(addr);
            tls.write_all(b"ping").unwrap();
            let mut echo = [0u8; 4];
            tls.read_exact(&mut echo).unwrap();
            assert_eq!(&echo, b"ping");
            tls.shutdown_and_wait().unwrap();
        });
        assert!(
            turn_until(&mut server, |s| client.is_finished()
                && s.is_empty()
                && s.stats().in_flight == 1),
            "connection {i} was never retired with its operations complete: {:?}",
            server.stats()
        );
        client.join().unwrap();
    }
    let stats = server.stats();
    let alive = live_allocations() - baseline;
    drop(server);
    assert_eq!(
        live_allocations(),
        baseline,
        "the pool goes with the server"
    );
    (stats, alive)
}

#[test]
fn the_next_connections_start_on_the_last_ones_buffers() {
    if !uring_available() {
        return;
    }
    let (stats, alive) = one_after_another(None, 4);
    assert_eq!(stats.accepted, 4);
    // Each connection after the first takes both of its BIOs' buffers
    // from its predecessor, and allocates none.
    assert_eq!(stats.buffers_reused, 6, "{stats:?}");
    assert_eq!(stats.pooled_buffers, 2, "{stats:?}");
    assert_eq!(alive, 2, "two buffers in all, kept for the next connection");
}

#[test]
fn a_pool_of_zero_frees_every_buffer() {
    if !uring_available() {
        return;
    }
    let (stats, alive) = one_after_another(Some(0), 3);
    assert_eq!(stats.accepted, 3);
    assert_eq!(stats.buffers_reused, 0, "{stats:?}");
    assert_eq!(stats.pooled_buffers, 0, "{stats:?}");
    assert_eq!(alive, 0);
}
