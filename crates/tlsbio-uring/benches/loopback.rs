//! Full handshakes per second and echo throughput on 127.0.0.1, with the
//! server's CPU time: tlsbio-uring, tlsbio-mio and tokio-rustls
//! (current-thread and multi-thread runtimes), each on 1 and N event
//! loops, same rustls config, same clients, interleaved round by round.
//!
//! ```text
//! cargo bench -p tlsbio-uring --bench loopback            # 5 rounds, about 4 min
//! cargo bench -p tlsbio-uring --bench loopback -- --quick # 1 round, about 30 s
//! ```
//!
//! tokio-rustls runs on rustls 0.23 only, so on tlsbio's rustls 0.24
//! backend the bench says so and stops. docs/benchmarks.md has the numbers.

#[cfg(not(feature = "rustls-0-24"))]
#[path = "loopback/rustls023.rs"]
mod on_rustls023;

#[cfg(not(feature = "rustls-0-24"))]
fn main() {
    on_rustls023::main();
}

#[cfg(feature = "rustls-0-24")]
fn main() {
    eprintln!(
        "the loopback bench compares with tokio-rustls, which is built on rustls 0.23: \
         run it without the rustls-0-24 feature"
    );
}
