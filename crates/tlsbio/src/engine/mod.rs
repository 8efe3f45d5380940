//! The engine: rustls' protocol over a read BIO and a write BIO, with
//! OpenSSL's want-read / want-write contract.
//!
//! This file has the calls (`do_handshake`, `read`, `write`, `shutdown`,
//! `key_update`) and the step that every call is made of; `queries.rs` the
//! rest of the public surface. What the engine holds is split by concept:
//! the input (`input.rs`), the output (`output.rs`), undelivered plaintext
//! (`held.rs`), the close state (`close.rs`), and rustls behind the seam
//! (`session/`).

use crate::tls::pki_types::ServerName;
use crate::tls::ProtocolVersion;

use crate::bio::Bio;
use crate::close::{CloseState, Shutdown};
use crate::context::{ClientContext, ServerContext};
use crate::error::{ConfigError, Limit, ProtocolError, Usage};
use crate::held::Held;
use crate::input::{Input, Need};
use crate::output::Output;
use crate::session::{Data, Event as Step, Send, Sent, Session};
use crate::state::{Event, Events, HandshakeState};
use crate::{Error, Want};

mod early;
mod in_place;
mod queries;
#[cfg(feature = "rustls-0-24")]
mod split;

pub use early::EarlyDataStatus;

/// The most plaintext one record carries (RFC 8446 section 5.1).
const MAX_FRAGMENT: usize = 16_384;

/// rustls' bound on one handshake message.
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
    /// Give buffers back as soon as they are empty
    /// (`SSL_MODE_RELEASE_BUFFERS`): after every call, whatever
    /// [`Engine::release_memory`] would free, and after the driver takes
    /// output that empties the write BIO. An idle connection then holds no
    /// buffer without the driver calling `release_memory`, at the price of
    /// allocating again for the next bytes (docs/benchmarks.md measures
    /// both). Off by default.
    pub release_buffers: bool,
}

impl Options {
    /// Sets [`Options::ignore_unexpected_eof`].
    pub fn ignore_unexpected_eof(mut self, on: bool) -> Self {
        self.ignore_unexpected_eof = on;
        self
    }

    /// Sets [`Options::release_buffers`].
    pub fn release_buffers(mut self, on: bool) -> Self {
        self.release_buffers = on;
        self
    }
}

/// Counters for tests and benchmarks.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct EngineStats {
    /// rustls steps taken.
    pub steps: u64,
    /// Input bytes copied into the engine's staging (records the read BIO
    /// was too small to hold).
    pub input_staged: u64,
    /// Output bytes that went through the engine's staging rather than
    /// straight into the write BIO (records and messages the write BIO had
    /// no contiguous room for).
    pub output_staged: u64,
    /// Output bytes rustls wrote into a buffer of the engine's before the
    /// engine copied them into the output. Always 0 on rustls 0.23 (it
    /// encrypts into the write BIO's region). On rustls 0.24, which
    /// appends only to a `Vec`: the handshake's flights, and everything
    /// when the write BIO cannot lend its memory as one
    /// ([`Bio::write_in_vec`](crate::bio::Bio::write_in_vec)); data
    /// records go straight into a `VecBio` or `BytesBio`.
    pub output_copied: u64,
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
    input: Input<R>,
    output: Output<W>,
    held: Held,
    fatal: Option<Error>,
    peer_closed: bool,
    close: CloseState,
    /// A KeyUpdate was requested and is not in the output yet.
    key_update_queued: bool,
    /// A client wrote 0-RTT early data.
    early_sent: bool,
    started: bool,
    state: HandshakeState,
    events: Events,
    options: Options,
    stats: EngineStats,
}

impl<R: Bio, W: Bio> Engine<R, W> {
    /// A client for `server_name` (used for SNI and certificate checks),
    /// with the context's options.
    pub fn client(
        context: &ClientContext,
        server_name: ServerName<'static>,
        rbio: R,
        wbio: W,
    ) -> Result<Self, ConfigError> {
        let mut session =
            Session::client(context.config().clone(), server_name).map_err(ConfigError::Rustls)?;
        session.defer_verification(context.defers_verification());
        Ok(Self::with_session(session, rbio, wbio).with_options(context.options()))
    }

