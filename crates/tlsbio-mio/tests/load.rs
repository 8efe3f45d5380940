//! The server under load on 127.0.0.1: many clients, a client that never
//! reads and one that sends garbage, all at once; a slow-loris among
//! clients that proceed.
//! Outcomes are asserted, never times; the time limits only bound a
//! failing run.

mod support;

use std::io::{Read, Write};
use std::net::TcpStream;
use std::thread;
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
    let never_reads = {
        let config = client_config.clone();
        thread::spawn(move || {
            let tcp = TcpStream::connect(addr).unwrap();
            tcp.set_write_timeout(Some(Duration::from_millis(500)))
                .unwrap();
            let mut tls = tlsbio_blocking::Stream::connect(&config, "localhost", tcp).unwrap();
            let chunk = vec![7u8; 64 * 1024];
            let mut written = 0usize;
            while written < 256 << 20 {
                match tls.write(&chunk) {
                    Ok(n) => written += n,
                    Err(_) => return Some(written), // blocked: backpressure
                }
            }
            None
        })
    };

    // A client that speaks plain HTTP gets no TLS alert (it could not read
    // one; the engine hands its bytes back as Error::NotTls): its
    // connection is closed, and the server carries on.
    let garbage = thread::spawn(move || {
        let mut s = TcpStream::connect(addr).unwrap();
        s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
        s.write_all(b"GET / HTTP/1.1\r\nHost: localhost\r\n\r\n")
            .unwrap();
        let mut reply = Vec::new();
        let _ = s.read_to_end(&mut reply);
        reply
    });

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
        Limits::default().handshake_timeout(Duration::from_secs(1)),
    );
    let addr = server.addr;
    // A slow-loris: one byte of a ClientHello every 100 ms.
    let slowloris = thread::spawn(move || {
        let mut s = TcpStream::connect(addr).unwrap();
        s.set_read_timeout(Some(Duration::from_millis(100)))
            .unwrap();
        let hello = [22u8, 3, 1, 0x02, 0x00, 1, 0, 1, 0xfc, 3, 3];
        for i in 0..300 {
            if s.write_all(&[hello[i % hello.len()]]).is_err() {
                return true; // reset: dropped
            }
            match s.read(&mut [0u8; 64]) {
                Ok(0) => return true, // closed: dropped
                Ok(_) => {}           // an alert is fine too; keep going
                Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {}
                Err(e) if e.kind() == std::io::ErrorKind::TimedOut => {}
                Err(_) => return true,
            }
        }
        false
    });

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
