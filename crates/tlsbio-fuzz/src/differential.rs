//! `differential`: the same peer bytes, in the same chunks, into a tlsbio
//! engine and into rustls' own buffered API, built from the same config
//! with the same seeded randomness. rustls is the reference: the two must
//! write byte-identical output, deliver the same plaintext and end the
//! same way (both fail, or neither). Any difference is a bug in tlsbio's
//! layer over rustls.
//!
//! The reference server reads its ClientHello through rustls' `Acceptor`,
//! as tlsbio's does (docs/architecture.md): rustls' `ServerConnection`
//! answers some malformed first flights with other alerts than
//! `Acceptor` does (a duplicated extension: `IllegalParameter` against
//! `DecodeError`; a first message that is not a ClientHello:
//! `UnexpectedMessage` against none), which is rustls', not ours. The one
//! documented difference of tlsbio's own: bytes that are not TLS at all
//! get `Error::NotTls` and no alert, so only the failure is compared then.

use std::io::Read;

use tlsbio::bio::{Bio, VecBio};
use tlsbio::rustls::server::Acceptor;
use tlsbio::rustls::{ClientConnection, Connection};
use tlsbio::{Error, Want};

use crate::fixture::{self, Version};

/// What a run produced, to compare.
#[derive(Debug, Default, PartialEq, Eq)]
struct Outcome {
    /// Everything written to the peer.
    output: Vec<u8>,
    /// Plaintext delivered.
    plaintext: Vec<u8>,
    /// Whether it failed (any error but end of data).
    failed: bool,
    /// Our error, for messages.
    error: Option<String>,
    /// Our engine called the input not TLS (it sends no alert then).
    not_tls: bool,
}

/// Byte 0: bit 0 TLS 1.2, bit 1 the engine under test is a client (the
/// input is then a server's bytes, after the ClientHello); byte 1: chunk
/// size (0: everything at once). Then the peer's bytes; then end of
/// stream.
pub fn differential(data: &[u8]) {
    let flags = data.first().copied().unwrap_or(0);
    let version = Version::from_bit(flags & 1 != 0);
    let client = flags & 2 != 0;
    let chunk = match data.get(1).copied().unwrap_or(0) {
        0 => usize::MAX,
        n => usize::from(n),
    };
    let input = data.get(2..).unwrap_or_default();
    fixture::with(version, |f| {
        let ours = if client {
            let mut engine = f.client(0, VecBio::new(), VecBio::new());
            tlsbio_run(&mut engine, input, chunk)
        } else {
            let mut engine = f.server(0, VecBio::new(), VecBio::new());
            tlsbio_run(&mut engine, input, chunk)
        };
        let Some(reference) = (if client {
            let name = "localhost".try_into().expect("a valid name");
            let conn = ClientConnection::new(f.client_config(0), name).expect("a valid config");
            rustls_run(conn.into(), input, chunk)
        } else {
            rustls_server(f.server_config(0), input, chunk)
        }) else {
            return;
        };
        assert_eq!(
            ours.failed, reference.failed,
            "one failed and the other did not: ours {ours:?}, rustls {reference:?}"
        );
        assert_eq!(
            ours.plaintext, reference.plaintext,
            "different plaintext delivered"
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
    });
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

/// A rustls server that reads its ClientHello with `Acceptor` (rustls'
/// own pattern for choosing a config late), then goes on as
/// [`rustls_run`].
fn rustls_server(
    config: std::sync::Arc<tlsbio::rustls::ServerConfig>,
    input: &[u8],
    chunk: usize,
) -> Option<Outcome> {
    let mut out = Outcome::default();
    let mut acceptor = Acceptor::default();
    let mut rest = input;
    for _ in 0..input.len() + 1000 {
        let piece = &rest[..chunk.min(rest.len())];
        let Ok(read) = acceptor.read_tls(&mut &piece[..]) else {
            out.failed = true; // more than a ClientHello can be
            return Some(out);
        };
        rest = &rest[read..];
        match acceptor.accept() {
            Ok(None) if read == 0 => {
                out.failed = true; // end of stream inside the ClientHello
                return Some(out);
            }
            Ok(None) => {}
            Ok(Some(accepted)) => match accepted.into_connection(config) {
                Ok(conn) => {
                    let mut after = rustls_run(conn.into(), rest, chunk)?;
                    out.output.append(&mut after.output);
                    after.output = out.output;
                    return Some(after);
                }
                Err((_, mut alert)) => {
                    let _ = alert.write_all(&mut out.output);
                    out.failed = true;
                    return Some(out);
                }
            },
            Err((_, mut alert)) => {
                let _ = alert.write_all(&mut out.output);
                out.failed = true;
                return Some(out);
            }
        }
    }
    None
}

/// rustls, driven the way its own examples drive it. `None` if it did not
/// end within a bound (then there is nothing to compare with).
fn rustls_run(mut conn: Connection, input: &[u8], chunk: usize) -> Option<Outcome> {
    let mut out = Outcome::default();
    let mut rest = input;
    let mut buf = vec![0u8; 16 * 1024];
    for _ in 0..input.len() + 1000 {
        while conn.wants_write() {
            let _ = conn.write_tls(&mut out.output);
        }
        // Read what is decrypted.
        match conn.reader().read(&mut buf) {
            Ok(0) => return Some(out), // close_notify
            Ok(n) => {
                out.plaintext.extend_from_slice(&buf[..n]);
                continue;
            }
            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {}
            Err(_) => {
                out.failed = true; // end of stream without close_notify
                return Some(out);
            }
        }
        let piece = &rest[..chunk.min(rest.len())];
        let read = conn.read_tls(&mut &piece[..]);
        rest = &rest[read.unwrap_or(0)..];
        if let Err(_e) = conn.process_new_packets() {
            while conn.wants_write() {
                let _ = conn.write_tls(&mut out.output);
            }
            // Records authenticated before the bad one were delivered.
            while let Ok(n @ 1..) = conn.reader().read(&mut buf) {
                out.plaintext.extend_from_slice(&buf[..n]);
            }
            out.failed = true;
            return Some(out);
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn recorded_conversations_agree_with_rustls() {
        for (version, bit) in [(Version::Tls13, 0u8), (Version::Tls12, 1)] {
            let [c2s, s2c] = fixture::with(version, |f| f.streams.clone());
            for chunk in [0u8, 1, 7, 200] {
                differential(&[&[bit, chunk][..], &c2s].concat());
                differential(&[&[bit | 2, chunk][..], &s2c].concat());
            }
        }
    }
}
