//! The seam: every call into a rustls connection type lives here.
//!
//! rustls 0.24 replaces the unbuffered API and `Acceptor`; moving to it
//! must be a change to this module alone. Nothing else in the workspace
//! names a rustls connection type.
//!
//! We use rustls 0.23's *unbuffered* API so that the BIOs are the only
//! ciphertext buffers: rustls decrypts records in place in the input slice
//! and encrypts application data straight into the write BIO. The one
//! feature the unbuffered API lacks, pausing at the ClientHello, uses the
//! buffered `Acceptor` on a copy of the first flight (see
//! docs/architecture.md).

use std::sync::Arc;

use rustls::client::UnbufferedClientConnection;
use rustls::pki_types::{CertificateDer, ServerName};
use rustls::server::{Acceptor, UnbufferedServerConnection};
use rustls::unbuffered::{
    ConnectionState, EncodeError, EncryptError, InsufficientSizeError, UnbufferedStatus,
};
use rustls::{ClientConfig, HandshakeKind, ProtocolVersion, ServerConfig, SupportedCipherSuite};

use crate::hello::ClientHello;

/// What a step that consumes input should do with application data.
pub(crate) enum Action<'a> {
    /// Only drive the handshake; leave application data where it is.
    Drive,
    /// Deliver one record of plaintext: into `buf`, the rest into `held`.
    Read {
        buf: &'a mut [u8],
        held: &'a mut Vec<u8>,
    },
    /// Drop application data (`SSL_shutdown` waiting for close_notify).
    Discard,
}

/// What one rustls step came to.
#[derive(Debug)]
pub(crate) enum Outcome {
    /// Something happened (a message processed, output staged); step again.
    Progress,
    /// This many plaintext bytes went into the caller's buffer.
    Read(usize),
    /// This many plaintext bytes were dropped ([`Action::Discard`]).
    Discarded(usize),
    /// Application data is ready but the action was [`Action::Drive`].
    DataReady,
    /// rustls needs more input to go on (handshaking, or waiting for data).
    NeedInput,
    /// The handshake is complete and nothing is pending.
    Idle,
    /// The peer's close_notify has been processed.
    PeerClosed,
    /// Both close_notify alerts have been exchanged.
    Closed,
    /// The ClientHello has been read; the server is paused.
    Hello,
    /// rustls failed. Any alert it queued has been staged.
    Failed(rustls::Error),
    /// The peer sent more than rustls buffers for one handshake message
    /// (64 KiB) without completing it. No alert: rustls' own server fails
    /// the read the same way.
    Overflow,
}

/// What the write side should do.
#[derive(Debug, Clone, Copy)]
pub(crate) enum WriteOp<'a> {
    /// Encrypt (a prefix of) this plaintext as one or more records.
    Data(&'a [u8]),
    /// Queue our close_notify.
    CloseNotify,
    /// Send a TLS 1.3 KeyUpdate.
    KeyUpdate,
}

/// What a write-side step came to.
#[derive(Debug)]
pub(crate) enum WriteOutcome {
    /// The op is done: for [`WriteOp::Data`], this many plaintext bytes were
    /// encrypted into the region.
    Done(usize),
    /// Pending handshake output was written into the region; step again.
    Progress,
    /// The region is too small: this many contiguous bytes are needed.
    NeedRoom(usize),
    /// rustls reported, once, that the peer's close_notify arrived (it may
    /// have read the alert together with the last application data).
    /// Writing may go on; step again.
    PeerClosed,
    /// The connection cannot write now; the outcome says why.
    NotReady(Outcome),
}

/// The rustls connection behind an engine.
pub(crate) enum Session {
    Client(Box<UnbufferedClientConnection>),
    /// A server, with the ClientHello it was started from.
    Server(Box<UnbufferedServerConnection>, Box<ClientHello>),
    /// A server reading its first flight. With a config it continues by
    /// itself; without, it pauses at the ClientHello.
    Accepting {
        acceptor: Box<Acceptor>,
        fed: usize,
        config: Option<Arc<ServerConfig>>,
    },
    /// A server paused at the ClientHello, waiting for its config.
    Paused(Box<ClientHello>),
}

