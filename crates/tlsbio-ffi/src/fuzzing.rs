//! The body of the `ffi_server` fuzz target: a hostile client's bytes into
//! a server connection through the C ABI only, with the contract checked
//! after every call. Here so that `cargo test` replays the corpus with the
//! same code the fuzzer runs.

// The driver makes many calls on one live connection; one SAFETY comment
// per block says why they are all sound.
#![allow(clippy::multiple_unsafe_ops_per_block)]

use std::ffi::CStr;
use std::sync::OnceLock;

use crate::*;

/// The most output-drain rounds one call may need: a flight is a handful
/// of records, lent one chunk at a time.
const DRAIN_ROUNDS: usize = 1024;

fn server_ctx() -> &'static tlsbio_ctx {
    static CTX: OnceLock<&'static tlsbio_ctx> = OnceLock::new();
    CTX.get_or_init(|| {
        let names = vec!["localhost".to_string()];
        let key = rcgen::KeyPair::generate().expect("a key");
        let cert = rcgen::CertificateParams::new(names)
            .expect("params")
            .self_signed(&key)
            .expect("a certificate");
        let (chain, key) = (cert.pem(), key.serialize_pem());
        // SAFETY: both are Rust strings, readable for the call.
        let ctx =
            unsafe { tlsbio_ctx_new_server(chain.as_ptr(), chain.len(), key.as_ptr(), key.len()) };
        assert!(!ctx.is_null(), "server context: {}", last_error());
        // SAFETY: a non-NULL context from tlsbio_ctx_new_server, never
        // freed: it lives for the process.
        unsafe { &*ctx }
    })
}

fn last_error() -> String {
    // SAFETY: tlsbio_last_error never returns NULL.
    unsafe { CStr::from_ptr(tlsbio_last_error()) }
        .to_string_lossy()
        .into_owned()
}

/// Runs one input: byte 0 picks how ciphertext leaves (bit 0: zero-copy
/// lending, else copies; bit 1: consume lent output in halves), byte 1 the
/// size of each write into the read buffer (0: all that fits), byte 2 is
/// unused, the rest is the client's bytes. The layout is the
/// `server_flight` target's, so its corpus seeds this one.
pub fn server_flights(data: &[u8]) -> Flights {
    let flags = data.first().copied().unwrap_or(0);
    let chunk = match data.get(1).copied().unwrap_or(0) {
        0 => usize::MAX,
        n => usize::from(n),
    };
    let peer = data.get(3..).unwrap_or_default();

    // SAFETY: a live context.
    let conn = unsafe { tlsbio_new_server(server_ctx()) };
    assert!(!conn.is_null(), "server connection: {}", last_error());
    let mut failed = false;
    let mut sent = 0;
    let mut rest = peer;
    loop {
        // Write what fits, in the input's chunk size.
        // SAFETY: `conn` is live; `rest` is readable.
        let room = unsafe { tlsbio_bio_get_write_guarantee(conn) };
        let n = rest.len().min(chunk).min(room);
        // SAFETY: as above.
        let taken = unsafe { tlsbio_bio_write(conn, rest.as_ptr(), n) };
        assert_eq!(taken, n as i32, "the write guarantee was not kept");
        rest = &rest[n..];
        if rest.is_empty() {
            // SAFETY: `conn` is live.
            unsafe { tlsbio_bio_shutdown_wr(conn) };
        }
        let code = step(conn, &mut failed);
        sent += drain(conn, flags);
        if rest.is_empty() {
            // Past the end of the input nothing can arrive: the engine must
            // not wait for input.
            assert_ne!(code, TLSBIO_ERROR_WANT_READ, "waits for input after EOF");
            break;
        }
        if code == TLSBIO_ERROR_WANT_READ {
            // SAFETY: `conn` is live.
            let (request, room) = unsafe {
                (
                    tlsbio_read_request(conn),
                    tlsbio_bio_get_write_guarantee(conn),
                )
            };
            assert!(
                request <= room,
                "read request {request} beyond the room {room}"
            );
        }
        if failed && code == TLSBIO_ERROR_SSL {
            break;
        }
    }
    queries(conn);
    // SAFETY: `conn` is live and not used again.
    unsafe { tlsbio_free(conn) };
    Flights { sent, failed }
}

/// What one input did, for tests that check the target reaches the
/// handshake.
#[derive(Debug)]
pub struct Flights {
    /// Ciphertext bytes the server sent.
    pub sent: usize,
    /// Whether it failed with `TLSBIO_ERROR_SSL`.
    pub failed: bool,
}

