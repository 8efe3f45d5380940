//! Property: Arbitrary call sequences on two identical connections, one through the
//! int API (compat::Ssl) and one through the enum API: every return and
//! SSL_get_error code agrees with the Result, and the bytes are identical.
//!
//! The body is `tlsbio_fuzz::compat` (crates/tlsbio-fuzz), so that `cargo test`
//! replays this target's corpus without a fuzzer.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| tlsbio_fuzz::compat(data));
