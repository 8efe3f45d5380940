//! What rustls 0.24.0-dev.2 itself does where the 0.24 backend offers less
//! than the 0.23 one, in raw rustls (no tlsbio), so that the gap is
//! written down as something a test can check: if a later pre-release
//! closes it, this test fails and the backend should take the feature
//! back (docs/architecture.md, "What 0.24.0-dev.2 lacks").
//!
//! The gap: a server driven through the handshake API
//! (`ServerHandshake::start`, `Accepted::choose_config`,
//! `NeedsInput::process`), the API that can pause at the ClientHello and
//! verify a peer asynchronously and that tlsbio's 0.24 backend is built
//! on, accepts a client's 0-RTT data (the client is told so) and never
//! hands it out: `NeedsInput::process` iterates in its handshake mode,
//! which drops early-data records, and no handshake state lends them.
//! The `Connection` API on the same bytes does yield them
//! (`MessageHandler::next_early_data`).
#![cfg(feature = "rustls-0-24")]

mod support;

use std::sync::Arc;

use support::*;
use tlsbio::rustls::server::ServerHandshake;
use tlsbio::rustls::split::ReceiveTrafficState;
use tlsbio::rustls::{
    ClientConfig, ClientSide, Connection, ServerConfig, ServerSide, Tcp, VecInput,
};

fn early_configs() -> (Arc<ClientConfig>, Arc<ServerConfig>) {
    let (client, server) = configs(TLS13);
    let mut client = (*client).clone();
    client.enable_early_data = true;
    let mut server = (*server).clone();
    server.max_early_data_size = 1024;
    (Arc::new(client), Arc::new(server))
}

/// Hands `bytes` to `conn`, collecting its output, early data and data.
fn feed(
    conn: &mut Connection<ServerSide, Tcp>,
    bytes: &[u8],
    out: &mut Vec<u8>,
    early: &mut Vec<u8>,
    data: &mut Vec<u8>,
) {
    let mut input = VecInput::default();
    let mut rest = bytes;
    while !rest.is_empty() {
        input.read(&mut rest).unwrap();
        let mut handler = conn.read_tls(&mut input, out);
        while let Some(payload) = handler.next_early_data() {
            early.extend_from_slice(payload.unwrap().bytes());
        }
        while let Some(payload) = handler.next_payload() {
            data.extend_from_slice(payload.unwrap().bytes());
        }
    }
}

fn client_reads(client: &mut Connection<ClientSide, Tcp>, bytes: &[u8], out: &mut Vec<u8>) {
    let mut input = VecInput::default();
    let mut rest = bytes;
    while !rest.is_empty() {
        input.read(&mut rest).unwrap();
        client
            .read_tls(&mut input, out)
            .handle_all(&mut Vec::new())
            .unwrap();
    }
}

/// A full handshake on the `Connection` API that leaves the client a
/// ticket with early-data permission.
fn first_connection(client_config: &Arc<ClientConfig>, server_config: &Arc<ServerConfig>) {
    let mut to_server = Vec::new();
    let mut client = client_config.connect(name()).build(&mut to_server).unwrap();
    let mut server = Connection::<ServerSide, Tcp>::new(server_config.clone()).unwrap();
    for _ in 0..4 {
        let mut to_client = Vec::new();
        feed(
            &mut server,
            &std::mem::take(&mut to_server),
            &mut to_client,
            &mut Vec::new(),
            &mut Vec::new(),
        );
        client_reads(&mut client, &to_client, &mut to_server);
    }
    assert!(!client.is_handshaking() && !server.is_handshaking());
}

/// The resumed client's first flight: ClientHello and 0-RTT records.
fn early_flight(client_config: &Arc<ClientConfig>) -> (Connection<ClientSide, Tcp>, Vec<u8>) {
    let mut flight = Vec::new();
    let mut client = client_config.connect(name()).build(&mut flight).unwrap();
    let written = client
        .early_data()
        .expect("the ticket allows 0-rtt")
        .write(b"early bytes"[..].into(), &mut flight)
        .unwrap();
    assert_eq!(written, 11);
    (client, flight)
}

#[test]
fn the_connection_api_yields_early_data() {
    let (client_config, server_config) = early_configs();
    first_connection(&client_config, &server_config);
    let (mut client, flight) = early_flight(&client_config);
    let mut server = Connection::<ServerSide, Tcp>::new(server_config).unwrap();
    let (mut to_client, mut early) = (Vec::new(), Vec::new());
    feed(
        &mut server,
        &flight,
        &mut to_client,
        &mut early,
        &mut Vec::new(),
    );
    client_reads(&mut client, &to_client, &mut Vec::new());
    assert!(client.side().is_early_data_accepted());
    assert_eq!(early, b"early bytes");
}

#[test]
fn the_handshake_api_accepts_early_data_and_never_yields_it() {
    let (client_config, server_config) = early_configs();
    first_connection(&client_config, &server_config);
    let (mut client, flight) = early_flight(&client_config);

    // The server through the handshake API, as tlsbio's 0.24 backend
    // drives it.
    let mut input = VecInput::default();
    input.read(&mut &flight[..]).unwrap();
    let mut to_client = Vec::new();
    let ServerHandshake::Accepted(accepted) = ServerHandshake::start()
        .process(&mut input, &mut to_client)
        .unwrap()
    else {
        panic!("no ClientHello");
    };
    let mut state = accepted
        .choose_config(server_config, &mut to_client)
        .unwrap();
    // Each NeedsInput is offered the client's answer to what the server
    // wrote; none of the states lends the early data.
    let split = loop {
        state = match state {
            ServerHandshake::NeedsInput(hs) => {
                let mut to_server = Vec::new();
                client_reads(&mut client, &std::mem::take(&mut to_client), &mut to_server);
                input.read(&mut &to_server[..]).unwrap();
                hs.process(&mut input, &mut to_client).unwrap()
            }
            ServerHandshake::Complete(split) => break split,
            other => panic!("{other:?}"),
        };
    };
    assert!(
        client.side().is_early_data_accepted(),
        "the server told the client its early data was accepted"
    );
    // After the handshake the receive half has the ordinary stream only.
    let mut to_server = Vec::new();
    client.write(b"later"[..].into(), &mut to_server).unwrap();
    input.read(&mut &to_server[..]).unwrap();
    let ReceiveTrafficState::Available(mut record) = split.receive.read(&mut input).unwrap() else {
        panic!("no data");
    };
    assert_eq!(record.data(), b"later", "the early bytes are gone");
}
