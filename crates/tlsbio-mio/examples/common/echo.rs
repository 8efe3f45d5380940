//! The echo application shared by the echo_server example, the load tests
//! and the loopback benchmark, so that all three run the same code.
// Each of them includes this file and reads a different part of `Outcome`.
#![allow(dead_code)]

use std::io;
use std::time::Instant;

use mio::event::Event;
use mio::{Registry, Token};
use tlsbio_mio::{Connection, Server};

/// What one event came to.
pub(crate) enum Outcome {
    /// New connections were accepted.
    Accepted,
    /// A connection moved on and stays open.
    Open(Token),
    /// A connection ended and was removed: how the echo ended (`Ok` after
    /// the peer's close_notify was answered). Hand it back with
    /// `Server::recycle` for the next connection to start on its buffers,
    /// or drop it.
    Ended(Box<Connection>, io::Result<()>),
    /// An event for a token that is gone.
    Stale,
}

/// An echo server: each connection's state is its read-but-unwritten
/// bytes.
pub(crate) type EchoServer = Server<Vec<u8>>;

/// Handles one event on an echo server: accepts on the listener's token;
/// otherwise moves the connection's bytes, echoes, and re-registers or
/// removes it.
pub(crate) fn on_event(
    server: &mut EchoServer,
    registry: &Registry,
    event: &Event,
    buf: &mut [u8],
) -> io::Result<Outcome> {
    let token = event.token();
    if token == server.token() {
        server.accept(registry, Instant::now())?;
        return Ok(Outcome::Accepted);
    }
    let Some((conn, unsent)) = server.entry_mut(token) else {
        return Ok(Outcome::Stale);
    };
    conn.ready(event);
    let result = echo(conn, unsent, buf).and_then(|open| conn.reregister(registry).map(|()| open));
    match result {
        Ok(true) => Ok(Outcome::Open(token)),
        ended => {
            let (conn, _) = server
                .remove(registry, token)
                .expect("the connection is in the table");
            Ok(Outcome::Ended(Box::new(conn), ended.map(drop)))
        }
    }
}

/// Accepts again if an earlier accept stopped on a transient error (out
/// of file descriptors); the loop calls it once per round.
pub(crate) fn retry_accept(
    server: &mut EchoServer,
    registry: &Registry,
    now: Instant,
) -> io::Result<()> {
    if server.accept_due(now) {
        server.accept(registry, now)?;
    }
    Ok(())
}

/// Echoes what it can without holding more than one read's worth (it stops
/// reading while `out` has bytes the connection would not take).
/// `Ok(true)` while the connection stays open; `Ok(false)` once the peer's
/// close_notify is answered and ours has left.
pub(crate) fn echo(conn: &mut Connection, out: &mut Vec<u8>, buf: &mut [u8]) -> io::Result<bool> {
    loop {
        while !out.is_empty() {
            match conn.write(out) {
                Ok(n) => drop(out.drain(..n)),
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => return Ok(true),
                Err(e) => return Err(e),
            }
        }
        match conn.read(buf) {
            // The peer's close_notify: answer it. The socket closes when
            // the connection is dropped, so stay until ours has left.
            Ok(0) => {
                conn.shutdown()?;
                return Ok(!conn.is_flushed());
            }
            Ok(n) => out.extend_from_slice(&buf[..n]),
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => return Ok(true),
            Err(e) => return Err(e),
        }
    }
}
