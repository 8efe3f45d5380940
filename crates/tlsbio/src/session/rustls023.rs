//! The rustls 0.23 backend: the unbuffered API, and `Acceptor` for the
//! ClientHello of a server that pauses.
//!
//! The unbuffered API keeps the BIOs the only ciphertext buffers: rustls
//! decrypts records in place in the input and encrypts application data
//! straight into the write BIO. What it lacks is a way to read the
//! ClientHello before choosing a config, and, on a server, any way to see
//! the ClientHello (its SNI name) at all. So a paused server reads its
//! ClientHello through the buffered `Acceptor` on a copy of the first
//! flight, which it discards from the input only once the real
//! connection, built from the chosen config, has replayed it (see
//! docs/architecture.md). A server with its config from the start reads
//! it once, with the real connection, and learns what it needs of it from
//! its certificate resolver ([`hello_recorder`]).

use std::sync::Arc;

use rustls::client::{ClientConnectionData, UnbufferedClientConnection};
use rustls::pki_types::{CertificateDer, ServerName};
use rustls::server::{Acceptor, ServerConnectionData, UnbufferedServerConnection};
use rustls::unbuffered::{
    ConnectionState, EncodeError, EncryptError, InsufficientSizeError, ReadEarlyData,
    UnbufferedStatus,
};
use rustls::{
    ClientConfig, HandshakeKind, NamedGroup, ProtocolVersion, ServerConfig, SupportedCipherSuite,
};

use super::{Data, Event, Output, Send, Sent};

#[path = "rustls023_hello.rs"]
mod hello_recorder;
use crate::bio::Bio;
use crate::error::ConfigError;
use crate::hello::ClientHello;
use crate::record;

/// A guess at per-record overhead (header, AEAD tag, TLS 1.3 content
/// type, TLS 1.2 explicit nonce) that lets a write usually find room in
/// one try. The exact figure comes from rustls when the guess is short.
const OVERHEAD_GUESS: usize = 32;

/// Room for an encrypted alert or KeyUpdate record.
const SMALL_RECORD: usize = 64;

/// rustls steps one send may take: each encodes a queued message or
/// finishes the send, so a handful is plenty.
const MAX_SEND_STEPS: usize = 64;

/// The rustls connection behind an engine.
pub(crate) struct Session {
    conn: Conn,
    /// Whether rustls has discarded all the input it processed, so that a
    /// step with an empty input (how the unbuffered API reaches its write
    /// state) is safe. While a handshake message spans records, rustls
    /// keeps offsets into the input; stepping with another buffer then
    /// would index out of range.
    settled: bool,
    /// rustls reported the peer's close_notify (once, possibly on a write
    /// step); the engine collects it with [`Session::take_peer_closed`].
    peer_closed: bool,
    /// 0-RTT data a server decrypted, until the application reads it
    /// ([`Engine::read_early_data`](crate::Engine::read_early_data)).
    /// rustls bounds it by `max_early_data_size`.
    early: Vec<u8>,
}

// The connections are held by value: boxing them (and the acceptor) cost
// three allocations per handshake, a tenth of what tlsbio added to
// rustls'. So is the ClientHello copy once the connection runs.
enum Conn {
    Client(UnbufferedClientConnection),
    /// A server, with its ClientHello once read: from the `Acceptor` if it
    /// paused, else from its certificate resolver ([`hello_recorder`]).
    Server(UnbufferedServerConnection, Option<ClientHello>),
    /// A server reading its first flight to pause at the ClientHello. The
    /// flight stays in the input (nothing is discarded) for the real
    /// connection.
    Accepting {
        acceptor: Acceptor,
        fed: usize,
    },
    /// A server paused at the ClientHello, waiting for its config.
    Paused(Box<ClientHello>),
    /// A server whose config rustls refused when the connection was made
    /// (never after [`Session::check_server_config`] accepted it).
    Refused(rustls::Error),
}

