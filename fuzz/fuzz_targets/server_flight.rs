//! Property: Arbitrary bytes, over arbitrary fragmentation and read-BIO capacity, as a
//! client's flight into a server engine: no panic, memory and steps bounded,
//! every failure fatal and sticky with its alert already written, no wait
//! for input after end of stream.
//!
//! The body is `tlsbio_fuzz::server_flight` (crates/tlsbio-fuzz), so that `cargo test`
//! replays this target's corpus without a fuzzer.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| tlsbio_fuzz::server_flight(data));