impl Session {
    pub(crate) fn client(
        config: Arc<ClientConfig>,
        name: ServerName<'static>,
    ) -> Result<Self, rustls::Error> {
        UnbufferedClientConnection::new(config, name).map(|c| Self::Client(Box::new(c)))
    }

    /// A server for `config`, or one that pauses at the ClientHello.
    ///
    /// The unbuffered server connection of rustls 0.23 cannot tell the SNI
    /// name it was asked for, so every server reads its ClientHello through
    /// `Acceptor` first (on a copy of the first flight) and then replays
    /// the flight into the unbuffered connection.
    pub(crate) fn accepting(config: Option<Arc<ServerConfig>>) -> Self {
        Self::Accepting {
            acceptor: Box::default(),
            fed: 0,
            config,
        }
    }

    /// Checks that rustls accepts a server config, without starting a
    /// connection.
    pub(crate) fn check_server_config(config: &Arc<ServerConfig>) -> Result<(), rustls::Error> {
        UnbufferedServerConnection::new(Arc::clone(config)).map(drop)
    }

    /// Continues a paused server with `config`.
    pub(crate) fn resume(&mut self, config: Arc<ServerConfig>) -> Result<(), rustls::Error> {
        if let Self::Paused(hello) = self {
            let conn = UnbufferedServerConnection::new(config)?;
            *self = Self::Server(Box::new(conn), std::mem::take(hello));
        }
        Ok(())
    }

    /// Runs rustls once over `input`, staging any TLS output into `out`.
    /// Returns how many bytes at the front of `input` are done with.
    pub(crate) fn step(
        &mut self,
        input: &mut [u8],
        action: &mut Action<'_>,
        out: &mut Vec<u8>,
    ) -> (usize, Outcome) {
        match self {
            Self::Client(c) => handle(c.process_tls_records(input), action, out),
            Self::Server(s, _) => handle(s.process_tls_records(input), action, out),
            Self::Accepting {
                acceptor,
                fed,
                config,
            } => {
                // The first flight stays in `input` for the real connection.
                let outcome = match accept(acceptor, fed, input, out) {
                    Ok(hello) => {
                        let config = config.take();
                        *self = Self::Paused(hello);
                        match config {
                            Some(config) => match self.resume(config) {
                                Ok(()) => Outcome::Progress,
                                Err(e) => Outcome::Failed(e),
                            },
                            None => Outcome::Hello,
                        }
                    }
                    Err(outcome) => outcome,
                };
                (0, outcome)
            }
            Self::Paused(_) => (0, Outcome::Hello),
        }
    }

    /// Runs one write-side step with no new input, writing into `region`.
    /// Returns the bytes written into `region`. Plaintext that was already
    /// decrypted goes to `held`; handshake output too large for `region`
    /// goes to `spill`.
    pub(crate) fn write(
        &mut self,
        op: WriteOp<'_>,
        region: &mut [u8],
        held: &mut Vec<u8>,
        spill: &mut Vec<u8>,
    ) -> (usize, WriteOutcome) {
        match self {
            Self::Client(c) => write_step(c.process_tls_records(&mut []), op, region, held, spill),
            Self::Server(s, _) => {
                write_step(s.process_tls_records(&mut []), op, region, held, spill)
            }
            Self::Accepting { .. } | Self::Paused(_) => {
                (0, WriteOutcome::NotReady(Outcome::NeedInput))
            }
        }
    }

    /// Whether rustls holds output it has not handed out yet. Such output
    /// is handed out before rustls looks at its input, so stepping with an
    /// empty input is safe while this is true.
    pub(crate) fn has_queued_output(&self) -> bool {
        self.common().is_some_and(|c| c.wants_write())
    }

    pub(crate) fn client_hello(&self) -> Option<&ClientHello> {
        match self {
            Self::Paused(hello) | Self::Server(_, hello) => Some(hello),
            _ => None,
        }
    }

    pub(crate) fn is_accepting(&self) -> bool {
        matches!(self, Self::Accepting { .. })
    }

    pub(crate) fn is_paused(&self) -> bool {
        matches!(self, Self::Paused(_))
    }

