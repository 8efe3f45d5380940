//! Resident memory per idle TLS connection on a real server: N clients
//! connect to 127.0.0.1, handshake, take in the server's tickets, and sit
//! idle; the server's resident set (`VmRSS` of its own process) is read
//! before the first connection and after the server had time to go quiet,
//! and the difference is divided by N. Three servers, each in a child
//! process of its own: tlsbio-mio's `Server` (echo, default limits: it
//! gives a connection's buffers back after 1 s of quiet), the same with
//! `Options::release_buffers` (back as soon as they are empty), and a raw
//! rustls server over mio written the obvious way (a `ServerConnection` and a
//! socket per client, `read_tls` / `process_new_packets` / `write_tls`).
//!
//! ```text
//! cargo bench -p tlsbio-mio --bench idle                 # 10 000 connections, about 30 s
//! cargo bench -p tlsbio-mio --bench idle -- --quick      # 2 000
//! ```
//!
//! Kernel socket buffers are not in a process's resident set, so this is
//! what the server itself holds. The raw server is built on rustls 0.23's
//! buffered API; on the rustls 0.24 backend the bench says so and stops.

#[cfg(not(feature = "rustls-0-24"))]
#[path = "idle/rustls023.rs"]
mod on_rustls023;

#[cfg(not(feature = "rustls-0-24"))]
fn main() {
    on_rustls023::main();
}

#[cfg(feature = "rustls-0-24")]
fn main() {
    eprintln!("the idle bench's raw server is rustls 0.23's buffered API: run it without the rustls-0-24 feature");
}
