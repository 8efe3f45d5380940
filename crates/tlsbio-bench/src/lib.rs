//! In-memory benchmark scenarios: tlsbio (with each BIO kind), raw rustls
//! (`read_tls` / `write_tls` over `Vec<u8>`) and, with the `openssl`
//! feature, OpenSSL 3 over in-memory streams, on the same certificates,
//! key-exchange group and cipher suite.
//!
//! One [`Bench`] holds the fixtures; [`Bench::run`] does one unit of work
//! (a handshake, or a bulk transfer) and says how much ciphertext it
//! copied. The criterion benches (`benches/compare.rs`), the counting
//! binary (`tlsbio-counts`) and `tlsbio bench` all time these same
//! functions.
//!
//! ```
//! use tlsbio_bench::{Bench, BioKind, Implementation, Scenario};
//!
//! let bench = Bench::new(1 << 20);
//! let work = bench.run(Implementation::Tlsbio(BioKind::Bytes), Scenario::HandshakeTls13P256).unwrap();
//! assert_eq!(work.units, 1.0);
//! let bulk = bench.run(Implementation::Rustls, Scenario::BulkTls13).unwrap();
//! assert_eq!(bulk.units, 1.0); // MiB each way
//! ```

#![forbid(unsafe_code)]
#![deny(missing_docs)]

mod fixture;
#[cfg(feature = "openssl")]
mod openssl_impl;
pub mod paired;
mod rustls_impl;
mod tlsbio_impl;

use std::fmt;

pub use fixture::Bench;

/// Bytes per application write in the bulk scenario.
pub const WRITE_SIZE: usize = 16 * 1024;

/// What is measured.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Scenario {
    /// A full TLS 1.3 handshake, X25519, ECDSA P-256 certificate.
    HandshakeTls13P256,
    /// A full TLS 1.3 handshake, X25519, Ed25519 certificate.
    HandshakeTls13Ed25519,
    /// A full TLS 1.2 ECDHE handshake, X25519, ECDSA P-256 certificate.
    HandshakeTls12P256,
    /// A TLS 1.3 handshake resumed with a ticket (X25519, P-256), the
    /// client taking in the server's new tickets afterwards.
    ResumedTls13,
    /// Bulk data both ways over an established TLS 1.3 connection, in
    /// 16 KiB writes (AES-128-GCM).
    BulkTls13,
}

/// Every scenario, in table order.
pub const SCENARIOS: [Scenario; 5] = [
    Scenario::HandshakeTls13P256,
    Scenario::HandshakeTls13Ed25519,
    Scenario::HandshakeTls12P256,
    Scenario::ResumedTls13,
    Scenario::BulkTls13,
];

impl Scenario {
    /// The scenario's name in tables and JSON.
    pub fn name(self) -> &'static str {
        match self {
            Self::HandshakeTls13P256 => "handshake-tls13-p256",
            Self::HandshakeTls13Ed25519 => "handshake-tls13-ed25519",
            Self::HandshakeTls12P256 => "handshake-tls12-p256",
            Self::ResumedTls13 => "resumed-tls13-p256",
            Self::BulkTls13 => "bulk-tls13-aes128gcm",
        }
    }

    /// The unit of [`Work::units`]: `handshakes/s` or `MiB/s` once divided
    /// by seconds.
    pub fn unit(self) -> &'static str {
        match self {
            Self::BulkTls13 => "MiB/s",
            _ => "handshakes/s",
        }
    }
}

/// A tlsbio BIO kind.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum BioKind {
    /// `VecBio`.
    Vec,
    /// `VecBio`, the engines with `Options::release_buffers` (buffers given
    /// back whenever empty; the idle measurement calls no
    /// `release_memory`).
    VecReleasing,
    /// `VecBio` over buffers that earlier connections gave back
    /// (`VecBio::with_buffer`, `VecBio::into_vec`), as a server keeping a
    /// pool of them does: once the pool is warm, no BIO memory is
    /// allocated per connection.
    VecReused,
    /// `RingBio`.
    Ring,
    /// `BytesBio`, moving `Bytes` chunks between the two engines.
    Bytes,
}

impl BioKind {
    /// The name in tables and JSON.
    pub fn name(self) -> &'static str {
        match self {
            Self::Vec => "vec",
            Self::VecReleasing => "vec+release",
            Self::VecReused => "vec+reuse",
            Self::Ring => "ring",
            Self::Bytes => "bytes",
        }
    }
}

