//! Property: the same peer bytes, in the same chunks, into a tlsbio engine
//! and into rustls' own buffered API (an `Acceptor`-based server, or a
//! client) on the same config and seeded randomness give byte-identical
//! output, the same plaintext and the same ending.
//!
//! The body is `tlsbio_fuzz::differential` (crates/tlsbio-fuzz), so that
//! `cargo test` replays this target's corpus without a fuzzer.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| tlsbio_fuzz::differential(data));
