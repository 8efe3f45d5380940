//! The rustls 0.24.0-dev.2 backend: the caller-buffer handshake API
//! (`NeedsInput::process`, `Accepted::choose_config`,
//! `VerifyPeerIdentity`), then the split traffic halves.
//!
//! 0.24 reads records from a `TlsInputBuffer` the caller owns and appends
//! every byte it produces to a `Vec<u8>` the caller owns. The input is the
//! engine's own buffer, lent for one call through [`Lent`]; the output
//! goes straight into the write BIO when the BIO lends its memory as a
//! `Vec` (`Bio::write_in_vec`: `VecBio`, `BytesBio`) and the size is known
//! (a data record, an alert, a KeyUpdate); otherwise (handshake flights,
//! BIOs that cannot lend) into one scratch `Vec` and from there into the
//! engine's output queue, a copy counted in `EngineStats::output_copied`.
//! Nothing here needs an empty-input step, a first-flight replay or a
//! size probe.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, OnceLock};

use rustls024::client::ClientHandshake;
use rustls024::crypto::cipher::OutboundPlain;
use rustls024::pki_types::{CertificateDer, ServerName};
use rustls024::server::{Accepted, ServerHandshake};
use rustls024::split::{ReceiveTraffic, ReceiveTrafficState, SendTraffic, SplitConnection};
use rustls024::{
    ClientSide, ConnectionOutputs, NeedsInput, ServerSide, SideData, Tcp, TlsInputBuffer,
    VerifyPeerIdentity,
};

use super::{Data, Event, Output, Send, Sent, Verdict};

#[path = "rustls024_early.rs"]
mod early;
use crate::bio::Bio;
use crate::error::ConfigError;
use crate::hello::ClientHello;
use crate::tls::{
    ClientConfig, Error, HandshakeKind, NamedGroup, ProtocolVersion, ServerConfig,
    SupportedCipherSuite,
};
use early::EarlyServer;

/// The most per-record overhead a suite rustls offers adds to a record's
/// plaintext: the header (5), an explicit nonce (TLS 1.2 GCM, 8), the AEAD
/// tag (16), and the TLS 1.3 inner content type (1), rounded up: what a
/// record is cut by when the suite is not known ([`record_overhead`] has
/// the exact figure for the suites rustls ships). A data record is cut so
/// that it fits the write BIO's free room with this much to spare.
const RECORD_OVERHEAD: usize = 32;

/// Room for an encrypted alert or KeyUpdate record.
const SMALL_RECORD: usize = 64;

/// The most a protected record carries past its header (RFC 8446 section
/// 5.2 allows more; rustls 0.24 keeps to this).
const MAX_FRAGMENT: usize = 16_384;

/// The rustls connection behind an engine.
pub(crate) struct Session {
    state: State,
    /// Where every rustls call appends its output, moved into the engine's
    /// output before the call that produced it returns (or, for calls made
    /// without one, at the start of the next).
    scratch: Vec<u8>,
    /// A failure that happened where the seam has no output to return it
    /// with (choosing a paused server's config): reported by the next
    /// [`Session::process`], after its alert.
    deferred: Option<Error>,
    /// The peer's close_notify was processed; the engine collects it with
    /// [`Session::take_peer_closed`].
    peer_closed: bool,
    /// A server's ClientHello, once read. Held inline, not boxed: one
    /// allocation fewer per server handshake, for 88 bytes of every
    /// session.
    hello: Option<ClientHello>,
    server: bool,
    /// What the handshake established, once it is complete.
    facts: Option<Facts>,
    /// 0-RTT data a server read (the `Connection` API path).
    early: Vec<u8>,
    /// Whether the application verifies the peer's certificates.
    defer_verification: bool,
    /// The certificates a paused verification is about.
    verifying: Vec<CertificateDer<'static>>,
}

enum State {
    Client(NeedsInput<ClientSide>),
    /// A server before its ClientHello, with the config to continue with,
    /// or none to pause.
    Accepting(NeedsInput<ServerSide>, Option<Arc<ServerConfig>>),
    Paused(Box<Accepted<Tcp>>),
    Server(NeedsInput<ServerSide>),
    ClientTraffic(Halves<ClientSide>),
    ServerTraffic(Halves<ServerSide>),
    /// A server whose fixed config accepts 0-RTT, on the `Connection` API
    /// (see `rustls024_early.rs`).
    EarlyServer(Box<EarlyServer>),
    /// Paused for the application's verdict on the server's certificates.
    ClientVerify(Box<VerifyPeerIdentity<ClientSide, Tcp>>),
    /// Paused for the application's verdict on the client's certificates.
    ServerVerify(Box<VerifyPeerIdentity<ServerSide, Tcp>>),
    /// A fatal error consumed the rustls state.
    Failed(Error),
    /// Only while a state is moved through a rustls call.
    Moving,
}

