//! The in-memory driver for [`tlsbio`]: a client and a server engine
//! joined by a link in memory, for deterministic protocol tests, fuzzing
//! and simulation.
//!
//! - [`Harness`]: the pair. Step it one [`Action`] at a time or
//!   [`run`](Harness::run) it to the end; a [`Report`] says how far each
//!   side got. A stall (nothing can progress, yet a side has not ended) is
//!   a reported [`End::Stalled`], never a hang.
//! - [`Schedule`]: who runs next, how many bytes cross per move (down to
//!   one), and the BIO capacities (down to one byte); seeded schedules
//!   repeat exactly for the same seed.
//! - [`Script`]: what each side's application sends and how it closes
//!   (full close, half-close, or never reading).
//! - [`Fault`]: a cut link, a corrupted byte, injected bytes.
//! - [`Transcript`]: every turn and every byte that crossed, in a
//!   documented, versioned text format ([`transcript`]); [`replay()`]
//!   re-runs one side against it and reports the first
//!   [`Divergence`]; [`ladder()`] draws it.
//! - the `deterministic` module (feature `insecure-deterministic-crypto`): seeded,
//!   **insecure** crypto and certificates, so that the bytes on the wire
//!   are the same on every run.
//!
//! A complete deterministic test:
//!
//! ```
//! use std::sync::Arc;
//! use tlsbio_memory::deterministic::{DeterministicPki, InsecureDeterministicCrypto};
//! use tlsbio_memory::rustls::version::TLS13;
//! use tlsbio_memory::{Endpoint, Harness, Schedule, Script, Side};
//!
//! fn run(seed: u64) -> String {
//!     let crypto = InsecureDeterministicCrypto::new(seed);
//!     let pki = DeterministicPki::new(seed, &["localhost"]);
//!     let mut pair = Harness::builder(
//!         Endpoint::client(Arc::new(crypto.client_config(&pki, &[&TLS13])), "localhost").unwrap(),
//!         Endpoint::Server(Arc::new(crypto.server_config(&pki, &[&TLS13]))),
//!     )
//!     .schedule(Schedule::seeded(seed))
//!     .client_script(Script::sending(Side::Client, 3000))
//!     .server_script(Script::sending(Side::Server, 3000))
//!     .build()
//!     .unwrap();
//!     let report = pair.run();
//!     assert!(report.is_clean(), "seed {seed}: {report}");
//!     pair.transcript().to_text()
//! }
//!
//! assert_eq!(run(5), run(5));
//! assert_ne!(run(5), run(6));
//! ```
//!
//! See `docs/deterministic-testing.md` in the repository for the why and
//! for reproducing a failing seed.

#![forbid(unsafe_code)]
#![deny(missing_docs)]

mod bio;
mod decrypt;
#[cfg(feature = "insecure-deterministic-crypto")]
pub mod deterministic;
mod harness;
mod ladder;
pub mod pcap;
mod peer;
mod records;
mod replay;
mod schedule;
pub mod shrink;
pub mod trace;
pub mod transcript;

pub use bio::{AnyBio, BioKind};
pub use decrypt::Secret;
pub use harness::{Builder, End, Endpoint, Fault, FaultParseError, Harness, Report};
pub use ladder::ladder;
pub use peer::{payload, App, Close, Script, SideReport, Turn};
pub use replay::{replay, Divergence, Mismatch, Replayed};
pub use schedule::{Action, Capacities, Dir, Schedule, Side};
pub use transcript::{Entry, ParseError, Transcript};

pub use tlsbio;
pub use tlsbio::rustls;

/// The examples in `docs/deterministic-testing.md`, compiled and run as
/// doc tests so that the guide cannot rot.
#[cfg(all(doctest, feature = "insecure-deterministic-crypto"))]
#[doc = include_str!("../../../docs/deterministic-testing.md")]
pub struct DeterministicTestingGuide;