impl Session {
    pub(crate) fn client(
        config: Arc<ClientConfig>,
        name: ServerName<'static>,
    ) -> Result<Self, rustls::Error> {
        let conn = UnbufferedClientConnection::new(config, name)?;
        Ok(Self::with(Conn::Client(conn)))
    }

    /// A server for `config` (as [`Session::check_server_config`] returned
    /// it), or one that pauses at the ClientHello.
    pub(crate) fn server(config: Option<Arc<ServerConfig>>) -> Self {
        Self::with(match config {
            Some(config) => match UnbufferedServerConnection::new(config) {
                Ok(conn) => Conn::Server(conn, None),
                Err(e) => Conn::Refused(e),
            },
            None => Conn::Accepting {
                acceptor: Acceptor::default(),
                fed: 0,
            },
        })
    }

    fn with(conn: Conn) -> Self {
        Self {
            conn,
            settled: true,
            peer_closed: false,
            early: Vec::new(),
        }
    }

    /// Checks what this backend needs of a client config, once per
    /// context: no 0-RTT, because the unbuffered client cannot say whether
    /// the server accepted it.
    pub(crate) fn check_client_config(config: &Arc<ClientConfig>) -> Result<(), ConfigError> {
        if config.enable_early_data {
            return Err(ConfigError::EarlyDataUnsupported);
        }
        Ok(())
    }

    /// Deferred verification: not on 0.23, whose verifier runs inside the
    /// handshake.
    pub(crate) fn check_deferred_verification() -> Result<(), ConfigError> {
        Err(ConfigError::DeferredVerificationUnsupported)
    }

    /// Deferring verification is refused by the contexts on 0.23.
    pub(crate) fn defer_verification(&mut self, _on: bool) {}

    /// Never paused for a verdict on 0.23.
    pub(crate) fn verified(&mut self, _verdict: super::Verdict) {}

    /// The peer's certificates awaiting a verdict: never on 0.23.
    pub(crate) fn verifying_certificates(&self) -> Option<&[CertificateDer<'static>]> {
        None
    }

    /// Checks that rustls accepts a server config, without starting a
    /// connection, and that 0-RTT, if allowed, comes with server-side
    /// session storage. Done once per context. Returns the config the
    /// context's engines run on: a copy whose certificate resolver also
    /// records the ClientHello ([`hello_recorder`]).
    pub(crate) fn check_server_config(
        config: &Arc<ServerConfig>,
    ) -> Result<Arc<ServerConfig>, ConfigError> {
        if config.max_early_data_size != 0 && config.ticketer.enabled() {
            return Err(ConfigError::EarlyDataNeedsStatefulResumption);
        }
        UnbufferedServerConnection::new(Arc::clone(config)).map_err(ConfigError::Rustls)?;
        Ok(hello_recorder::recording(config))
    }

    /// Continues a paused server with `config`. The ClientHello is
    /// processed again by a connection built from it.
    pub(crate) fn choose_config(&mut self, config: Arc<ServerConfig>) -> Result<(), ConfigError> {
        if let Conn::Paused(hello) = &mut self.conn {
            let conn = UnbufferedServerConnection::new(config).map_err(ConfigError::Rustls)?;
            // Taken out of its box, not with the box: an empty
            // `ClientHello` allocates nothing, an empty `Box` would.
            let hello = std::mem::take(&mut **hello);
            self.conn = Conn::Server(conn, Some(hello));
            self.settled = true;
        }
        Ok(())
    }

