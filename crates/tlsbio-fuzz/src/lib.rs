//! The bodies of tlsbio's fuzz targets.
//!
//! Each target is a function from bytes to nothing that **panics when a
//! property of the engine is broken**, and returns quietly otherwise. The
//! `fuzz/` directory (cargo-fuzz, outside the workspace) hands these
//! functions to libFuzzer; this crate's tests hand them the checked-in
//! corpora in `fuzz/seeds/` and proptest's inputs, so stable-Rust CI runs
//! every target without a fuzzer.
//!
//! | target | input | property |
//! |---|---|---|
//! | [`server_flight`] | a client's bytes, any fragmentation | no panic, bounded memory and steps, any failure is a sticky error with its alert already written, nothing waits for bytes after end of stream |
//! | [`client_flight`] | a server's bytes | the same, for a client |
//! | [`schedule`] | a schedule, scripts, a fault | a fault-free run completes with data byte-identical; otherwise every side that closed cleanly got exactly what was sent |
//! | [`mutated_transcript`] | record- and byte-level mutations of a recorded handshake | as [`server_flight`], starting deep inside a valid conversation |
//! | [`bio_model`] | BIO operations | every `Bio` matches a `VecDeque` model |
//! | [`compat`] | API call sequences | the int API (`compat::Ssl`) agrees with the enum API and with OpenSSL's documented codes |
//! | [`differential`] | a peer's bytes, into a server or a client | byte-identical output, the same plaintext and the same ending as rustls' own buffered API on the same config and randomness |
//!
//! All crypto is the insecure deterministic provider from
//! `tlsbio_memory::deterministic`, rewound before every input: the same
//! input always takes the same path, which is what a fuzzer needs to learn
//! from coverage, and a recorded conversation replayed into a fresh engine
//! is valid byte for byte, so mutations start deep in the handshake.
//!
//! ```
//! // An empty input is valid for every target, and checks nothing much.
//! for (name, target) in tlsbio_fuzz::TARGETS {
//!     target(&[]);
//!     # let _ = name;
//! }
//! ```

#![forbid(unsafe_code)]
#![deny(missing_docs)]

mod bio_model;
mod compat;
mod differential;
mod fixture;
mod flight;
mod mutate;
mod schedule;
pub mod seeds;

pub use bio_model::bio_model;
pub use compat::compat;
pub use differential::differential;
pub use flight::{client_flight, server_flight};
pub use mutate::mutated_transcript;
pub use schedule::schedule;

/// A target: panics when a property fails.
pub type Target = fn(&[u8]);

/// Every target by its cargo-fuzz name (the file name in
/// `fuzz/fuzz_targets/` and the directory in `fuzz/seeds/`).
pub const TARGETS: [(&str, Target); 7] = [
    ("server_flight", server_flight),
    ("client_flight", client_flight),
    ("schedule", schedule),
    ("mutated_transcript", mutated_transcript),
    ("bio_model", bio_model),
    ("compat", compat),
    ("differential", differential),
];

/// The target called `name`, if there is one.
pub fn target(name: &str) -> Option<Target> {
    TARGETS.iter().find(|(n, _)| *n == name).map(|(_, t)| *t)
}
