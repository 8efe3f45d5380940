//! 0-RTT on the rustls 0.24.0-dev.2 backend.
//!
//! Clients send early data (`Engine::write_early_data`) and learn whether
//! the server took it (`Engine::early_data_status`), first against raw
//! rustls 0.24's `Connection` server, then against a tlsbio server: a
//! server with a fixed config that allows early data runs on that same
//! `Connection` API, because the handshake API drops early data it has
//! accepted (`rustls024_gaps.rs`, docs/architecture.md); a paused server
//! cannot choose such a config. rustls 0.23 builds run `early_data.rs`.
#![cfg(feature = "rustls-0-24")]

mod support;

use std::sync::Arc;

use support::*;
use tlsbio::bio::{Bio, VecBio};
use tlsbio::compat::{Ssl, SSL_EARLY_DATA_ACCEPTED, SSL_EARLY_DATA_NOT_SENT};
use tlsbio::rustls::{ClientConfig, Connection, ServerConfig, ServerSide, Tcp, VecInput};
use tlsbio::{
    ClientContext, ConfigError, EarlyDataStatus, Engine, Error, ServerContext, Usage, Want,
};

type Client = Engine<VecBio, VecBio>;

/// A client that may send early data, and a raw rustls server config
/// that takes up to `max_early` bytes of it.
fn early_configs(max_early: u32) -> (ClientContext, Arc<ServerConfig>) {
    let (client, server) = configs(TLS13);
    let mut client: ClientConfig = (*client).clone();
    client.enable_early_data = true;
    let mut server = (*server).clone();
    server.max_early_data_size = max_early;
    (
        ClientContext::new(Arc::new(client)).unwrap(),
        Arc::new(server),
    )
}

/// What the raw server got.
#[derive(Default)]
struct Received {
    early: Vec<u8>,
    data: Vec<u8>,
}

/// Runs `client` against `server` until the client's handshake is
/// complete and nothing more is in flight either way.
fn run(client: &mut Client, server: &mut Connection<ServerSide, Tcp>) -> Received {
    let mut got = Received::default();
    let mut input = VecInput::default();
    for _ in 0..20 {
        let mut buf = [0u8; 64];
        let step = match client.is_handshaking() {
            true => client.do_handshake().map(|()| 0),
            false => client.read(&mut buf),
        };
        match step {
            Ok(_) | Err(Error::Want(Want::Read { .. })) => {}
            Err(e) => panic!("client: {e}"),
        }
        let mut up = Vec::new();
        while let Some(bytes) = client.pop_output() {
            up.extend_from_slice(&bytes);
        }
        let mut down = Vec::new();
        let mut rest = &up[..];
        while !rest.is_empty() {
            input.read(&mut rest).unwrap();
            let mut handler = server.read_tls(&mut input, &mut down);
            while let Some(p) = handler.next_early_data() {
                got.early.extend_from_slice(p.unwrap().bytes());
            }
            while let Some(p) = handler.next_payload() {
                got.data.extend_from_slice(p.unwrap().bytes());
            }
        }
        if up.is_empty() && down.is_empty() && !client.is_handshaking() {
            return got;
        }
        client.rbio_mut().write(&down);
    }
    panic!("no end: {client:?}");
}

fn server(config: &Arc<ServerConfig>) -> Connection<ServerSide, Tcp> {
    Connection::<ServerSide, Tcp>::new(config.clone()).unwrap()
}

fn client(context: &ClientContext) -> Client {
    Engine::client(context, name(), VecBio::new(), VecBio::new()).unwrap()
}

/// A full handshake that leaves the context's session store a ticket.
fn first_connection(context: &ClientContext, config: &Arc<ServerConfig>) {
    let mut first = client(context);
    assert_eq!(
        first.write_early_data(b"too soon"),
        Err(Error::Usage(Usage::EarlyDataUnavailable)),
        "no ticket yet"
    );
    run(&mut first, &mut server(config));
    assert_eq!(first.early_data_status(), Some(EarlyDataStatus::NotSent));
}

#[test]
fn accepted_early_data_arrives_as_early_data() {
    let (context, config) = early_configs(1024);
    first_connection(&context, &config);
    let mut c = client(&context);
    assert_eq!(
        c.early_data_status(),
        None,
        "not known before the handshake"
    );
    assert_eq!(c.write_early_data(b"GET / HTTP/1.1\r\n"), Ok(16));
    let got = run(&mut c, &mut server(&config));
    assert_eq!(got.early, b"GET / HTTP/1.1\r\n");
    assert!(got.data.is_empty());
    assert_eq!(c.early_data_status(), Some(EarlyDataStatus::Accepted));
    assert!(c.is_resumed());
    // Past the first flight there is nothing to send early data with.
    assert_eq!(
        c.write_early_data(b"late"),
        Err(Error::Usage(Usage::EarlyDataUnavailable))
    );
}