    /// Runs rustls once over `input`, appending its output to `out`.
    /// Returns how many bytes at the front of `input` it is done with.
    pub(crate) fn process<W: Bio>(
        &mut self,
        input: &mut [u8],
        out: &mut Output<W>,
        data: Data<'_>,
    ) -> (usize, Event) {
        let (discard, event) = match &mut self.conn {
            Conn::Client(c) => handle(c.process_tls_records(input), data, out, &mut self.early),
            Conn::Server(s, hello) => {
                // Listens only until the first hello is heard, which is
                // the one the engine shows. A second one (after a
                // HelloRetryRequest) must name the same server; rustls
                // checks that (`ServerNameDifferedOnRetry`).
                let listening = hello.is_none().then(hello_recorder::Listening::start);
                let status = s.process_tls_records(input);
                if let Some(listening) = listening {
                    *hello = listening.heard();
                }
                handle(status, data, out, &mut self.early)
            }
            Conn::Accepting { acceptor, fed } => {
                let event = match accept(acceptor, fed, input, out) {
                    Ok(hello) => {
                        self.conn = Conn::Paused(hello);
                        Event::ClientHello
                    }
                    Err(event) => event,
                };
                // The first flight stays in the input for the real
                // connection.
                return (0, event);
            }
            Conn::Paused(_) => return (0, Event::ClientHello),
            Conn::Refused(e) => return (0, Event::Fatal(e.clone())),
        };
        let event = match event {
            Event::Fatal(e) => {
                self.drain_alert(out);
                Event::Fatal(e)
            }
            Event::PeerClosed => {
                self.peer_closed = true;
                Event::PeerClosed
            }
            other => other,
        };
        self.settled = match event {
            // rustls drained its input: what it still holds, if anything,
            // is complete records at the front that it has joined (a
            // handshake message spanning records).
            Event::NeedInput | Event::PeerClosed => {
                !record::front_record_complete(&input[discard.min(input.len())..], &[])
            }
            // Application data was processed and discarded with everything
            // before it (handshake messages cannot interleave with it).
            Event::Data | Event::DataReady | Event::ClientHello | Event::Verify => true,
            Event::Progress | Event::Fatal(_) | Event::Overflow => false,
        };
        (discard, event)
    }

    /// rustls queues the alert for a failure and hands queued output out
    /// before it looks at any input, so stepping with no input is safe
    /// exactly while output is queued. The failed input is never fed
    /// again: it would fail (and alert) again.
    fn drain_alert<W: Bio>(&mut self, out: &mut Output<W>) {
        for _ in 0..4 {
            let queued = self.common().is_some_and(|c| c.wants_write());
            if !queued {
                return;
            }
            let _ = match &mut self.conn {
                Conn::Client(c) => handle(
                    c.process_tls_records(&mut []),
                    Data::Leave,
                    out,
                    &mut self.early,
                ),
                Conn::Server(s, _) => handle(
                    s.process_tls_records(&mut []),
                    Data::Leave,
                    out,
                    &mut self.early,
                ),
                _ => return,
            };
        }
    }

    /// Sends `op`, encrypting at most what `out` can take. Plaintext that
    /// rustls decrypted earlier and hands out on the way goes to `held`.
    pub(crate) fn send<W: Bio>(
        &mut self,
        op: Send<'_>,
        out: &mut Output<W>,
        held: &mut dyn FnMut(&[u8]),
    ) -> Sent {
        if self.is_reading_client_hello() || matches!(self.conn, Conn::Paused(_) | Conn::Refused(_))
        {
            return Sent::Handshaking;
        }
        let mut op = op;
        for _ in 0..MAX_SEND_STEPS {
            if !self.settled {
                return Sent::ProcessFirst;
            }
            if out.is_stuck() {
                return Sent::Full;
            }
            let room = out.room();
            let wanted = match op {
                Send::Data(d) => d.len() + OVERHEAD_GUESS,
                _ => SMALL_RECORD,
            };
            let attempt = if room >= wanted {
                let step = self.write_step(op, out, held, Region::InPlace(wanted));
                match step {
                    // The guess was short after all: learn the need below.
                    Step::NeedRoom(_) => self.write_step(op, out, held, Region::Probe),
                    other => other,
                }
            } else {
                self.write_step(op, out, held, Region::Probe)
            };
            match attempt {
                Step::Done(n) => return Sent::Done(n),
                Step::Progress | Step::PeerClosed => {}
                Step::NeedRoom(required) => {
                    if room >= required {
                        if let Step::Done(n) =
                            self.write_step(op, out, held, Region::InPlace(required))
                        {
                            return Sent::Done(n);
                        }
                        continue;
                    }
                    // Shrink a data record to what fits.
                    if let Send::Data(d) = op {
                        let overhead = required.saturating_sub(d.len());
                        if room > overhead && !d.is_empty() {
                            op = Send::Data(&d[..room - overhead]);
                            continue;
                        }
                    }
                    if out.pending() > 0 {
                        return Sent::Full;
                    }
                    // The write BIO is empty and still too small for one
                    // record: stage that record and let it drain.
                    match self.write_step(op, out, held, Region::Staged(required)) {
                        Step::Done(n) => return Sent::Done(n),
                        Step::NotReady(sent) => return sent,
                        Step::Progress | Step::PeerClosed | Step::NeedRoom(_) => {}
                    }
                }
                Step::NotReady(sent) => return sent,
            }
        }
        Sent::Stuck
    }