    /// A server with a fixed configuration, with the context's options.
    pub fn server(context: &ServerContext, rbio: R, wbio: W) -> Self {
        let mut session = Session::server(Some(context.session_config().clone()));
        session.defer_verification(context.defers_verification());
        Self::with_session(session, rbio, wbio).with_options(context.options())
    }

    /// A server that pauses once it has read the ClientHello, so that the
    /// caller can choose a configuration (certificate, ALPN, versions) from
    /// what the client offered, asynchronously if it likes.
    ///
    /// [`accept`](Self::accept) returns [`Want::ClientHello`]; then
    /// [`accepted`](Self::accepted) gives the [`Accepted`](crate::Accepted)
    /// handle, the only value that can choose the config. This is the
    /// analogue of `SSL_CTX_set_client_hello_cb` returning
    /// `SSL_CLIENT_HELLO_RETRY`, in the shape of rustls' `Acceptor` /
    /// `Accepted`.
    pub fn server_paused(rbio: R, wbio: W) -> Self {
        Self::with_session(Session::server(None), rbio, wbio)
    }

    fn with_session(session: Session, rbio: R, wbio: W) -> Self {
        Self {
            session,
            input: Input::new(rbio),
            output: Output::new(wbio),
            held: Held::default(),
            fatal: None,
            peer_closed: false,
            close: CloseState::Open,
            key_update_queued: false,
            early_sent: false,
            started: false,
            state: HandshakeState::Before,
            events: Events::default(),
            options: Options::default(),
            stats: EngineStats::default(),
        }
    }