    pub(crate) fn is_server(&self) -> bool {
        !matches!(self, Self::Client(_))
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

    pub(crate) fn peer_certificates(&self) -> Option<&[CertificateDer<'static>]> {
        self.common()?.peer_certificates()
    }

    pub(crate) fn handshake_kind(&self) -> Option<HandshakeKind> {
        self.common()?.handshake_kind()
    }

    pub(crate) fn server_name(&self) -> Option<&str> {
        match self {
            Self::Server(_, hello) | Self::Paused(hello) => hello.server_name(),
            _ => None,
        }
    }

    fn common(&self) -> Option<&rustls::CommonState> {
        match self {
            Self::Client(c) => Some(c),
            Self::Server(s, _) => Some(s),
            _ => None,
        }
    }
}

fn handle<Data>(
    status: UnbufferedStatus<'_, '_, Data>,
    action: &mut Action<'_>,
    out: &mut Vec<u8>,
) -> (usize, Outcome) {
    let UnbufferedStatus { discard, state } = status;
    let outcome = match state {
        Err(e) => Outcome::Failed(e),
        Ok(ConnectionState::ReadTraffic(mut traffic)) => match action {
            Action::Drive => Outcome::DataReady,
            Action::Read { buf, held } => match traffic.next_record() {
                Some(Ok(record)) => {
                    let n = record.payload.len().min(buf.len());
                    buf[..n].copy_from_slice(&record.payload[..n]);
                    held.extend_from_slice(&record.payload[n..]);
                    Outcome::Read(n)
                }
                Some(Err(e)) => Outcome::Failed(e),
                None => Outcome::Progress,
            },
            Action::Discard => match traffic.next_record() {
                Some(Ok(record)) => Outcome::Discarded(record.payload.len()),
                Some(Err(e)) => Outcome::Failed(e),
                None => Outcome::Progress,
            },
        },
        Ok(ConnectionState::EncodeTlsData(mut encode)) => {
            stage(out, |buf| encode.encode(buf).map_err(encode_required));
            Outcome::Progress
        }
        Ok(ConnectionState::TransmitTlsData(transmit)) => {
            // Our output is already staged; the engine moves it to the
            // write BIO before it returns to the driver.
            transmit.done();
            Outcome::Progress
        }
        Ok(ConnectionState::BlockedHandshake) => Outcome::NeedInput,
        Ok(ConnectionState::WriteTraffic(_)) => Outcome::Idle,
        Ok(ConnectionState::PeerClosed) => Outcome::PeerClosed,
        Ok(ConnectionState::Closed) => Outcome::Closed,
        Ok(ConnectionState::ReadEarlyData(_)) => Outcome::Failed(early_data_error()),
        Ok(_) => Outcome::Failed(rustls::Error::General(
            "rustls returned a connection state this version of tlsbio does not know".into(),
        )),
    };
    (discard, outcome)
}

fn write_step<Data>(
    status: UnbufferedStatus<'_, '_, Data>,
    op: WriteOp<'_>,
    region: &mut [u8],
    held: &mut Vec<u8>,
    spill: &mut Vec<u8>,
) -> (usize, WriteOutcome) {
    let UnbufferedStatus { state, .. } = status;
    match state {
        Err(e) => (0, WriteOutcome::NotReady(Outcome::Failed(e))),
        Ok(ConnectionState::WriteTraffic(mut traffic)) => match op {
            WriteOp::Data(data) => match traffic.encrypt(data, region) {
                Ok(n) => (n, WriteOutcome::Done(data.len())),
                Err(EncryptError::InsufficientSize(InsufficientSizeError { required_size })) => {
                    (0, WriteOutcome::NeedRoom(required_size))
                }
                Err(e) => (
                    0,
                    WriteOutcome::NotReady(Outcome::Failed(rustls::Error::General(e.to_string()))),
                ),
            },
            WriteOp::CloseNotify => match traffic.queue_close_notify(region) {
                Ok(n) => (n, WriteOutcome::Done(0)),
                Err(EncryptError::InsufficientSize(InsufficientSizeError { required_size })) => {
                    (0, WriteOutcome::NeedRoom(required_size))
                }
                Err(e) => (
                    0,
                    WriteOutcome::NotReady(Outcome::Failed(rustls::Error::General(e.to_string()))),
                ),
            },
            WriteOp::KeyUpdate => match traffic.refresh_traffic_keys() {
                // The KeyUpdate message comes out as the next EncodeTlsData.
                Ok(()) => (0, WriteOutcome::Done(0)),
                Err(e) => (0, WriteOutcome::NotReady(Outcome::Failed(e))),
            },
        },
        Ok(ConnectionState::EncodeTlsData(mut encode)) => match encode.encode(region) {
            Ok(n) => (n, WriteOutcome::Progress),
            Err(_) => {
                // Dropping `encode` would lose the message: spill it into
                // the engine's staging, which drains before anything else.
                stage(spill, |buf| encode.encode(buf).map_err(encode_required));
                (0, WriteOutcome::Progress)
            }
        },
        Ok(ConnectionState::TransmitTlsData(transmit)) => {
            transmit.done();
            (0, WriteOutcome::Progress)
        }
        Ok(ConnectionState::ReadTraffic(mut traffic)) => {
            // Plaintext that arrived with the handshake must not block the
            // write side, nor be lost: hold it for `read`.
            match traffic.next_record() {
                Some(Ok(record)) => held.extend_from_slice(record.payload),
                Some(Err(e)) => return (0, WriteOutcome::NotReady(Outcome::Failed(e))),
                None => {}
            }
            (0, WriteOutcome::Progress)
        }
        Ok(ConnectionState::BlockedHandshake) => (0, WriteOutcome::NotReady(Outcome::NeedInput)),
        Ok(ConnectionState::PeerClosed) => (0, WriteOutcome::PeerClosed),
        // rustls says Closed once it has our close_notify and the peer's.
        // For a close_notify op that means ours was queued by an earlier,
        // too-small attempt and is on its way: the op is done.
        Ok(ConnectionState::Closed) if matches!(op, WriteOp::CloseNotify) => {
            (0, WriteOutcome::Done(0))
        }
        Ok(ConnectionState::Closed) => (0, WriteOutcome::NotReady(Outcome::Closed)),
        Ok(ConnectionState::ReadEarlyData(_)) => (
            0,
            WriteOutcome::NotReady(Outcome::Failed(early_data_error())),
        ),
        Ok(_) => (0, WriteOutcome::NotReady(Outcome::NeedInput)),
    }
}

fn early_data_error() -> rustls::Error {
    rustls::Error::General("0-rtt early data is not supported by tlsbio".into())
}

fn encode_required(e: EncodeError) -> usize {
    match e {
        EncodeError::InsufficientSize(InsufficientSizeError { required_size }) => required_size,
        EncodeError::AlreadyEncoded => 0,
    }
}

/// Appends what `f` writes to `out`, giving it the room it asks for.
fn stage(out: &mut Vec<u8>, mut f: impl FnMut(&mut [u8]) -> Result<usize, usize>) {
    let start = out.len();
    let required = match f(&mut []) {
        Ok(_) => return,
        Err(required) => required,
    };
    out.resize(start + required, 0);
    let written = f(&mut out[start..]).unwrap_or(0);
    out.truncate(start + written);
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
fn accept(
    acceptor: &mut Acceptor,
    fed: &mut usize,
    input: &[u8],
    out: &mut Vec<u8>,
) -> Result<Box<ClientHello>, Outcome> {
    loop {
        let mut rest = &input[*fed..];
        let read = if rest.is_empty() {
            0
        } else {
            match acceptor.read_tls(&mut rest) {
                Ok(n) => n,
                // rustls' buffer bound: the peer sent more than a handshake
                // message can be. rustls' own server sends no alert here
                // either; it fails the read.
                Err(_) => return Err(Outcome::Overflow),
            }
        };
        *fed += read;
        match acceptor.accept() {
            Ok(None) if read > 0 => continue,
            Ok(None) => return Err(Outcome::NeedInput),
            Ok(Some(accepted)) => {
                return Ok(Box::new(ClientHello::from_rustls(&accepted.client_hello())))
            }
            Err((e, mut alert)) => {
                // Writing into a Vec cannot fail.
                let _ = alert.write_all(out);
                return Err(Outcome::Failed(e));
            }
        }
    }
}