#[test]
fn the_servers_limit_cuts_early_data_short_and_the_rest_goes_after() {
    let (context, config) = early_configs(10);
    first_connection(&context, &config);
    let mut c = client(&context);
    let message = b"0123456789abcdef";
    let n = c.write_early_data(message).unwrap();
    assert_eq!(n, 10, "the ticket allows 10 bytes");
    assert_eq!(c.write_early_data(&message[n..]), Ok(0), "and no more");
    let mut s = server(&config);
    let got = run(&mut c, &mut s);
    assert_eq!(got.early, &message[..10]);
    assert_eq!(c.early_data_status(), Some(EarlyDataStatus::Accepted));
    assert_eq!(c.write(&message[n..]), Ok(6));
    assert_eq!(run(&mut c, &mut s).data, &message[10..]);
}

#[test]
fn rejected_early_data_is_reported_and_resent_after_the_handshake() {
    let (context, config) = early_configs(1024);
    first_connection(&context, &config);
    // The same sessions, a server that now refuses 0-RTT.
    let mut refusing = (*config).clone();
    refusing.max_early_data_size = 0;
    let refusing = Arc::new(refusing);
    let mut c = client(&context);
    assert_eq!(c.write_early_data(b"idempotent"), Ok(10));
    let mut s = server(&refusing);
    let got = run(&mut c, &mut s);
    assert!(got.early.is_empty() && got.data.is_empty(), "nothing taken");
    assert_eq!(c.early_data_status(), Some(EarlyDataStatus::Rejected));
    assert!(c.is_resumed(), "the handshake itself went on");
    // Resent once, it arrives once.
    assert_eq!(c.write(b"idempotent"), Ok(10));
    let got = run(&mut c, &mut s);
    assert_eq!(got.data, b"idempotent");
}

#[test]
fn compat_write_early_data_and_status_use_openssls_codes() {
    let (context, config) = early_configs(1024);
    first_connection(&context, &config);
    let mut ssl = Ssl::new(client(&context));
    assert_eq!(ssl.get_early_data_status(), SSL_EARLY_DATA_NOT_SENT);
    assert_eq!(ssl.write_early_data(b"hello"), (1, 5));
    let got = run(ssl.engine(), &mut server(&config));
    assert_eq!(got.early, b"hello");
    assert_eq!(ssl.get_early_data_status(), SSL_EARLY_DATA_ACCEPTED);
}

#[test]
fn servers_do_not_write_early_data() {
    let (_, server_config) = configs(TLS13);
    let mut s = Engine::server(
        &ServerContext::new(server_config).unwrap(),
        VecBio::new(),
        VecBio::new(),
    );
    assert_eq!(
        s.write_early_data(b"x"),
        Err(Error::Usage(Usage::EarlyDataOnServer))
    );
}

// ---- tlsbio on both sides ----

type Server = Engine<VecBio, VecBio>;

/// What the tlsbio server read: its early stream and its ordinary one.
#[derive(Default, Debug)]
struct Read {
    early: Vec<u8>,
    data: Vec<u8>,
}

/// Moves bytes both ways, calling each side as a program would (the
/// server reads its early stream first, then the ordinary one), until
/// nothing moves and both handshakes are complete.
fn pump(client: &mut Client, server: &mut Server) -> Read {
    let mut read = Read::default();
    let mut buf = [0u8; 256];
    for _ in 0..40 {
        match client.is_handshaking() {
            true => drop(client.connect()),
            false => drop(client.read(&mut buf)),
        }
        let up = carry(client, server, 1 << 16, usize::MAX);
        loop {
            match server.read_early_data(&mut buf) {
                Ok(0) => break,
                Ok(n) => read.early.extend_from_slice(&buf[..n]),
                Err(Error::Want(Want::Read { .. })) => break,
                Err(e) => panic!("server: {e}"),
            }
        }
        if !server.is_handshaking() {
            loop {
                match server.read(&mut buf) {
                    Ok(n) => read.data.extend_from_slice(&buf[..n]),
                    Err(Error::Want(Want::Read { .. })) => break,
                    Err(e) => panic!("server: {e}"),
                }
            }
        }
        let down = carry(server, client, 1 << 16, usize::MAX);
        if up == 0 && down == 0 && !client.is_handshaking() && !server.is_handshaking() {
            return read;
        }
    }
    panic!("no end: {client:?} {server:?}");
}

/// A tlsbio client context that sends early data, and a server context
/// that takes up to `max_early` bytes of it.
fn tlsbio_pair(max_early: u32) -> (ClientContext, ServerContext) {
    let (client, config) = early_configs(max_early);
    (client, ServerContext::new(config).unwrap())
}

fn tlsbio_server(context: &ServerContext) -> Server {
    Engine::server(context, VecBio::new(), VecBio::new())
}

/// A first connection that leaves the client a ticket.
fn ticket(client: &ClientContext, server: &ServerContext) {
    let mut c = self::client(client);
    let mut s = tlsbio_server(server);
    pump(&mut c, &mut s);
    assert!(!c.is_resumed());
}

