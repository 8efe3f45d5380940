//! What a connection can be asked, and the ClientHello pause.

use std::ffi::{CStr, CString};
use std::os::raw::{c_char, c_int};

use tlsbio::HandshakeState;
use tlsbio::ProtocolVersion;

use crate::boundary::c_string;
use crate::conn::{conn_ref, tlsbio_conn, with_conn};
use crate::ctx::{tlsbio_ctx, Built};
use crate::TLSBIO_ERROR_SSL;
#[allow(unused_imports)] // for rustdoc links
use crate::{tlsbio_free, tlsbio_get_error};

/// Stores `bytes` in `*data` / `*len` (NULL / 0 for `None`) and returns 1
/// for `Some`, 0 for `None`.
///
/// # Safety
///
/// `data` and `len` are NULL or writable.
unsafe fn lend(bytes: Option<&[u8]>, data: *mut *const u8, len: *mut usize) -> c_int {
    let (ptr, n) = bytes.map_or((std::ptr::null(), 0), |b| (b.as_ptr(), b.len()));
    if !data.is_null() {
        // SAFETY: non-NULL and writable (the caller's promise).
        unsafe { data.write(ptr) };
    }
    if !len.is_null() {
        // SAFETY: non-NULL and writable (the caller's promise).
        unsafe { len.write(n) };
    }
    c_int::from(bytes.is_some())
}

/// A C string for `value` kept in `slot`, made once.
fn kept(slot: &mut Option<CString>, value: Option<&str>) -> *const c_char {
    match (slot.as_ref(), value) {
        (Some(s), _) => s.as_ptr(),
        (None, Some(v)) => slot.insert(c_string(v.to_string())).as_ptr(),
        (None, None) => std::ptr::null(),
    }
}

/// The negotiated protocol version (`SSL_get_version`): `"TLSv1.3"`,
/// `"TLSv1.2"`, or `"unknown"` before it is negotiated (and for NULL).
/// A static string.
///
/// # Safety
///
/// `conn` is NULL or a live connection not mutated by another thread.
#[no_mangle]
pub unsafe extern "C" fn tlsbio_get_version(conn: *const tlsbio_conn) -> *const c_char {
    // SAFETY: the caller's promise.
    let version = unsafe { conn_ref(conn) }.and_then(|c| c.engine.protocol_version());
    let name: &'static CStr = match version {
        Some(ProtocolVersion::TLSv1_3) => c"TLSv1.3",
        Some(ProtocolVersion::TLSv1_2) => c"TLSv1.2",
        _ => c"unknown",
    };
    name.as_ptr()
}

/// The negotiated cipher suite's name (`SSL_get_cipher_name`), as rustls
/// names it (e.g. `"TLS13_AES_256_GCM_SHA384"`,
/// `"TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256"`), or NULL before it is
/// negotiated. Valid until [`tlsbio_free`].
///
/// # Safety
///
/// `conn` is NULL or a live connection not mutated by another thread.
#[no_mangle]
pub unsafe extern "C" fn tlsbio_get_cipher_name(conn: *const tlsbio_conn) -> *const c_char {
    // SAFETY: the caller's promise.
    let Some(c) = (unsafe { conn_ref(conn) }) else {
        return std::ptr::null();
    };
    // rustls' Debug form is the IANA name for every suite it negotiates
    // (0.24 has no `as_str`).
    let name = c.engine.cipher_suite().map(|s| format!("{:?}", s.suite()));
    kept(&mut c.strings.borrow_mut().cipher, name.as_deref())
}

/// The negotiated key exchange group's name (`SSL_get_negotiated_group`
/// and `SSL_group_to_name`), as rustls names it (e.g. `"X25519"`,
/// `"secp256r1"`, `"X25519MLKEM768"`), or NULL before it is negotiated and
/// for a TLS 1.2 resumption. Valid until [`tlsbio_free`].
///
/// # Safety
///
/// `conn` is NULL or a live connection not mutated by another thread.
#[no_mangle]
pub unsafe extern "C" fn tlsbio_get_group_name(conn: *const tlsbio_conn) -> *const c_char {
    // SAFETY: the caller's promise.
    let Some(c) = (unsafe { conn_ref(conn) }) else {
        return std::ptr::null();
    };
    let name = c.engine.key_exchange_group().map(|g| format!("{g:?}"));
    kept(&mut c.strings.borrow_mut().group, name.as_deref())
}

