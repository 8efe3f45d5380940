//! On the rustls 0.24.0-dev.2 backend, `tlsbio_ctx_set_max_early_data`
//! fails where it is called, says why, and changes nothing: that
//! pre-release's handshake API drops early data it has accepted
//! (docs/architecture.md). rustls 0.23 builds run `early_data.rs`.
#![cfg(feature = "rustls-0-24")]
#![allow(clippy::multiple_unsafe_ops_per_block)] // many calls on one live context

mod support;

use support::*;
use tlsbio_ffi::*;

#[test]
fn a_server_context_refuses_early_data_and_stays_usable() {
    let dir = scratch("early-data-024");
    write_pki(&dir);
    let (chain, key) = (
        std::fs::read(dir.join("server.pem")).unwrap(),
        std::fs::read(dir.join("server.key")).unwrap(),
    );
    // SAFETY: Rust buffers for the calls; `ctx` is live until freed.
    unsafe {
        let ctx = tlsbio_ctx_new_server(chain.as_ptr(), chain.len(), key.as_ptr(), key.len());
        assert!(!ctx.is_null());
        assert_eq!(tlsbio_ctx_set_max_early_data(ctx, 1024), 0);
        let why = std::ffi::CStr::from_ptr(tlsbio_last_error())
            .to_str()
            .unwrap();
        assert!(why.contains("max_early_data_size = 0"), "{why}");
        // The context is as it was: 0 is accepted, and connections work.
        assert_eq!(tlsbio_ctx_set_max_early_data(ctx, 0), 1);
        let server = tlsbio_new_server(ctx);
        assert!(!server.is_null());
        tlsbio_free(server);
        tlsbio_ctx_free(ctx);
    }
}
