//! The echo logic the example and the tests share: each connection's
//! state is the plaintext it read and could not write back yet.
#![allow(dead_code, unreachable_pub)]

use std::io;
use std::time::Instant;

use tlsbio_uring::{Closed, ConnId, Server};

/// Per connection: echoed bytes the write BIO had no room for. While any
/// wait, the connection reads no more (the peer is pushed back).
pub type EchoServer = Server<Vec<u8>>;

/// What became of a ready connection.
#[derive(Debug)]
pub enum Outcome {
    /// Still open; holding this many bytes (driver and application).
    Open { held: usize, handshaking: bool },
    /// It ended and was closed: how (`None`: closed by us after the
    /// peer's close_notify, which is graceful once ours is sent).
    Ended(Option<Closed>),
    /// Not in the table (closing, or gone).
    Stale,
}

/// Moves what `id` has: writes what waits, reads and echoes until
/// `WouldBlock`, closes on end of stream or error.
pub fn on_ready(server: &mut EchoServer, id: ConnId, buf: &mut [u8], now: Instant) -> Outcome {
    let Some((conn, unsent)) = server.entry_mut(id) else {
        return Outcome::Stale;
    };
    let mut end = false;
    'moving: loop {
        while !unsent.is_empty() {
            match conn.write(unsent) {
                Ok(n) => {
                    unsent.drain(..n);
                }
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => break 'moving,
                Err(_) => {
                    end = true;
                    break 'moving;
                }
            }
        }
        match conn.read(buf) {
            Ok(0) => {
                end = true;
                break;
            }
            Ok(n) => unsent.extend_from_slice(&buf[..n]),
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => break,
            Err(_) => {
                end = true;
                break;
            }
        }
    }
    if !end && conn.closed().is_none() {
        return Outcome::Open {
            held: conn.buffered() + unsent.len(),
            handshaking: conn.is_handshaking(),
        };
    }
    let how = conn.closed().cloned();
    server.close(id, now);
    Outcome::Ended(how.or(Some(Closed::Graceful)))
}
