//! The seam: the only module that knows a rustls connection type.
//!
//! The engine talks to rustls through [`Session`] and the types here, in
//! concepts that rustls 0.23's unbuffered API and 0.24's caller-buffer API
//! share:
//!
//! - **Input** is one contiguous buffer, decrypted in place, that changes
//!   between calls only by bytes discarded from the front (the count
//!   [`Session::process`] returns) and bytes appended at the back. The
//!   engine keeps that promise across its read BIO and its staging
//!   (`input.rs`).
//! - **Output** is appended to the engine's one output queue
//!   ([`Output`]): in place into the write BIO where there is room, into
//!   the engine's staging otherwise. A session produces output only while
//!   the queue is not stuck, so the staging holds at most one record or
//!   message.
//! - **Events** say what one step came to ([`Event`]): need input, a
//!   ClientHello to choose a config for, application data (lent to a
//!   closure, never copied by the session), the peer's close_notify, or a
//!   fatal error whose alert is already in the output.
//! - **Sending** ([`Session::send`]) encrypts at most what the output can
//!   take, and says when it cannot go on ([`Sent`]).
//!
//! Everything version-specific lives in the backend module: for 0.23 the
//! `Acceptor` replay of a paused server's first flight, the ClientHello
//! copied out of a certificate resolver, which input the deframer still
//! holds, how big an encrypted record will be, and how a queued alert is
//! drained after a failure. docs/architecture.md lists what a 0.24 backend
//! implements behind the same interface.

#[cfg(not(feature = "rustls-0-24"))]
mod rustls023;
#[cfg(not(feature = "rustls-0-24"))]
pub(crate) use rustls023::Session;

#[cfg(feature = "rustls-0-24")]
mod rustls024;
#[cfg(feature = "rustls-0-24")]
pub(crate) use rustls024::Session;

/// What [`Session::process`] does with application data it finds.
pub(crate) enum Data<'a> {
    /// Leave it in the input: the step returns [`Event::DataReady`].
    Leave,
    /// Lend one record's plaintext to this closure, then discard it.
    Take(&'a mut dyn FnMut(&[u8])),
}

/// What one [`Session::process`] step came to.
#[derive(Debug)]
pub(crate) enum Event {
    /// Something happened (a message processed, output appended); step
    /// again.
    Progress,
    /// Nothing more can happen without more input: the handshake is
    /// blocked on the peer, or it is complete and nothing is pending.
    NeedInput,
    /// One record of plaintext went to [`Data::Take`].
    Data,
    /// Application data is waiting, and the step was told to leave it.
    /// (Only the 0.23 backend can leave a record: 0.24 consumes what it
    /// decrypts.)
    #[cfg_attr(feature = "rustls-0-24", allow(dead_code))]
    DataReady,
    /// A server without a config has read the ClientHello: call
    /// [`Session::choose_config`].
    ClientHello,
    /// The peer's certificates are in and the context defers their
    /// verification: call [`Session::verified`] with the verdict. (0.24
    /// only: 0.23 verifies inside rustls.)
    #[cfg_attr(not(feature = "rustls-0-24"), allow(dead_code))]
    Verify,
    /// The peer's close_notify was processed.
    PeerClosed,
    /// rustls failed; the alert it sends for this, if any, is already in
    /// the output.
    Fatal(crate::tls::Error),
    /// The peer sent more than rustls buffers for one handshake message;
    /// no alert (rustls' own server fails the read the same way). (The
    /// `Acceptor` of a paused server on 0.23 only: the unbuffered
    /// connections and 0.24 report it as a rustls error with its alert.)
    #[cfg_attr(feature = "rustls-0-24", allow(dead_code))]
    Overflow,
}

/// What one [`Session::send`] came to.
#[derive(Debug)]
pub(crate) enum Sent {
    /// Done: for data, this many plaintext bytes are encrypted into the
    /// output.
    Done(usize),
    /// The output cannot take a record now; nothing was taken.
    Full,
    /// The session must process the input it holds before it can send
    /// (rustls 0.23 while a handshake message spans records).
    #[cfg_attr(feature = "rustls-0-24", allow(dead_code))]
    ProcessFirst,
    /// The handshake is not complete.
    Handshaking,
    /// Our close_notify is already out: nothing more can be sent.
    Closed,
    /// rustls failed; the alert is in the output.
    Fatal(crate::tls::Error),
    /// The send took more steps than any real one does (a bug). (0.23
    /// only: a 0.24 send is one rustls call.)
    #[cfg_attr(feature = "rustls-0-24", allow(dead_code))]
    Stuck,
}

/// The application's verdict on the peer's certificates, for a session
/// paused at [`Event::Verify`].
#[derive(Debug)]
#[cfg_attr(not(feature = "rustls-0-24"), allow(dead_code))]
pub(crate) enum Verdict {
    /// Trusted: the handshake goes on without the config's verifier.
    Accept,
    /// Refused, for this reason: the handshake fails with the alert rustls
    /// sends for it.
    Reject(crate::tls::Error),
    /// Verified now by the config's verifier, as without the pause.
    WithConfig,
}

/// What [`Session::send`] sends.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Send<'a> {
    /// Encrypt (a prefix of) this plaintext, at most one record's worth.
    Data(&'a [u8]),
    /// Our close_notify.
    CloseNotify,
    /// A TLS 1.3 KeyUpdate asking the peer to update too.
    KeyUpdate,
}

pub(crate) use crate::output::Output;
