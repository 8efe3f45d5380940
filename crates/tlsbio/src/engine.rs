//! The engine: rustls' protocol over a read BIO and a write BIO, with
//! OpenSSL's want-read / want-write contract.

use std::collections::VecDeque;
use std::sync::Arc;

use bytes::Bytes;
use rustls::pki_types::{CertificateDer, ServerName};
use rustls::{ClientConfig, HandshakeKind, ProtocolVersion, ServerConfig, SupportedCipherSuite};

use crate::bio::Bio;
use crate::error::{AlertSent, Limit, ProtocolError, Usage};
use crate::hello::ClientHello;
use crate::record::{self, Scanner, HEADER_LEN, MAX_WIRE_RECORD};
use crate::session::{Action, Outcome, Session, WriteOp, WriteOutcome};
use crate::state::{Event, HandshakeState};
use crate::{Error, Want};

/// The most plaintext one record carries (RFC 8446 section 5.1).
const MAX_FRAGMENT: usize = 16_384;

/// A guess at per-record overhead (header, AEAD tag, TLS 1.3 content
/// type, TLS 1.2 explicit nonce) that lets a write usually find room in
/// one try. The exact figure comes from rustls when the guess is short.
const OVERHEAD_GUESS: usize = 32;

/// Room for an encrypted alert or KeyUpdate record.
const SMALL_RECORD: usize = 64;

/// The most input the engine will stage: the largest handshake message
/// rustls accepts (2^16 bytes) spread over records, plus one record.
const MAX_STAGED_INPUT: usize = 65_536 + 4 * HEADER_LEN + MAX_WIRE_RECORD;

/// rustls' bound on one handshake message, with the buffering it needs.
const MAX_HANDSHAKE_MESSAGE: usize = 65_535;

/// Steps one call may take before it must have returned. Each step either
/// consumes input, produces output, or changes state, so a real connection
/// needs a handful; the bound makes a hang impossible whatever rustls does.
const MAX_STEPS: usize = 10_000;

/// Options that change the engine's contract, like `SSL_set_options`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct Options {
    /// Report a transport EOF without close_notify, between records and
    /// after the handshake, as a clean close ([`Error::ZeroReturn`]) instead
    /// of [`Error::UnexpectedEof`]: `SSL_OP_IGNORE_UNEXPECTED_EOF`.
    ///
    /// Off by default because it lets an attacker truncate data. Turn it on
    /// only for protocols that frame their own messages.
    pub ignore_unexpected_eof: bool,
}

impl Options {
    /// Sets [`Options::ignore_unexpected_eof`].
    pub fn ignore_unexpected_eof(mut self, on: bool) -> Self {
        self.ignore_unexpected_eof = on;
        self
    }
}

/// How far [`Engine::shutdown`] got, like `SSL_shutdown`'s 0 and 1.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Shutdown {
    /// Our close_notify is in the write BIO (`SSL_shutdown` returned 0).
    /// Call again to wait for the peer's.
    Sent,
    /// Both close_notify alerts have been exchanged (`SSL_shutdown`
    /// returned 1).
    Complete,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum CloseState {
    Open,
    /// close_notify is encoded but not all of it is in the write BIO yet.
    Queued,
    Sent,
}

/// Counters for tests and benchmarks.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct EngineStats {
    /// rustls steps taken.
    pub steps: u64,
    /// Input bytes copied into the engine's staging (first flight of a
    /// paused server; records the read BIO was too small to hold).
    pub input_staged: u64,
    /// Output bytes that went through the engine's staging rather than
    /// straight into the write BIO (handshake messages, alerts, records
    /// the write BIO had no contiguous room for).
    pub output_staged: u64,
    /// Application data dropped while [`Engine::shutdown`] waited for the
    /// peer's close_notify.
    pub discarded_after_shutdown: u64,
    /// The most bytes the engine itself ever held (staged input, staged
    /// output and undelivered plaintext).
    pub high_water: usize,
}

/// A TLS connection over two BIOs: `rbio` supplies ciphertext from the
/// peer, `wbio` receives ciphertext for the peer.
///
/// See the [crate documentation](crate) for the contract and the driver
/// loop.
pub struct Engine<R, W> {
    session: Session,
    rbio: R,
    wbio: W,
    /// Input taken out of the read BIO: the first flight of a paused server,
    /// or records the read BIO could not hold whole.
    staged_in: Vec<u8>,
    scan: Scanner,
    /// Output not yet in the write BIO: at most one handshake message,
    /// alert or record.
    staged_out: Vec<u8>,
    /// Plaintext decrypted but not yet read, and how much of it was read.
    held: Vec<u8>,
    held_pos: usize,
    /// Whether rustls has discarded all the input it processed, so that a
    /// step with an empty input is safe. rustls' handshake deframer keeps
    /// offsets into the input while a handshake message spans records;
    /// stepping with another buffer then would index out of range.
    settled: bool,
    /// The last step read from `staged_in`, so bytes in the read BIO may
    /// not have been offered to rustls yet.
    stepped_on_staging: bool,
    /// Where the first incomplete record was when the last [`Want::Read`]
    /// was returned: every complete record before it was offered to rustls.
    /// `None` once input was consumed since (the front is then unseen).
    want_mark: Option<usize>,
    fatal: Option<Error>,
    peer_closed: bool,
    close: CloseState,
    started: bool,
    state: HandshakeState,
    events: VecDeque<Event>,
    options: Options,
    stats: EngineStats,
}