/// The two halves of an established connection. Each is `None` once it
/// has ended: the send half after our close_notify, the receive half after
/// the peer's close_notify or a receive error.
struct Halves<S: SideData> {
    send: Option<SendTraffic>,
    receive: Option<ReceiveTraffic<S>>,
    /// The receive half ended with the peer's close_notify.
    peer_closed: bool,
    /// After a split, on the receiving side: set when receiving queued
    /// something for the peer (a KeyUpdate response, an alert) that only
    /// the sending side can write out.
    flush_wanted: Option<Arc<AtomicBool>>,
}

/// Facts about the connection, kept from the handshake.
struct Facts {
    outputs: ConnectionOutputs,
    /// The peer's chain as one slice, copied out of `outputs` the first
    /// time it is asked for: rustls 0.24 keeps the end entity apart from
    /// the intermediates, and a copy made at every handshake would cost
    /// every connection that never looks its allocations. `OnceLock`
    /// (not `OnceCell`) keeps the engine `Sync`.
    peer_certificates: OnceLock<Option<Vec<CertificateDer<'static>>>>,
    /// A client's: whether the server accepted its 0-RTT data.
    early_accepted: bool,
}

/// The engine's input buffer lent to rustls for one call: rustls' discards
/// are summed, and the engine drops them from its input afterwards.
struct Lent<'a> {
    buf: &'a mut [u8],
    discarded: usize,
}

impl TlsInputBuffer for Lent<'_> {
    fn slice_mut(&mut self) -> &mut [u8] {
        let start = self.discarded.min(self.buf.len());
        &mut self.buf[start..]
    }

    fn discard(&mut self, num_bytes: usize) {
        self.discarded += num_bytes;
    }

    fn received_close_notify(&mut self) {
        // The engine drops the rest of its input itself (Event::PeerClosed).
    }

    fn has_seen_eof(&self) -> bool {
        // rustls does not act on it; the engine reports the end of stream.
        false
    }
}

impl Session {
    pub(crate) fn client(
        config: Arc<ClientConfig>,
        name: ServerName<'static>,
    ) -> Result<Self, Error> {
        let mut session = Self::with(State::Moving, false);
        let hs = config.connect(name).start_handshake(&mut session.scratch)?;
        session.state = State::Client(hs);
        Ok(session)
    }

    /// A server for `config`, or one that pauses at the ClientHello. A
    /// config that accepts 0-RTT runs on the `Connection` API, the one
    /// 0.24 API that hands early data out.
    pub(crate) fn server(config: Option<Arc<ServerConfig>>) -> Self {
        let state = match config {
            Some(config) if config.max_early_data_size > 0 => match EarlyServer::new(config) {
                Ok(server) => State::EarlyServer(Box::new(server)),
                Err(e) => State::Failed(e),
            },
            config => State::Accepting(ServerHandshake::start(), config),
        };
        Self::with(state, true)
    }

    fn with(state: State, server: bool) -> Self {
        Self {
            state,
            scratch: Vec::new(),
            deferred: None,
            peer_closed: false,
            hello: None,
            server,
            facts: None,
            early: Vec::new(),
            defer_verification: false,
            verifying: Vec::new(),
        }
    }

    /// Checks what this backend needs of a client config, once per
    /// context: nothing (0-RTT included: 0.24 says whether the server
    /// accepted it).
    pub(crate) fn check_client_config(_config: &Arc<ClientConfig>) -> Result<(), ConfigError> {
        Ok(())
    }

    /// Checks that rustls accepts a server config, without starting a
    /// connection. Done once per context. Returns the config the
    /// context's engines run on: this one.
    pub(crate) fn check_server_config(
        config: &Arc<ServerConfig>,
    ) -> Result<Arc<ServerConfig>, ConfigError> {
        if config.max_early_data_size != 0 && config.ticketer.is_some() {
            return Err(ConfigError::EarlyDataNeedsStatefulResumption);
        }
        rustls024::Connection::<ServerSide, Tcp>::new(Arc::clone(config))
            .map_err(ConfigError::Rustls)?;
        Ok(Arc::clone(config))
    }

