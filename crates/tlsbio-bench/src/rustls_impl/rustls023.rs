//! Raw rustls 0.23: buffered connections, `write_tls` into a `Vec<u8>`,
//! `read_tls` from it.

use std::any::Any;
use std::io::{Read, Write};

use tlsbio::rustls::{self, ClientConnection, Connection, ServerConnection};

use crate::fixture::{server_name, Bench, Configs};
use crate::{bulk_chunk, fail, BenchError, Scenario, Work, WRITE_SIZE};

pub(crate) fn run(bench: &Bench, scenario: Scenario) -> Result<Work, BenchError> {
    let mut work = Work::default();
    let mut wire = Vec::with_capacity(64 * 1024);
    let (mut client, mut server) = handshake(bench.configs(scenario), &mut wire, &mut work)?;
    work.resumed = server.handshake_kind() == Some(rustls::HandshakeKind::Resumed);
    match scenario {
        Scenario::BulkTls13 => {
            let chunk = bulk_chunk();
            let mut buf = vec![0u8; WRITE_SIZE];
            for _ in 0..bench.bulk_bytes / WRITE_SIZE {
                send(
                    &mut client,
                    &mut server,
                    &chunk,
                    &mut buf,
                    &mut wire,
                    &mut work,
                )?;
                send(
                    &mut server,
                    &mut client,
                    &chunk,
                    &mut buf,
                    &mut wire,
                    &mut work,
                )?;
            }
            work.units = bench.bulk_bytes as f64 / f64::from(1 << 20);
        }
        Scenario::ResumedTls13 => {
            // Take in the server's tickets, for the next run to resume.
            cross(&mut server, &mut client, &mut wire, &mut work)?;
            work.units = 1.0;
        }
        _ => work.units = 1.0,
    }
    Ok(work)
}

pub(crate) fn idle(bench: &Bench) -> Result<Box<dyn Any>, BenchError> {
    let mut wire = Vec::new();
    let configs = bench.configs(Scenario::HandshakeTls13P256);
    let (_, server) = handshake(configs, &mut wire, &mut Work::default())?;
    Ok(Box::new(server))
}

fn handshake(
    configs: &Configs,
    wire: &mut Vec<u8>,
    work: &mut Work,
) -> Result<(Connection, Connection), BenchError> {
    let mut client: Connection = ClientConnection::new(configs.client.clone(), server_name())
        .map_err(fail)?
        .into();
    let mut server: Connection = ServerConnection::new(configs.server.clone())
        .map_err(fail)?
        .into();
    for _ in 0..16 {
        cross(&mut client, &mut server, wire, work)?;
        cross(&mut server, &mut client, wire, work)?;
        if !client.is_handshaking() && !server.is_handshaking() {
            return Ok((client, server));
        }
    }
    Err(fail("the handshake did not finish in 16 rounds"))
}

/// Writes `data` on `from`, moves it, reads all of it on `to`.
fn send(
    from: &mut Connection,
    to: &mut Connection,
    data: &[u8],
    buf: &mut [u8],
    wire: &mut Vec<u8>,
    work: &mut Work,
) -> Result<(), BenchError> {
    from.writer().write_all(data).map_err(fail)?;
    cross(from, to, wire, work)?;
    let mut received = 0;
    while received < data.len() {
        match to.reader().read(buf) {
            Ok(n) => received += n,
            Err(e) => return Err(fail(format!("short read: {e}"))),
        }
    }
    Ok(())
}

/// `write_tls` everything into `wire`, `read_tls` it all on the other side
/// and process it. Both calls copy the ciphertext.
fn cross(
    from: &mut Connection,
    to: &mut Connection,
    wire: &mut Vec<u8>,
    work: &mut Work,
) -> Result<(), BenchError> {
    wire.clear();
    while from.wants_write() {
        from.write_tls(wire).map_err(fail)?;
    }
    let mut rest = &wire[..];
    while !rest.is_empty() {
        to.read_tls(&mut rest).map_err(fail)?;
        to.process_new_packets().map_err(fail)?;
    }
    work.ciphertext += wire.len() as u64;
    work.copied += 2 * wire.len() as u64;
    Ok(())
}
