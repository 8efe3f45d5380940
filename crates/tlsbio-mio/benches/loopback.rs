//! Handshakes per second and echo throughput on 127.0.0.1: the tlsbio-mio
//! server next to a tokio-rustls server with the same rustls config (see
//! `loopback/rustls023.rs`).
//!
//! ```text
//! cargo bench -p tlsbio-mio --bench loopback            # about 40 s
//! cargo bench -p tlsbio-mio --bench loopback -- --quick # about 10 s
//! ```
//!
//! tokio-rustls runs on rustls 0.23 only, so on tlsbio's rustls 0.24
//! backend there is nothing to compare with: the bench says so and stops.

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
