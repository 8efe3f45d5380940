//! The io_uring driver for [`tlsbio`]: TLS on completion I/O, with the
//! kernel reading and writing the engine's BIO memory directly.
//!
//! - [`LendBio`]: what a BIO must promise to lend its memory to the kernel
//!   (an `unsafe` trait, like `bytes::BufMut`), and [`UringBio`], the
//!   bounded BIO that keeps those promises, allocating as it fills.
//! - [`Server`]: a listener with a multishot accept, its connection table
//!   with each connection's application state, per-connection handshake
//!   and idle deadlines (you pass `Instant`s in), connection limits, and
//!   typed closes ([`Closed`]).
//! - [`Connection`]: the application's side of one connection
//!   (`read`/`write`/`shutdown` on plaintext).
//! - [`Loops`]: one event loop (and ring) per core, each with its own
//!   `SO_REUSEPORT` listener on the same port; make a [`Server::from_std`]
//!   on each.
//!
//! # Zero copies between kernel and BIO
//!
//! A receive is submitted on the read BIO's free room
//! ([`LendBio::lend_free`]) and its completion commits the bytes where
//! they landed ([`LendBio::return_free`]); the engine decrypts them in
//! place. A send is submitted on the write BIO's pending ciphertext
//! ([`LendBio::lend_pending`]), which the engine encrypted in place, and
//! its completion consumes what the kernel took. No byte is copied between
//! the kernel and the BIOs.
//!
//! # Safety argument
//!
//! This crate is one of two in the workspace that use `unsafe` (io_uring
//! cannot be driven without it). The invariant that matters: **memory the
//! kernel may still read or write is never freed, moved, or touched by
//! Rust code**. It rests on three things:
//!
//! 1. [`Lease`]: every submission that names memory holds a lease on it,
//!    kept in the server's table of operations until that operation's
//!    completion arrives. A lease holds a reference to the allocation, so
//!    the memory outlives the BIO, the engine and the connection if they
//!    are dropped first.
//! 2. [`LendBio`]'s rules, which [`UringBio`] keeps: while its region is
//!    lent, the BIO makes no slice over it and moves no bytes into it. It
//!    never replaces its storage while free room is lent (the kernel
//!    writes there). While pending bytes are lent it may grow into a new
//!    allocation, copying them: the kernel goes on reading the old one,
//!    which the lease keeps alive and nothing writes.
//! 3. Cancellation and drop: a connection that leaves (closed, expired,
//!    aborted) with operations in flight has them cancelled, and their
//!    leases are dropped only when their (cancelled or completed)
//!    completions arrive. Dropping the [`Server`] cancels everything and
//!    waits, bounded, for the completions; whatever is still in flight
//!    after that has its memory leaked, never freed.
//! 4. Reuse: the server keeps retired connections' BIO memory for new
//!    connections, and hands a piece of it to a new BIO only when nothing
//!    else refers to it (`Rc::get_mut` succeeds), that is when no lease,
//!    and so no operation in the ring, names it. A quiet connection that
//!    gives its read buffer back first cancels the receive that names it
//!    and waits for that completion; the readability poll it waits on
//!    instead names no memory.
//!
//! Each operation also holds its socket (an `Rc`): a descriptor closes
//! only after the last operation naming it completed, so a number reused
//! by a later accept is never the target of an old operation. See
//! `docs/uring.md` in the repository.
//!
//! # Where io_uring is unavailable
//!
//! [`Server::bind`] (and [`probe`]) fail with `ErrorKind::Unsupported` and
//! the reason (the `kernel.io_uring_disabled` sysctl, a seccomp filter, an
//! old kernel).

#![deny(missing_docs)]

mod bio;
mod connection;
mod server;

pub use bio::{live_allocations, Lease, LendBio, UringBio};
pub use connection::{Closed, Connection, ConnectionStats};
pub use server::{probe, ConnId, Expired, Server, ServerStats};
pub use tlsbio_serve::{Capacities, Expiry, Limits};

pub use tlsbio;
pub use tlsbio_serve::{reuse_port_listener, LoopContext, Loops};
