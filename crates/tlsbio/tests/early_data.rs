//! 0-RTT on a tlsbio server, with rustls' own buffered client as the peer
//! (it sends early data and says whether the server accepted it): early
//! data arrives as its own stream, a rejection loses nothing and
//! duplicates nothing once the client resends, the server's limit holds,
//! and a ticket issued without early-data permission brings none.
//!
//! rustls 0.23 only: the 0.24.0-dev.2 backend refuses server 0-RTT
//! (`early_data_024.rs` pins that), because that pre-release's handshake
//! API drops early data it has accepted (docs/architecture.md).
#![cfg(not(feature = "rustls-0-24"))]

mod support;

use std::io::Write as _;
use std::sync::Arc;

use support::*;
use tlsbio::bio::{Bio, VecBio};
use tlsbio::rustls::{self, ClientConfig, ClientConnection, ServerConfig};
use tlsbio::{ConfigError, Engine, Error, ServerContext, Usage, Want};

type Server = Engine<VecBio, VecBio>;

fn early_configs(max_early: u32) -> (Arc<ClientConfig>, Arc<ServerConfig>) {
    let (client, server) = configs(TLS13);
    let mut client = (*client).clone();
    client.enable_early_data = true;
    let mut server = (*server).clone();
    server.max_early_data_size = max_early;
    (Arc::new(client), Arc::new(server))
}

/// Moves everything each side has for the other, once each way.
fn pump(client: &mut ClientConnection, server: &mut Server) {
    let mut up = Vec::new();
    while client.wants_write() {
        client.write_tls(&mut up).unwrap();
    }
    assert_eq!(server.rbio_mut().write(&up), up.len(), "read BIO full");
    while let Some(chunk) = server.pop_output() {
        let mut rest = &chunk[..];
        while !rest.is_empty() {
            client.read_tls(&mut rest).unwrap();
            client.process_new_packets().unwrap();
        }
    }
}

/// Runs the handshake; what `read_early_data` returned on the way.
fn handshake(client: &mut ClientConnection, server: &mut Server) -> Vec<u8> {
    let mut early = Vec::new();
    let mut buf = [0u8; 4096];
    for _ in 0..50 {
        pump(client, server);
        loop {
            match server.read_early_data(&mut buf) {
                Ok(0) => break,
                Ok(n) => early.extend_from_slice(&buf[..n]),
                Err(Error::Want(Want::Read { .. })) => break,
                Err(e) => panic!("server: {e}"),
            }
        }
        pump(client, server);
        if !server.is_handshaking() && !client.is_handshaking() {
            // The tickets, so that a next connection can resume.
            pump(client, server);
            return early;
        }
    }
    panic!("handshake did not finish");
}

/// A first, full handshake that leaves the client a ticket.
fn first_connection(client: &Arc<ClientConfig>, server: &ServerContext) {
    let mut c = ClientConnection::new(client.clone(), name()).unwrap();
    let mut s = Engine::server(server, VecBio::new(), VecBio::new());
    assert!(c.early_data().is_none(), "no ticket yet, so no early data");
    assert!(handshake(&mut c, &mut s).is_empty());
    assert!(!s.is_resumed());
}

/// Reads what the server has of ordinary data.
fn read_all(client: &mut ClientConnection, server: &mut Server) -> Vec<u8> {
    pump(client, server);
    let mut got = Vec::new();
    let mut buf = [0u8; 4096];
    loop {
        match server.read(&mut buf) {
            Ok(n) => got.extend_from_slice(&buf[..n]),
            Err(Error::Want(_)) => return got,
            Err(e) => panic!("server: {e}"),
        }
    }
}

#[test]
fn accepted_early_data_is_its_own_stream() {
    let (client, server) = early_configs(1024);
    let server = ServerContext::new(server).unwrap();
    first_connection(&client, &server);

    let mut c = ClientConnection::new(client, name()).unwrap();
    let mut s = Engine::server(&server, VecBio::new(), VecBio::new());
    let sent = c
        .early_data()
        .expect("a ticket that allows early data")
        .write(b"GET /early")
        .unwrap();
    assert_eq!(sent, 10);
    let early = handshake(&mut c, &mut s);
    assert!(c.is_early_data_accepted());
    assert!(s.is_resumed());
    assert_eq!(early, b"GET /early");
    // After the handshake: finished, and `read` has only ordinary data.
    assert_eq!(s.read_early_data(&mut [0u8; 16]), Ok(0));
    c.writer().write_all(b"after").unwrap();
    assert_eq!(read_all(&mut c, &mut s), b"after");
}

#[test]
fn early_data_left_unread_stays_out_of_read_and_is_not_lost() {
    let (client, server) = early_configs(1024);
    let server = ServerContext::new(server).unwrap();
    first_connection(&client, &server);
    let mut c = ClientConnection::new(client, name()).unwrap();
    let mut s = Engine::server(&server, VecBio::new(), VecBio::new());
    assert_eq!(c.early_data().unwrap().write(b"replayable").unwrap(), 10);
    // The application only calls accept: the early data is held.
    for _ in 0..20 {
        pump(&mut c, &mut s);
        let _ = s.accept();
    }
    pump(&mut c, &mut s);
    assert!(!s.is_handshaking() && c.is_early_data_accepted());
    assert_eq!(s.buffered(), 10, "the early data is held");
    c.writer().write_all(b"ordinary").unwrap();
    assert_eq!(read_all(&mut c, &mut s), b"ordinary");
    let mut buf = [0u8; 64];
    assert_eq!(s.read_early_data(&mut buf), Ok(10));
    assert_eq!(&buf[..10], b"replayable");
    assert_eq!(s.read_early_data(&mut buf), Ok(0));
}