    /// Continues a paused server with `config`. Its first flight is in the
    /// output at the next step; so is the alert if rustls refuses the
    /// ClientHello under this config, and that step reports the failure.
    pub(crate) fn choose_config(&mut self, config: Arc<ServerConfig>) -> Result<(), ConfigError> {
        if config.max_early_data_size > 0 {
            // The handshake API, which the pause needs, drops early data.
            return Err(ConfigError::ServerEarlyDataUnsupported);
        }
        if let State::Paused(_) = self.state {
            let State::Paused(accepted) = std::mem::replace(&mut self.state, State::Moving) else {
                unreachable!("matched above")
            };
            match accepted.choose_config(config, flight_room(&mut self.scratch)) {
                Ok(hs) => self.server_handshake(hs),
                Err(e) => {
                    self.deferred = Some(e.clone());
                    self.state = State::Failed(e);
                }
            }
        }
        Ok(())
    }

    /// Splits an established connection for two threads: returns the
    /// receiving session and leaves this one sending only; the flag says
    /// the sending one has output of the receiving one's to write. `None`,
    /// and nothing changed, if it is not established on the handshake API
    /// or a half has ended.
    pub(crate) fn split(&mut self) -> Option<(Self, Arc<AtomicBool>)> {
        let state = std::mem::replace(&mut self.state, State::Moving);
        let (reading, writing, wanted) = match state {
            State::ClientTraffic(halves) if halves.send.is_some() && halves.receive.is_some() => {
                let (r, w, flag) = halves.split()?; // both halves checked above
                (State::ClientTraffic(r), State::ClientTraffic(w), flag)
            }
            State::ServerTraffic(halves) if halves.send.is_some() && halves.receive.is_some() => {
                let (r, w, flag) = halves.split()?; // both halves checked above
                (State::ServerTraffic(r), State::ServerTraffic(w), flag)
            }
            other => {
                self.state = other;
                return None;
            }
        };
        let mut reader = Self::with(reading, self.server);
        // The facts (version, suite, certificates) stay with the sending
        // side, which needs the version for KeyUpdate; the receiving side
        // only needs to know the handshake is done.
        reader.facts = Some(Facts {
            outputs: ConnectionOutputs::default(),
            peer_certificates: OnceLock::new(),
            early_accepted: false,
        });
        self.state = writing;
        Some((reader, wanted))
    }

    /// Deferred verification works on this backend.
    pub(crate) fn check_deferred_verification() -> Result<(), ConfigError> {
        Ok(())
    }

    /// Whether the application verifies the peer's certificates: set from
    /// the context before the handshake (or the choice) reaches them.
    pub(crate) fn defer_verification(&mut self, on: bool) {
        self.defer_verification = on;
    }

    /// The certificates a paused verification is about.
    pub(crate) fn verifying_certificates(&self) -> Option<&[CertificateDer<'static>]> {
        match self.state {
            State::ClientVerify(_) | State::ServerVerify(_) => Some(&self.verifying),
            _ => None,
        }
    }

    /// Continues a verification pause with the application's verdict. The
    /// next step reports a refusal (its alert is in the output by then).
    pub(crate) fn verified(&mut self, verdict: Verdict) {
        let state = std::mem::replace(&mut self.state, State::Moving);
        let identity = self.verified_identity();
        self.verifying.clear();
        let scratch = &mut self.scratch;
        match state {
            State::ClientVerify(verify) => {
                let next = match verdict {
                    Verdict::WithConfig => verify.with_config(scratch),
                    Verdict::Accept => verify.continue_with(identity, scratch),
                    Verdict::Reject(e) => verify.continue_with(Err(e), scratch),
                };
                match next {
                    // Progress or a further pause; input may be waiting.
                    Ok(next) => {
                        let _ = self.client_handshake(next);
                    }
                    Err(e) => {
                        self.deferred = Some(e.clone());
                        self.state = State::Failed(e);
                    }
                }
            }
            State::ServerVerify(verify) => {
                let next = match verdict {
                    Verdict::WithConfig => verify.with_config(scratch),
                    Verdict::Accept => verify.continue_with(identity, scratch),
                    Verdict::Reject(e) => verify.continue_with(Err(e), scratch),
                };
                match next {
                    Ok(next) => self.server_handshake(next),
                    Err(e) => {
                        self.deferred = Some(e.clone());
                        self.state = State::Failed(e);
                    }
                }
            }
            other => self.state = other,
        }
    }

