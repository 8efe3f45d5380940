//! Property: a hostile client's bytes into a server connection through the
//! C ABI only (`tlsbio_bio_write`, `tlsbio_accept`, `tlsbio_read`, output
//! lent or copied): no panic, only the error codes C may see, failures
//! sticky and explained, the read request within the write guarantee, lent
//! output stable until consumed, all output drained, no wait for input
//! after EOF.
//!
//! The body is `tlsbio_ffi::fuzzing::server_flights`, so that `cargo test`
//! replays this target's corpus without a fuzzer.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    tlsbio_ffi::fuzzing::server_flights(data);
});
