//! `differential`: the same peer bytes, in the same chunks, into a tlsbio
//! engine and into rustls' own buffered API, built from the same config
//! with the same seeded randomness. rustls is the reference: the two must
//! write byte-identical output, deliver the same plaintext and end the
//! same way (both fail, or neither). Any difference is a bug in tlsbio's
//! layer over rustls.
//!
//! A tlsbio server with its config from the start reads its ClientHello
//! with the real connection, as rustls' `ServerConnection` does, so on
//! rustls 0.23 that is the reference server (rustls' `Acceptor`, which a
//! paused server reads with, answers some malformed first flights with
//! other alerts: docs/architecture.md). The one
//! documented difference of tlsbio's own: bytes that are not TLS at all
//! get `Error::NotTls` and no alert, so only the failure is compared then.

use tlsbio::bio::{Bio, VecBio};
use tlsbio::{Error, Want};

use crate::fixture::{self, Identity, Version};
use crate::flight::Arrival;

// The reference: rustls' own API of the version tlsbio is built with.
#[cfg(not(feature = "rustls-0-24"))]
#[path = "differential/rustls023.rs"]
mod reference;
#[cfg(feature = "rustls-0-24")]
#[path = "differential/rustls024.rs"]
mod reference;

/// What a run produced, to compare.
#[derive(Debug, Default, PartialEq, Eq)]
pub(crate) struct Outcome {
    /// Everything written to the peer.
    pub(crate) output: Vec<u8>,
    /// Plaintext delivered.
    pub(crate) plaintext: Vec<u8>,
    /// Whether it failed (any error but end of data).
    pub(crate) failed: bool,
    /// Our error, for messages.
    pub(crate) error: Option<String>,
    /// Our engine called the input not TLS (it sends no alert then).
    pub(crate) not_tls: bool,
}

/// Byte 0: bit 0 TLS 1.2, bit 1 the engine under test is a client (the
/// input is then a server's bytes, after the ClientHello), bits 4-6 the
/// certificates as in `server_flight` (key kind; client certificates
/// required and present); byte 1: chunk size (0: everything at once). Then
/// the peer's bytes; then end of stream.
pub fn differential(data: &[u8]) {
    let Some((ours, reference)) = outcomes(data) else {
        return;
    };
    compare(&ours, &reference);
}

/// Both runs of an input: ours, and rustls' (`None` where the reference
/// cannot run it).
fn outcomes(data: &[u8]) -> Option<(Outcome, Outcome)> {
    let flags = data.first().copied().unwrap_or(0);
    let version = Version::from_bit(flags & 1 != 0);
    let client = flags & 2 != 0;
    let identity = Arrival::parse(&[flags & 0x70]).0.identity;
    let chunk = match data.get(1).copied().unwrap_or(0) {
        0 => usize::MAX,
        n => usize::from(n),
    };
    let input = data.get(2..).unwrap_or_default();
    let (ours, reference) = if identity == Identity::PLAIN {
        fixture::with(version, |f| {
            let ours = if client {
                tlsbio_run(&mut f.client(0, VecBio::new(), VecBio::new()), input, chunk)
            } else {
                tlsbio_run(&mut f.server(0, VecBio::new(), VecBio::new()), input, chunk)
            };
            let reference = if client {
                reference::client(f.client_config(0), input, chunk)
            } else {
                reference::server(f.server_config(0), input, chunk)
            };
            (ours, reference)
        })
    } else {
        fixture::variant(version, identity, |v| {
            let ours = if client {
                tlsbio_run(&mut v.client(VecBio::new(), VecBio::new()), input, chunk)
            } else {
                tlsbio_run(&mut v.server(VecBio::new(), VecBio::new()), input, chunk)
            };
            let reference = if client {
                reference::client(v.client_config(), input, chunk)
            } else {
                reference::server(v.server_config(), input, chunk)
            };
            (ours, reference)
        })
    };
    Some((ours, reference?))
}

/// The two must agree: failure, plaintext and (unless ours called the
/// input not TLS) every byte written.
fn compare(ours: &Outcome, reference: &Outcome) {
    {
        assert_eq!(
            ours.failed, reference.failed,
            "one failed and the other did not: ours {ours:?}, rustls {reference:?}"
        );
        assert_eq!(
            ours.plaintext, reference.plaintext,
            "different plaintext delivered: ours {:?}",
            ours.error
        );
        if ours.not_tls {
            return; // no alert, by design
        }
        let first = ours
            .output
            .iter()
            .zip(&reference.output)
            .position(|(a, b)| a != b)
            .unwrap_or(ours.output.len().min(reference.output.len()));
        assert!(
            ours.output == reference.output,
            "different output: ours {} bytes, rustls {} bytes, first difference at {first}; \
             ends {:02x?} / {:02x?}; our error {:?}",
            ours.output.len(),
            reference.output.len(),
            &ours.output[ours.output.len().saturating_sub(7)..],
            &reference.output[reference.output.len().saturating_sub(7)..],
            ours.error,
        );
    }
}

fn tlsbio_run<R: Bio, W: Bio>(
    engine: &mut tlsbio::Engine<R, W>,
    input: &[u8],
    chunk: usize,
) -> Outcome {
    let mut out = Outcome::default();
    let mut rest = input;
    let mut buf = vec![0u8; 16 * 1024];
    loop {
        let result = if engine.is_handshaking() {
            engine.do_handshake().map(|()| 0)
        } else {
            engine.read(&mut buf)
        };
        while let Some(bytes) = engine.pop_output() {
            out.output.extend_from_slice(&bytes);
        }
        match result {
            Ok(0) => {}
            Ok(n) => out.plaintext.extend_from_slice(&buf[..n]),
            Err(Error::Want(Want::Read { .. })) => {
                if rest.is_empty() {
                    if engine.rbio().is_shutdown_wr() {
                        return out; // cannot happen: EOF is an error
                    }
                    engine.rbio_mut().shutdown_wr();
                    continue;
                }
                let n = engine.rbio_mut().write(&rest[..chunk.min(rest.len())]);
                rest = &rest[n..];
            }
            Err(Error::ZeroReturn) => return out,
            Err(e) => {
                out.failed = true;
                out.not_tls = matches!(e, Error::NotTls(_));
                out.error = Some(format!("{e:?}"));
                return out;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn recorded_conversations_agree_with_rustls() {
        for (version, bit) in [(Version::Tls13, 0u8), (Version::Tls12, 1)] {
            for identity in Identity::all() {
                let bits = bit | Arrival::identity_bits(identity, false);
                let [c2s, s2c] = fixture::variant(version, identity, |v| v.streams.clone());
                for chunk in [0u8, 1, 7, 200] {
                    for input in [
                        [&[bits, chunk][..], &c2s].concat(),
                        [&[bits | 2, chunk][..], &s2c].concat(),
                    ] {
                        let (ours, reference) = outcomes(&input).expect("the reference runs");
                        compare(&ours, &reference);
                        // Both got through the whole conversation.
                        assert!(!ours.failed, "{version:?} {identity:?}: {:?}", ours.error);
                        assert_eq!(
                            ours.plaintext.len(),
                            fixture::SENT,
                            "{version:?} {identity:?}"
                        );
                    }
                }
            }
        }
    }
}
