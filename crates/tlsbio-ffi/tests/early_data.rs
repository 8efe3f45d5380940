//! 0-RTT through the C ABI: a server context with
//! `tlsbio_ctx_set_max_early_data`, rustls' buffered client as the peer,
//! and `tlsbio_read_early_data` returning SUCCESS, then FINISH.
//!
//! rustls 0.23 only: on the rustls 0.24.0-dev.2 backend a server context
//! refuses early data where it is set (`early_data_024.rs`), because that
//! pre-release's handshake API drops accepted early data.
#![cfg(not(feature = "rustls-0-24"))]
#![allow(clippy::multiple_unsafe_ops_per_block)] // many calls on one live connection

mod support;

use std::io::Write as _;
use std::sync::Arc;

use support::*;
use tlsbio::rustls::pki_types::pem::PemObject;
use tlsbio::rustls::pki_types::CertificateDer;
use tlsbio::rustls::{ClientConfig, ClientConnection, RootCertStore};
use tlsbio_ffi::*;

/// One round each way; then every early byte the server will give now.
///
/// # Safety
///
/// `server` is a live connection.
unsafe fn round(
    client: &mut ClientConnection,
    server: *mut tlsbio_conn,
    early: &mut Vec<u8>,
) -> i32 {
    let mut up = Vec::new();
    while client.wants_write() {
        client.write_tls(&mut up).unwrap();
    }
    let last;
    // SAFETY: `server` is live (the caller's promise); buffers are Rust's.
    unsafe {
        assert_eq!(
            tlsbio_bio_write(server, up.as_ptr(), up.len()),
            up.len() as i32
        );
        last = loop {
            let mut buf = [0u8; 256];
            let mut n = 0usize;
            let ret = tlsbio_read_early_data(server, buf.as_mut_ptr(), buf.len(), &mut n);
            match ret {
                TLSBIO_READ_EARLY_DATA_SUCCESS => early.extend_from_slice(&buf[..n]),
                TLSBIO_READ_EARLY_DATA_FINISH => break ret,
                _ => {
                    assert_eq!(tlsbio_get_error(server, ret), TLSBIO_ERROR_WANT_READ);
                    break ret;
                }
            }
        };
        while tlsbio_bio_ctrl_pending(server) > 0 {
            let mut out = [0u8; 4096];
            let n = tlsbio_bio_read(server, out.as_mut_ptr(), out.len());
            let mut rest = &out[..n as usize];
            while !rest.is_empty() {
                client.read_tls(&mut rest).unwrap();
                client.process_new_packets().unwrap();
            }
        }
    }
    last
}

#[test]
fn early_data_through_the_c_abi() {
    let dir = scratch("early-data");
    write_pki(&dir);
    let (chain, key, ca) = (
        std::fs::read(dir.join("server.pem")).unwrap(),
        std::fs::read(dir.join("server.key")).unwrap(),
        std::fs::read(dir.join("ca.pem")).unwrap(),
    );
    let mut roots = RootCertStore::empty();
    roots
        .add(CertificateDer::from_pem_slice(&ca).unwrap())
        .unwrap();
    let mut config = ClientConfig::builder()
        .with_root_certificates(roots)
        .with_no_client_auth();
    config.enable_early_data = true;
    let config = Arc::new(config);
    let name = tlsbio::rustls::pki_types::ServerName::try_from("localhost").unwrap();

    // SAFETY: Rust buffers for the calls; `ctx` and the connections are
    // live until freed at the end.
    unsafe {
        let ctx = tlsbio_ctx_new_server(chain.as_ptr(), chain.len(), key.as_ptr(), key.len());
        assert!(!ctx.is_null());
        assert_eq!(tlsbio_ctx_set_max_early_data(ctx, 1024), 1);

        // A full handshake that leaves the client a ticket.
        let mut client = ClientConnection::new(config.clone(), name.clone()).unwrap();
        let server = tlsbio_new_server(ctx);
        let mut early = Vec::new();
        let mut last = 0;
        for _ in 0..10 {
            last = round(&mut client, server, &mut early);
        }
        assert_eq!(last, TLSBIO_READ_EARLY_DATA_FINISH);
        assert!(early.is_empty() && !client.is_handshaking());
        tlsbio_free(server);

        // Resumed, with early data.
        let mut client = ClientConnection::new(config, name).unwrap();
        let written = client
            .early_data()
            .expect("a ticket that allows 0-RTT")
            .write(b"early via C")
            .unwrap();
        assert_eq!(written, 11);
        let server = tlsbio_new_server(ctx);
        for _ in 0..10 {
            last = round(&mut client, server, &mut early);
        }
        assert_eq!(early, b"early via C");
        assert_eq!(last, TLSBIO_READ_EARLY_DATA_FINISH);
        assert!(client.is_early_data_accepted());
        assert_eq!(tlsbio_session_reused(server), 1);
        // Ordinary data after it, through tlsbio_read only.
        client.writer().write_all(b"later").unwrap();
        round(&mut client, server, &mut early);
        let mut buf = [0u8; 16];
        assert_eq!(tlsbio_read(server, buf.as_mut_ptr(), buf.len()), 5);
        assert_eq!(&buf[..5], b"later");
        assert_eq!(
            early, b"early via C",
            "no ordinary data in the early stream"
        );
        tlsbio_free(server);

        // A client context cannot take it, and says why.
        let cctx = tlsbio_ctx_new_client(ca.as_ptr(), ca.len());
        assert_eq!(tlsbio_ctx_set_max_early_data(cctx, 1024), 0);
        let why = std::ffi::CStr::from_ptr(tlsbio_last_error())
            .to_str()
            .unwrap();
        assert!(
            why.contains("could not tell whether the server accepted"),
            "{why}"
        );
        // And a client connection has nothing to send early data with.
        let client = tlsbio_new_client(cctx, c"localhost".as_ptr());
        let mut written = 99;
        assert_eq!(
            tlsbio_write_early_data(client, b"x".as_ptr(), 1, &mut written),
            0
        );
        assert_eq!(written, 0);
        assert_eq!(tlsbio_get_error(client, 0), TLSBIO_ERROR_SSL);
        assert_eq!(
            tlsbio_get_early_data_status(client),
            TLSBIO_EARLY_DATA_NOT_SENT
        );
        tlsbio_free(client);
        tlsbio_ctx_free(cctx);
        tlsbio_ctx_free(ctx);
    }
}