/// The negotiated ALPN protocol (`SSL_get0_alpn_selected`): 1 with
/// `*data` / `*len` set (valid until the next call on `conn`), or 0 with
/// NULL / 0 when none was negotiated. `data` and `len` may be NULL.
///
/// # Safety
///
/// `conn` is NULL or a live connection not mutated by another thread;
/// `data` and `len` are NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn tlsbio_get0_alpn_selected(
    conn: *const tlsbio_conn,
    data: *mut *const u8,
    len: *mut usize,
) -> c_int {
    // SAFETY: the caller's promise.
    let alpn = unsafe { conn_ref(conn) }.and_then(|c| c.engine.alpn_protocol());
    // SAFETY: the caller's promise about `data` and `len`.
    unsafe { lend(alpn, data, len) }
}

/// On a server, the SNI name the client sent (`SSL_get_servername`), or
/// NULL if none (or not yet). Valid until
/// [`tlsbio_free`].
///
/// # Safety
///
/// `conn` is NULL or a live connection not mutated by another thread.
#[no_mangle]
pub unsafe extern "C" fn tlsbio_get_servername(conn: *const tlsbio_conn) -> *const c_char {
    // SAFETY: the caller's promise.
    let Some(c) = (unsafe { conn_ref(conn) }) else {
        return std::ptr::null();
    };
    kept(
        &mut c.strings.borrow_mut().server_name,
        c.engine.server_name(),
    )
}

/// 1 if the handshake resumed a session (`SSL_session_reused`), 0
/// otherwise.
///
/// # Safety
///
/// `conn` is NULL or a live connection not mutated by another thread.
#[no_mangle]
pub unsafe extern "C" fn tlsbio_session_reused(conn: *const tlsbio_conn) -> c_int {
    // SAFETY: the caller's promise.
    c_int::from(unsafe { conn_ref(conn) }.is_some_and(|c| c.engine.is_resumed()))
}

/// 1 once the handshake is complete (`SSL_is_init_finished`).
///
/// # Safety
///
/// `conn` is NULL or a live connection not mutated by another thread.
#[no_mangle]
pub unsafe extern "C" fn tlsbio_is_init_finished(conn: *const tlsbio_conn) -> c_int {
    // SAFETY: the caller's promise.
    c_int::from(
        unsafe { conn_ref(conn) }
            .is_some_and(|c| !c.engine.is_handshaking() && c.engine.protocol_version().is_some()),
    )
}

/// How many certificates the peer sent (its chain, leaf first); 0 before
/// they arrive, or when it sent none. During a deferred verification
/// (`TLSBIO_ERROR_WANT_RETRY_VERIFY`) these are the ones awaiting the
/// verdict.
///
/// # Safety
///
/// `conn` is NULL or a live connection not mutated by another thread.
#[no_mangle]
pub unsafe extern "C" fn tlsbio_get_peer_cert_chain_len(conn: *const tlsbio_conn) -> usize {
    // SAFETY: the caller's promise.
    unsafe { conn_ref(conn) }
        .and_then(|c| {
            c.engine
                .peer_certificates()
                .or(c.engine.certificates_to_verify())
        })
        .map_or(0, <[_]>::len)
}

/// The DER of the peer's certificate `index` (0 is the leaf;
/// `SSL_get_peer_certificate` + `i2d_X509`): 1 with `*der` / `*len` set
/// (valid until the next call on `conn`), 0 if there is no such
/// certificate.
///
/// # Safety
///
/// `conn` is NULL or a live connection not mutated by another thread;
/// `der` and `len` are NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn tlsbio_get_peer_certificate(
    conn: *const tlsbio_conn,
    index: usize,
    der: *mut *const u8,
    len: *mut usize,
) -> c_int {
    // SAFETY: the caller's promise.
    let cert = unsafe { conn_ref(conn) }
        .and_then(|c| {
            c.engine
                .peer_certificates()
                .or(c.engine.certificates_to_verify())
        })
        .and_then(|chain| chain.get(index))
        .map(|cert| cert.as_ref());
    // SAFETY: the caller's promise about `der` and `len`.
    unsafe { lend(cert, der, len) }
}

/// Where the connection is, as a phrase (`SSL_state_string_long`). A
/// static string; `"invalid connection"` for NULL or after an internal
/// error.
///
/// # Safety
///
/// `conn` is NULL or a live connection not mutated by another thread.
#[no_mangle]
pub unsafe extern "C" fn tlsbio_state_string_long(conn: *const tlsbio_conn) -> *const c_char {
    // SAFETY: the caller's promise.
    let Some(c) = (unsafe { conn_ref(conn) }) else {
        return c"invalid connection".as_ptr();
    };
    let s: &'static CStr = match c.engine.state() {
        HandshakeState::Before => c"before the handshake",
        HandshakeState::ReadingClientHello => c"reading the ClientHello",
        HandshakeState::ClientHelloPaused => c"paused at the ClientHello",
        HandshakeState::Handshaking => c"handshaking",
        HandshakeState::Established => c"established",
        HandshakeState::ShutdownSent => c"close_notify sent",
        HandshakeState::PeerClosed => c"peer sent close_notify",
        HandshakeState::Closed => c"closed",
        HandshakeState::Failed => c"failed",
        _ => c"unknown state",
    };
    s.as_ptr()
}