/// Who does the TLS.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Implementation {
    /// tlsbio engines over a BIO kind.
    Tlsbio(BioKind),
    /// Raw rustls: on 0.23 its buffered connections, `write_tls` /
    /// `read_tls` over a `Vec<u8>`; on 0.24 its `Connection` writing into a
    /// `Vec<u8>` and reading from a `VecInput`.
    Rustls,
    /// Raw rustls 0.23 through its unbuffered API (the one tlsbio wraps),
    /// as rustls' own unbuffered examples drive it. Not on 0.24, which
    /// removed that API.
    RustlsUnbuffered,
    /// OpenSSL 3 through the `openssl` crate (feature `openssl`).
    OpenSsl,
}

impl Implementation {
    /// The implementation's name: `tlsbio`, `rustls`, `rustls-unbuffered`
    /// or `openssl`.
    pub fn name(self) -> &'static str {
        match self {
            Self::Tlsbio(_) => "tlsbio",
            Self::Rustls => "rustls",
            Self::RustlsUnbuffered => "rustls-unbuffered",
            Self::OpenSsl => "openssl",
        }
    }

    /// The BIO kind, for tlsbio.
    pub fn bio(self) -> Option<BioKind> {
        match self {
            Self::Tlsbio(kind) => Some(kind),
            _ => None,
        }
    }
}

impl fmt::Display for Implementation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.bio() {
            Some(bio) => write!(f, "tlsbio/{}", bio.name()),
            None => f.write_str(self.name()),
        }
    }
}

/// Every implementation this build can run: tlsbio with each BIO, rustls
/// (and, on 0.23, its unbuffered API), and OpenSSL when the feature is on.
pub fn implementations() -> Vec<Implementation> {
    let mut all = vec![
        Implementation::Tlsbio(BioKind::Vec),
        Implementation::Tlsbio(BioKind::VecReleasing),
        Implementation::Tlsbio(BioKind::VecReused),
        Implementation::Tlsbio(BioKind::Ring),
        Implementation::Tlsbio(BioKind::Bytes),
        Implementation::Rustls,
    ];
    if cfg!(not(feature = "rustls-0-24")) {
        all.push(Implementation::RustlsUnbuffered);
    }
    if cfg!(feature = "openssl") {
        all.push(Implementation::OpenSsl);
    }
    all
}

/// The libraries underneath, for the record: the crypto provider, and the
/// OpenSSL version when it is in the build.
pub fn library_versions() -> String {
    #[cfg(feature = "openssl")]
    let openssl = openssl::version::version();
    #[cfg(not(feature = "openssl"))]
    let openssl = "OpenSSL not in this build";
    #[cfg(not(feature = "rustls-0-24"))]
    let rustls = "rustls 0.23 with aws-lc-rs";
    #[cfg(feature = "rustls-0-24")]
    let rustls = "rustls 0.24.0-dev.2 with rustls-aws-lc-rs";
    format!("{rustls}; {openssl}")
}

/// What one run did.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Work {
    /// Handshakes done, or MiB moved each way.
    pub units: f64,
    /// Ciphertext bytes that crossed between the two sides (both ways).
    pub ciphertext: u64,
    /// Ciphertext bytes copied on the way: by the harness between the
    /// sides, by BIOs making bytes contiguous, and by the library into or
    /// out of its own buffers.
    pub copied: u64,
    /// Whether the handshake was a resumption.
    pub resumed: bool,
}

impl Work {
    /// Ciphertext copies per ciphertext byte.
    pub fn copies_per_byte(&self) -> f64 {
        if self.ciphertext == 0 {
            0.0
        } else {
            self.copied as f64 / self.ciphertext as f64
        }
    }
}

/// A run that could not be done.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BenchError(pub String);

impl fmt::Display for BenchError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for BenchError {}

fn fail(what: impl fmt::Display) -> BenchError {
    BenchError(what.to_string())
}

/// The plaintext the bulk scenario sends: fixed, so that every
/// implementation encrypts the same bytes.
fn bulk_chunk() -> Vec<u8> {
    (0..WRITE_SIZE).map(|i| (i * 7 + 3) as u8).collect()
}