impl<R: Bio, W: Bio> Engine<R, W> {
    /// A client for `server_name` (used for SNI and certificate checks).
    ///
    /// Fails with [`Usage::Config`] if rustls rejects the configuration, or
    /// [`Usage::EarlyDataUnsupported`] if it enables 0-RTT.
    pub fn client(
        config: Arc<ClientConfig>,
        server_name: ServerName<'static>,
        rbio: R,
        wbio: W,
    ) -> Result<Self, Error> {
        if config.enable_early_data {
            return Err(Usage::EarlyDataUnsupported.into());
        }
        let session = Session::client(config, server_name).map_err(Usage::Config)?;
        Ok(Self::with_session(session, rbio, wbio))
    }

    /// A server with a fixed configuration.
    pub fn server(config: Arc<ServerConfig>, rbio: R, wbio: W) -> Result<Self, Error> {
        if config.max_early_data_size != 0 {
            return Err(Usage::EarlyDataUnsupported.into());
        }
        // Fail now, not at the first byte, if rustls rejects the config.
        Session::check_server_config(&config).map_err(Usage::Config)?;
        Ok(Self::with_session(
            Session::accepting(Some(config)),
            rbio,
            wbio,
        ))
    }

    /// A server that pauses once it has read the ClientHello, so that the
    /// caller can choose a configuration (certificate, ALPN, versions) from
    /// what the client offered, asynchronously if it likes.
    ///
    /// [`accept`](Self::accept) returns [`Want::ClientHello`]; then
    /// [`client_hello`](Self::client_hello) shows the offer and
    /// [`resume`](Self::resume) continues with the chosen config. This is
    /// the analogue of `SSL_CTX_set_client_hello_cb` returning
    /// `SSL_CLIENT_HELLO_RETRY`.
    pub fn server_paused(rbio: R, wbio: W) -> Self {
        Self::with_session(Session::accepting(None), rbio, wbio)
    }

    fn with_session(session: Session, rbio: R, wbio: W) -> Self {
        Self {
            session,
            rbio,
            wbio,
            staged_in: Vec::new(),
            scan: Scanner::default(),
            staged_out: Vec::new(),
            held: Vec::new(),
            held_pos: 0,
            settled: true,
            stepped_on_staging: false,
            want_mark: None,
            fatal: None,
            peer_closed: false,
            close: CloseState::Open,
            started: false,
            state: HandshakeState::Before,
            events: VecDeque::new(),
            options: Options::default(),
            stats: EngineStats::default(),
        }
    }

    /// Replaces the engine's [`Options`].
    pub fn with_options(mut self, options: Options) -> Self {
        self.options = options;
        self
    }

    /// Continues a server paused at the ClientHello with the configuration
    /// the caller chose. The ClientHello is processed again by a connection
    /// built from `config`; nothing the client sent is lost.
    pub fn resume(&mut self, config: Arc<ServerConfig>) -> Result<(), Error> {
        if !self.session.is_paused() {
            return Err(Usage::NotPaused.into());
        }
        if config.max_early_data_size != 0 {
            return Err(Usage::EarlyDataUnsupported.into());
        }
        self.session.resume(config).map_err(Usage::Config)?;
        self.settled = true;
        self.update_state();
        Ok(())
    }

    /// Drives the handshake (`SSL_do_handshake`). `Ok(())` once it is
    /// complete and our last flight is in the output
    /// ([`pending_output`](Self::pending_output)).
    pub fn do_handshake(&mut self) -> Result<(), Error> {
        let result = self.handshake();
        self.update_state();
        result
    }

    /// [`do_handshake`](Self::do_handshake) under OpenSSL's server name.
    pub fn accept(&mut self) -> Result<(), Error> {
        self.do_handshake()
    }

    /// [`do_handshake`](Self::do_handshake) under OpenSSL's client name.
    pub fn connect(&mut self) -> Result<(), Error> {
        self.do_handshake()
    }

    /// Reads plaintext into `buf` (`SSL_read`), driving the handshake first
    /// if it is not complete.
    ///
    /// Returns `Ok(n)` with `n > 0` (or 0 for an empty `buf`),
    /// [`Error::ZeroReturn`] once the peer's close_notify is reached, or a
    /// want. At most one record is decrypted per call; if `buf` is smaller
    /// than the record, the rest is held and returned by the next calls
    /// before any more input is consumed.
    pub fn read(&mut self, buf: &mut [u8]) -> Result<usize, Error> {
        let result = self.read_inner(buf);
        self.update_state();
        result
    }

    /// Encrypts plaintext from `buf` into the write BIO (`SSL_write`),
    /// driving the handshake first if it is not complete.
    ///
    /// Writes are *partial*: `Ok(n)` means the first `n` bytes of `buf` are
    /// encrypted and in the write BIO (or, for one record at most, in the
    /// engine's staging); the caller passes the rest again. [`Want::Write`]
    /// means nothing of `buf` was taken, so a retry may pass *any* buffer:
    /// OpenSSL's `SSL_MODE_ENABLE_PARTIAL_WRITE` and
    /// `SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER` are always on.
    pub fn write(&mut self, buf: &[u8]) -> Result<usize, Error> {
        let result = self.write_inner(buf);
        self.update_state();
        result
    }

