//! One TLS connection whose socket I/O the [`Server`](crate::Server)'s
//! ring performs: the application side (plaintext calls) and what the
//! server asks of it (leases to submit, completions to commit).

use std::io;
use std::net::{SocketAddr, TcpStream};
use std::rc::Rc;
use std::time::Instant;

use tlsbio::bio::Bio;
use tlsbio::{Engine, Error, ServerContext, Shutdown, Want};

use crate::bio::{Lease, LendBio, UringBio};

/// A whole record and its header: a tail shorter than this is worth
/// making longer (by compacting) before the next receive.
pub(crate) const RECV_CHUNK: usize = 16 * 1024 + 2048 + 5;

/// How a connection ended.
#[derive(Clone, Debug, PartialEq)]
pub enum Closed {
    /// close_notify both ways.
    Graceful,
    /// The peer's stream ended without close_notify: the data may have
    /// been cut short.
    Truncated,
    /// The socket failed: reset by the peer, or another error.
    Reset(io::ErrorKind),
    /// TLS failed; the alert, if any, was sent.
    Failed(Error),
}

/// A quiet connection's receive holds its read BIO's memory for as long
/// as it is in flight. To give that memory back, the server cancels the
/// receive and waits for readability with no buffer instead
/// (`IORING_OP_POLL_ADD`), then receives again.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Rest {
    /// Receiving as usual.
    Awake,
    /// The receive's cancellation is on its way.
    Parking,
    /// No buffer: a readability poll is due (`polling: false`) or in
    /// flight.
    Parked { polling: bool },
}

/// Counters for tests and benchmarks.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct ConnectionStats {
    /// Ciphertext bytes received.
    pub bytes_in: u64,
    /// Ciphertext bytes sent.
    pub bytes_out: u64,
    /// Receives and sends submitted.
    pub submissions: u64,
    /// The most bytes the connection ever held (both BIOs and the engine).
    pub high_water: usize,
}

/// A server-side TLS connection driven by the [`Server`](crate::Server)'s
/// ring.
///
/// The application reaches it through
/// [`Server::entry_mut`](crate::Server::entry_mut) and calls
/// [`read`](Self::read), [`write`](Self::write) and
/// [`shutdown`](Self::shutdown): they only touch the engine and its BIOs.
/// The ring moves the ciphertext, on the server's next
/// [`turn`](crate::Server::turn).
///
/// Like an edge-triggered poller, the server reports a connection as ready
/// once per completion: read until `WouldBlock` when it does.
#[derive(Debug)]
pub struct Connection {
    engine: Engine<UringBio, UringBio>,
    /// Shared with the operations in flight on it: the descriptor closes
    /// when the last of them and the connection are gone, never while a
    /// submission names it.
    socket: Rc<TcpStream>,
    /// Whether a receive (or a send) is in the ring now.
    pub(crate) receiving: bool,
    pub(crate) sending: bool,
    /// Where the connection is in giving its read buffer back while quiet.
    rest: Rest,
    closed: Option<Closed>,
    deadline: Option<Instant>,
    stats: ConnectionStats,
}

impl Connection {
    /// A server connection on `socket`, with its two BIOs (new, or on a
    /// retired connection's memory).
    pub(crate) fn server(
        context: &ServerContext,
        socket: TcpStream,
        rbio: UringBio,
        wbio: UringBio,
    ) -> Self {
        Self {
            engine: Engine::server(context, rbio, wbio),
            socket: Rc::new(socket),
            receiving: false,
            sending: false,
            rest: Rest::Awake,
            closed: None,
            deadline: None,
            stats: ConnectionStats::default(),
        }
    }

