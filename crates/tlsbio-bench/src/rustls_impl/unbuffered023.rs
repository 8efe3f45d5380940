//! Raw rustls 0.23 through its unbuffered API, the one tlsbio wraps,
//! written the way rustls' `unbuffered-client` / `unbuffered-server`
//! examples drive it: an incoming and an outgoing `Vec<u8>` per side,
//! `process_tls_records` in a loop over the states, `encode` / `encrypt`
//! straight into the outgoing buffer (grown when rustls says it is too
//! small), `discard` applied by moving what is left to the front.
//!
//! The harness copies each side's outgoing bytes into the other's
//! incoming buffer: one ciphertext copy, where a socket would be. The
//! application copies each record's plaintext out, as every other row
//! delivers plaintext into the caller's buffer.
//! rustls 0.24 removed this API, so the row exists on 0.23 builds only.

use std::any::Any;

use tlsbio::rustls::client::{ClientConnectionData, UnbufferedClientConnection};
use tlsbio::rustls::server::{ServerConnectionData, UnbufferedServerConnection};
use tlsbio::rustls::unbuffered::{
    AppDataRecord, ConnectionState, EncodeError, EncryptError, InsufficientSizeError,
    UnbufferedStatus,
};
use tlsbio::rustls::{self, HandshakeKind};

use crate::fixture::{server_name, Bench, Configs};
use crate::{bulk_chunk, fail, BenchError, Scenario, Work, WRITE_SIZE};

/// Initial buffer sizes, as the examples start: rustls asks for more when
/// a message does not fit.
const BUFFER: usize = 16 * 1024;

/// The two unbuffered connection types, which rustls gives a
/// `process_tls_records` each (not a shared trait).
trait Unbuffered {
    type Data;
    fn process<'c, 'i>(
        &'c mut self,
        incoming: &'i mut [u8],
    ) -> UnbufferedStatus<'c, 'i, Self::Data>;
    fn is_handshaking(&self) -> bool;
    fn handshake_kind(&self) -> Option<HandshakeKind>;
}

impl Unbuffered for UnbufferedClientConnection {
    type Data = ClientConnectionData;
    fn process<'c, 'i>(
        &'c mut self,
        incoming: &'i mut [u8],
    ) -> UnbufferedStatus<'c, 'i, Self::Data> {
        self.process_tls_records(incoming)
    }
    fn is_handshaking(&self) -> bool {
        (**self).is_handshaking()
    }
    fn handshake_kind(&self) -> Option<HandshakeKind> {
        (**self).handshake_kind()
    }
}

impl Unbuffered for UnbufferedServerConnection {
    type Data = ServerConnectionData;
    fn process<'c, 'i>(
        &'c mut self,
        incoming: &'i mut [u8],
    ) -> UnbufferedStatus<'c, 'i, Self::Data> {
        self.process_tls_records(incoming)
    }
    fn is_handshaking(&self) -> bool {
        (**self).is_handshaking()
    }
    fn handshake_kind(&self) -> Option<HandshakeKind> {
        (**self).handshake_kind()
    }
}

/// One side: its connection and its two buffers.
struct Side<C> {
    conn: C,
    incoming: Vec<u8>,
    incoming_used: usize,
    outgoing: Vec<u8>,
    outgoing_used: usize,
    /// Plaintext bytes received.
    received: usize,
    /// Where the application takes each record's plaintext, as every other
    /// row delivers plaintext into a caller's buffer.
    plaintext: Vec<u8>,
}

impl<C: Unbuffered> Side<C> {
    fn new(conn: C) -> Self {
        Self {
            conn,
            incoming: vec![0; BUFFER],
            incoming_used: 0,
            outgoing: vec![0; BUFFER],
            outgoing_used: 0,
            received: 0,
            plaintext: Vec::with_capacity(WRITE_SIZE),
        }
    }