    /// One write-side step with no new input.
    fn write_step<W: Bio>(
        &mut self,
        op: Send<'_>,
        out: &mut Output<W>,
        held: &mut dyn FnMut(&[u8]),
        region: Region,
    ) -> Step {
        let step = match &mut self.conn {
            Conn::Client(c) => write_step(
                c.process_tls_records(&mut []),
                op,
                out,
                held,
                &mut self.early,
                region,
            ),
            Conn::Server(s, _) => write_step(
                s.process_tls_records(&mut []),
                op,
                out,
                held,
                &mut self.early,
                region,
            ),
            Conn::Accepting { .. } | Conn::Paused(_) | Conn::Refused(_) => {
                return Step::NotReady(Sent::Handshaking)
            }
        };
        match step {
            Step::PeerClosed => {
                // rustls says this once; losing it would leave shutdown
                // waiting for a close_notify already read.
                self.peer_closed = true;
                Step::Progress
            }
            Step::NotReady(Sent::Fatal(e)) => {
                self.drain_alert(out);
                Step::NotReady(Sent::Fatal(e))
            }
            other => other,
        }
    }

    /// Client 0-RTT: never on 0.23 (the contexts refuse client configs
    /// that enable it: the unbuffered client cannot say whether the server
    /// accepted the data).
    pub(crate) fn send_early<W: Bio>(&mut self, _data: &[u8], _out: &mut Output<W>) -> Sent {
        Sent::Closed
    }

    /// Whether the server accepted a client's early data: never known on
    /// 0.23.
    pub(crate) fn early_data_accepted(&self) -> Option<bool> {
        None
    }

    /// 0-RTT data decrypted and not yet read by the application.
    pub(crate) fn early_data(&mut self) -> &mut Vec<u8> {
        &mut self.early
    }

    /// Bytes of 0-RTT data held.
    pub(crate) fn early_pending(&self) -> usize {
        self.early.len()
    }

    /// Nothing of the session's own to give back: rustls 0.23 keeps its
    /// buffers inside the connection.
    pub(crate) fn release_memory(&mut self) {}

    /// The engine dropped the input (everything after the peer's
    /// close_notify is ignored): rustls holds nothing of it any more.
    pub(crate) fn input_dropped(&mut self) {
        self.settled = true;
    }

    /// Whether rustls reported the peer's close_notify since the last ask.
    pub(crate) fn take_peer_closed(&mut self) -> bool {
        std::mem::take(&mut self.peer_closed)
    }

    pub(crate) fn client_hello(&self) -> Option<&ClientHello> {
        match &self.conn {
            Conn::Paused(hello) => Some(hello),
            Conn::Server(_, hello) => hello.as_ref(),
            _ => None,
        }
    }

