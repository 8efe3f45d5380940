//! The seed corpora, generated from deterministic transcripts.
//!
//! `fuzz/seeds/<target>/seed-*` in the repository are exactly
//! [`generate`]'s output; a test checks that they are, and
//! `TLSBIO_BLESS=1 cargo test -p tlsbio-fuzz --test corpus` (or
//! `just fuzz-seeds`) rewrites them after an intended change.
//!
//! Flight and transcript seeds are whole recorded conversations, valid
//! byte for byte for the fixture's deterministic engines, under several
//! fragmentations; the fuzzer starts from a completed handshake and
//! mutates inwards. Structured targets get a few fixed pseudo-random
//! inputs, which decode to varied plans.

use crate::fixture::{self, Identity, Version};
use crate::flight::Arrival;
use crate::mutate;

/// One seed input.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Seed {
    /// The target it is for.
    pub target: &'static str,
    /// Its file name, starting with `seed-`.
    pub name: String,
    /// Its bytes.
    pub bytes: Vec<u8>,
}

/// `(name, echo, chunk byte, capacity byte)`: whole flights into a big
/// BIO, one byte at a time into a one-byte BIO, and three in between.
/// The last gives memory back after every call (capacity byte bit 7).
const ARRIVALS: [(&str, bool, u8, u8); 5] = [
    ("whole", false, 0, 0),
    ("trickle", true, 1, 1),
    ("chunk7-cap25", false, 7, 5),
    ("chunk200-cap1600", true, 200, 40),
    ("chunk50-cap400-release", true, 50, 20 | 0x80),
];

/// One mutation of each kind, as `mutated_transcript` encodes them.
const MUTATIONS: [(&str, &[u8]); 8] = [
    ("clean", &[]),
    ("type", &[0, 1, 23]),
    ("length", &[2, 0, 0x40, 0x00]),
    ("drop", &[5, 1]),
    ("splice", &[7, 1, 0]),
    ("split", &[8, 0, 40]),
    ("flip", &[9, 0, 60, 0x80]),
    ("cut", &[11, 0, 90]),
];