#[test]
fn a_tlsbio_server_reads_a_tlsbio_clients_early_data_as_its_own_stream() {
    let (client_context, server_context) = tlsbio_pair(1024);
    ticket(&client_context, &server_context);
    let mut c = client(&client_context);
    let mut s = tlsbio_server(&server_context);
    assert_eq!(c.write_early_data(b"GET /early"), Ok(10));
    let read = pump(&mut c, &mut s);
    assert_eq!(read.early, b"GET /early");
    assert!(
        read.data.is_empty(),
        "early data is not in the ordinary stream"
    );
    assert_eq!(c.early_data_status(), Some(EarlyDataStatus::Accepted));
    assert!(c.is_resumed() && s.is_resumed());
    // Then the ordinary stream, both ways.
    assert_eq!(c.write(b"later"), Ok(5));
    assert_eq!(pump(&mut c, &mut s).data, b"later");
    assert_eq!(
        s.read_early_data(&mut [0u8; 8]),
        Ok(0),
        "no more early data"
    );
}

#[test]
fn a_refusing_tlsbio_server_loses_nothing_once_the_client_resends() {
    let (client_context, server_context) = tlsbio_pair(1024);
    ticket(&client_context, &server_context);
    // The same session store, no early data.
    let mut refusing = (**server_context.config()).clone();
    refusing.max_early_data_size = 0;
    let refusing = ServerContext::new(Arc::new(refusing)).unwrap();
    let mut c = client(&client_context);
    let mut s = tlsbio_server(&refusing);
    assert_eq!(c.write_early_data(b"once"), Ok(4));
    let read = pump(&mut c, &mut s);
    assert!(read.early.is_empty() && read.data.is_empty(), "{read:?}");
    assert_eq!(c.early_data_status(), Some(EarlyDataStatus::Rejected));
    assert_eq!(c.write(b"once"), Ok(4));
    let read = pump(&mut c, &mut s);
    assert_eq!(read.data, b"once");
    assert!(read.early.is_empty());
}

#[test]
fn the_tlsbio_servers_limit_holds() {
    let (client_context, server_context) = tlsbio_pair(8);
    ticket(&client_context, &server_context);
    let mut c = client(&client_context);
    let mut s = tlsbio_server(&server_context);
    assert_eq!(c.write_early_data(b"0123456789"), Ok(8));
    let read = pump(&mut c, &mut s);
    assert_eq!(read.early, b"01234567");
    assert_eq!(c.early_data_status(), Some(EarlyDataStatus::Accepted));
}

#[test]
fn a_ticket_issued_without_early_data_permission_brings_none() {
    let (client_context, allowing) = tlsbio_pair(1024);
    let mut plain = (**allowing.config()).clone();
    plain.max_early_data_size = 0;
    let plain = ServerContext::new(Arc::new(plain)).unwrap();
    ticket(&client_context, &plain);
    let mut c = client(&client_context);
    assert_eq!(
        c.write_early_data(b"x"),
        Err(Error::Usage(Usage::EarlyDataUnavailable))
    );
    let mut s = tlsbio_server(&allowing);
    pump(&mut c, &mut s);
    assert!(c.is_resumed());
    assert_eq!(c.early_data_status(), Some(EarlyDataStatus::NotSent));
}

#[test]
fn data_right_behind_the_clients_finished_is_kept_for_read() {
    // The server's handshake step, told to leave data, meets a record of
    // it: on the Connection API that record is decrypted and consumed, so
    // the backend keeps it for the next read.
    let (client_context, server_context) = tlsbio_pair(1024);
    let mut c = client(&client_context);
    let mut s = tlsbio_server(&server_context);
    drop(c.connect());
    carry(&mut c, &mut s, 1 << 16, usize::MAX);
    drop(s.accept());
    carry(&mut s, &mut c, 1 << 16, usize::MAX);
    c.connect().unwrap();
    assert_eq!(c.write(b"right behind"), Ok(12));
    carry(&mut c, &mut s, 1 << 16, usize::MAX);
    s.accept().unwrap();
    let mut buf = [0u8; 32];
    assert_eq!(s.read(&mut buf), Ok(12));
    assert_eq!(&buf[..12], b"right behind");
}

#[test]
fn a_paused_server_cannot_choose_an_early_data_config_and_says_why() {
    let (mut client_config, server_config) = configs(TLS13);
    Arc::make_mut(&mut client_config).enable_early_data = true;
    let mut allowing = (*server_config).clone();
    allowing.max_early_data_size = 1024;
    let allowing = ServerContext::new(Arc::new(allowing)).unwrap();
    let mut c = Engine::client(&cctx(client_config), name(), VecBio::new(), VecBio::new()).unwrap();
    let mut s = Engine::server_paused(VecBio::new(), VecBio::new());
    drop(c.connect());
    carry(&mut c, &mut s, 1 << 16, usize::MAX);
    assert_eq!(s.accept(), Err(Error::Want(Want::ClientHello)));
    let err = s.accepted().unwrap().choose(&allowing).unwrap_err();
    assert_eq!(err, Error::Config(ConfigError::ServerEarlyDataUnsupported));
    assert!(err.to_string().contains("paused"), "{err}");
}