    /// Sends close_notify, then waits for the peer's (`SSL_shutdown`).
    ///
    /// The first call queues our close_notify and returns
    /// [`Shutdown::Sent`] once it is in the write BIO, without waiting for
    /// the peer (or [`Shutdown::Complete`] if the peer had already closed).
    /// Our write side is then closed; reads still work (half-close). Calling
    /// again waits for the peer's close_notify, returning
    /// [`Want::Read`] until it arrives; application data that arrives while
    /// `shutdown` waits is dropped (counted in
    /// [`EngineStats::discarded_after_shutdown`]), as OpenSSL does. To keep
    /// it, call [`read`](Self::read) until [`Error::ZeroReturn`] instead.
    ///
    /// Safe to retry after any want.
    pub fn shutdown(&mut self) -> Result<Shutdown, Error> {
        let result = self.shutdown_inner();
        self.update_state();
        result
    }

    /// Sends a TLS 1.3 KeyUpdate, asking the peer to update its keys too
    /// (RFC 8446 section 4.6.3).
    pub fn key_update(&mut self) -> Result<(), Error> {
        let result = self.key_update_inner();
        self.update_state();
        result
    }

    // ---- output: the one place ciphertext leaves ----

    /// Ciphertext waiting to be sent: everything in the write BIO plus what
    /// the engine queued behind it because the write BIO was full. Zero
    /// means every byte the engine produced has been taken.
    ///
    /// The driver rule is one sentence: *after every call, take output
    /// until this is zero (or the transport is full)*. Take it with
    /// [`send_output`](Self::send_output), [`pop_output`](Self::pop_output)
    /// or [`take_output`](Self::take_output); they move queued output into
    /// the room they free, so nothing is left behind.
    #[must_use]
    pub fn pending_output(&self) -> usize {
        self.wbio.pending() + self.staged_out.len()
    }

    /// Shows the ciphertext at the front of the output and removes the
    /// first `n` bytes of it, where `(n, value)` is what `f` returns: look,
    /// then commit, so a short socket write loses nothing. Then moves
    /// output the engine queued into the room freed.
    ///
    /// `f` sees an empty slice when nothing is pending. A count larger than
    /// the slice is clamped.
    ///
    /// ```
    /// # use tlsbio::bio::VecBio;
    /// # fn drive(engine: &mut tlsbio::Engine<VecBio, VecBio>, socket: &mut Vec<u8>) {
    /// // After any call into the engine:
    /// while engine.pending_output() > 0 {
    ///     let sent = engine.send_output(|bytes| {
    ///         socket.extend_from_slice(bytes); // a socket write may be short
    ///         (bytes.len(), bytes.len())
    ///     });
    ///     if sent == 0 {
    ///         break; // the transport is full: wait until it is writable
    ///     }
    /// }
    /// # }
    /// ```
    pub fn send_output<T>(&mut self, f: impl FnOnce(&[u8]) -> (usize, T)) -> T {
        let value = if self.wbio.pending() == 0 && !self.staged_out.is_empty() {
            // Only a write BIO that cannot hold a single byte gets here.
            let (n, value) = f(&self.staged_out);
            self.staged_out.drain(..n.min(self.staged_out.len()));
            value
        } else {
            self.wbio.read_in_place(|bytes| f(bytes))
        };
        self.flush_out();
        value
    }

    /// Removes the output in the write BIO as one [`Bytes`] chunk (without
    /// a copy for [`BytesBio`](crate::bio::BytesBio)), then moves queued
    /// output into the room freed. `None` when nothing is pending.
    ///
    /// `while let Some(chunk) = engine.pop_output() { send(chunk) }` takes
    /// everything.
    pub fn pop_output(&mut self) -> Option<Bytes> {
        let chunk = if self.wbio.pending() == 0 && !self.staged_out.is_empty() {
            Some(Bytes::from(std::mem::take(&mut self.staged_out)))
        } else {
            self.wbio.pop_bytes()
        };
        self.flush_out();
        chunk
    }

    /// Lends the write BIO to `f`, for a driver that takes output in a way
    /// of its own (a BIO's zero-copy calls, a vectored write), then moves
    /// queued output into the room `f` freed. `f` should only take bytes
    /// out: what it writes into the write BIO is sent as if the engine had
    /// written it.
    pub fn take_output<T>(&mut self, f: impl FnOnce(&mut W) -> T) -> T {
        let value = f(&mut self.wbio);
        self.flush_out();
        value
    }

    // ---- queries ----

    /// Whether the handshake is still under way (`SSL_in_init`).
    pub fn is_handshaking(&self) -> bool {
        self.session.is_handshaking()
    }

    /// The negotiated protocol version, once known.
    pub fn protocol_version(&self) -> Option<ProtocolVersion> {
        self.session.protocol_version()
    }

    /// The negotiated cipher suite, once known.
    pub fn cipher_suite(&self) -> Option<SupportedCipherSuite> {
        self.session.cipher_suite()
    }

    /// The negotiated ALPN protocol, if any.
    pub fn alpn_protocol(&self) -> Option<&[u8]> {
        self.session.alpn_protocol()
    }

    /// On a server, the SNI name the client sent.
    pub fn server_name(&self) -> Option<&str> {
        self.session.server_name()
    }