/// Every seed of every target.
pub fn generate() -> Vec<Seed> {
    let mut seeds = Vec::new();
    for version in [Version::Tls13, Version::Tls12] {
        let v = match version {
            Version::Tls13 => "tls13",
            Version::Tls12 => "tls12",
        };
        let [c2s, s2c] = fixture::with(version, |f| f.streams.clone());
        for (target, stream) in [("server_flight", &c2s), ("client_flight", &s2c)] {
            for (name, echo, chunk, cap) in ARRIVALS {
                seeds.push(Seed {
                    target,
                    name: format!("seed-{v}-{name}"),
                    bytes: [&Arrival::header(version, echo, chunk, cap)[..], stream].concat(),
                });
            }
        }
        // The differential target: both directions, four fragmentations.
        let bit = u8::from(version == Version::Tls12);
        for (chunk, name) in [
            (0u8, "whole"),
            (1, "trickle"),
            (7, "chunk7"),
            (200, "chunk200"),
        ] {
            for (dir, flags, stream) in [("server", bit, &c2s), ("client", bit | 2, &s2c)] {
                seeds.push(Seed {
                    target: "differential",
                    name: format!("seed-{v}-{dir}-{name}"),
                    bytes: [&[flags, chunk][..], stream].concat(),
                });
            }
        }
        // The P-256-only server: a HelloRetryRequest in TLS 1.3, P-256
        // ECDHE in TLS 1.2 (header bit 3), with its recorded client side.
        let retry = fixture::with(version, |f| f.retry_stream.clone());
        for (name, chunk, cap) in [("whole", 0, 0), ("trickle", 1, 1)] {
            let mut header = Arrival::header(version, false, chunk, cap);
            header[0] |= 8;
            seeds.push(Seed {
                target: "server_flight",
                name: format!("seed-{v}-retry-{name}"),
                bytes: [&header[..], &retry].concat(),
            });
        }
        // ECDSA and RSA certificates, client certificates, and resumption
        // (header bits 4-7): each recorded conversation whole, and the
        // ECDSA ones trickled as well.
        for identity in Identity::all() {
            for resume in [false, true] {
                if identity == Identity::PLAIN && !resume {
                    continue; // the seeds above
                }
                let [c2s, s2c] = fixture::variant(version, identity, |x| {
                    if resume {
                        x.resumed.clone()
                    } else {
                        x.streams.clone()
                    }
                });
                let kind = format!(
                    "{}{}",
                    identity.name(),
                    if resume { "-resumed" } else { "" }
                );
                let trickle = identity.key == tlsbio_memory::deterministic::LeafKey::EcdsaP256;
                let arrivals: &[(&str, u8, u8)] = if trickle {
                    &[("whole", 0, 0), ("trickle", 1, 1)]
                } else {
                    &[("whole", 0, 0)]
                };
                if !resume {
                    // The differential target, whole, both directions.
                    let bits = Arrival::identity_bits(identity, false);
                    let bit = u8::from(version == Version::Tls12) | bits;
                    for (dir, flags, stream) in [("server", bit, &c2s), ("client", bit | 2, &s2c)] {
                        seeds.push(Seed {
                            target: "differential",
                            name: format!("seed-{v}-{kind}-{dir}-whole"),
                            bytes: [&[flags, 0][..], stream].concat(),
                        });
                    }
                }
                // mutated_transcript: the clean conversation and a flipped
                // byte, both directions.
                for (dir, into_client) in [("c2s", false), ("s2c", true)] {
                    for (name, ops) in [MUTATIONS[0], MUTATIONS[6]] {
                        let mut header = mutate::header(version, into_client, 0, 0);
                        header[0] |= Arrival::identity_bits(identity, resume);
                        seeds.push(Seed {
                            target: "mutated_transcript",
                            name: format!("seed-{v}-{kind}-{dir}-{name}"),
                            bytes: [&header[..], ops].concat(),
                        });
                    }
                }
                // The paused server, choosing this identity's config.
                let mut header = Arrival::header(version, false, 0, 0);
                header[0] |= 4 | Arrival::identity_bits(identity, resume);
                seeds.push(Seed {
                    target: "server_flight",
                    name: format!("seed-{v}-{kind}-paused-whole"),
                    bytes: [&header[..], &c2s].concat(),
                });
                for &(name, chunk, cap) in arrivals {
                    let mut header = Arrival::header(version, false, chunk, cap);
                    header[0] |= Arrival::identity_bits(identity, resume);
                    for (target, stream) in [("server_flight", &c2s), ("client_flight", &s2c)] {
                        seeds.push(Seed {
                            target,
                            name: format!("seed-{v}-{kind}-{name}"),
                            bytes: [&header[..], stream].concat(),
                        });
                    }
                }
            }
        }
        // The paused server: the application chooses its config at the
        // ClientHello (header bit 2), whole and trickled.
        for (name, chunk, cap) in [("whole", 0, 0), ("trickle", 1, 1)] {
            let mut header = Arrival::header(version, false, chunk, cap);
            header[0] |= 4;
            seeds.push(Seed {
                target: "server_flight",
                name: format!("seed-{v}-paused-{name}"),
                bytes: [&header[..], &c2s].concat(),
            });
        }
        for (dir, into_client) in [("c2s", false), ("s2c", true)] {
            for (name, ops) in MUTATIONS {
                seeds.push(Seed {
                    target: "mutated_transcript",
                    name: format!("seed-{v}-{dir}-{name}"),
                    bytes: [&mutate::header(version, into_client, 0, 0)[..], ops].concat(),
                });
            }
        }
    }
    for target in ["schedule", "bio_model", "compat"] {
        for (i, len) in [16, 64, 256, 1024].into_iter().enumerate() {
            seeds.push(Seed {
                target,
                name: format!("seed-random-{len}"),
                bytes: pseudo_random(i as u64 + 1, len),
            });
        }
    }
    seeds
}

/// A fixed byte string (xorshift64*), the same on every platform.
fn pseudo_random(seed: u64, len: usize) -> Vec<u8> {
    let mut x = seed.wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1;
    (0..len)
        .map(|_| {
            x ^= x >> 12;
            x ^= x << 25;
            x ^= x >> 27;
            (x.wrapping_mul(0x2545_f491_4f6c_dd1d) >> 56) as u8
        })
        .collect()
}
