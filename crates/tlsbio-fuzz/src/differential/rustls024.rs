//! The reference of the `differential` target on rustls 0.24: its
//! `Connection` API (`read_tls` into a `VecInput`, `handle_all`), the way
//! its own examples drive a socket. It is not the code path tlsbio's 0.24
//! backend takes (that is the handshake API and the split halves), so the
//! comparison is between two of rustls' own entry points.

use std::sync::Arc;

use tlsbio::rustls::{ClientConfig, Connection, ServerConfig, ServerSide, SideData, Tcp, VecInput};

use super::Outcome;

pub(crate) fn client(config: Arc<ClientConfig>, input: &[u8], chunk: usize) -> Option<Outcome> {
    let name = "localhost".try_into().expect("a valid name");
    let mut out = Outcome::default();
    let conn = config
        .connect(name)
        .build(&mut out.output)
        .expect("a valid config");
    run(conn, out, input, chunk)
}

pub(crate) fn server(config: Arc<ServerConfig>, input: &[u8], chunk: usize) -> Option<Outcome> {
    let conn = Connection::<ServerSide, Tcp>::new(config).expect("a valid config");
    run(conn, Outcome::default(), input, chunk)
}

/// Feeds `input` in `chunk`s, handling every message after each read.
/// `None` if it did not end within a bound.
fn run<S: SideData>(
    mut conn: Connection<S, Tcp>,
    mut out: Outcome,
    input: &[u8],
    chunk: usize,
) -> Option<Outcome> {
    let mut buffer = VecInput::default();
    let mut rest = input;
    for _ in 0..input.len() + 1000 {
        if rest.is_empty() {
            out.failed = true; // end of stream without close_notify
            return Some(out);
        }
        let piece = &rest[..chunk.min(rest.len())];
        let Ok(read) = buffer.read(&mut &piece[..]) else {
            out.failed = true; // more than rustls buffers
            return Some(out);
        };
        rest = &rest[read..];
        match conn
            .read_tls(&mut buffer, &mut out.output)
            .handle_all(&mut out.plaintext)
        {
            Ok(state) if state.peer_has_closed() => return Some(out),
            Ok(_) => {}
            Err(_) => {
                out.failed = true;
                return Some(out);
            }
        }
    }
    None
}
