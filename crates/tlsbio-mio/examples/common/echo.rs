//! The echo application shared by the echo_server example, the load tests
//! and the loopback benchmark, so that all three measure the same code.

use std::io;

use tlsbio_mio::Connection;

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
