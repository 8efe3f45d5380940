//! 0-RTT through the C calls on the rustls 0.24.0-dev.2 backend: a C
//! client sends early data (`tlsbio_write_early_data`) to a C server and
//! to raw rustls 0.24, and learns that it was accepted. rustls 0.23 builds
//! run `early_data.rs` (a server, with rustls 0.23's client as the peer).
#![cfg(feature = "rustls-0-24")]
#![allow(clippy::multiple_unsafe_ops_per_block)] // many calls on one live context

mod support;

use support::*;
use tlsbio_ffi::*;

/// Moves ciphertext between two C connections until neither has any.
///
/// # Safety
///
/// Both are live connections.
unsafe fn move_all(from: *mut tlsbio_conn, to: *mut tlsbio_conn) -> usize {
    let mut moved = 0;
    // SAFETY: both live (the caller's promise); Rust buffers.
    unsafe {
        while tlsbio_bio_ctrl_pending(from) > 0 {
            let mut out = [0u8; 4096];
            let n = tlsbio_bio_read(from, out.as_mut_ptr(), out.len());
            assert_eq!(tlsbio_bio_write(to, out.as_ptr(), n as usize), n);
            moved += n as usize;
        }
    }
    moved
}

#[test]
fn a_c_client_sends_early_data_to_a_c_server() {
    let dir = scratch("early-data-024-c-both");
    write_pki(&dir);
    let (chain, key, ca) = (
        std::fs::read(dir.join("server.pem")).unwrap(),
        std::fs::read(dir.join("server.key")).unwrap(),
        std::fs::read(dir.join("ca.pem")).unwrap(),
    );
    // SAFETY: Rust buffers; contexts and connections live until freed.
    unsafe {
        let sctx = tlsbio_ctx_new_server(chain.as_ptr(), chain.len(), key.as_ptr(), key.len());
        assert_eq!(tlsbio_ctx_set_max_early_data(sctx, 1024), 1);
        let cctx = tlsbio_ctx_new_client(ca.as_ptr(), ca.len());
        assert_eq!(tlsbio_ctx_set_max_early_data(cctx, 1), 1);
        let run = |early: &[u8]| -> (Vec<u8>, i32) {
            let client = tlsbio_new_client(cctx, c"localhost".as_ptr());
            let server = tlsbio_new_server(sctx);
            if !early.is_empty() {
                let mut written = 0;
                assert_eq!(
                    tlsbio_write_early_data(client, early.as_ptr(), early.len(), &mut written),
                    1
                );
                assert_eq!(written, early.len());
            }
            let mut got = Vec::new();
            for _ in 0..20 {
                if tlsbio_is_init_finished(client) == 0 {
                    tlsbio_connect(client);
                } else {
                    // Takes in the server's tickets.
                    let mut buf = [0u8; 16];
                    tlsbio_read(client, buf.as_mut_ptr(), buf.len());
                }
                let up = move_all(client, server);
                loop {
                    let mut buf = [0u8; 64];
                    let mut n = 0;
                    match tlsbio_read_early_data(server, buf.as_mut_ptr(), buf.len(), &mut n) {
                        TLSBIO_READ_EARLY_DATA_SUCCESS => got.extend_from_slice(&buf[..n]),
                        _ => break,
                    }
                }
                let down = move_all(server, client);
                if up == 0 && down == 0 && tlsbio_is_init_finished(client) == 1 {
                    break;
                }
            }
            let status = tlsbio_get_early_data_status(client);
            tlsbio_free(client);
            tlsbio_free(server);
            (got, status)
        };
        assert_eq!(run(b""), (Vec::new(), TLSBIO_EARLY_DATA_NOT_SENT));
        assert_eq!(
            run(b"early from C"),
            (b"early from C".to_vec(), TLSBIO_EARLY_DATA_ACCEPTED)
        );
        tlsbio_ctx_free(cctx);
        tlsbio_ctx_free(sctx);
    }
}