#[test]
fn rejected_early_data_is_resent_once_and_arrives_once() {
    let (client, offering) = early_configs(1024);
    let offering = ServerContext::new(offering).unwrap();
    first_connection(&client, &offering);
    // Same session store (so the ticket resumes), but no early data now.
    let mut refusing = (**offering.config()).clone();
    refusing.max_early_data_size = 0;
    let refusing = ServerContext::new(Arc::new(refusing)).unwrap();

    let mut c = ClientConnection::new(client, name()).unwrap();
    let mut s = Engine::server(&refusing, VecBio::new(), VecBio::new());
    let mut offered = c.early_data().expect("the ticket allows it");
    assert_eq!(offered.write(b"GET /once").unwrap(), 9);
    let early = handshake(&mut c, &mut s);
    assert!(!c.is_early_data_accepted());
    assert!(early.is_empty(), "rejected early data must not surface");
    assert_eq!(s.read_early_data(&mut [0u8; 16]), Ok(0));
    // The client learns of the rejection and resends: exactly one copy.
    c.writer().write_all(b"GET /once").unwrap();
    assert_eq!(read_all(&mut c, &mut s), b"GET /once");
}

#[test]
fn the_servers_limit_holds() {
    let (client, server) = early_configs(16);
    let server = ServerContext::new(server).unwrap();
    first_connection(&client, &server);
    let mut c = ClientConnection::new(client, name()).unwrap();
    let mut s = Engine::server(&server, VecBio::new(), VecBio::new());
    let mut early = c.early_data().unwrap();
    assert_eq!(early.bytes_left(), 16);
    let sent = early.write(&[7u8; 100]).unwrap();
    assert_eq!(sent, 16, "the client keeps to the ticket's limit");
    let got = handshake(&mut c, &mut s);
    assert_eq!(got, vec![7u8; 16]);
}

#[test]
fn a_ticket_without_early_data_permission_brings_none() {
    let (client, server) = early_configs(0);
    let server = ServerContext::new(server).unwrap();
    first_connection(&client, &server);
    let mut c = ClientConnection::new(client, name()).unwrap();
    let mut s = Engine::server(&server, VecBio::new(), VecBio::new());
    assert!(
        c.early_data().is_none(),
        "the ticket does not allow early data"
    );
    assert!(handshake(&mut c, &mut s).is_empty());
    assert!(s.is_resumed());
    assert_eq!(s.read_early_data(&mut [0u8; 4]), Ok(0));
}

#[test]
fn configs_that_cannot_work_are_refused_with_the_reason() {
    let (client, server) = early_configs(1024);
    // A client: rustls 0.23's unbuffered client hides acceptance.
    assert_eq!(
        tlsbio::ClientContext::new(client).unwrap_err(),
        ConfigError::EarlyDataUnsupported
    );
    // A server with tickets: rustls would never accept early data.
    let mut with_tickets = (*server).clone();
    with_tickets.ticketer = rustls::crypto::aws_lc_rs::Ticketer::new().unwrap();
    let err = ServerContext::new(Arc::new(with_tickets)).unwrap_err();
    assert_eq!(err, ConfigError::EarlyDataNeedsStatefulResumption);
    assert!(err.to_string().contains("remove the ticketer"));
    // read_early_data on a client is a misuse.
    let (plain_client, _) = configs(TLS13);
    let mut c = Engine::client(&cctx(plain_client), name(), VecBio::new(), VecBio::new()).unwrap();
    assert_eq!(
        c.read_early_data(&mut [0u8; 4]),
        Err(Error::Usage(Usage::EarlyDataOnClient))
    );
    // A client has nothing to send early data with on 0.23, and the
    // connection is as it was.
    assert_eq!(
        c.write_early_data(b"early"),
        Err(Error::Usage(Usage::EarlyDataUnavailable))
    );
    assert!(matches!(c.connect(), Err(Error::Want(Want::Read { .. }))));
    assert_eq!(c.early_data_status(), None);
}

#[test]
fn compat_read_early_data_returns_openssls_codes() {
    use tlsbio::compat::{
        Ssl, SSL_ERROR_WANT_READ, SSL_READ_EARLY_DATA_ERROR, SSL_READ_EARLY_DATA_FINISH,
        SSL_READ_EARLY_DATA_SUCCESS,
    };
    let (client, server) = early_configs(1024);
    let server = ServerContext::new(server).unwrap();
    first_connection(&client, &server);
    let mut c = ClientConnection::new(client, name()).unwrap();
    let mut ssl = Ssl::new(Engine::server(&server, VecBio::new(), VecBio::new()));
    assert_eq!(c.early_data().unwrap().write(b"hi").unwrap(), 2);
    let (mut got, mut buf, mut finished) = (Vec::new(), [0u8; 64], false);
    for _ in 0..20 {
        pump(&mut c, ssl.engine());
        match ssl.read_early_data(&mut buf) {
            (SSL_READ_EARLY_DATA_SUCCESS, n) => got.extend_from_slice(&buf[..n]),
            (SSL_READ_EARLY_DATA_ERROR, 0) => {
                assert_eq!(
                    ssl.get_error(SSL_READ_EARLY_DATA_ERROR),
                    SSL_ERROR_WANT_READ
                )
            }
            (SSL_READ_EARLY_DATA_FINISH, 0) => {
                finished = true;
                break;
            }
            other => panic!("{other:?}"),
        }
    }
    assert!(finished, "never FINISH");
    assert_eq!(got, b"hi");
}
