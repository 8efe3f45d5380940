//! The mio driver for [`tlsbio`]: TLS on non-blocking sockets, for people
//! who run their own event loop.
//!
//! - [`Connection`]: an engine bound to a `mio::net::TcpStream` and a
//!   `Token`. [`ready`](Connection::ready) on each event moves bytes until
//!   `WouldBlock`; [`read`](Connection::read) / [`write`](Connection::write)
//!   are plaintext, `WouldBlock` when nothing can move;
//!   [`reregister`](Connection::reregister) keeps the registered
//!   `Interest` in step with what the connection waits for.
//! - [`Server`]: a listener, its connection table with each connection's
//!   application state, an accept loop that survives running out of file
//!   descriptors, and per-connection handshake and idle deadlines (you
//!   pass `Instant`s in; nothing here reads a clock).
//!
//! The driver is thin: it moves bytes between the engine's BIOs and the
//! socket and maps readiness to wants. What it guarantees:
//!
//! - **Edge-triggered, no lost wake-ups.** Every byte is moved until
//!   `WouldBlock`, or the connection remembers that it stopped early (a
//!   full read BIO) and continues on the application's next `read`.
//! - **Backpressure, bounded memory.** A connection holds at most its two
//!   BIO [`Capacities`] plus the engine's one record each way. When the
//!   application does not read, the read BIO fills and the socket is left
//!   unread (TCP then slows the peer); when the peer does not read,
//!   `write` returns `WouldBlock`.
//! - **Closes are told apart**: `read` returns `Ok(0)` only after
//!   close_notify; a truncated stream is `UnexpectedEof`, a reset the
//!   socket's error, a TLS failure `InvalidData` (with the alert sent), and
//!   [`Connection::closed`] says which ([`Closed`]).
//!
//! See `examples/echo_server.rs` and `examples/echo_client.rs`, and
//! `docs/mio.md` in the repository.

#![forbid(unsafe_code)]
#![deny(missing_docs)]

mod connection;
mod server;

pub use connection::{AbortReason, Closed, Connection, ConnectionStats};
pub use server::{Expired, Server};
pub use tlsbio_serve::{Capacities, Expiry, Limits};

pub use mio;
pub use tlsbio;
pub use tlsbio_serve::{reuse_port_listener, LoopContext, Loops};