    /// A server whose ClientHello rustls has not yet processed. rustls
    /// settles the version from the first hello it accepts (and fails on
    /// one it refuses), so this does not depend on the recorded copy.
    pub(crate) fn is_reading_client_hello(&self) -> bool {
        match &self.conn {
            Conn::Accepting { .. } => true,
            Conn::Server(s, None) => s.protocol_version().is_none(),
            _ => false,
        }
    }

    pub(crate) fn is_paused(&self) -> bool {
        matches!(self.conn, Conn::Paused(_))
    }

    pub(crate) fn is_server(&self) -> bool {
        !matches!(self.conn, Conn::Client(_))
    }

    pub(crate) fn is_handshaking(&self) -> bool {
        self.common().is_none_or(|c| c.is_handshaking())
    }

    pub(crate) fn protocol_version(&self) -> Option<ProtocolVersion> {
        self.common()?.protocol_version()
    }

    pub(crate) fn cipher_suite(&self) -> Option<SupportedCipherSuite> {
        self.common()?.negotiated_cipher_suite()
    }

    pub(crate) fn alpn_protocol(&self) -> Option<&[u8]> {
        self.common()?.alpn_protocol()
    }

    pub(crate) fn key_exchange_group(&self) -> Option<NamedGroup> {
        Some(self.common()?.negotiated_key_exchange_group()?.name())
    }

    pub(crate) fn peer_certificates(&self) -> Option<&[CertificateDer<'static>]> {
        self.common()?.peer_certificates()
    }

    pub(crate) fn handshake_kind(&self) -> Option<HandshakeKind> {
        self.common()?.handshake_kind()
    }

    pub(crate) fn server_name(&self) -> Option<&str> {
        match &self.conn {
            Conn::Server(_, Some(hello)) => hello.server_name(),
            Conn::Paused(hello) => hello.server_name(),
            _ => None,
        }
    }

    fn common(&self) -> Option<&rustls::CommonState> {
        match &self.conn {
            Conn::Client(c) => Some(c),
            Conn::Server(s, _) => Some(s),
            _ => None,
        }
    }
}

/// Where a write step may put its record.
#[derive(Clone, Copy, Debug)]
enum Region {
    /// In place in the write BIO, in a region of this many bytes.
    InPlace(usize),
    /// Nowhere: learn how many bytes the record needs.
    Probe,
    /// In the output's staging, this many bytes.
    Staged(usize),
}

/// What a write step came to.
#[derive(Debug)]
enum Step {
    Done(usize),
    /// Queued handshake output was appended; step again.
    Progress,
    /// The record needs this many contiguous bytes.
    NeedRoom(usize),
    /// rustls reported the peer's close_notify.
    PeerClosed,
    NotReady(Sent),
}

fn handle<Data: Side, W: Bio>(
    status: UnbufferedStatus<'_, '_, Data>,
    data: super::Data<'_>,
    out: &mut Output<W>,
    early: &mut Vec<u8>,
) -> (usize, Event) {
    let UnbufferedStatus { discard, state } = status;
    let event = match state {
        Err(e) => Event::Fatal(e),
        Ok(ConnectionState::ReadTraffic(mut traffic)) => match data {
            super::Data::Leave => Event::DataReady,
            super::Data::Take(take) => match traffic.next_record() {
                Some(Ok(record)) => {
                    take(record.payload);
                    Event::Data
                }
                Some(Err(e)) => Event::Fatal(e),
                None => Event::Progress,
            },
        },
        Ok(ConnectionState::EncodeTlsData(encode)) => {
            append_encoded(encode, out);
            Event::Progress
        }
        Ok(ConnectionState::TransmitTlsData(transmit)) => {
            // Our output is already in the output queue.
            transmit.done();
            Event::Progress
        }
        Ok(ConnectionState::BlockedHandshake) | Ok(ConnectionState::WriteTraffic(_)) => {
            Event::NeedInput
        }
        Ok(ConnectionState::PeerClosed) | Ok(ConnectionState::Closed) => Event::PeerClosed,
        Ok(ConnectionState::ReadEarlyData(mut records)) => {
            match Data::take_early(&mut records, early) {
                Ok(()) => Event::Progress,
                Err(e) => Event::Fatal(e),
            }
        }
        Ok(_) => Event::Fatal(rustls::Error::General(
            "rustls returned a connection state this version of tlsbio does not know".into(),
        )),
    };
    (discard, event)
}