    /// Replaces the engine's [`Options`].
    pub fn with_options(mut self, options: Options) -> Self {
        self.options = options;
        self
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

    /// On a server, reads 0-RTT early data (`SSL_read_early_data`),
    /// driving the handshake to get it.
    ///
    /// Returns `Ok(n)` with `n > 0` bytes of early data; `Ok(0)` once there
    /// is no more (the handshake is complete and every early byte was
    /// read: the client sent none, or rustls rejected it, or it was all
    /// read), after which [`read`](Self::read) has the ordinary data; a
    /// want while the handshake waits for input (call again). Early data is
    /// its own stream: `read` never returns it, and what the application
    /// does not read stays here (bounded by `max_early_data_size`).
    ///
    /// **Early data can be replayed.** An attacker who recorded the
    /// client's first flight can send it again, and the server sees the
    /// same early data twice unless something stops it. rustls accepts
    /// early data only on a resumption from server-side session storage
    /// whose `take` removes the session, so within one server process
    /// (with the default `ServerSessionMemoryCache`) a ticket works once;
    /// across processes or machines nothing does. Act on early data only
    /// when doing it twice is harmless (an idempotent GET), or deduplicate
    /// it yourself; otherwise wait for the handshake and use `read`.
    ///
    /// The server allows it with `max_early_data_size` in its config (off
    /// by default; see [`ServerContext::new`](crate::ServerContext::new)).
    pub fn read_early_data(&mut self, buf: &mut [u8]) -> Result<usize, Error> {
        let result = self.read_early_inner(buf);
        self.update_state();
        result
    }

    fn read_early_inner(&mut self, buf: &mut [u8]) -> Result<usize, Error> {
        if !self.session.is_server() {
            return Err(Usage::EarlyDataOnClient.into());
        }
        if self.session.early_pending() == 0 && self.session.is_handshaking() {
            match self.handshake() {
                Ok(()) => {}
                Err(Error::Want(Want::Read { .. })) if self.session.early_pending() > 0 => {}
                Err(e) => return Err(e),
            }
        }
        let early = self.session.early_data();
        let n = buf.len().min(early.len());
        crate::copy::copy(&mut buf[..n], &early[..n]);
        early.drain(..n);
        Ok(n)
    }

    /// Copies plaintext into `buf` without consuming it (`SSL_peek`): the
    /// next [`read`](Self::read) returns the same bytes. Like `read`, it
    /// drives the handshake first and answers wants, [`Error::ZeroReturn`]
    /// and errors; when nothing is waiting it decrypts one record into the
    /// engine's hold buffer ([`pending`](Self::pending)), so a peek sees at
    /// most one record.
    ///
    /// ```
    /// # fn demo(engine: &mut tlsbio::Engine<tlsbio::bio::VecBio, tlsbio::bio::VecBio>) -> Result<(), tlsbio::Error> {
    /// let mut head = [0u8; 4];
    /// let n = engine.peek(&mut head)?;
    /// if &head[..n] == b"GET " {
    ///     // The request is still there for `read`.
    /// }
    /// # Ok(()) }
    /// ```
    pub fn peek(&mut self, buf: &mut [u8]) -> Result<usize, Error> {
        let result = self.peek_inner(buf);
        self.update_state();
        result
    }

    /// Encrypts plaintext from `buf` into the output (`SSL_write`),
    /// driving the handshake first if it is not complete.
    ///
    /// Writes are *partial*: `Ok(n)` means the first `n` bytes of `buf` are
    /// encrypted and in the output; the caller passes the rest again.
    /// [`Want::Write`] means nothing of `buf` was taken, so a retry may pass
    /// *any* buffer: OpenSSL's `SSL_MODE_ENABLE_PARTIAL_WRITE` and
    /// `SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER` are always on.
    pub fn write(&mut self, buf: &[u8]) -> Result<usize, Error> {
        let result = self.write_inner(buf);
        self.update_state();
        result
    }

    /// Sends close_notify, then waits for the peer's (`SSL_shutdown`).
    ///
    /// The first call queues our close_notify in the output and returns
    /// [`Shutdown::Sent`], without waiting for the peer (or
    /// [`Shutdown::Complete`] if the peer had already closed). Our write
    /// side is then closed; reads still work (half-close). Calling again
    /// waits for the peer's close_notify, returning [`Want::Read`] until it
    /// arrives; application data that arrives while `shutdown` waits is
    /// dropped (counted in [`EngineStats::discarded_after_shutdown`]), as
    /// OpenSSL does. To keep it, call [`read`](Self::read) until
    /// [`Error::ZeroReturn`] instead.
    ///
    /// Safe to retry after any want.
    pub fn shutdown(&mut self) -> Result<Shutdown, Error> {
        let result = self.shutdown_inner();
        self.update_state();
        result
    }

    /// Sends a TLS 1.3 KeyUpdate, asking the peer to update its keys too
    /// (RFC 8446 section 4.6.3). `Ok(())` once it is in the output.
    ///
    /// Safe to retry after a want: the retry finishes the same KeyUpdate
    /// rather than asking for a second one.
    pub fn key_update(&mut self) -> Result<(), Error> {
        let result = self.key_update_inner();
        self.update_state();
        result
    }

    /// Continues a paused server with the context chosen for its
    /// ClientHello; called through [`Accepted::choose`](crate::Accepted::choose).
    pub(crate) fn choose(&mut self, context: &ServerContext) -> Result<(), Error> {
        self.session
            .defer_verification(context.defers_verification());
        let result = self
            .session
            .choose_config(context.config().clone())
            .map_err(Error::Config);
        self.update_state();
        result
    }

    pub(crate) fn is_paused(&self) -> bool {
        self.fatal.is_none() && self.session.is_paused()
    }

    /// The peer's certificates a deferred verification is about, while the
    /// handshake waits for the verdict.
    pub(crate) fn verifying_certificates(
        &self,
    ) -> Option<&[crate::tls::pki_types::CertificateDer<'static>]> {
        match self.fatal {
            None => self.session.verifying_certificates(),
            Some(_) => None,
        }
    }

    /// Continues a deferred verification; called through
    /// [`Verification`](crate::Verification).
    pub(crate) fn verdict(&mut self, verdict: crate::session::Verdict) {
        self.session.verified(verdict);
        self.update_state();
    }

    // ---- the calls, made of steps ----

    fn handshake(&mut self) -> Result<(), Error> {
        self.check()?;
        for _ in 0..MAX_STEPS {
            // Step until rustls has nothing left to emit: a TLS 1.2 server
            // stops "handshaking" before its Finished is encoded.
            match self.step(Data::Leave)? {
                Step::Progress => {}
                Step::NeedInput | Step::DataReady | Step::Data => {
                    if !self.session.is_handshaking() {
                        return Ok(());
                    }
                    self.need_input()?;
                }
                Step::PeerClosed => {
                    if !self.session.is_handshaking() {
                        return Ok(());
                    }
                }
                Step::ClientHello => return Err(Want::ClientHello.into()),
                Step::Verify => return Err(Want::Verify.into()),
                // `step` turned these into the error.
                Step::Fatal(_) | Step::Overflow => {}
            }
        }
        Err(self.stuck())
    }

    fn read_inner(&mut self, buf: &mut [u8]) -> Result<usize, Error> {
        if self.held.pending() > 0 {
            return Ok(self.held.take(buf));
        }
        if !self.may_read(buf)? {
            return Ok(0);
        }
        self.read_record(buf)
    }

    fn peek_inner(&mut self, buf: &mut [u8]) -> Result<usize, Error> {
        if self.held.pending() == 0 {
            if !self.may_read(buf)? {
                return Ok(0);
            }
            // The whole record goes to the hold buffer, where the next read
            // finds it.
            self.read_record(&mut [])?;
        }
        Ok(self.held.peek(buf))
    }

    /// Whether a read into `buf` should look for a record: not for an
    /// empty buffer; the sticky error, or the end of data, instead.
    fn may_read(&mut self, buf: &[u8]) -> Result<bool, Error> {
        self.check()?;
        if buf.is_empty() {
            return Ok(false);
        }
        if self.peer_closed {
            return Err(Error::ZeroReturn);
        }
        Ok(true)
    }

    /// Decrypts the next non-empty record: as much as fits into `buf`, the
    /// rest into the hold buffer. Returns the bytes put into `buf`.
    fn read_record(&mut self, buf: &mut [u8]) -> Result<usize, Error> {
        for _ in 0..MAX_STEPS {
            let mut held = std::mem::take(&mut self.held);
            let (mut got, mut record) = (0, 0);
            let step = {
                let mut deliver = |payload: &[u8]| {
                    let n = payload.len().min(buf.len());
                    crate::copy::copy(&mut buf[..n], &payload[..n]);
                    held.push(&payload[n..]);
                    (got, record) = (n, payload.len());
                };
                self.step(Data::Take(&mut deliver))
            };
            self.held = held;
            self.note_held();
            match step? {
                // An empty record (allowed, RFC 8446 section 5.1) is not
                // the end of the stream: go on.
                Step::Data if record > 0 => return Ok(got),
                Step::Data | Step::Progress | Step::DataReady => {}
                Step::NeedInput => self.need_input()?,
                Step::PeerClosed => return Err(Error::ZeroReturn),
                Step::ClientHello => return Err(Want::ClientHello.into()),
                Step::Verify => return Err(Want::Verify.into()),
                Step::Fatal(_) | Step::Overflow => {}
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
        if self.session.is_handshaking() {
            self.handshake()?;
        }
        let mut written = 0;
        while written < buf.len() {
            let end = buf.len().min(written + MAX_FRAGMENT);
            match self.send(Send::Data(&buf[written..end])) {
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
                if self.session.is_handshaking() {
                    return Err(Usage::HandshakeNotComplete.into());
                }
                self.send(Send::CloseNotify)?;
                self.close = CloseState::Sent;
                Ok(if self.peer_closed {
                    Shutdown::Complete
                } else {
                    Shutdown::Sent
                })
            }
            CloseState::Sent => self.await_close_notify(),
        }
    }

    fn await_close_notify(&mut self) -> Result<Shutdown, Error> {
        // Plaintext not yet read is dropped too, and counted, as documented.
        self.stats.discarded_after_shutdown += self.held.clear() as u64;
        for _ in 0..MAX_STEPS {
            if self.peer_closed {
                return Ok(Shutdown::Complete);
            }
            let mut dropped = 0;
            let step = self.step(Data::Take(&mut |payload| dropped += payload.len()));
            self.stats.discarded_after_shutdown += dropped as u64;
            match step? {
                Step::NeedInput => self.need_input()?,
                Step::PeerClosed
                | Step::Data
                | Step::Progress
                | Step::DataReady
                | Step::ClientHello
                | Step::Verify
                | Step::Fatal(_)
                | Step::Overflow => {}
            }
        }
        Err(self.stuck())
    }

    fn key_update_inner(&mut self) -> Result<(), Error> {
        self.check()?;
        if self.session.is_handshaking() {
            return Err(Usage::HandshakeNotComplete.into());
        }
        if self.session.protocol_version() != Some(ProtocolVersion::TLSv1_3) {
            return Err(Usage::KeyUpdateNeedsTls13.into());
        }
        if self.close != CloseState::Open {
            return Err(Usage::WriteAfterShutdown.into());
        }
        // A retry after a want must not ask rustls for a second KeyUpdate:
        // the first is queued inside it until the output takes it.
        if !self.key_update_queued {
            self.send(Send::KeyUpdate)?;
            self.key_update_queued = true;
        }
        // The KeyUpdate message is encoded on the next write-side step.
        self.send(Send::Data(&[]))?;
        self.key_update_queued = false;
        Ok(())
    }

    // ---- the machinery ----

    /// The sticky error, after one more try at moving queued output; on a
    /// server that has not read its ClientHello, whether the peer speaks
    /// TLS at all. Every call starts here.
    fn check(&mut self) -> Result<(), Error> {
        self.started = true;
        self.output.flush();
        if self.fatal.is_none() && self.session.is_reading_client_hello() {
            // Nothing is consumed while the ClientHello is read: the front
            // of the input is the connection's first byte.
            if let Some(kind) = self.input.not_tls() {
                self.fatal = Some(Error::NotTls(kind));
            }
        }
        match &self.fatal {
            Some(e) => Err(e.clone()),
            None => Ok(()),
        }
    }

    /// One rustls step over the current input, its output appended to the
    /// output. Not taken while output is stuck (that is what bounds the
    /// output staging). Fatal errors become the sticky error here, and the
    /// peer's close_notify is recorded here, so no call site can forget
    /// either.
    fn step(&mut self, data: Data<'_>) -> Result<Step, Error> {
        if !self.output.flush() {
            return Err(self.output_stuck());
        }
        self.stats.steps += 1;
        self.output.mark();
        let Self {
            session,
            input,
            output,
            ..
        } = self;
        let step = input.with(|bytes| session.process(bytes, output, data));
        self.note_held();
        if self.session.take_peer_closed() {
            self.on_peer_closed();
        }
        match step {
            Step::Fatal(e) => Err(self.fail(e)),
            Step::Overflow => Err(self.fail_limit(Limit::StagedInput {
                limit: MAX_HANDSHAKE_MESSAGE,
            })),
            other => Ok(other),
        }
    }

    /// Sends `op` through the session, processing held-up input first if
    /// the session needs that. Returns the plaintext bytes taken.
    fn send(&mut self, op: Send<'_>) -> Result<usize, Error> {
        for _ in 0..MAX_STEPS {
            if !self.output.flush() {
                return Err(self.output_stuck());
            }
            self.output.mark();
            let mut held = std::mem::take(&mut self.held);
            let sent = self
                .session
                .send(op, &mut self.output, &mut |payload| held.push(payload));
            self.held = held;
            self.note_held();
            if self.session.take_peer_closed() {
                self.on_peer_closed();
            }
            match sent {
                Sent::Done(n) => return Ok(n),
                Sent::Full => return Err(self.output_stuck()),
                Sent::ProcessFirst => {
                    // Almost never: a post-handshake message spans records
                    // and rustls must see the rest before it can send.
                    if let Step::NeedInput = self.step(Data::Leave)? {
                        self.need_input()?;
                    }
                }
                Sent::Handshaking => return Err(Usage::HandshakeNotComplete.into()),
                Sent::Closed => return Err(Usage::WriteAfterShutdown.into()),
                Sent::Fatal(e) => return Err(self.fail(e)),
                Sent::Stuck => return Err(self.stuck()),
            }
        }
        Err(self.stuck())
    }

    /// The session needs more input. `Ok(())` if the engine found more by
    /// itself, otherwise the want (or the end of stream).
    fn need_input(&mut self) -> Result<(), Error> {
        match self.input.need_more() {
            Need::Found => Ok(()),
            Need::Read(at_least) => Err(Error::want_read(at_least)),
            Need::Eof { partial } => Err(self.eof(partial)),
            Need::Overflow(limit) => Err(self.fail_limit(limit)),
        }
    }

    /// Our output is stuck: take the peer's bytes into staging so that the
    /// peer, which may be stuck on its output to us, can go on. Two engines
    /// with tiny BIOs must not wait on each other, whichever call found the
    /// output full.
    fn output_stuck(&mut self) -> Error {
        if let Err(limit) = self.input.absorb() {
            return self.fail_limit(limit);
        }
        Want::Write.into()
    }

    /// The transport ended while rustls wanted more.
    fn eof(&mut self, partial: usize) -> Error {
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
    fn on_peer_closed(&mut self) {
        self.peer_closed = true;
        self.input.discard_all();
        self.session.input_dropped();
    }

    /// Records a fatal protocol error. The session already appended its
    /// alert to the output; what was appended since the step began says
    /// which alert that was.
    fn fail(&mut self, error: crate::tls::Error) -> Error {
        let alert = self.output.alert_since_mark();
        if alert != crate::AlertSent::None {
            self.events.push(Event::AlertSent(alert));
        }
        if let crate::tls::Error::AlertReceived(a) = error {
            self.events.push(Event::AlertReceived(a));
        }
        let e = Error::Protocol(ProtocolError { error, alert });
        self.fatal = Some(e.clone());
        e
    }

    /// Records a fatal error of the engine's own. rustls queued nothing,
    /// so no alert goes out, and the report says so.
    fn fail_limit(&mut self, limit: Limit) -> Error {
        let e = Error::Limit(limit);
        self.fatal = Some(e.clone());
        e
    }

    fn stuck(&mut self) -> Error {
        self.fail_limit(Limit::Steps { limit: MAX_STEPS })
    }

    fn note_held(&mut self) {
        self.stats.high_water = self.stats.high_water.max(self.buffered());
    }

    fn update_state(&mut self) {
        if self.options.release_buffers {
            self.release_memory();
        }
        let now = if self.fatal.is_some() {
            HandshakeState::Failed
        } else if self.session.is_reading_client_hello() {
            if self.started {
                HandshakeState::ReadingClientHello
            } else {
                HandshakeState::Before
            }
        } else if self.session.is_paused() {
            HandshakeState::ClientHelloPaused
        } else if self.session.is_handshaking() {
            if self.started {
                HandshakeState::Handshaking
            } else {
                HandshakeState::Before
            }
        } else {
            match (self.close == CloseState::Sent, self.peer_closed) {
                (false, false) => HandshakeState::Established,
                (true, false) => HandshakeState::ShutdownSent,
                (false, true) => HandshakeState::PeerClosed,
                (true, true) => HandshakeState::Closed,
            }
        };
        if now != self.state {
            self.events.push(Event::StateChanged(self.state, now));
            self.state = now;
        }
    }
}

impl<R, W> std::fmt::Debug for Engine<R, W> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Engine")
            .field("state", &self.state)
            .field("server", &self.session.is_server())
            .field("staged_in", &self.input.staged())
            .field("staged_out", &self.output.staged())
            .field("held", &self.held.pending())
            .field("fatal", &self.fatal)
            .finish_non_exhaustive()
    }
}
