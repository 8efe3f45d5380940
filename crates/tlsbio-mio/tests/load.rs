//! The server under load on 127.0.0.1: many clients, a client that never
//! reads and one that sends garbage, all at once; a slow-loris among
//! clients that proceed.
//! Outcomes are asserted, never times; the time limits only bound a
//! failing run.

mod support;

use std::time::Duration;

use support::*;
use tlsbio_mio::{Capacities, Limits};

const CLIENTS: usize = 200;
const ECHO_BYTES: usize = 1 << 20;

#[test]
fn two_hundred_clients_echo_while_hostile_ones_are_contained() {
    let (client_config, server_config) = configs();
    let capacities = Capacities::default();
    // Handshakes wait behind 200 MiB of echo (up to 1.4 s measured here in
    // a debug build): the default deadline, not a slow-loris one.
    let server = EchoServer::start(server_config, Limits::default().capacities(capacities));
    let addr = server.addr;

    // A client that handshakes and sends, but never reads: the server's
    // echo backs up, and it must stop reading rather than buffer.
    let never_reads = never_reads(addr, client_config.clone());

    // A client that speaks plain HTTP gets no TLS alert (it could not read
    // one; the engine hands its bytes back as Error::NotTls): its
    // connection is closed, and the server carries on.
    let garbage = raw_client(addr, b"GET / HTTP/1.1\r\nHost: localhost\r\n\r\n");

    let completed = run_echo_clients(
        addr,
        client_config.clone(),
        Capacities::default(),
        CLIENTS,
        ECHO_BYTES,
        Duration::from_secs(300),
    );
    assert_eq!(
        completed, CLIENTS,
        "every client echoed 1 MiB byte-identical"
    );

    let reply = garbage.join().unwrap();
    assert!(
        reply.is_empty(),
        "plain http gets a close, not tls bytes: {reply:02x?}"
    );
    let blocked_after = never_reads.join().unwrap();
    let written = blocked_after.expect("a client that never reads is pushed back");

    // The server still serves after all that.
    assert_eq!(
        run_echo_clients(
            addr,
            client_config,
            capacities,
            3,
            1000,
            Duration::from_secs(30)
        ),
        3
    );

    let seen = server.finish();
    eprintln!(
        "never-reading client pushed back after {written} bytes; largest connection held {} bytes",
        seen.max_held
    );
    // Both BIOs, the engine's staging (a handshake message or record each
    // way, a record of plaintext), and the echo's one pending read.
    let bound = capacities.read + capacities.write + 2 * (0xffff + 9) + 2 * 18437 + 16 * 1024;
    assert!(
        seen.max_held <= bound,
        "a connection held {} bytes (bound {bound})",
        seen.max_held
    );
    assert!(
        written < 64 << 20,
        "the never-reading client wrote {written} bytes unhindered"
    );
    assert_eq!(seen.expired, 0, "{seen:?}");
    assert!(seen.failed >= 1, "the garbage connection failed: {seen:?}");
    assert!(seen.graceful >= CLIENTS + 3, "{seen:?}");
    // Every echo client, plus the one that never reads.
    assert!(seen.handshakes > CLIENTS + 3, "{seen:?}");
}

/// Tiny BIOs on both ends: every connection stops reading early all the
/// time (a full read BIO), which is where a driver loses wake-ups. None
/// may: every client finishes, and the poller is never quiet while they
/// are unfinished.
#[test]
fn tiny_buffers_everywhere_lose_no_wake_up() {
    let (client_config, server_config) = configs();
    let tiny = Capacities {
        read: 700,
        write: 300,
    };
    let server = EchoServer::start(server_config, Limits::default().capacities(tiny));
    let done = run_echo_clients(
        server.addr,
        client_config,
        tiny,
        50,
        256 * 1024,
        Duration::from_secs(120),
    );
    assert_eq!(done, 50);
    let seen = server.finish();
    assert_eq!(seen.graceful, 50, "{seen:?}");
}

/// A client that trickles its ClientHello is dropped at its handshake
/// deadline, while clients around it complete.
#[test]
fn a_slow_loris_is_dropped_at_its_deadline_while_others_proceed() {
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
        Capacities::default(),
        20,
        ECHO_BYTES,
        Duration::from_secs(60),
    );
    assert_eq!(done, 20, "the others proceed");
    assert!(slowloris.join().unwrap(), "the slow-loris was dropped");
    let seen = server.finish();
    assert_eq!(seen.expired, 1, "only the slow-loris: {seen:?}");
    assert_eq!(seen.graceful, 20, "{seen:?}");
}
