//! A rustls 0.24 server that accepts 0-RTT: the `Connection` API.
//!
//! rustls 0.24.0-dev.2's handshake API drops early data it has accepted
//! (`tests/rustls024_gaps.rs`), so a server whose config allows early data
//! runs on `Connection::read_tls`, whose `MessageHandler` lends early data
//! (`next_early_data`) and then the ordinary stream (`next_payload`), both
//! borrowed from the input. It cannot pause at the ClientHello (that needs
//! the handshake API's `Accepted`), so only servers with a fixed config
//! take this path; a paused server that chooses such a config is refused
//! (`ConfigError::ServerEarlyDataUnsupported`).

use std::sync::Arc;

use rustls024::crypto::cipher::OutboundPlain;
use rustls024::pki_types::CertificateDer;
use rustls024::{Connection, ConnectionOutputs, ServerSide, Tcp, TlsInputBuffer};

use super::{Data, Event, Sent};
use crate::tls::{Error, ServerConfig};

/// The connection, and what the seam needs beside it.
pub(super) struct EarlyServer {
    conn: Connection<ServerSide, Tcp>,
    /// One record of plaintext a step told to leave data had to take
    /// (rustls cannot decrypt a record and leave it); the next step that
    /// takes data gets it first.
    stash: Option<Vec<u8>>,
    /// Whether any input was consumed: until then the front of the input
    /// is the connection's first byte (the engine's not-TLS check).
    consumed: bool,
    /// Our close_notify is out.
    closed: bool,
    /// The peer's close_notify was processed.
    peer_closed: bool,
    /// The client's certificates, copied once the handshake is complete
    /// (rustls keeps them in two parts).
    peer_certificates: Option<Vec<CertificateDer<'static>>>,
}

impl EarlyServer {
    pub(super) fn new(config: Arc<ServerConfig>) -> Result<Self, Error> {
        Ok(Self {
            conn: Connection::<ServerSide, Tcp>::new(config)?,
            stash: None,
            consumed: false,
            closed: false,
            peer_closed: false,
            peer_certificates: None,
        })
    }

    /// One step over `input`: early data into `early`, then at most one
    /// record of application data to `data`. Output goes to `tls`.
    pub(super) fn process(
        &mut self,
        input: &mut dyn TlsInputBuffer,
        tls: &mut Vec<u8>,
        early: &mut Vec<u8>,
        data: Data<'_>,
    ) -> Event {
        if let Some(stash) = self.stash.take() {
            return match data {
                Data::Take(take) => {
                    take(&stash);
                    Event::Data
                }
                Data::Leave => {
                    self.stash = Some(stash);
                    Event::DataReady
                }
            };
        }
        if self.peer_closed {
            return Event::PeerClosed;
        }
        let was_handshaking = self.conn.is_handshaking();
        let event = {
            let mut handler = self.conn.read_tls(input, tls);
            // Early data first: rustls drops what is left of it once the
            // ordinary stream is asked for.
            while let Some(record) = handler.next_early_data() {
                match record {
                    Ok(payload) => early.extend_from_slice(payload.bytes()),
                    Err(e) => return Event::Fatal(e),
                }
            }
            match handler.next_payload() {
                Some(Ok(payload)) => match data {
                    Data::Take(take) => {
                        take(payload.bytes());
                        Event::Data
                    }
                    // A decrypted record is consumed: keep it for the next read.
                    Data::Leave => {
                        self.stash = Some(payload.bytes().to_vec());
                        Event::DataReady
                    }
                },
                Some(Err(e)) => return Event::Fatal(e),
                None => match handler.state().peer_has_closed() {
                    true => {
                        self.peer_closed = true;
                        Event::PeerClosed
                    }
                    false => Event::NeedInput,
                },
            }
        };
        if was_handshaking && !self.conn.is_handshaking() {
            self.peer_certificates = self.certificates();
        }
        event
    }

    /// Notes that the step consumed input (from the discard the caller saw).
    pub(super) fn consumed(&mut self, discarded: usize) {
        self.consumed |= discarded > 0;
    }

    pub(super) fn send(&mut self, op: super::Send<'_>, take: usize, tls: &mut Vec<u8>) -> Sent {
        if self.conn.is_handshaking() {
            return Sent::Handshaking;
        }
        if self.closed {
            return Sent::Closed;
        }
        let result = match op {
            super::Send::Data(data) => self
                .conn
                .write(OutboundPlain::from(&data[..take]), tls)
                .map(|()| take),
            super::Send::CloseNotify => {
                self.closed = true;
                self.conn.send_close_notify(tls).map(|()| 0)
            }
            super::Send::KeyUpdate => self.conn.refresh_traffic_keys(tls).map(|()| 0),
        };
        match result {
            Ok(n) => Sent::Done(n),
            Err(e) => Sent::Fatal(e),
        }
    }

    pub(super) fn is_reading_client_hello(&self) -> bool {
        !self.consumed && self.conn.is_handshaking()
    }

    pub(super) fn is_handshaking(&self) -> bool {
        self.conn.is_handshaking()
    }

    pub(super) fn outputs(&self) -> &ConnectionOutputs {
        &self.conn
    }

    pub(super) fn peer_certificates(&self) -> Option<&[CertificateDer<'static>]> {
        self.peer_certificates.as_deref()
    }

    pub(super) fn server_name(&self) -> Option<&str> {
        self.conn.side().server_name().map(|name| name.as_ref())
    }

    fn certificates(&self) -> Option<Vec<CertificateDer<'static>>> {
        match self.outputs().peer_identity()?.identity() {
            rustls024::crypto::Identity::X509(chain) => Some(
                std::iter::once(chain.end_entity.clone().into_owned())
                    .chain(chain.intermediates.iter().map(|c| c.clone().into_owned()))
                    .collect(),
            ),
            _ => None,
        }
    }
}