    /// Reads plaintext. `Ok(0)` means the peer sent close_notify (or `buf`
    /// is empty); `WouldBlock` means nothing is ready yet. A truncated
    /// stream is an `UnexpectedEof` error, a reset the socket's error, a
    /// TLS failure `InvalidData` (with the [`tlsbio::Error`] inside).
    pub fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        match self.engine.read(buf) {
            Ok(n) => Ok(n),
            Err(Error::ZeroReturn) => Ok(0),
            Err(Error::Want(_)) => Err(self.socket_error().unwrap_or_else(would_block)),
            Err(e) => Err(self.fail(e)),
        }
    }

    /// Writes plaintext. Partial writes happen; `WouldBlock` means the
    /// handshake is not done yet, or the write BIO is full until the ring
    /// sends more: try again when the server reports the connection ready.
    pub fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        if let Some(e) = self.socket_error() {
            return Err(e);
        }
        match self.engine.write(buf) {
            Ok(n) => Ok(n),
            Err(Error::Want(_)) => Err(would_block()),
            Err(e) => Err(self.fail(e)),
        }
    }

    /// Queues close_notify (`SSL_shutdown`): `Sent` at first, `Complete`
    /// once the peer's close_notify has been read. The ring sends it on
    /// the next turn; [`Server::close`](crate::Server::close) does this and
    /// retires the connection once it is sent.
    pub fn shutdown(&mut self) -> io::Result<Shutdown> {
        match self.engine.shutdown() {
            Ok(Shutdown::Complete) => {
                self.closed.get_or_insert(Closed::Graceful);
                Ok(Shutdown::Complete)
            }
            Ok(state) => Ok(state),
            Err(e) => Err(self.fail(e)),
        }
    }

    /// How the connection ended, once it has.
    pub fn closed(&self) -> Option<&Closed> {
        self.closed.as_ref()
    }

    /// Whether the handshake is still running.
    pub fn is_handshaking(&self) -> bool {
        self.engine.is_handshaking()
    }

    /// The handshake deadline, until the handshake completes.
    pub fn handshake_deadline(&self) -> Option<Instant> {
        self.deadline.filter(|_| self.engine.is_handshaking())
    }

    pub(crate) fn set_handshake_deadline(&mut self, deadline: Instant) {
        self.deadline = Some(deadline);
    }

    /// Bytes this connection holds: both BIOs and the engine's own.
    pub fn buffered(&self) -> usize {
        self.engine.rbio().pending() + self.engine.pending_output() + self.engine.buffered()
    }

    /// Bytes of buffer memory allocated now (both BIOs; the engine's own
    /// staging is in [`buffered`](Self::buffered)).
    pub fn allocated(&self) -> usize {
        self.engine.rbio().allocated() + self.engine.wbio().allocated()
    }

    /// Counters.
    pub fn stats(&self) -> ConnectionStats {
        self.stats
    }

    /// The peer's address (asked of the socket: a system call).
    pub fn peer_addr(&self) -> Option<SocketAddr> {
        self.socket.peer_addr().ok()
    }

    /// The engine, for its queries (protocol version, ALPN, peer
    /// certificates, ...).
    pub fn engine(&self) -> &Engine<UringBio, UringBio> {
        &self.engine
    }

    /// The socket (its descriptor is what the ring's operations name).
    pub fn socket(&self) -> &TcpStream {
        &self.socket
    }

    /// The socket, for an operation to keep open while it is in flight.
    pub(crate) fn socket_handle(&self) -> Rc<TcpStream> {
        self.socket.clone()
    }

    // ---- the server's side ----

    /// Runs handshake steps while they make progress. Errors are kept
    /// ([`closed`](Self::closed)); an alert goes out on the next send.
    pub(crate) fn step(&mut self) {
        while self.engine.is_handshaking() && self.closed.is_none() {
            let before = (self.engine.rbio().pending(), self.engine.pending_output());
            match self.engine.do_handshake() {
                Ok(()) => break,
                Err(Error::Want(Want::Read { .. } | Want::Write)) => {
                    let after = (self.engine.rbio().pending(), self.engine.pending_output());
                    if after == before {
                        break;
                    }
                }
                // A paused server, a deferred verification: not set up by
                // this server's contexts, but say so rather than spin.
                Err(Error::Want(_)) => break,
                Err(e) => self.record_failure(e),
            }
        }
        let held = self.buffered();
        self.stats.high_water = self.stats.high_water.max(held);
    }

    /// A lease for the next receive, if one should be in flight: none is,
    /// the stream has not ended, the connection has not failed, and the
    /// read BIO has room.
    pub(crate) fn next_receive(&mut self) -> Option<Lease> {
        if self.receiving || self.closed_by_socket() || self.engine.rbio().is_shutdown_wr() {
            return None;
        }
        if self.rest != Rest::Awake {
            return None;
        }
        if matches!(self.closed, Some(Closed::Failed(_))) {
            return None;
        }
        // A short tail would have to be made longer by moving the pending
        // bytes. While they hold a whole record the application has yet to
        // read, wait for it to read instead (it is behind anyway): then
        // only a partial record moves, if anything.
        let rbio = self.engine.rbio();
        if rbio.tail_room() < RECV_CHUNK.min(rbio.allocated() / 2).max(1) {
            if self.engine.has_unprocessed_input() {
                return None;
            }
            self.engine.rbio_mut().compact_now();
        }
        // All the room: one completion brings in as much as the peer sent
        // (a readiness driver loops on read(2) for that).
        let lease = self.engine.rbio_mut().lend_free(usize::MAX)?;
        self.receiving = true;
        self.stats.submissions += 1;
        Some(lease)
    }

    /// A receive completed with `result` (bytes, or a negated errno).
    pub(crate) fn received(&mut self, result: i32) {
        self.receiving = false;
        if std::mem::replace(&mut self.rest, Rest::Awake) == Rest::Parking
            && result == -libc::ECANCELED
        {
            // Cancelled to park: nothing arrived, and the read BIO, no
            // longer lent, can give its memory back.
            self.engine.rbio_mut().return_free(0);
            self.engine.release_memory();
            self.rest = Rest::Parked { polling: false };
            return;
        }
        match result {
            0 => {
                self.engine.rbio_mut().return_free(0);
                // During the handshake the step below reports the
                // truncation; after it, the application's next read does.
                self.engine.rbio_mut().shutdown_wr();
            }
            n if n > 0 => {
                self.engine.rbio_mut().return_free(n as usize);
                self.stats.bytes_in += n as u64;
            }
            errno => {
                self.engine.rbio_mut().return_free(0);
                self.socket_failed(io::Error::from_raw_os_error(-errno).kind());
            }
        }
        self.step();
    }

    /// Whether to cancel the receive in flight and park: the connection is
    /// quiet, established and healthy, and its read BIO holds nothing the
    /// application has yet to read. The caller cancels the receive;
    /// [`received`](Self::received) sees the cancellation.
    pub(crate) fn park(&mut self) -> bool {
        let idle = self.receiving
            && self.rest == Rest::Awake
            && self.closed.is_none()
            && !self.engine.is_handshaking()
            && self.engine.rbio().pending() == 0;
        if idle {
            self.rest = Rest::Parking;
        }
        idle
    }

    /// Whether a readability poll should be submitted now (the connection
    /// is parked and none is in flight).
    pub(crate) fn next_poll(&mut self) -> bool {
        if self.rest == (Rest::Parked { polling: false }) && self.closed.is_none() {
            self.rest = Rest::Parked { polling: true };
            return true;
        }
        false
    }

    /// The readability poll completed (readable, or failed: the receive
    /// that follows finds out which).
    pub(crate) fn polled(&mut self) {
        self.rest = Rest::Awake;
    }

    /// Whether the connection is parked: its read BIO holds no memory
    /// while it waits for the peer.
    pub fn is_parked(&self) -> bool {
        matches!(self.rest, Rest::Parked { .. })
    }

    /// A lease for the next send, if one should be in flight.
    pub(crate) fn next_send(&mut self) -> Option<Lease> {
        if self.sending || self.closed_by_socket() {
            return None;
        }
        let lease = self
            .engine
            .take_output(|wbio| wbio.lend_pending(usize::MAX))?;
        self.sending = true;
        self.stats.submissions += 1;
        Some(lease)
    }

    /// A send completed with `result`.
    pub(crate) fn sent(&mut self, result: i32) {
        self.sending = false;
        let taken = result.max(0) as usize;
        // `take_output` moves staged output into the room the send freed.
        self.engine.take_output(|wbio| wbio.return_pending(taken));
        self.stats.bytes_out += taken as u64;
        match result {
            0 => self.socket_failed(io::ErrorKind::WriteZero),
            n if n < 0 => self.socket_failed(io::Error::from_raw_os_error(-n).kind()),
            _ => {}
        }
        self.step();
    }

    /// Whether nothing more will happen on this connection but its
    /// retirement: it ended and everything it had to send is sent (or
    /// cannot be).
    pub(crate) fn is_finished(&self) -> bool {
        self.closed.is_some()
            && !self.sending
            && (self.closed_by_socket() || self.engine.pending_output() == 0)
    }

    /// Whether everything this connection wrote has been sent.
    pub fn is_flushed(&self) -> bool {
        !self.sending && self.engine.pending_output() == 0
    }

    pub(crate) fn release_memory(&mut self) {
        self.engine.release_memory();
    }

    /// The two BIOs, for the server's pool; the socket closes once the
    /// operations still in flight on it have completed.
    pub(crate) fn into_bios(self) -> (UringBio, UringBio) {
        self.engine.into_bios()
    }

    fn closed_by_socket(&self) -> bool {
        matches!(self.closed, Some(Closed::Reset(_)))
    }

    fn socket_error(&self) -> Option<io::Error> {
        match self.closed {
            Some(Closed::Reset(kind)) => Some(kind.into()),
            _ => None,
        }
    }

    fn socket_failed(&mut self, kind: io::ErrorKind) {
        if !matches!(self.closed, Some(Closed::Failed(_))) {
            self.closed = Some(Closed::Reset(kind));
        }
    }

    fn record_failure(&mut self, e: Error) {
        self.closed = Some(match e {
            Error::UnexpectedEof { .. } => Closed::Truncated,
            e => Closed::Failed(e),
        });
    }

    /// A fatal engine error from an application call: recorded, and handed
    /// back as an `io::Error`.
    fn fail(&mut self, e: Error) -> io::Error {
        if e.is_fatal() && !self.closed_by_socket() {
            self.record_failure(e.clone());
        }
        io::Error::from(e)
    }
}

fn would_block() -> io::Error {
    io::ErrorKind::WouldBlock.into()
}
