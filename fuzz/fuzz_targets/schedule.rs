//! Property: An arbitrary schedule, scripts and link fault drive a real client/server
//! pair through the in-memory driver: a fault-free run completes with data
//! byte-identical; with a fault, a clean close always means intact data and
//! every error is fatal; a run never spins to the action limit.
//!
//! The body is `tlsbio_fuzz::schedule` (crates/tlsbio-fuzz), so that `cargo test`
//! replays this target's corpus without a fuzzer.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| tlsbio_fuzz::schedule(data));