    /// The identity an accepted verification vouches for: the presented
    /// certificates, owned.
    fn verified_identity(&self) -> Result<rustls024::crypto::VerifiedIdentity<'static>, Error> {
        let identity = rustls024::crypto::Identity::from_cert_chain(self.verifying.clone())
            .map_err(|e| Error::General(format!("no certificate to verify: {e:?}")))?;
        Ok(rustls024::crypto::VerifiedIdentity::assertion(identity))
    }

    /// Runs rustls once over `input`, appending its output to `out`.
    /// Returns how many bytes at the front of `input` it is done with.
    pub(crate) fn process<W: Bio>(
        &mut self,
        input: &mut [u8],
        out: &mut Output<W>,
        data: Data<'_>,
    ) -> (usize, Event) {
        let mut input = Lent {
            buf: input,
            discarded: 0,
        };
        let event = self.process_lent(&mut input, data);
        out.append_copy(&mut self.scratch);
        if let Event::PeerClosed = event {
            self.peer_closed = true;
        }
        (input.discarded, event)
    }

    fn process_lent(&mut self, input: &mut Lent<'_>, data: Data<'_>) -> Event {
        if let Some(e) = self.deferred.take() {
            return Event::Fatal(e);
        }
        let scratch = &mut self.scratch;
        match std::mem::replace(&mut self.state, State::Moving) {
            State::Client(hs) => match hs.process(input, scratch) {
                Ok(next) => self.client_handshake(next),
                Err(e) => self.fail(e),
            },
            State::Accepting(hs, config) => match hs.process(input, scratch) {
                Ok(ServerHandshake::NeedsInput(hs)) => {
                    self.state = State::Accepting(hs, config);
                    Event::NeedInput
                }
                Ok(ServerHandshake::Accepted(accepted)) => {
                    self.hello = Some(ClientHello::from_rustls(&accepted.client_hello()));
                    match config {
                        Some(config) => {
                            match accepted.choose_config(config, flight_room(scratch)) {
                                Ok(hs) => {
                                    self.server_handshake(hs);
                                    Event::Progress
                                }
                                Err(e) => self.fail(e),
                            }
                        }
                        None => {
                            self.state = State::Paused(Box::new(accepted));
                            Event::ClientHello
                        }
                    }
                }
                Ok(other) => {
                    self.server_handshake(other);
                    Event::Progress
                }
                Err(e) => self.fail(e),
            },
            State::Paused(accepted) => {
                self.state = State::Paused(accepted);
                Event::ClientHello
            }
            state @ (State::ClientVerify(_) | State::ServerVerify(_)) => {
                self.state = state;
                Event::Verify
            }
            State::Server(hs) => match hs.process(input, scratch) {
                Ok(ServerHandshake::NeedsInput(hs)) => {
                    self.state = State::Server(hs);
                    Event::NeedInput
                }
                Ok(other) => {
                    self.server_handshake(other);
                    // A verification pause is reported on the next step.
                    Event::Progress
                }
                Err(e) => self.fail(e),
            },
            State::ClientTraffic(mut halves) => {
                let event = halves.receive(input, data, scratch);
                self.state = State::ClientTraffic(halves);
                event
            }
            State::ServerTraffic(mut halves) => {
                let event = halves.receive(input, data, scratch);
                self.state = State::ServerTraffic(halves);
                event
            }
            State::EarlyServer(mut server) => {
                let event = server.process(input, scratch, &mut self.early, data);
                server.consumed(input.discarded);
                self.state = State::EarlyServer(server);
                event
            }
            State::Failed(e) => {
                self.state = State::Failed(e.clone());
                Event::Fatal(e)
            }
            State::Moving => unreachable!("a state is always put back"),
        }
    }

    /// Moves a client through the states that need no input: the server's
    /// certificate is verified at once with the config's verifier, as on
    /// rustls 0.23.
    ///
    /// `NeedsInput` straight from `process` means the input is used up;
    /// after a verification it does not (the records behind the
    /// certificate are still in the input), so the engine steps again.
    fn client_handshake(&mut self, next: ClientHandshake) -> Event {
        let mut next = next;
        let mut verified = false;
        loop {
            next = match next {
                ClientHandshake::NeedsInput(hs) => {
                    self.state = State::Client(hs);
                    return match verified {
                        true => Event::Progress,
                        false => Event::NeedInput,
                    };
                }
                ClientHandshake::VerifyServerIdentity(verify) if self.defer_verification => {
                    self.verifying =
                        presented(verify.presented_identity().ok().map(|i| i.identity));
                    self.state = State::ClientVerify(Box::new(verify));
                    return Event::Verify;
                }
                ClientHandshake::VerifyServerIdentity(verify) => {
                    verified = true;
                    match verify.with_config(&mut self.scratch) {
                        Ok(next) => next,
                        Err(e) => return self.fail(e),
                    }
                }
                ClientHandshake::Complete(split) => {
                    let halves = self.established(split);
                    self.state = State::ClientTraffic(halves);
                    return Event::Progress;
                }
                _ => {
                    return self.fail(Error::General(
                        "rustls returned a client handshake state this version of tlsbio does \
                         not know"
                            .into(),
                    ))
                }
            };
        }
    }

    /// As [`client_handshake`](Self::client_handshake), for a server after
    /// its ClientHello: a client certificate is verified at once.
    fn server_handshake(&mut self, next: ServerHandshake) {
        let mut next = next;
        loop {
            next = match next {
                ServerHandshake::NeedsInput(hs) => {
                    self.state = State::Server(hs);
                    return;
                }
                ServerHandshake::VerifyClientIdentity(verify) if self.defer_verification => {
                    self.verifying =
                        presented(verify.presented_identity().ok().map(|i| i.identity));
                    self.state = State::ServerVerify(Box::new(verify));
                    return;
                }
                ServerHandshake::VerifyClientIdentity(verify) => {
                    match verify.with_config(&mut self.scratch) {
                        Ok(next) => next,
                        Err(e) => {
                            self.deferred = Some(e.clone());
                            self.state = State::Failed(e);
                            return;
                        }
                    }
                }
                ServerHandshake::Complete(split) => {
                    let halves = self.established(split);
                    self.state = State::ServerTraffic(halves);
                    return;
                }
                _ => {
                    let e = Error::General(
                        "rustls returned a server handshake state this version of tlsbio does \
                         not know"
                            .into(),
                    );
                    self.deferred = Some(e.clone());
                    self.state = State::Failed(e);
                    return;
                }
            };
        }
    }

    fn established<S: SideData + EarlyStatus>(&mut self, split: SplitConnection<S>) -> Halves<S> {
        let SplitConnection {
            send,
            receive,
            outputs,
            side_outputs,
        } = split;
        self.facts = Some(Facts {
            outputs,
            peer_certificates: OnceLock::new(),
            early_accepted: side_outputs.early_accepted(),
        });
        Halves {
            send: Some(send),
            receive: Some(receive),
            peer_closed: false,
            flush_wanted: None,
        }
    }

    /// A fatal error: rustls appended its alert (if any) to the scratch.
    fn fail(&mut self, e: Error) -> Event {
        self.state = State::Failed(e.clone());
        Event::Fatal(e)
    }

    /// Sends `op`, encrypting at most what `out` can take. No plaintext
    /// arrives on this backend's send path, so `held` is never called.
    pub(crate) fn send<W: Bio>(
        &mut self,
        op: Send<'_>,
        out: &mut Output<W>,
        _held: &mut dyn FnMut(&[u8]),
    ) -> Sent {
        // Output from a call made without one (choosing a config) goes
        // first.
        out.append_copy(&mut self.scratch);
        if matches!(self.state, State::Failed(_)) {
            let State::Failed(e) = &self.state else {
                unreachable!("matched above")
            };
            return Sent::Fatal(e.clone());
        }
        if out.is_stuck() {
            return Sent::Full;
        }
        let overhead = record_overhead(self.outputs());
        let take = match fits(op, out, overhead) {
            Some(take) => take,
            None => return Sent::Full,
        };
        // What the record will take: if the write BIO has that room and
        // lends its memory, the record goes straight into it. (rustls may
        // put a small record of its own ahead, its KeyUpdate request near
        // the key's limit; the BIO keeps it even past its limit.)
        let len = match op {
            Send::Data(_) => take + overhead,
            Send::CloseNotify | Send::KeyUpdate => SMALL_RECORD,
        };
        let state = &mut self.state;
        out.append_vec(len, &mut self.scratch, |tls| match state {
            State::ClientTraffic(halves) => send_half(&mut halves.send, op, take, tls),
            State::ServerTraffic(halves) => send_half(&mut halves.send, op, take, tls),
            State::EarlyServer(server) => server.send(op, take, tls),
            _ => Sent::Handshaking,
        })
    }

    /// On a client before the server's first flight, encrypts a prefix of
    /// `data` as 0-RTT early data into the output: `Done(n)` (0 once the
    /// ticket's limit is used up), `Full` when the output cannot take a
    /// record now, `Closed` when no early data can be sent (no ticket that
    /// allows it, the handshake is past its first flight, or a server).
    pub(crate) fn send_early<W: Bio>(&mut self, data: &[u8], out: &mut Output<W>) -> Sent {
        out.append_copy(&mut self.scratch);
        let State::Client(hs) = &mut self.state else {
            return Sent::Closed;
        };
        let Some(mut early) = hs.early_data() else {
            return Sent::Closed;
        };
        // As for data: what the write BIO can take, or one record staged
        // into an empty one.
        let Some(take) = fits(Send::Data(data), out, RECORD_OVERHEAD) else {
            return Sent::Full;
        };
        let result = early.write(OutboundPlain::from(&data[..take]), &mut self.scratch);
        out.append_copy(&mut self.scratch);
        match result {
            Ok(n) => Sent::Done(n),
            Err(e) => Sent::Fatal(e),
        }
    }

    /// A client's: whether the server accepted its early data, once the
    /// handshake is complete.
    pub(crate) fn early_data_accepted(&self) -> Option<bool> {
        match self.state {
            State::ClientTraffic(_) => Some(self.facts.as_ref()?.early_accepted),
            _ => None,
        }
    }

    /// 0-RTT data decrypted and not yet read by the application.
    pub(crate) fn early_data(&mut self) -> &mut Vec<u8> {
        &mut self.early
    }

    /// Bytes of 0-RTT data held.
    pub(crate) fn early_pending(&self) -> usize {
        self.early.len()
    }

    /// Gives back the scratch `Vec`'s memory (it is always empty between
    /// calls); the next call that produces output allocates again.
    pub(crate) fn release_memory(&mut self) {
        self.scratch = Vec::new();
    }

    /// The engine dropped the input after the peer's close_notify; rustls
    /// 0.24 keeps no offsets into it.
    pub(crate) fn input_dropped(&mut self) {}

    /// Whether rustls reported the peer's close_notify since the last ask.
    pub(crate) fn take_peer_closed(&mut self) -> bool {
        std::mem::take(&mut self.peer_closed)
    }

    pub(crate) fn client_hello(&self) -> Option<&ClientHello> {
        self.hello.as_ref()
    }

    pub(crate) fn is_reading_client_hello(&self) -> bool {
        match &self.state {
            State::Accepting(..) => true,
            State::EarlyServer(server) => server.is_reading_client_hello(),
            _ => false,
        }
    }

    pub(crate) fn is_paused(&self) -> bool {
        matches!(self.state, State::Paused(_))
    }

    pub(crate) fn is_server(&self) -> bool {
        self.server
    }

    pub(crate) fn is_handshaking(&self) -> bool {
        match &self.state {
            State::EarlyServer(server) => server.is_handshaking(),
            _ => self.facts.is_none(),
        }
    }

    pub(crate) fn protocol_version(&self) -> Option<ProtocolVersion> {
        self.outputs()?.protocol_version()
    }

    pub(crate) fn cipher_suite(&self) -> Option<SupportedCipherSuite> {
        self.outputs()?.negotiated_cipher_suite()
    }

    pub(crate) fn alpn_protocol(&self) -> Option<&[u8]> {
        Some(self.outputs()?.alpn_protocol()?.as_ref())
    }

    pub(crate) fn key_exchange_group(&self) -> Option<NamedGroup> {
        Some(self.outputs()?.negotiated_key_exchange_group()?.name())
    }

    pub(crate) fn peer_certificates(&self) -> Option<&[CertificateDer<'static>]> {
        match &self.state {
            State::EarlyServer(server) => server.peer_certificates(),
            _ => {
                let facts = self.facts.as_ref()?;
                facts
                    .peer_certificates
                    .get_or_init(|| chain(&facts.outputs))
                    .as_deref()
            }
        }
    }

    pub(crate) fn handshake_kind(&self) -> Option<HandshakeKind> {
        self.outputs()?.handshake_kind()
    }

    pub(crate) fn server_name(&self) -> Option<&str> {
        match &self.state {
            State::EarlyServer(server) => server.server_name(),
            _ => self.hello.as_ref()?.server_name(),
        }
    }

    fn outputs(&self) -> Option<&ConnectionOutputs> {
        match &self.state {
            // The Connection API has them during the handshake too.
            State::EarlyServer(server) => Some(server.outputs()),
            _ => Some(&self.facts.as_ref()?.outputs),
        }
    }
}