    /// The peer's certificate chain, leaf first, once received.
    pub fn peer_certificates(&self) -> Option<&[CertificateDer<'static>]> {
        self.session.peer_certificates()
    }

    /// Whether the handshake was full or resumed, once complete
    /// (`SSL_session_reused`).
    pub fn handshake_kind(&self) -> Option<HandshakeKind> {
        self.session.handshake_kind()
    }

    /// Whether this session was resumed.
    pub fn is_resumed(&self) -> bool {
        self.handshake_kind() == Some(HandshakeKind::Resumed)
    }

    /// The ClientHello of a server paused by
    /// [`server_paused`](Self::server_paused), while it waits for
    /// [`resume`](Self::resume).
    pub fn client_hello(&self) -> Option<&ClientHello> {
        self.session.client_hello()
    }

    /// Where the connection is (`SSL_get_state`).
    pub fn state(&self) -> HandshakeState {
        self.state
    }

    /// The next queued event, if any. Events are queued as they happen and
    /// never delivered by callback.
    #[must_use]
    pub fn poll_event(&mut self) -> Option<Event> {
        self.events.pop_front()
    }

    /// Plaintext bytes decrypted and waiting to be read (`SSL_pending`).
    pub fn pending(&self) -> usize {
        self.held.len() - self.held_pos
    }

    /// Whether a call could make progress without any more input from the
    /// transport: plaintext is waiting ([`pending`](Self::pending)), a
    /// complete record sits in the input that the engine has not looked at
    /// yet, the bytes asked for by the last [`Want::Read`] have arrived, or
    /// the read BIO was marked at end of stream and that has not been
    /// reported. A driver must not park waiting for readability while this
    /// is true (`SSL_has_pending`, made exact).
    ///
    /// Half a record is *not* unprocessed input: a driver that parks on it
    /// is woken by the rest of it, and one that calls the engine instead
    /// just gets the same want back.
    ///
    /// Takes `&mut self` because looking at a ring BIO's bytes may rotate
    /// them into one slice.
    pub fn has_unprocessed_input(&mut self) -> bool {
        if self.pending() > 0 {
            return true;
        }
        if self.fatal.is_some() || self.peer_closed {
            return false;
        }
        if self.rbio.is_shutdown_wr() {
            return true;
        }
        if self.rbio.write_guarantee() == 0 && self.rbio.pending() > 0 {
            // A full read BIO: the next call moves it into staging, and the
            // driver cannot add anything until it does.
            return true;
        }
        // Complete records before `start` were offered to rustls already.
        let start = self.want_mark.unwrap_or(0);
        let staged = &self.staged_in;
        self.rbio.read_in_place(|bytes| {
            let complete = if start <= staged.len() {
                record::front_record_complete(&staged[start..], bytes)
            } else {
                record::front_record_complete(&[], bytes.get(start - staged.len()..).unwrap_or(&[]))
            };
            (0, complete)
        })
    }

    /// The least number of bytes that can make progress on the read side
    /// (`BIO_ctrl_get_read_request`); the same number [`Want::Read`]
    /// carries.
    ///
    /// It is the rest of the current record once its header has arrived,
    /// otherwise the rest of the header, but never more than the read BIO
    /// can take now ([`Bio::write_guarantee`]): a driver that delivers
    /// exactly this many bytes and calls again always makes progress, even
    /// through a read BIO smaller than a record (the engine then moves the
    /// bytes into its own bounded staging and asks for the rest).
    pub fn read_request(&mut self) -> usize {
        let needed = self.bytes_to_complete_record();
        needed.min(self.rbio.write_guarantee()).max(1)
    }

    fn bytes_to_complete_record(&mut self) -> usize {
        if self.staged_in.is_empty() {
            let scan = &mut self.scan;
            self.rbio.read_in_place(|input| {
                scan.scan(input);
                (0, scan.needed(input))
            })
        } else {
            self.scan.scan(&self.staged_in);
            self.scan
                .needed(&self.staged_in)
                .saturating_sub(self.rbio.pending())
        }
    }

    /// Bytes held inside the engine: staged input and output, and
    /// undelivered plaintext. The BIOs' contents are not included.
    pub fn buffered(&self) -> usize {
        self.staged_in.len() + self.staged_out.len() + self.pending()
    }

    /// Frees the buffers an idle connection does not need: the engine's
    /// empty staging and plaintext buffers, and whatever the BIOs can give
    /// back ([`Bio::release_memory`]). Nothing pending is touched; the
    /// next record allocates again. Call it when a connection goes quiet
    /// (a driver that keeps thousands of mostly idle connections should).
    ///
    /// ```
    /// # use tlsbio::bio::VecBio;
    /// # fn idle(engine: &mut tlsbio::Engine<VecBio, VecBio>) {
    /// engine.release_memory();
    /// # }
    /// ```
    pub fn release_memory(&mut self) {
        for buffer in [&mut self.staged_in, &mut self.staged_out] {
            if buffer.is_empty() {
                *buffer = Vec::new();
            }
        }
        if self.held_pos >= self.held.len() {
            self.held = Vec::new();
            self.held_pos = 0;
        }
        self.rbio.release_memory();
        self.wbio.release_memory();
    }

    /// Counters for tests and benchmarks.
    pub fn stats(&self) -> EngineStats {
        self.stats
    }

