//! Property: Arbitrary bytes as a server's flight into a client engine (after its
//! ClientHello): the same properties as server_flight.
//!
//! The body is `tlsbio_fuzz::client_flight` (crates/tlsbio-fuzz), so that `cargo test`
//! replays this target's corpus without a fuzzer.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| tlsbio_fuzz::client_flight(data));