impl<S: SideData> Halves<S> {
    /// One receive step: at most one record of application data, lent to
    /// `data`'s closure in place in the input (0.24 decrypts it there and
    /// hands out a borrow).
    fn receive(&mut self, input: &mut Lent<'_>, data: Data<'_>, scratch: &mut Vec<u8>) -> Event {
        let take = match data {
            // rustls 0.24 cannot decrypt a record and leave it: a record
            // it yields is consumed with the receive half. The engine asks
            // to leave data only to finish a handshake, which is done.
            Data::Leave => return Event::NeedInput,
            Data::Take(take) => take,
        };
        let Some(receive) = self.receive.take() else {
            // A close_notify that came right behind data is reported on
            // the step after the data's.
            return match self.peer_closed {
                true => Event::PeerClosed,
                false => Event::NeedInput,
            };
        };
        let next = match receive.read(input) {
            Ok(ReceiveTrafficState::Available(mut record)) => {
                take(record.data());
                let next = record.into_next();
                self.settle(next, scratch);
                return Event::Data;
            }
            Ok(next) => next,
            Err(e) => {
                // The alert for a receive error goes out through the send
                // half.
                self.flush_sender(scratch);
                return Event::Fatal(e);
            }
        };
        match self.settle(next, scratch) {
            Settled::ReadMore => Event::NeedInput,
            Settled::Flushed => Event::Progress,
            Settled::Closed => Event::PeerClosed,
        }
    }