// ---- the ClientHello pause ----

/// While paused at the ClientHello, the SNI name it carries, or NULL
/// (`SSL_client_hello_get0_ext` for server_name). Valid until
/// [`tlsbio_free`].
///
/// # Safety
///
/// `conn` is NULL or a live connection not mutated by another thread.
#[no_mangle]
pub unsafe extern "C" fn tlsbio_client_hello_server_name(
    conn: *const tlsbio_conn,
) -> *const c_char {
    // SAFETY: the caller's promise.
    let Some(c) = (unsafe { conn_ref(conn) }) else {
        return std::ptr::null();
    };
    let name = c.engine.client_hello().and_then(|h| h.server_name());
    kept(&mut c.strings.borrow_mut().hello_server_name, name)
}

/// While paused at the ClientHello, how many ALPN protocols it offers.
///
/// # Safety
///
/// `conn` is NULL or a live connection not mutated by another thread.
#[no_mangle]
pub unsafe extern "C" fn tlsbio_client_hello_alpn_count(conn: *const tlsbio_conn) -> usize {
    // SAFETY: the caller's promise.
    unsafe { conn_ref(conn) }
        .and_then(|c| c.engine.client_hello())
        .map_or(0, |h| h.alpn().count())
}

/// While paused at the ClientHello, its ALPN protocol `index`, in the
/// client's order: 1 with `*data` / `*len` set (valid until the next call
/// on `conn`), 0 if there is none.
///
/// # Safety
///
/// `conn` is NULL or a live connection not mutated by another thread;
/// `data` and `len` are NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn tlsbio_client_hello_alpn(
    conn: *const tlsbio_conn,
    index: usize,
    data: *mut *const u8,
    len: *mut usize,
) -> c_int {
    // SAFETY: the caller's promise.
    let name = unsafe { conn_ref(conn) }
        .and_then(|c| c.engine.client_hello())
        .and_then(|h| h.alpn().nth(index));
    // SAFETY: the caller's promise about `data` and `len`.
    unsafe { lend(name, data, len) }
}

/// Continues a server paused at the ClientHello with the server context
/// `ctx` (`SSL_set_SSL_CTX` in the ClientHello callback): 1, then call
/// `tlsbio_accept` again; -1 with [`tlsbio_get_error`]
/// when the connection is not paused, `ctx` is not a server context, or
/// the hello cannot be served with it (the alert is then in the output).
///
/// # Safety
///
/// `conn` is NULL or a live connection not used by another thread; `ctx`
/// is NULL or a live context.
#[no_mangle]
pub unsafe extern "C" fn tlsbio_set_ctx(conn: *mut tlsbio_conn, ctx: *const tlsbio_ctx) -> c_int {
    // SAFETY: the caller's promise; shared access only.
    let ctx = unsafe { ctx.as_ref() };
    // SAFETY: the caller's promise about `conn`.
    unsafe {
        with_conn(conn, -1, |c| {
            let context = match ctx.map(|ctx| ctx.snapshot().0) {
                Some(Built::Server(context)) => context,
                Some(Built::Client(_)) => {
                    c.fail(
                        TLSBIO_ERROR_SSL,
                        "tlsbio_set_ctx was given a client context".into(),
                    );
                    return -1;
                }
                None => {
                    c.fail(
                        TLSBIO_ERROR_SSL,
                        "tlsbio_set_ctx: the context is NULL".into(),
                    );
                    return -1;
                }
            };
            let Some(accepted) = c.engine.accepted() else {
                c.fail(
                    TLSBIO_ERROR_SSL,
                    "tlsbio_set_ctx: the connection is not paused at a ClientHello (call it after tlsbio_accept fails with TLSBIO_ERROR_WANT_CLIENT_HELLO_CB)".into(),
                );
                return -1;
            };
            match accepted.choose(&context) {
                Ok(()) => {
                    c.ok();
                    1
                }
                Err(e) => {
                    c.fail(tlsbio::compat::error_code(&e), e.to_string());
                    -1
                }
            }
        })
    }
}