    /// The options in force.
    pub fn options(&self) -> Options {
        self.options
    }

    /// The read BIO.
    pub fn rbio(&self) -> &R {
        &self.rbio
    }

    /// The read BIO, for the driver to write ciphertext into.
    pub fn rbio_mut(&mut self) -> &mut R {
        &mut self.rbio
    }

    /// The write BIO, for inspection. Take output with
    /// [`send_output`](Self::send_output) and its siblings, never from here:
    /// [`pending_output`](Self::pending_output) counts what the engine
    /// queued behind it too.
    pub fn wbio(&self) -> &W {
        &self.wbio
    }

    /// Takes the engine apart, returning its BIOs. Output the engine queued
    /// behind a full write BIO is lost: take it first.
    pub fn into_bios(self) -> (R, W) {
        (self.rbio, self.wbio)
    }

    // ---- the machinery ----

    fn handshake(&mut self) -> Result<(), Error> {
        self.check()?;
        for _ in 0..MAX_STEPS {
            // Step until rustls has nothing left to emit: a TLS 1.2 server
            // stops "handshaking" before its Finished is encoded.
            match self.step(&mut Action::Drive)? {
                // `step` turned an overflow into the error already.
                Outcome::Progress | Outcome::Overflow => {}
                Outcome::NeedInput
                | Outcome::Idle
                | Outcome::DataReady
                | Outcome::Read(_)
                | Outcome::Discarded(_) => {
                    if !self.session.is_handshaking() {
                        return Ok(());
                    }
                    self.need_input()?;
                }
                Outcome::PeerClosed | Outcome::Closed => {
                    self.peer_closed();
                    if !self.session.is_handshaking() {
                        return Ok(());
                    }
                }
                Outcome::Hello => return Err(Want::ClientHello.into()),
                Outcome::Failed(e) => return Err(self.fail(e)),
            }
        }
        Err(self.stuck())
    }

    fn read_inner(&mut self, buf: &mut [u8]) -> Result<usize, Error> {
        if self.pending() > 0 {
            return Ok(self.take_held(buf));
        }
        self.check()?;
        if buf.is_empty() {
            return Ok(0);
        }
        if self.peer_closed {
            return Err(Error::ZeroReturn);
        }
        for _ in 0..MAX_STEPS {
            let mut held = std::mem::take(&mut self.held);
            let outcome = self.step(&mut Action::Read {
                buf: &mut *buf,
                held: &mut held,
            });
            self.held = held;
            self.held_pos = 0;
            self.note_held();
            match outcome? {
                Outcome::Read(n) => return Ok(n),
                Outcome::Progress
                | Outcome::DataReady
                | Outcome::Discarded(_)
                | Outcome::Overflow => {}
                Outcome::NeedInput | Outcome::Idle => self.need_input()?,
                Outcome::PeerClosed | Outcome::Closed => {
                    self.peer_closed();
                    return Err(Error::ZeroReturn);
                }
                Outcome::Hello => return Err(Want::ClientHello.into()),
                Outcome::Failed(e) => return Err(self.fail(e)),
            }
        }
        Err(self.stuck())
    }

    fn write_inner(&mut self, buf: &[u8]) -> Result<usize, Error> {
        self.check()?;
        if self.close != CloseState::Open {
            return Err(Usage::WriteAfterShutdown.into());
        }
        if buf.is_empty() {
            return Ok(0);
        }
        if self.is_handshaking() {
            self.handshake()?;
        }
        let mut written = 0;
        while written < buf.len() {
            let end = buf.len().min(written + MAX_FRAGMENT);
            match self.write_op(WriteOp::Data(&buf[written..end])) {
                Ok(n) => written += n,
                Err(e) if written > 0 && e.want().is_some() => break,
                Err(e) => return Err(e),
            }
        }
        Ok(written)
    }

    fn shutdown_inner(&mut self) -> Result<Shutdown, Error> {
        self.check()?;
        match self.close {
            CloseState::Open => {
                if self.is_handshaking() {
                    return Err(Usage::HandshakeNotComplete.into());
                }
                self.write_op(WriteOp::CloseNotify)?;
                self.close = CloseState::Queued;
                self.shutdown_sent()
            }
            CloseState::Queued => self.shutdown_sent(),
            CloseState::Sent => self.await_close_notify(),
        }
    }

    fn shutdown_sent(&mut self) -> Result<Shutdown, Error> {
        if !self.flush_out() {
            return Err(self.output_stuck());
        }
        self.close = CloseState::Sent;
        Ok(if self.peer_closed {
            Shutdown::Complete
        } else {
            Shutdown::Sent
        })
    }

    fn await_close_notify(&mut self) -> Result<Shutdown, Error> {
        // Plaintext not yet read is dropped too, and counted, as documented.
        self.stats.discarded_after_shutdown += self.pending() as u64;
        self.held.clear();
        self.held_pos = 0;
        for _ in 0..MAX_STEPS {
            if self.peer_closed {
                return Ok(Shutdown::Complete);
            }
            match self.step(&mut Action::Discard)? {
                Outcome::Discarded(n) => self.stats.discarded_after_shutdown += n as u64,
                Outcome::PeerClosed | Outcome::Closed => self.peer_closed(),
                Outcome::Failed(e) => return Err(self.fail(e)),
                _ => self.need_input()?,
            }
        }
        Err(self.stuck())
    }

