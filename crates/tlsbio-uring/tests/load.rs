//! Many clients at once: every byte echoed, every close graceful.

mod support;

use std::time::Duration;

use tlsbio_mio::Capacities as MioCapacities;
use tlsbio_uring::{Closed, Limits};

#[test]
fn two_hundred_clients_echo_a_mebibyte_each_byte_for_byte() {
    if !support::uring_available() {
        return;
    }
    let (client, server) = support::configs();
    let limits = Limits::default().max_connections(512);
    let echo = support::EchoServer::start(server, limits);
    let done = support::run_echo_clients(
        echo.addr,
        client,
        MioCapacities::default(),
        200,
        1 << 20,
        Duration::from_secs(240),
    );
    assert_eq!(done, 200, "clients that got their whole echo back");
    // The server sees the last close_notify a moment after the client.
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    while echo.observed().ends.len() < 200 && std::time::Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(20));
    }
    let seen = echo.finish();
    assert_eq!(seen.ends.len(), 200, "{seen:?}");
    assert_eq!(
        seen.count(|c| *c == Closed::Graceful),
        200,
        "{:?}",
        seen.ends
    );
    // Bounded: both BIOs plus the engine's record and the echo's unsent
    // plaintext (at most one read's worth).
    let bound = 64 * 1024 * 2 + 2 * (16 * 1024 + 256) + 16 * 1024;
    assert!(
        seen.max_held <= bound,
        "max held {} > {bound}",
        seen.max_held
    );
    assert!(seen.max_allocated <= 128 * 1024, "{}", seen.max_allocated);
}