    /// Keeps the receive half a state holds, sending what receiving queued.
    fn settle(&mut self, state: ReceiveTrafficState<'_, S>, scratch: &mut Vec<u8>) -> Settled {
        match state {
            ReceiveTrafficState::ReadMore(receive) => {
                self.receive = Some(receive);
                Settled::ReadMore
            }
            ReceiveTrafficState::FlushSender(flush) => {
                self.flush_sender(scratch);
                match self.settle(flush.into_next(), scratch) {
                    Settled::Closed => Settled::Closed,
                    _ => Settled::Flushed,
                }
            }
            ReceiveTrafficState::Available(_) => {
                unreachable!("rustls yields data only from read, which is handled above")
            }
            ReceiveTrafficState::CloseNotify => {
                self.peer_closed = true;
                Settled::Closed
            }
        }
    }

    /// Moves what the receive half queued for the peer (a KeyUpdate
    /// response, an alert) into the output. After our close_notify there
    /// is no send half and nothing more goes out.
    fn flush_sender(&mut self, scratch: &mut Vec<u8>) {
        if let Some(send) = &mut self.send {
            // Only fails if the connection already failed, which the
            // receive error being reported says.
            let _ = send.write(OutboundPlain::from(&[][..]), scratch);
        } else if let Some(wanted) = &self.flush_wanted {
            // Split: the sending side writes it out.
            wanted.store(true, Ordering::Release);
        }
    }