    fn key_update_inner(&mut self) -> Result<(), Error> {
        self.check()?;
        if self.is_handshaking() {
            return Err(Usage::HandshakeNotComplete.into());
        }
        if self.protocol_version() != Some(ProtocolVersion::TLSv1_3) {
            return Err(Usage::KeyUpdateNeedsTls13.into());
        }
        if self.close != CloseState::Open {
            return Err(Usage::WriteAfterShutdown.into());
        }
        self.write_op(WriteOp::KeyUpdate)?;
        // The KeyUpdate message is encoded on the next write-side step.
        self.write_op(WriteOp::Data(&[]))?;
        Ok(())
    }

    /// The sticky error, after one more try at flushing its alert.
    fn check(&mut self) -> Result<(), Error> {
        self.started = true;
        self.flush_out();
        match &self.fatal {
            Some(e) => Err(e.clone()),
            None => Ok(()),
        }
    }

    /// One rustls step over the current input. Output is staged, then moved
    /// to the write BIO; the step is not taken while output is stuck.
    fn step(&mut self, action: &mut Action<'_>) -> Result<Outcome, Error> {
        if !self.flush_out() {
            return Err(self.output_stuck());
        }
        self.stats.steps += 1;
        let Self {
            session,
            rbio,
            staged_in,
            scan,
            staged_out,
            ..
        } = self;
        let from_rbio = staged_in.is_empty() && !session.is_accepting();
        self.stepped_on_staging = !from_rbio;
        let outcome = if from_rbio {
            rbio.read_in_place(|input| {
                scan.scan(input);
                let (discard, outcome) = session.step(input, action, staged_out);
                scan.discard(discard);
                (discard, (discard, outcome))
            })
        } else {
            scan.scan(staged_in);
            let (discard, outcome) = session.step(staged_in, action, staged_out);
            staged_in.drain(..discard.min(staged_in.len()));
            scan.discard(discard);
            (discard, outcome)
        };
        let (discard, outcome) = outcome;
        if discard > 0 {
            self.want_mark = None;
        }
        self.settled = match outcome {
            // rustls drained its input: every complete record is processed,
            // so what it still holds is the records after the cursor.
            Outcome::NeedInput | Outcome::Idle | Outcome::PeerClosed | Outcome::Closed => {
                self.scan.is_at_start()
            }
            // Application data was processed and discarded with everything
            // before it (handshake messages cannot interleave with it).
            Outcome::Read(_) | Outcome::DataReady | Outcome::Discarded(_) | Outcome::Hello => true,
            Outcome::Progress | Outcome::Failed(_) | Outcome::Overflow => false,
        };
        if let Outcome::Overflow = outcome {
            return Err(self.fail_limit(Limit::StagedInput {
                limit: MAX_HANDSHAKE_MESSAGE,
            }));
        }
        self.stats.output_staged += self.staged_out.len() as u64;
        self.note_held();
        // A failed step's output is the alert: `fail` reads it, then flushes.
        if !matches!(outcome, Outcome::Failed(_)) {
            self.flush_out();
        }
        Ok(outcome)
    }

    /// rustls needs more input. Returns `Ok(())` if the engine found more
    /// by itself, otherwise the want (or the end of stream).
    fn need_input(&mut self) -> Result<(), Error> {
        let accepting = self.session.is_accepting();
        let staging = accepting || !self.staged_in.is_empty();
        let available = self.rbio.pending();
        if staging {
            if available > 0 {
                self.scan.scan(&self.staged_in);
                let take = if accepting {
                    available
                } else {
                    self.scan.needed(&self.staged_in).min(available)
                };
                return self.stage_input(take);
            }
        } else if available > 0 && self.stepped_on_staging {
            // The step finished a staged record; what the read BIO holds
            // behind it has not been offered to rustls yet. Offer it before
            // asking for more (or calling a complete record the end of a
            // truncated stream).
            return Ok(());
        } else if available > 0 && self.rbio.write_guarantee() == 0 {
            // The read BIO is full and still not enough for rustls: it
            // cannot hold the record (or handshake message) whole. Take the
            // bytes out so the driver can supply the rest.
            return self.stage_input(available);
        }
        if self.rbio.is_shutdown_wr() {
            // Nothing more will come, and what there is cannot make progress.
            return Err(self.eof());
        }
        let needed = self.bytes_to_complete_record();
        self.want_mark = Some(self.scan.cursor());
        Err(Error::want_read(
            needed.min(self.rbio.write_guarantee()).max(1),
        ))
    }

    /// Our output is stuck: take the peer's bytes into staging (up to the
    /// staging bound) so that the peer, which may be stuck on its output to
    /// us, can go on. Two engines with tiny BIOs must not wait on each
    /// other, whichever call found the write BIO full.
    fn output_stuck(&mut self) -> Error {
        let room = MAX_STAGED_INPUT.saturating_sub(self.staged_in.len());
        let take = self.rbio.pending().min(room);
        if take > 0 {
            if let Err(e) = self.stage_input(take) {
                return e;
            }
        }
        Want::Write.into()
    }