    /// Runs the state machine until it waits for input (or, with the
    /// handshake done, has nothing left to do), encrypting `send` when it
    /// may. Returns whether `send` went out.
    fn drive(&mut self, mut send: Option<&[u8]>, work: &mut Work) -> Result<bool, BenchError> {
        let mut sent = false;
        for _ in 0..64 {
            let UnbufferedStatus { mut discard, state } =
                self.conn.process(&mut self.incoming[..self.incoming_used]);
            let mut waiting = false;
            match state.map_err(fail)? {
                ConnectionState::EncodeTlsData(mut state) => loop {
                    match state.encode(&mut self.outgoing[self.outgoing_used..]) {
                        Ok(n) => {
                            self.outgoing_used += n;
                            break;
                        }
                        Err(EncodeError::InsufficientSize(InsufficientSizeError {
                            required_size,
                        })) => {
                            self.outgoing.resize(self.outgoing_used + required_size, 0);
                        }
                        Err(e) => return Err(fail(e)),
                    }
                },
                // The harness transmits whatever is in `outgoing`.
                ConnectionState::TransmitTlsData(state) => state.done(),
                ConnectionState::BlockedHandshake => waiting = true,
                ConnectionState::ReadTraffic(mut state) => {
                    while let Some(record) = state.next_record() {
                        let AppDataRecord {
                            discard: d,
                            payload,
                        } = record.map_err(fail)?;
                        discard += d;
                        self.received += payload.len();
                        self.plaintext.clear();
                        self.plaintext.extend_from_slice(payload);
                    }
                }
                ConnectionState::WriteTraffic(mut state) => {
                    if let Some(data) = send.take() {
                        loop {
                            match state.encrypt(data, &mut self.outgoing[self.outgoing_used..]) {
                                Ok(n) => {
                                    self.outgoing_used += n;
                                    break;
                                }
                                Err(EncryptError::InsufficientSize(InsufficientSizeError {
                                    required_size,
                                })) => {
                                    self.outgoing.resize(self.outgoing_used + required_size, 0);
                                }
                                Err(e) => return Err(fail(e)),
                            }
                        }
                        sent = true;
                    } else {
                        waiting = true;
                    }
                }
                ConnectionState::Closed | ConnectionState::PeerClosed => waiting = true,
                _ => return Err(fail("an unexpected unbuffered state")),
            }
            if discard > 0 {
                self.incoming.copy_within(discard..self.incoming_used, 0);
                self.incoming_used -= discard;
                work.copied += self.incoming_used as u64;
            }
            if waiting {
                return Ok(sent);
            }
        }
        Err(fail("the state machine did not settle in 64 steps"))
    }

    /// Moves everything `self` has to send into `to`'s incoming buffer.
    fn transmit<D: Unbuffered>(&mut self, to: &mut Side<D>, work: &mut Work) {
        let n = self.outgoing_used;
        if to.incoming.len() - to.incoming_used < n {
            to.incoming.resize(to.incoming_used + n, 0);
        }
        to.incoming[to.incoming_used..to.incoming_used + n].copy_from_slice(&self.outgoing[..n]);
        to.incoming_used += n;
        self.outgoing_used = 0;
        work.ciphertext += n as u64;
        work.copied += n as u64;
    }
}

type Pair = (
    Side<UnbufferedClientConnection>,
    Side<UnbufferedServerConnection>,
);

fn handshake(configs: &Configs, work: &mut Work) -> Result<Pair, BenchError> {
    let client =
        UnbufferedClientConnection::new(configs.client.clone(), server_name()).map_err(fail)?;
    let server = UnbufferedServerConnection::new(configs.server.clone()).map_err(fail)?;
    let (mut client, mut server) = (Side::new(client), Side::new(server));
    for _ in 0..16 {
        client.drive(None, work)?;
        client.transmit(&mut server, work);
        server.drive(None, work)?;
        server.transmit(&mut client, work);
        if !client.conn.is_handshaking() && !server.conn.is_handshaking() {
            return Ok((client, server));
        }
    }
    Err(fail("the handshake did not finish in 16 rounds"))
}

/// `data` from `from` to `to`, all of it received.
fn send<A: Unbuffered, B: Unbuffered>(
    from: &mut Side<A>,
    to: &mut Side<B>,
    data: &[u8],
    work: &mut Work,
) -> Result<(), BenchError> {
    if !from.drive(Some(data), work)? {
        return Err(fail("no chance to write"));
    }
    from.transmit(to, work);
    let before = to.received;
    to.drive(None, work)?;
    if to.received - before != data.len() {
        return Err(fail("short read"));
    }
    Ok(())
}

pub(crate) fn run(bench: &Bench, scenario: Scenario) -> Result<Work, BenchError> {
    let mut work = Work::default();
    let (mut client, mut server) = handshake(bench.configs(scenario), &mut work)?;
    work.resumed = server.conn.handshake_kind() == Some(rustls::HandshakeKind::Resumed);
    match scenario {
        Scenario::BulkTls13 => {
            let chunk = bulk_chunk();
            for _ in 0..bench.bulk_bytes / WRITE_SIZE {
                send(&mut client, &mut server, &chunk, &mut work)?;
                send(&mut server, &mut client, &chunk, &mut work)?;
            }
            work.units = bench.bulk_bytes as f64 / f64::from(1 << 20);
        }
        Scenario::ResumedTls13 => {
            // Take in the server's tickets, for the next run to resume.
            server.drive(None, &mut work)?;
            server.transmit(&mut client, &mut work);
            client.drive(None, &mut work)?;
            work.units = 1.0;
        }
        _ => work.units = 1.0,
    }
    Ok(work)
}

pub(crate) fn idle(bench: &Bench) -> Result<Box<dyn Any>, BenchError> {
    let configs = bench.configs(Scenario::HandshakeTls13P256);
    let (_, server) = handshake(configs, &mut Work::default())?;
    Ok(Box::new(server))
}
