//! Deferred verification through the C calls: `tlsbio_ctx_set_verify_deferred`,
//! `TLSBIO_ERROR_WANT_RETRY_VERIFY`, the chain awaiting the verdict from
//! `tlsbio_get_peer_certificate`, and `tlsbio_set_verify_result`. rustls
//! 0.24 builds; on 0.23 the setter fails with the reason.
#![allow(clippy::multiple_unsafe_ops_per_block)] // many calls on live connections

mod support;

use support::*;
use tlsbio_ffi::*;

struct Pems {
    #[cfg_attr(not(feature = "rustls-0-24"), allow(dead_code))]
    chain: Vec<u8>,
    #[cfg_attr(not(feature = "rustls-0-24"), allow(dead_code))]
    key: Vec<u8>,
    ca: Vec<u8>,
}

fn pems(name: &str) -> Pems {
    let dir = scratch(name);
    write_pki(&dir);
    Pems {
        chain: std::fs::read(dir.join("server.pem")).unwrap(),
        key: std::fs::read(dir.join("server.key")).unwrap(),
        ca: std::fs::read(dir.join("ca.pem")).unwrap(),
    }
}

#[cfg(not(feature = "rustls-0-24"))]
#[test]
fn on_rustls_0_23_the_setter_says_why_not() {
    let p = pems("verify-023");
    // SAFETY: Rust buffers; `ctx` is live until freed.
    unsafe {
        let ctx = tlsbio_ctx_new_client(p.ca.as_ptr(), p.ca.len());
        assert_eq!(tlsbio_ctx_set_verify_deferred(ctx, 1), 0);
        let why = std::ffi::CStr::from_ptr(tlsbio_last_error())
            .to_str()
            .unwrap();
        assert!(why.contains("rustls 0.24"), "{why}");
        tlsbio_ctx_free(ctx);
    }
}

/// Runs a deferring C client against a C server until the client's call
/// gives something other than a read want; returns that call's error code.
///
/// # Safety
///
/// Both are live connections.
#[cfg(feature = "rustls-0-24")]
unsafe fn run(client: *mut tlsbio_conn, server: *mut tlsbio_conn) -> i32 {
    // SAFETY: both live (the caller's promise); Rust buffers.
    unsafe {
        for _ in 0..20 {
            let ret = tlsbio_connect(client);
            let code = tlsbio_get_error(client, ret);
            if code != TLSBIO_ERROR_WANT_READ {
                return code;
            }
            for (from, to) in [(client, server), (server, client)] {
                while tlsbio_bio_ctrl_pending(from) > 0 {
                    let mut out = [0u8; 4096];
                    let n = tlsbio_bio_read(from, out.as_mut_ptr(), out.len());
                    assert_eq!(tlsbio_bio_write(to, out.as_ptr(), n as usize), n);
                }
                if from == client {
                    tlsbio_accept(server);
                }
            }
        }
        panic!("no end");
    }
}

#[cfg(feature = "rustls-0-24")]
#[test]
fn a_c_client_verifies_on_its_own_time_and_accepts_or_rejects() {
    use tlsbio::rustls::pki_types::pem::PemObject;
    let p = pems("verify-024");
    let leaf = tlsbio::rustls::pki_types::CertificateDer::from_pem_slice(&p.chain).unwrap();
    // SAFETY: Rust buffers; contexts and connections live until freed.
    unsafe {
        let sctx =
            tlsbio_ctx_new_server(p.chain.as_ptr(), p.chain.len(), p.key.as_ptr(), p.key.len());
        let cctx = tlsbio_ctx_new_client(p.ca.as_ptr(), p.ca.len());
        assert_eq!(tlsbio_ctx_set_verify_deferred(cctx, 1), 1);
        for verdict in [
            TLSBIO_VERIFY_ACCEPT,
            TLSBIO_VERIFY_WITH_CONTEXT,
            TLSBIO_VERIFY_REJECT,
        ] {
            let client = tlsbio_new_client(cctx, c"localhost".as_ptr());
            let server = tlsbio_new_server(sctx);
            assert_eq!(run(client, server), TLSBIO_ERROR_WANT_RETRY_VERIFY);
            // The chain awaiting the verdict.
            assert!(tlsbio_get_peer_cert_chain_len(client) >= 1);
            let (mut der, mut len) = (std::ptr::null(), 0);
            assert_eq!(
                tlsbio_get_peer_certificate(client, 0, &mut der, &mut len),
                1
            );
            assert_eq!(std::slice::from_raw_parts(der, len), leaf.as_ref());
            // Not a verdict.
            assert_eq!(tlsbio_set_verify_result(client, 7), 0);
            assert_eq!(tlsbio_set_verify_result(client, verdict), 1);
            assert_eq!(
                tlsbio_set_verify_result(client, verdict),
                0,
                "no second verdict"
            );
            let end = run(client, server);
            if verdict == TLSBIO_VERIFY_REJECT {
                assert_eq!(end, TLSBIO_ERROR_SSL);
                assert_eq!(tlsbio_is_init_finished(client), 0);
            } else {
                assert_eq!(end, TLSBIO_ERROR_NONE);
                assert_eq!(tlsbio_is_init_finished(client), 1);
            }
            tlsbio_free(client);
            tlsbio_free(server);
        }
        tlsbio_ctx_free(cctx);
        tlsbio_ctx_free(sctx);
    }
}
