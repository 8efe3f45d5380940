//! The reference of the `differential` target on rustls 0.23: its
//! buffered API.

use std::io::Read;

use tlsbio::rustls::{ClientConfig, ClientConnection, Connection, ServerConfig, ServerConnection};

use super::Outcome;

/// A rustls client, driven as [`rustls_run`].
pub(crate) fn client(
    config: std::sync::Arc<ClientConfig>,
    input: &[u8],
    chunk: usize,
) -> Option<Outcome> {
    let name = "localhost".try_into().expect("a valid name");
    let conn = ClientConnection::new(config, name).expect("a valid config");
    rustls_run(conn.into(), input, chunk)
}

/// A rustls server, driven as [`rustls_run`].
pub(crate) fn server(
    config: std::sync::Arc<ServerConfig>,
    input: &[u8],
    chunk: usize,
) -> Option<Outcome> {
    let conn = ServerConnection::new(config).expect("a valid config");
    rustls_run(conn.into(), input, chunk)
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
