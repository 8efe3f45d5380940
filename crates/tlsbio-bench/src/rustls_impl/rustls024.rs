//! Raw rustls 0.24: `Connection`s whose output is appended to a `Vec<u8>`
//! (the wire) and whose input is read into a `VecInput` and handled
//! message by message, as rustls 0.24's manual shows for a socket.

use std::any::Any;

use tlsbio::rustls::{ClientSide, Connection, HandshakeKind, ServerSide, SideData, Tcp, VecInput};

use crate::fixture::{server_name, Bench, Configs};
use crate::{bulk_chunk, fail, BenchError, Scenario, Work, WRITE_SIZE};

/// One side: the connection, its input buffer, the plaintext it read.
struct Side<S: SideData> {
    conn: Connection<S, Tcp>,
    input: VecInput,
    received: Vec<u8>,
}

impl<S: SideData> Side<S> {
    fn new(conn: Connection<S, Tcp>) -> Self {
        Self {
            conn,
            input: VecInput::default(),
            received: Vec::new(),
        }
    }
}

/// The ciphertext in flight: what one side wrote, and the buffer the
/// other side writes its answer into (swapped after each hand-over, so
/// no run allocates a buffer per flight).
#[derive(Default)]
struct Wire {
    now: Vec<u8>,
    next: Vec<u8>,
}

pub(crate) fn run(bench: &Bench, scenario: Scenario) -> Result<Work, BenchError> {
    let mut work = Work::default();
    let mut wire = Wire {
        now: Vec::with_capacity(64 * 1024),
        next: Vec::with_capacity(64 * 1024),
    };
    let (mut client, mut server) = handshake(bench.configs(scenario), &mut wire, &mut work)?;
    work.resumed = server.conn.handshake_kind() == Some(HandshakeKind::Resumed);
    match scenario {
        Scenario::BulkTls13 => {
            let chunk = bulk_chunk();
            for _ in 0..bench.bulk_bytes / WRITE_SIZE {
                send(&mut client, &mut server, &chunk, &mut wire, &mut work)?;
                send(&mut server, &mut client, &chunk, &mut wire, &mut work)?;
            }
            work.units = bench.bulk_bytes as f64 / f64::from(1 << 20);
        }
        Scenario::ResumedTls13 => {
            // The server's tickets went out with its last flight; the
            // client takes them in now, for the next run to resume.
            cross(&mut wire, &mut client, &mut work)?;
            work.units = 1.0;
        }
        _ => work.units = 1.0,
    }
    Ok(work)
}

pub(crate) fn idle(bench: &Bench) -> Result<Box<dyn Any>, BenchError> {
    let mut wire = Wire::default();
    let configs = bench.configs(Scenario::HandshakeTls13P256);
    let (_, server) = handshake(configs, &mut wire, &mut Work::default())?;
    Ok(Box::new(server.conn))
}

fn handshake(
    configs: &Configs,
    wire: &mut Wire,
    work: &mut Work,
) -> Result<(Side<ClientSide>, Side<ServerSide>), BenchError> {
    wire.now.clear();
    let client = configs
        .client
        .connect(server_name())
        .build(&mut wire.now)
        .map_err(fail)?;
    let mut client = Side::new(client);
    let mut server =
        Side::new(Connection::<ServerSide, Tcp>::new(configs.server.clone()).map_err(fail)?);
    // The wire holds the client's ClientHello; each cross hands one side's
    // output to the other, which writes its answer.
    for _ in 0..16 {
        cross(wire, &mut server, work)?;
        cross(wire, &mut client, work)?;
        if !client.conn.is_handshaking() && !server.conn.is_handshaking() {
            // The client's last flight (Finished) is for the server.
            cross(wire, &mut server, work)?;
            return Ok((client, server));
        }
    }
    Err(fail("the handshake did not finish in 16 rounds"))
}

/// Encrypts `data` on `from` into the wire, and has `to` read all of it.
fn send<A: SideData, B: SideData>(
    from: &mut Side<A>,
    to: &mut Side<B>,
    data: &[u8],
    wire: &mut Wire,
    work: &mut Work,
) -> Result<(), BenchError> {
    wire.now.clear();
    from.conn.write(data.into(), &mut wire.now).map_err(fail)?;
    to.received.clear();
    cross(wire, to, work)?;
    if to.received.len() != data.len() {
        return Err(fail(format!(
            "short read: {} of {}",
            to.received.len(),
            data.len()
        )));
    }
    Ok(())
}

/// Hands the wire's bytes to `to` (one copy, into its `VecInput`), which
/// decrypts them in place and appends its answer to the wire's other
/// buffer (rustls 0.24 writes into a caller's `Vec`: no copy of ours);
/// then the answer is what is in flight.
fn cross<S: SideData>(
    wire: &mut Wire,
    to: &mut Side<S>,
    work: &mut Work,
) -> Result<(), BenchError> {
    wire.next.clear();
    let mut rest = &wire.now[..];
    while !rest.is_empty() {
        let n = to.input.read(&mut rest).map_err(fail)?;
        if n == 0 {
            return Err(fail("rustls' input buffer is full"));
        }
        to.conn
            .read_tls(&mut to.input, &mut wire.next)
            .handle_all(&mut to.received)
            .map_err(fail)?;
    }
    work.ciphertext += wire.now.len() as u64;
    work.copied += wire.now.len() as u64;
    std::mem::swap(&mut wire.now, &mut wire.next);
    Ok(())
}