    fn stage_input(&mut self, n: usize) -> Result<(), Error> {
        if self.staged_in.len() + n > MAX_STAGED_INPUT {
            return Err(self.fail_limit(Limit::StagedInput {
                limit: MAX_STAGED_INPUT,
            }));
        }
        let start = self.staged_in.len();
        self.staged_in.resize(start + n, 0);
        let got = self.rbio.read(&mut self.staged_in[start..]);
        self.staged_in.truncate(start + got);
        self.stats.input_staged += got as u64;
        self.note_held();
        Ok(())
    }

    /// The transport ended while rustls wanted more.
    fn eof(&mut self) -> Error {
        let partial = if self.staged_in.is_empty() {
            self.rbio.pending()
        } else {
            self.scan.partial(&self.staged_in)
        };
        let during_handshake = self.session.is_handshaking();
        if self.options.ignore_unexpected_eof && !during_handshake && partial == 0 {
            self.peer_closed = true;
            return Error::ZeroReturn;
        }
        let e = Error::UnexpectedEof {
            during_handshake,
            partial_record: partial,
        };
        self.fatal = Some(e.clone());
        e
    }

    /// The peer's close_notify was processed: anything after it is ignored
    /// (RFC 8446 section 6.1).
    fn peer_closed(&mut self) {
        self.peer_closed = true;
        self.want_mark = None;
        self.staged_in.clear();
        let pending = self.rbio.pending();
        self.rbio.read_in_place(|_| (pending, ()));
        self.scan.reset();
    }

    /// Records a fatal protocol error, flushing the alert rustls queued.
    fn fail(&mut self, error: rustls::Error) -> Error {
        // rustls queues the alert and returns the error; a step hands
        // queued output out before it looks at any input, so stepping with
        // no input is safe exactly while output is queued. Never re-feed the
        // failed input: it would fail (and alert) again.
        for _ in 0..4 {
            if !self.session.has_queued_output() {
                break;
            }
            self.session
                .step(&mut [], &mut Action::Drive, &mut self.staged_out);
        }
        // Steps start with nothing staged, so everything staged now came
        // from the failing step or the alert flush above.
        let alert = classify_alert(&self.staged_out);
        if alert != AlertSent::None {
            self.events.push_back(Event::AlertSent(alert));
        }
        if let rustls::Error::AlertReceived(a) = error {
            self.events.push_back(Event::AlertReceived(a));
        }
        self.flush_out();
        let e = Error::Protocol(ProtocolError { error, alert });
        self.fatal = Some(e.clone());
        e
    }

    fn stuck(&mut self) -> Error {
        self.fail_limit(Limit::Steps { limit: MAX_STEPS })
    }

    /// Records a fatal error of the engine's own. rustls queued nothing,
    /// so no alert goes out, and the report says so.
    fn fail_limit(&mut self, limit: Limit) -> Error {
        let e = Error::Limit(limit);
        self.fatal = Some(e.clone());
        e
    }

    /// Runs one write-side operation. Returns the plaintext bytes taken.
    fn write_op(&mut self, op: WriteOp<'_>) -> Result<usize, Error> {
        self.settle()?;
        let mut op = op;
        for _ in 0..MAX_STEPS {
            if !self.flush_out() {
                return Err(self.output_stuck());
            }
            let room = self.wbio.write_guarantee();
            let wanted = match op {
                WriteOp::Data(d) => d.len() + OVERHEAD_GUESS,
                _ => SMALL_RECORD,
            };
            let attempt = if room >= wanted {
                self.write_into_bio(op, wanted)
            } else {
                // Not enough room for the guess: learn the exact need. rustls
                // may hand out a queued message instead (an alert queued by
                // an earlier attempt that was too small): it is spilled into
                // the probe and must be kept, not dropped with it.
                let mut probe = Vec::new();
                let outcome = self.write_into(op, &mut probe);
                self.stage_output(probe);
                outcome
            };
            match attempt {
                WriteOutcome::Done(n) => return Ok(n),
                // PeerClosed was recorded where it came out.
                WriteOutcome::Progress | WriteOutcome::PeerClosed => {}
                WriteOutcome::NeedRoom(required) => {
                    if room >= required {
                        if let WriteOutcome::Done(n) = self.write_into_bio(op, required) {
                            return Ok(n);
                        }
                        continue;
                    }
                    // Shrink a data record to what fits.
                    if let WriteOp::Data(d) = op {
                        let overhead = required.saturating_sub(d.len());
                        if room > overhead && !d.is_empty() {
                            op = WriteOp::Data(&d[..room - overhead]);
                            continue;
                        }
                    }
                    if self.wbio.pending() > 0 {
                        return Err(self.output_stuck());
                    }
                    // The write BIO is empty and still too small for one
                    // record: stage that record and let it drain.
                    let mut staged = vec![0; required];
                    let outcome = self.write_into(op, &mut staged);
                    self.stage_output(staged);
                    self.flush_out();
                    match outcome {
                        WriteOutcome::Done(n) => return Ok(n),
                        WriteOutcome::NotReady(o) => return Err(self.not_ready(o)),
                        WriteOutcome::Progress
                        | WriteOutcome::PeerClosed
                        | WriteOutcome::NeedRoom(_) => {}
                    }
                }
                WriteOutcome::NotReady(o) => return Err(self.not_ready(o)),
            }
        }
        Err(self.stuck())
    }

