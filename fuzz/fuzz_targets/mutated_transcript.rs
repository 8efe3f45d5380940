//! Property: A recorded conversation mutated at the record level (types, versions,
//! lengths, cuts, duplicates, drops, swaps, splices, splits) and the byte
//! level, replayed into a fresh engine: the server_flight properties, met
//! deep inside a valid handshake.
//!
//! The body is `tlsbio_fuzz::mutated_transcript` (crates/tlsbio-fuzz), so that `cargo test`
//! replays this target's corpus without a fuzzer.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| tlsbio_fuzz::mutated_transcript(data));