/// One call: the handshake, then reads. Returns its error code and checks
/// the codes C may see, and that a failure is sticky and explained.
fn step(conn: *mut tlsbio_conn, failed: &mut bool) -> i32 {
    let mut buf = [0u8; 512];
    // SAFETY: `conn` is live; `buf` is writable.
    let (ret, code) = unsafe {
        let ret = if tlsbio_is_init_finished(conn) == 1 {
            tlsbio_read(conn, buf.as_mut_ptr(), buf.len())
        } else {
            tlsbio_accept(conn)
        };
        (ret, tlsbio_get_error(conn, ret))
    };
    assert!(
        matches!(
            code,
            TLSBIO_ERROR_NONE
                | TLSBIO_ERROR_SSL
                | TLSBIO_ERROR_WANT_READ
                | TLSBIO_ERROR_SYSCALL
                | TLSBIO_ERROR_ZERO_RETURN
        ),
        "code {code} for ret {ret}"
    );
    if code == TLSBIO_ERROR_SSL {
        // SAFETY: `conn` is live; the string is never NULL.
        let why = unsafe { CStr::from_ptr(tlsbio_error_string(conn)) };
        assert!(!why.to_bytes().is_empty(), "a failure without a message");
    }
    if *failed {
        assert_eq!(code, TLSBIO_ERROR_SSL, "a failure did not stick");
    }
    *failed |= code == TLSBIO_ERROR_SSL;
    code
}

/// Takes every byte of output, lent or copied as `flags` says; checks that
/// the pending count falls to zero and that lending is stable. Returns the
/// bytes taken.
fn drain(conn: *mut tlsbio_conn, flags: u8) -> usize {
    let mut taken = 0;
    for _ in 0..DRAIN_ROUNDS {
        // SAFETY: `conn` is live.
        let pending = unsafe { tlsbio_bio_ctrl_pending(conn) };
        if pending == 0 {
            return taken;
        }
        if flags & 1 != 0 {
            let mut data = std::ptr::null();
            let mut again = std::ptr::null();
            // SAFETY: `conn` is live; `data` and `again` are writable.
            let (n, m) = unsafe {
                (
                    tlsbio_bio_peek_out(conn, &mut data),
                    tlsbio_bio_peek_out(conn, &mut again),
                )
            };
            assert!(n > 0 && n <= pending, "lent {n} of {pending} pending");
            assert_eq!((data, n), (again, m), "a second peek lent other bytes");
            let take = if flags & 2 != 0 { n.div_ceil(2) } else { n };
            // SAFETY: `conn` is live.
            assert_eq!(unsafe { tlsbio_bio_consume_out(conn, take) }, 1);
            taken += take;
            // SAFETY: as above; consuming more than lent is refused.
            assert_eq!(unsafe { tlsbio_bio_consume_out(conn, usize::MAX) }, -1);
        } else {
            let mut buf = [0u8; 700];
            // SAFETY: `conn` is live; `buf` is writable.
            let n = unsafe { tlsbio_bio_read(conn, buf.as_mut_ptr(), buf.len()) };
            assert!(n > 0, "pending {pending} but nothing read");
            taken += n as usize;
        }
    }
    panic!("output never drained");
}

/// Every query, for crashes and lies.
fn queries(conn: *mut tlsbio_conn) {
    let (mut data, mut len) = (std::ptr::null(), 0usize);
    // SAFETY: `conn` is live; the out-pointers are writable; the returned
    // strings are NULL or NUL-terminated (checked).
    unsafe {
        for s in [
            tlsbio_get_version(conn),
            tlsbio_state_string_long(conn),
            tlsbio_error_string(conn),
        ] {
            assert!(!s.is_null());
            let _ = CStr::from_ptr(s);
        }
        for s in [
            tlsbio_get_cipher_name(conn),
            tlsbio_get_group_name(conn),
            tlsbio_get_servername(conn),
            tlsbio_client_hello_server_name(conn),
        ] {
            if !s.is_null() {
                let _ = CStr::from_ptr(s);
            }
        }
        let n = tlsbio_get_peer_cert_chain_len(conn);
        assert_eq!(tlsbio_get_peer_certificate(conn, n, &mut data, &mut len), 0);
        assert!(data.is_null() && len == 0);
        let _ = tlsbio_get0_alpn_selected(conn, &mut data, &mut len);
        let _ = tlsbio_session_reused(conn);
        let _ = tlsbio_pending(conn);
    }
}