/// A raw rustls 0.24 server (it reads early data, which tlsbio's 0.24
/// server cannot) for the PKI in `dir`, taking up to 1024 early bytes.
fn raw_server_config(dir: &std::path::Path) -> std::sync::Arc<tlsbio::rustls::ServerConfig> {
    use tlsbio::rustls::crypto::Identity;
    use tlsbio::rustls::pki_types::pem::PemObject;
    use tlsbio::rustls::pki_types::{CertificateDer, PrivateKeyDer};
    let chain: Vec<CertificateDer<'static>> = CertificateDer::pem_file_iter(dir.join("server.pem"))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    let key = PrivateKeyDer::from_pem_file(dir.join("server.key")).unwrap();
    let mut config = tlsbio::rustls::ServerConfig::builder(tlsbio::default_provider())
        .with_no_client_auth()
        .with_single_cert(
            std::sync::Arc::new(Identity::from_cert_chain(chain).unwrap()),
            key,
        )
        .unwrap();
    config.max_early_data_size = 1024;
    std::sync::Arc::new(config)
}

/// Drives the C client against the raw server until nothing more moves;
/// returns the early data the server read.
///
/// # Safety
///
/// `client` is a live connection.
unsafe fn drive(
    client: *mut tlsbio_conn,
    server: &mut tlsbio::rustls::Connection<tlsbio::rustls::ServerSide, tlsbio::rustls::Tcp>,
) -> Vec<u8> {
    let mut input = tlsbio::rustls::VecInput::default();
    let mut early = Vec::new();
    for _ in 0..20 {
        // SAFETY: `client` is live (the caller's promise); Rust buffers.
        let up = unsafe {
            if tlsbio_is_init_finished(client) == 0 {
                tlsbio_connect(client);
            } else {
                let mut buf = [0u8; 64];
                tlsbio_read(client, buf.as_mut_ptr(), buf.len());
            }
            let mut up = Vec::new();
            while tlsbio_bio_ctrl_pending(client) > 0 {
                let mut out = [0u8; 4096];
                let n = tlsbio_bio_read(client, out.as_mut_ptr(), out.len());
                up.extend_from_slice(&out[..n as usize]);
            }
            up
        };
        let mut down = Vec::new();
        let mut rest = &up[..];
        while !rest.is_empty() {
            input.read(&mut rest).unwrap();
            let mut handler = server.read_tls(&mut input, &mut down);
            while let Some(p) = handler.next_early_data() {
                early.extend_from_slice(p.unwrap().bytes());
            }
            while let Some(p) = handler.next_payload() {
                p.unwrap();
            }
        }
        if up.is_empty() && down.is_empty() {
            return early;
        }
        // SAFETY: as above.
        unsafe {
            assert_eq!(
                tlsbio_bio_write(client, down.as_ptr(), down.len()),
                down.len() as i32
            );
        }
    }
    panic!("no end");
}

#[test]
fn a_client_context_sends_early_data_and_learns_it_was_accepted() {
    let dir = scratch("early-data-024-client");
    write_pki(&dir);
    let ca = std::fs::read(dir.join("ca.pem")).unwrap();
    let config = raw_server_config(&dir);
    let server = || {
        tlsbio::rustls::Connection::<tlsbio::rustls::ServerSide, tlsbio::rustls::Tcp>::new(
            config.clone(),
        )
        .unwrap()
    };
    // SAFETY: Rust buffers; `ctx` and the connections live until freed.
    unsafe {
        let ctx = tlsbio_ctx_new_client(ca.as_ptr(), ca.len());
        assert!(!ctx.is_null());
        assert_eq!(tlsbio_ctx_set_max_early_data(ctx, 1), 1);
        // A first connection leaves a ticket in the context.
        let first = tlsbio_new_client(ctx, c"localhost".as_ptr());
        let mut written = 99;
        assert_eq!(
            tlsbio_write_early_data(first, b"x".as_ptr(), 1, &mut written),
            0
        );
        assert_eq!(written, 0);
        let why = std::ffi::CStr::from_ptr(tlsbio_error_string(first))
            .to_str()
            .unwrap();
        assert!(why.contains("no early data can be sent"), "{why}");
        assert!(drive(first, &mut server()).is_empty());
        assert_eq!(
            tlsbio_get_early_data_status(first),
            TLSBIO_EARLY_DATA_NOT_SENT
        );
        tlsbio_free(first);

        let second = tlsbio_new_client(ctx, c"localhost".as_ptr());
        assert_eq!(
            tlsbio_write_early_data(second, b"GET /".as_ptr(), 5, &mut written),
            1
        );
        assert_eq!(written, 5);
        assert_eq!(drive(second, &mut server()), b"GET /");
        assert_eq!(
            tlsbio_get_early_data_status(second),
            TLSBIO_EARLY_DATA_ACCEPTED
        );
        assert_eq!(tlsbio_session_reused(second), 1);
        tlsbio_free(second);
        tlsbio_ctx_free(ctx);
    }
}
