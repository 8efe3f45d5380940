//! Property: Every Bio implementation against a VecDeque model under arbitrary
//! operation sequences: the same bytes, counts, pending and write guarantee.
//!
//! The body is `tlsbio_fuzz::bio_model` (crates/tlsbio-fuzz), so that `cargo test`
//! replays this target's corpus without a fuzzer.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| tlsbio_fuzz::bio_model(data));