    /// This connection's two halves as two sessions' states: receiving
    /// only, and sending only, sharing the flag that says the sending side
    /// has something of the receiving side's to write out.
    fn split(self) -> Option<(Self, Self, Arc<AtomicBool>)> {
        let (Some(send), Some(receive), false) = (self.send, self.receive, self.peer_closed) else {
            return None;
        };
        let wanted = Arc::new(AtomicBool::new(false));
        let reading = Self {
            send: None,
            receive: Some(receive),
            peer_closed: false,
            flush_wanted: Some(wanted.clone()),
        };
        let writing = Self {
            send: Some(send),
            receive: None,
            peer_closed: false,
            flush_wanted: None,
        };
        Some((reading, writing, wanted))
    }
}

/// The certificates of a presented identity, owned, leaf first.
fn presented(identity: Option<&rustls024::crypto::Identity<'_>>) -> Vec<CertificateDer<'static>> {
    match identity {
        Some(rustls024::crypto::Identity::X509(chain)) => std::iter::once(&chain.end_entity)
            .chain(&chain.intermediates)
            .map(|c| c.clone().into_owned())
            .collect(),
        _ => Vec::new(),
    }
}

/// How much of `op` the output can take now: for data, the plaintext
/// that fits the write BIO's room with a record's overhead to spare, or a
/// whole record staged into an empty write BIO; an alert or KeyUpdate
/// record waits for room the same way. `None`: wait for the driver.
fn fits<W: Bio>(op: Send<'_>, out: &Output<W>, overhead: usize) -> Option<usize> {
    let room = out.room();
    let (len, need) = match op {
        Send::Data(data) => (data.len(), overhead + 1),
        Send::CloseNotify | Send::KeyUpdate => (0, SMALL_RECORD),
    };
    // rustls 0.24 fragments so that a whole protected record is at most
    // 2^14 bytes past its header: a longer plaintext would become a full
    // record and a tiny one behind it.
    let len = len.min(MAX_FRAGMENT - (overhead.saturating_sub(5)).min(MAX_FRAGMENT - 1));
    if room >= need {
        Some(len.min(room - overhead))
    } else if out.pending() == 0 {
        Some(len)
    } else if len == 0 && matches!(op, Send::Data(_)) {
        Some(0)
    } else {
        None
    }
}

/// What a record of `suite` adds to its plaintext, for the AEAD suites
/// rustls ships (all with 16-byte tags): TLS 1.3 header, inner content
/// type and tag; TLS 1.2 header, tag, and for AES-GCM its explicit nonce.
/// A suite of another provider with a longer tag makes a record that does
/// not fit; the output then stages it (one record).
fn record_overhead(outputs: Option<&ConnectionOutputs>) -> usize {
    use crate::tls::CipherSuite;
    let Some(outputs) = outputs else {
        return RECORD_OVERHEAD;
    };
    match (
        outputs.protocol_version(),
        outputs.negotiated_cipher_suite(),
    ) {
        (Some(ProtocolVersion::TLSv1_3), Some(_)) => 5 + 1 + 16,
        (Some(ProtocolVersion::TLSv1_2), Some(suite)) => match suite.suite() {
            CipherSuite::TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256
            | CipherSuite::TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256 => 5 + 16,
            _ => 5 + 8 + 16,
        },
        _ => RECORD_OVERHEAD,
    }
}

/// Sends `op` (`take` bytes of its data) through a send half; `Closed`
/// once our close_notify has consumed it.
fn send_half(send: &mut Option<SendTraffic>, op: Send<'_>, take: usize, tls: &mut Vec<u8>) -> Sent {
    let Some(sender) = send else {
        return Sent::Closed;
    };
    let result = match op {
        Send::Data(data) => sender
            .write(OutboundPlain::from(&data[..take]), tls)
            .map(|()| take),
        Send::CloseNotify => {
            let sender = send.take().expect("checked above");
            sender.close(tls).map(|()| 0)
        }
        Send::KeyUpdate => sender.refresh_traffic_keys(tls).map(|()| 0),
    };
    match result {
        Ok(n) => Sent::Done(n),
        Err(e) => Sent::Fatal(e),
    }
}

/// What the handshake's side outputs say of early data: a client's
/// acceptance; a server's is never asked.
trait EarlyStatus {
    fn early_accepted(&self) -> bool;
}

impl EarlyStatus for ClientSide {
    fn early_accepted(&self) -> bool {
        self.is_early_data_accepted()
    }
}

impl EarlyStatus for ServerSide {
    fn early_accepted(&self) -> bool {
        false
    }
}

/// Where a receive state left the receive half.
enum Settled {
    ReadMore,
    Flushed,
    Closed,
}

/// The peer's X.509 chain from `outputs`, end entity first.
fn chain(outputs: &ConnectionOutputs) -> Option<Vec<CertificateDer<'static>>> {
    match outputs.peer_identity()?.identity() {
        rustls024::crypto::Identity::X509(chain) => Some(
            std::iter::once(chain.end_entity.clone().into_owned())
                .chain(chain.intermediates.iter().map(|c| c.clone().into_owned()))
                .collect(),
        ),
        _ => None,
    }
}

/// Room a server's first flight (ServerHello to Finished, certificate
/// chain included) usually fits in.
const SERVER_FLIGHT: usize = 4096;

/// `scratch`, with room for a server's first flight reserved at once:
/// rustls reserves for each message as it appends it, so an empty
/// scratch grew four times in that flight, each time a new allocation.
fn flight_room(scratch: &mut Vec<u8>) -> &mut Vec<u8> {
    scratch.reserve(SERVER_FLIGHT);
    scratch
}