fn write_step<Data: Side, W: Bio>(
    status: UnbufferedStatus<'_, '_, Data>,
    op: Send<'_>,
    out: &mut Output<W>,
    held: &mut dyn FnMut(&[u8]),
    early: &mut Vec<u8>,
    region: Region,
) -> Step {
    let UnbufferedStatus { state, .. } = status;
    match state {
        Err(e) => Step::NotReady(Sent::Fatal(e)),
        Ok(ConnectionState::WriteTraffic(traffic)) if matches!(op, Send::KeyUpdate) => {
            // The KeyUpdate message comes out as the next EncodeTlsData.
            match traffic.refresh_traffic_keys() {
                Ok(()) => Step::Done(0),
                Err(e) => Step::NotReady(Sent::Fatal(e)),
            }
        }
        Ok(ConnectionState::WriteTraffic(mut traffic)) => {
            let mut run = |buf: &mut [u8]| -> Result<(usize, usize), EncryptError> {
                match op {
                    Send::Data(data) => traffic.encrypt(data, buf).map(|n| (n, data.len())),
                    Send::CloseNotify => traffic.queue_close_notify(buf).map(|n| (n, 0)),
                    Send::KeyUpdate => Ok((0, 0)),
                }
            };
            let result = match region {
                Region::Probe => run(&mut []),
                Region::InPlace(len) => out
                    .write_in_place(len, |buf| match run(buf) {
                        Ok((n, taken)) => (n, Ok((n, taken))),
                        Err(e) => (0, Err(e)),
                    })
                    .unwrap_or(Err(EncryptError::InsufficientSize(InsufficientSizeError {
                        required_size: len,
                    }))),
                Region::Staged(len) => {
                    let mut result = Ok((0, 0));
                    out.append_with(len, |buf| match run(buf) {
                        Ok((n, taken)) => {
                            result = Ok((n, taken));
                            n
                        }
                        Err(e) => {
                            result = Err(e);
                            0
                        }
                    });
                    result
                }
            };
            match result {
                Ok((_, taken)) => Step::Done(taken),
                Err(EncryptError::InsufficientSize(InsufficientSizeError { required_size })) => {
                    Step::NeedRoom(required_size)
                }
                Err(e) => Step::NotReady(Sent::Fatal(rustls::Error::General(e.to_string()))),
            }
        }
        Ok(ConnectionState::EncodeTlsData(encode)) => {
            append_encoded(encode, out);
            Step::Progress
        }
        Ok(ConnectionState::TransmitTlsData(transmit)) => {
            transmit.done();
            Step::Progress
        }
        Ok(ConnectionState::ReadTraffic(mut traffic)) => {
            // Plaintext that arrived with the handshake must not block the
            // write side, nor be lost: hold it for `read`.
            match traffic.next_record() {
                Some(Ok(record)) => held(record.payload),
                Some(Err(e)) => return Step::NotReady(Sent::Fatal(e)),
                None => {}
            }
            Step::Progress
        }
        Ok(ConnectionState::BlockedHandshake) => Step::NotReady(Sent::Handshaking),
        Ok(ConnectionState::PeerClosed) => Step::PeerClosed,
        // rustls says Closed once it has our close_notify and the peer's.
        // For a close_notify op that means ours was queued by an earlier,
        // too-small attempt and is on its way: the op is done.
        Ok(ConnectionState::Closed) if matches!(op, Send::CloseNotify) => Step::Done(0),
        Ok(ConnectionState::Closed) => Step::NotReady(Sent::Closed),
        Ok(ConnectionState::ReadEarlyData(mut records)) => {
            match Data::take_early(&mut records, early) {
                Ok(()) => Step::Progress,
                Err(e) => Step::NotReady(Sent::Fatal(e)),
            }
        }
        Ok(_) => Step::NotReady(Sent::Handshaking),
    }
}

