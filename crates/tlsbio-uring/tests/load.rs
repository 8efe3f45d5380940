//! The io_uring server under load on 127.0.0.1: 200 clients echoing 1 MiB
//! each, a client that never reads and two that send garbage, all at once;
//! a slow-loris among clients that proceed; tiny buffers everywhere.
//! Outcomes are asserted, never times; the time limits only bound a
//! failing run.

mod support;

use std::thread;
use std::time::{Duration, Instant};

use support::*;
use tlsbio_mio::Capacities as ClientCapacities;
use tlsbio_uring::{Capacities, Closed, Limits};

const CLIENTS: usize = 200;
const ECHO_BYTES: usize = 1 << 20;

/// Waits (bounded) until the server has seen `n` connections end.
fn wait_for_ends(server: &EchoServer, n: usize) {
    let start = Instant::now();
    while server.observed().ends.len() < n && start.elapsed() < Duration::from_secs(20) {
        thread::sleep(Duration::from_millis(10));
    }
}

#[test]
fn two_hundred_clients_echo_while_hostile_ones_are_contained() {
    if !uring_available() {
        return;
    }
    let (client_config, server_config) = configs();
    let capacities = Capacities::default();
    let limits = Limits::default()
        .capacities(capacities)
        .max_connections(512);
    let server = EchoServer::start(server_config, limits);
    let addr = server.addr;

    // A client that never reads: pushed back, memory bounded.
    let never_reads = never_reads(addr, client_config.clone());
    // Plain HTTP: not TLS, so no alert (the client could not read one),
    // just a close.
    let http = raw_client(addr, b"GET / HTTP/1.1\r\nHost: localhost\r\n\r\n");
    // A TLS record header with a handshake that is not a ClientHello: a
    // TLS peer, so it gets a fatal alert.
    let bad_tls = raw_client(addr, &[22, 3, 1, 0, 4, 2, 0, 0, 0]);

    let completed = run_echo_clients(
        addr,
        client_config.clone(),
        ClientCapacities::default(),
        CLIENTS,
        ECHO_BYTES,
        Duration::from_secs(300),
    );
    assert_eq!(
        completed, CLIENTS,
        "every client echoed 1 MiB byte-identical"
    );

    let reply = http.join().unwrap();
    assert!(reply.is_empty(), "plain http gets a close: {reply:02x?}");
    let reply = bad_tls.join().unwrap();
    assert_eq!(reply.first(), Some(&21), "an alert record: {reply:02x?}");
    assert_eq!(reply.get(5), Some(&2), "a fatal alert: {reply:02x?}");
    let written = never_reads
        .join()
        .unwrap()
        .expect("a client that never reads is pushed back");

    // The server still serves after all that.
    let again = run_echo_clients(
        addr,
        client_config,
        ClientCapacities::default(),
        3,
        1000,
        Duration::from_secs(30),
    );
    assert_eq!(again, 3);
    wait_for_ends(&server, CLIENTS + 3 + 2);
    let seen = server.finish();
    eprintln!(
        "never-reading client pushed back after {written} bytes; largest connection held {} bytes, \
         allocated {}",
        seen.max_held, seen.max_allocated
    );
    // Both BIOs, the engine's staging (a message or record each way, a
    // record of plaintext), and the echo's one pending read.
    let bound = capacities.read + capacities.write + 2 * (0xffff + 9) + 2 * 18437 + 16 * 1024;
    assert!(
        seen.max_held <= bound,
        "held {} (bound {bound})",
        seen.max_held
    );
    assert!(seen.max_allocated <= capacities.read + capacities.write);
    assert!(
        written < 64 << 20,
        "the never-reading client wrote {written} bytes unhindered"
    );
    assert_eq!(seen.expired, 0, "{seen:?}");
    assert_eq!(
        seen.count(|c| matches!(c, Closed::Failed(_))),
        2,
        "{:?}",
        seen.ends
    );
    assert_eq!(
        seen.count(|c| *c == Closed::Graceful),
        CLIENTS + 3,
        "{:?}",
        seen.ends
    );
}

/// Tiny BIOs on both ends: every connection stops receiving early all the
/// time (a full read BIO), where a driver loses wake-ups. None may.
#[test]
fn tiny_buffers_everywhere_lose_no_wake_up() {
    if !uring_available() {
        return;
    }
    let (client_config, server_config) = configs();
    let tiny = Capacities {
        read: 700,
        write: 300,
    };
    let server = EchoServer::start(server_config, Limits::default().capacities(tiny));
    let done = run_echo_clients(
        server.addr,
        client_config,
        ClientCapacities {
            read: 700,
            write: 300,
        },
        50,
        256 * 1024,
        Duration::from_secs(120),
    );
    assert_eq!(done, 50);
    wait_for_ends(&server, 50);
    let seen = server.finish();
    assert_eq!(
        seen.count(|c| *c == Closed::Graceful),
        50,
        "{:?}",
        seen.ends
    );
}

/// A client that trickles its ClientHello is dropped at its handshake
/// deadline, while clients around it complete.
#[test]
fn a_slow_loris_is_dropped_at_its_deadline_while_others_proceed() {
    if !uring_available() {
        return;
    }
    let (client_config, server_config) = configs();
    let server = EchoServer::start(
        server_config,
        Limits::default().handshake_timeout(SLOW_LORIS_DEADLINE),
    );
    let addr = server.addr;
    let slowloris = slowloris(addr);
    let done = run_echo_clients(
        addr,
        client_config,
        ClientCapacities::default(),
        20,
        ECHO_BYTES,
        Duration::from_secs(60),
    );
    assert_eq!(done, 20, "the others proceed");
    assert!(slowloris.join().unwrap(), "the slow-loris was dropped");
    wait_for_ends(&server, 20);
    let seen = server.finish();
    assert_eq!(seen.expired, 1, "only the slow-loris: {seen:?}");
    assert_eq!(
        seen.count(|c| *c == Closed::Graceful),
        20,
        "{:?}",
        seen.ends
    );
}