    /// Drives the read side until rustls holds no processed input, so the
    /// write side may step with an empty input. Almost always a no-op; it
    /// does work only while a post-handshake message spans records.
    fn settle(&mut self) -> Result<(), Error> {
        for _ in 0..MAX_STEPS {
            if self.settled {
                return Ok(());
            }
            match self.step(&mut Action::Drive)? {
                Outcome::Progress | Outcome::DataReady | Outcome::Idle => {}
                Outcome::NeedInput => {
                    if !self.settled {
                        self.need_input()?;
                    }
                }
                Outcome::PeerClosed | Outcome::Closed => self.peer_closed(),
                Outcome::Failed(e) => return Err(self.fail(e)),
                Outcome::Read(_) | Outcome::Discarded(_) | Outcome::Hello | Outcome::Overflow => {}
            }
        }
        Err(self.stuck())
    }

    /// A write-side step into a fresh region of `min` bytes of the write
    /// BIO.
    fn write_into_bio(&mut self, op: WriteOp<'_>, min: usize) -> WriteOutcome {
        let Self {
            session,
            wbio,
            held,
            staged_out,
            ..
        } = self;
        let result = wbio.write_in_place(min, |region| session.write(op, region, held, staged_out));
        self.note_held();
        self.note_write_outcome(result.unwrap_or(WriteOutcome::NeedRoom(min)))
    }

    /// A write-side step into `region`, which is truncated to what was
    /// written. Used with an empty region to learn the size needed.
    fn write_into(&mut self, op: WriteOp<'_>, region: &mut Vec<u8>) -> WriteOutcome {
        let mut spill = Vec::new();
        let (n, outcome) = self.session.write(op, region, &mut self.held, &mut spill);
        region.truncate(n);
        region.extend_from_slice(&spill);
        self.note_held();
        self.note_write_outcome(outcome)
    }

    /// rustls reports the peer's close_notify once, and may do so on a
    /// write-side step; losing it would leave `shutdown` waiting for a
    /// close_notify already read. Recorded here, then it is plain progress.
    fn note_write_outcome(&mut self, outcome: WriteOutcome) -> WriteOutcome {
        if let WriteOutcome::PeerClosed = outcome {
            self.peer_closed();
            return WriteOutcome::Progress;
        }
        outcome
    }

    /// Appends bytes to the output staging, behind anything already there.
    fn stage_output(&mut self, bytes: Vec<u8>) {
        if bytes.is_empty() {
            return;
        }
        self.stats.output_staged += bytes.len() as u64;
        if self.staged_out.is_empty() {
            self.staged_out = bytes;
        } else {
            self.staged_out.extend_from_slice(&bytes);
        }
        self.note_held();
    }

    fn not_ready(&mut self, outcome: Outcome) -> Error {
        match outcome {
            Outcome::Failed(e) => self.fail(e),
            Outcome::Closed => Usage::WriteAfterShutdown.into(),
            _ => Usage::HandshakeNotComplete.into(),
        }
    }

    /// Moves staged output into the write BIO. True when none is left.
    fn flush_out(&mut self) -> bool {
        if !self.staged_out.is_empty() {
            let n = self.wbio.write(&self.staged_out);
            self.staged_out.drain(..n);
        }
        self.staged_out.is_empty()
    }

    fn take_held(&mut self, buf: &mut [u8]) -> usize {
        let held = &self.held[self.held_pos..];
        let n = held.len().min(buf.len());
        buf[..n].copy_from_slice(&held[..n]);
        self.held_pos += n;
        if self.held_pos == self.held.len() {
            self.held.clear();
            self.held_pos = 0;
        }
        n
    }

    fn note_held(&mut self) {
        self.stats.high_water = self.stats.high_water.max(self.buffered());
    }

    fn update_state(&mut self) {
        let now = if self.fatal.is_some() {
            HandshakeState::Failed
        } else {
            match &self.session {
                Session::Accepting { .. } if !self.started => HandshakeState::Before,
                Session::Accepting { .. } => HandshakeState::ReadingClientHello,
                Session::Paused(_) => HandshakeState::ClientHelloPaused,
                _ if self.session.is_handshaking() => {
                    if self.started {
                        HandshakeState::Handshaking
                    } else {
                        HandshakeState::Before
                    }
                }
                _ => match (self.close == CloseState::Sent, self.peer_closed) {
                    (false, false) => HandshakeState::Established,
                    (true, false) => HandshakeState::ShutdownSent,
                    (false, true) => HandshakeState::PeerClosed,
                    (true, true) => HandshakeState::Closed,
                },
            }
        };
        if now != self.state {
            self.events.push_back(Event::StateChanged(self.state, now));
            self.state = now;
        }
    }
}

impl<R, W> std::fmt::Debug for Engine<R, W> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Engine")
            .field("state", &self.state)
            .field("server", &self.session.is_server())
            .field("staged_in", &self.staged_in.len())
            .field("staged_out", &self.staged_out.len())
            .field("held", &(self.held.len() - self.held_pos))
            .field("fatal", &self.fatal)
            .finish_non_exhaustive()
    }
}

/// Reads the alert at the front of freshly staged output.
fn classify_alert(out: &[u8]) -> AlertSent {
    match out {
        [] => AlertSent::None,
        // content type alert, version, length 2, level, description
        [21, _, _, 0, 2, _, desc, ..] => {
            AlertSent::Plaintext(rustls::AlertDescription::from(*desc))
        }
        _ => AlertSent::Encrypted,
    }
}