/// What differs between a client's and a server's steps: only a server
/// has 0-RTT records to read.
trait Side: Sized {
    /// Moves every 0-RTT record rustls has decrypted into `early`. rustls
    /// refuses early data beyond the config's `max_early_data_size`, which
    /// bounds `early`.
    fn take_early(
        records: &mut ReadEarlyData<'_, '_, Self>,
        early: &mut Vec<u8>,
    ) -> Result<(), rustls::Error>;
}

impl Side for ServerConnectionData {
    fn take_early(
        records: &mut ReadEarlyData<'_, '_, Self>,
        early: &mut Vec<u8>,
    ) -> Result<(), rustls::Error> {
        while let Some(record) = records.next_record() {
            early.extend_from_slice(record?.payload);
        }
        Ok(())
    }
}

impl Side for ClientConnectionData {
    fn take_early(
        _: &mut ReadEarlyData<'_, '_, Self>,
        _: &mut Vec<u8>,
    ) -> Result<(), rustls::Error> {
        Err(rustls::Error::General(
            "rustls offered 0-rtt data to read on a client".into(),
        ))
    }
}

/// Appends a queued handshake message or alert to the output: in place if
/// the write BIO has room, into the staging otherwise. Dropping `encode`
/// unencoded would lose the message.
fn append_encoded<Data, W: Bio>(
    mut encode: rustls::unbuffered::EncodeTlsData<'_, Data>,
    out: &mut Output<W>,
) {
    let required = match encode.encode(&mut []) {
        Ok(_) | Err(EncodeError::AlreadyEncoded) => 0,
        Err(EncodeError::InsufficientSize(InsufficientSizeError { required_size })) => {
            required_size
        }
    };
    out.append_with(required, |buf| encode.encode(buf).unwrap_or(0));
}

/// Feeds the not-yet-seen part of the first flight to the acceptor.
/// Returns the ClientHello once it is complete, otherwise what to do.
///
/// The acceptor's buffered deframer holds at most one record's worth of
/// unprocessed bytes unless it is joining a handshake message, and it only
/// knows that once it has processed a record. So it is given what one read
/// takes and then asked to process, in turn, the way rustls' own
/// `read_tls` / `process_new_packets` loop does: a ClientHello spread over
/// many records is joined up to rustls' 64 KiB limit, exactly as a
/// rustls server over a socket would.
fn accept<W: Bio>(
    acceptor: &mut Acceptor,
    fed: &mut usize,
    input: &[u8],
    out: &mut Output<W>,
) -> Result<Box<ClientHello>, Event> {
    loop {
        let mut rest = &input[(*fed).min(input.len())..];
        let read = if rest.is_empty() {
            0
        } else {
            match acceptor.read_tls(&mut rest) {
                Ok(n) => n,
                // rustls' buffer bound: the peer sent more than a handshake
                // message can be. rustls' own server sends no alert here
                // either; it fails the read.
                Err(_) => return Err(Event::Overflow),
            }
        };
        *fed += read;
        match acceptor.accept() {
            Ok(None) if read > 0 => continue,
            Ok(None) => return Err(Event::NeedInput),
            Ok(Some(accepted)) => {
                return Ok(Box::new(ClientHello::from_rustls(&accepted.client_hello())))
            }
            Err((e, mut alert)) => {
                let mut bytes = Vec::new();
                // Writing into a Vec cannot fail.
                let _ = alert.write_all(&mut bytes);
                out.append(&bytes);
                return Err(Event::Fatal(e));
            }
        }
    }
}
