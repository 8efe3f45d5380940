//! Connections: `SSL`. The handshake, plaintext in and out, shutdown, and
//! the ciphertext buffers on the network side.

use std::cell::RefCell;
use std::ffi::CString;
use std::os::raw::{c_char, c_int};

use bytes::{Buf, Bytes};
use tlsbio::bio::{Bio, BytesBio, VecBio};
use tlsbio::{compat, Engine, Error, Shutdown};

use crate::boundary::{bytes, bytes_mut, c_str, c_string, no_unwind, set_thread_error};
use crate::ctx::{tlsbio_ctx, Built};
#[allow(unused_imports)] // for rustdoc links
use crate::{tlsbio_ctx_set_client_hello_pause, tlsbio_last_error};
use crate::{TLSBIO_ERROR_NONE, TLSBIO_ERROR_SSL};

/// A connection (`SSL`): one TLS session over two memory buffers, the
/// received ciphertext written in with [`tlsbio_bio_write`] and the
/// ciphertext to send taken out with [`tlsbio_bio_read`] or
/// [`tlsbio_bio_peek_out`]. Opaque; made by [`tlsbio_new_client`] or
/// [`tlsbio_new_server`], freed by [`tlsbio_free`]. Used by one thread at a
/// time.
pub struct tlsbio_conn {
    pub(crate) engine: Engine<VecBio, BytesBio>,
    /// Output taken from the engine and lent to C by
    /// [`tlsbio_bio_peek_out`]; always sent before anything the engine
    /// still holds.
    lent: Bytes,
    /// `SSL_ERROR_*` of the last call, `TLSBIO_ERROR_NONE` after a success.
    last_code: c_int,
    /// The last failure, as a sentence; empty if none.
    message: CString,
    /// Set when a panic was caught: every later call fails.
    poisoned: Option<CString>,
    /// C strings lent by the queries, made on first use.
    pub(crate) strings: RefCell<Strings>,
}

/// NUL-terminated copies of what the queries return, kept for the
/// connection's lifetime (each is fixed once known).
#[derive(Default)]
pub(crate) struct Strings {
    pub(crate) server_name: Option<CString>,
    pub(crate) hello_server_name: Option<CString>,
    pub(crate) cipher: Option<CString>,
    pub(crate) group: Option<CString>,
}

/// Room the read buffer and the write buffer each have, as `VecBio`'s
/// default: a full flight and several maximum-size records.
const BUFFER_LIMIT: usize = VecBio::DEFAULT_LIMIT;

impl tlsbio_conn {
    fn new(engine: Engine<VecBio, BytesBio>) -> Box<Self> {
        Box::new(Self {
            engine,
            lent: Bytes::new(),
            last_code: TLSBIO_ERROR_NONE,
            message: CString::default(),
            poisoned: None,
            strings: RefCell::default(),
        })
    }

    pub(crate) fn fail(&mut self, code: c_int, message: String) {
        self.last_code = code;
        self.message = c_string(message);
    }

    fn record(&mut self, error: &Error) {
        self.fail(compat::error_code(error), error.to_string());
    }

    pub(crate) fn ok(&mut self) {
        self.last_code = TLSBIO_ERROR_NONE;
    }

    /// `Ok(())` → 1, an error → -1 (`SSL_do_handshake`).
    fn status(&mut self, r: Result<(), Error>) -> c_int {
        match r {
            Ok(()) => {
                self.ok();
                1
            }
            Err(e) => {
                self.record(&e);
                -1
            }
        }
    }

    /// A byte count → itself, a clean close → 0, an error → -1
    /// (`SSL_read`, `SSL_write`).
    fn count(&mut self, r: Result<usize, Error>) -> c_int {
        match r {
            Ok(n) => {
                self.ok();
                c_int::try_from(n).unwrap_or(c_int::MAX)
            }
            Err(e) => {
                self.record(&e);
                if matches!(e, Error::ZeroReturn) {
                    0
                } else {
                    -1
                }
            }
        }
    }

    /// Ciphertext waiting to be sent.
    pub(crate) fn pending_out(&self) -> usize {
        self.lent.len() + self.engine.pending_output()
    }
}

/// Runs `f` on the connection behind `conn` under the panic guard. NULL
/// gives `null` (after setting the thread's error); a poisoned connection
/// gives `null` with its reason as the last error.
///
/// # Safety
///
/// `conn` is NULL or a live connection that no other thread is using.
pub(crate) unsafe fn with_conn<T>(
    conn: *mut tlsbio_conn,
    null: T,
    f: impl FnOnce(&mut tlsbio_conn) -> T,
) -> T {
    // SAFETY: the caller promises `conn` is NULL or a live connection used
    // by this thread alone, so a unique reference for this call is sound.
    let Some(conn) = (unsafe { conn.as_mut() }) else {
        set_thread_error("the connection is NULL");
        return null;
    };
    if let Some(why) = &conn.poisoned {
        let why = why.clone();
        conn.last_code = TLSBIO_ERROR_SSL;
        conn.message = why;
        return null;
    }
    match no_unwind(|| f(&mut *conn)) {
        Ok(v) => v,
        Err(why) => {
            let why = c_string(why);
            conn.poisoned = Some(why.clone());
            conn.last_code = TLSBIO_ERROR_SSL;
            conn.message = why;
            null
        }
    }
}

/// A connection as a shared reference, for queries. NULL gives `None`.
///
/// # Safety
///
/// `conn` is NULL or a live connection that no other thread is mutating.
pub(crate) unsafe fn conn_ref<'a>(conn: *const tlsbio_conn) -> Option<&'a tlsbio_conn> {
    // SAFETY: the caller's promise; only shared access follows.
    unsafe { conn.as_ref() }.filter(|c| c.poisoned.is_none())
}

fn buffers() -> (VecBio, BytesBio) {
    (
        VecBio::with_limit(BUFFER_LIMIT),
        BytesBio::with_limit(BUFFER_LIMIT),
    )
}

/// A client connection to `server_name` (a DNS name or an IP address,
/// checked against the certificate and sent as SNI for a name), from a
/// client context (`SSL_new` + `SSL_set_connect_state` +
/// `SSL_set_tlsext_host_name` + `SSL_set1_host`).
///
/// Returns NULL on failure; [`tlsbio_last_error`]
/// says why.
///
/// # Safety
///
/// `ctx` is NULL or a live context; `server_name` is NULL or a
/// NUL-terminated string.
#[no_mangle]
pub unsafe extern "C" fn tlsbio_new_client(
    ctx: *const tlsbio_ctx,
    server_name: *const c_char,
) -> *mut tlsbio_conn {
    // SAFETY: the caller's promise.
    let name = unsafe { c_str(server_name, "the server name") };
    // SAFETY: the caller's promise.
    unsafe {
        make(ctx, |ctx| {
            let name = name?;
            let Built::Client(context) = ctx.snapshot().0 else {
                return Err("tlsbio_new_client was given a server context".to_string());
            };
            let server_name = name
                .to_string()
                .try_into()
                .map_err(|_| format!("{name:?} is neither a DNS name nor an IP address"))?;
            let (r, w) = buffers();
            Engine::client(&context, server_name, r, w).map_err(|e| e.to_string())
        })
    }
}

/// A connection from the engine `f` makes out of `ctx`, under the panic
/// guard; NULL with this thread's error set when either fails.
///
/// # Safety
///
/// `ctx` is NULL or a live context.
unsafe fn make(
    ctx: *const tlsbio_ctx,
    f: impl FnOnce(&tlsbio_ctx) -> Result<Engine<VecBio, BytesBio>, String>,
) -> *mut tlsbio_conn {
    // SAFETY: the caller's promise; shared access only.
    let Some(ctx) = (unsafe { ctx.as_ref() }) else {
        set_thread_error("the context is NULL");
        return std::ptr::null_mut();
    };
    match no_unwind(|| f(ctx)).and_then(|r| r) {
        Ok(engine) => Box::into_raw(tlsbio_conn::new(engine)),
        Err(e) => {
            set_thread_error(e);
            std::ptr::null_mut()
        }
    }
}

/// A server connection from a server context (`SSL_new` +
/// `SSL_set_accept_state`). If the context pauses at the ClientHello
/// ([`tlsbio_ctx_set_client_hello_pause`]),
/// so does the connection.
///
/// Returns NULL on failure; [`tlsbio_last_error`]
/// says why.
///
/// # Safety
///
/// `ctx` is NULL or a live context.
#[no_mangle]
pub unsafe extern "C" fn tlsbio_new_server(ctx: *const tlsbio_ctx) -> *mut tlsbio_conn {
    // SAFETY: the caller's promise.
    unsafe {
        make(ctx, |ctx| {
            let (built, pause) = ctx.snapshot();
            let Built::Server(context) = built else {
                return Err("tlsbio_new_server was given a client context".to_string());
            };
            let (r, w) = buffers();
            Ok(if pause {
                Engine::server_paused(r, w).with_options(context.options())
            } else {
                Engine::server(&context, r, w)
            })
        })
    }
}

/// Frees a connection and every buffer it lent. NULL is ignored. Nothing is
/// sent: call [`tlsbio_shutdown`] first for a clean close.
///
/// # Safety
///
/// `conn` is NULL or a connection from `tlsbio_new_*` not yet freed; no
/// pointer it lent is used afterwards.
#[no_mangle]
pub unsafe extern "C" fn tlsbio_free(conn: *mut tlsbio_conn) {
    if conn.is_null() {
        return;
    }
    // SAFETY: `conn` came from `Box::into_raw` in `tlsbio_new_*` and is
    // freed once (the caller's promise).
    let conn = unsafe { Box::from_raw(conn) };
    let _ = no_unwind(move || drop(conn));
}

/// Continues the handshake (`SSL_do_handshake`): 1 when it is complete,
/// -1 otherwise, with [`tlsbio_get_error`] saying what it waits for or why
/// it failed. Take output afterwards in either case: a failure may leave
/// an alert to send.
///
/// # Safety
///
/// `conn` is NULL or a live connection not used by another thread.
#[no_mangle]
pub unsafe extern "C" fn tlsbio_do_handshake(conn: *mut tlsbio_conn) -> c_int {
    // SAFETY: the caller's promise.
    unsafe {
        with_conn(conn, -1, |c| {
            let r = c.engine.do_handshake();
            c.status(r)
        })
    }
}

/// `SSL_accept`: [`tlsbio_do_handshake`] on a server.
///
/// # Safety
///
/// As [`tlsbio_do_handshake`].
#[no_mangle]
pub unsafe extern "C" fn tlsbio_accept(conn: *mut tlsbio_conn) -> c_int {
    // SAFETY: the caller's promise, passed on.
    unsafe { tlsbio_do_handshake(conn) }
}

/// `SSL_connect`: [`tlsbio_do_handshake`] on a client.
///
/// # Safety
///
/// As [`tlsbio_do_handshake`].
#[no_mangle]
pub unsafe extern "C" fn tlsbio_connect(conn: *mut tlsbio_conn) -> c_int {
    // SAFETY: the caller's promise, passed on.
    unsafe { tlsbio_do_handshake(conn) }
}

/// Reads plaintext into `buf` (`SSL_read`), finishing the handshake first
/// if needed: the number of bytes (> 0), 0 when the peer closed cleanly
/// (`TLSBIO_ERROR_ZERO_RETURN`) or `len` is 0, -1 otherwise (see
/// [`tlsbio_get_error`]). A buffer smaller than a record is fine: the rest
/// stays for the next read ([`tlsbio_pending`]).
///
/// # Safety
///
/// `conn` is NULL or a live connection not used by another thread;
/// `buf[..len]` is writable (or NULL).
#[no_mangle]
pub unsafe extern "C" fn tlsbio_read(conn: *mut tlsbio_conn, buf: *mut u8, len: usize) -> c_int {
    // SAFETY: the caller's promise about `buf`.
    let buf = unsafe { bytes_mut(buf, len) };
    // SAFETY: the caller's promise about `conn`.
    unsafe { with_conn(conn, -1, |c| read_or_peek(c, buf, false)) }
}

/// As [`tlsbio_read`], but the bytes stay for the next read (`SSL_peek`).
///
/// # Safety
///
/// As [`tlsbio_read`].
#[no_mangle]
pub unsafe extern "C" fn tlsbio_peek(conn: *mut tlsbio_conn, buf: *mut u8, len: usize) -> c_int {
    // SAFETY: the caller's promise about `buf`.
    let buf = unsafe { bytes_mut(buf, len) };
    // SAFETY: the caller's promise about `conn`.
    unsafe { with_conn(conn, -1, |c| read_or_peek(c, buf, true)) }
}

fn read_or_peek(c: &mut tlsbio_conn, buf: Option<&mut [u8]>, peek: bool) -> c_int {
    let Some(buf) = buf else {
        c.fail(
            TLSBIO_ERROR_SSL,
            "the read buffer is NULL with a non-zero length".into(),
        );
        return -1;
    };
    if buf.is_empty() {
        c.ok();
        return 0;
    }
    let len = buf.len().min(c_int::MAX as usize);
    let r = if peek {
        c.engine.peek(&mut buf[..len])
    } else {
        c.engine.read(&mut buf[..len])
    };
    c.count(r)
}

/// On a server, reads TLS 1.3 0-RTT early data (`SSL_read_early_data`),
/// driving the handshake to get it: `TLSBIO_READ_EARLY_DATA_SUCCESS` with
/// `*readbytes` set, `TLSBIO_READ_EARLY_DATA_FINISH` once there is no more
/// (then use [`tlsbio_read`]), or `TLSBIO_READ_EARLY_DATA_ERROR` with
/// [`tlsbio_get_error`] saying why (`TLSBIO_ERROR_WANT_READ`: write more
/// ciphertext in and call again). Early data can be replayed by an
/// attacker: act on it only where doing so twice is harmless. The context
/// allows it with [`tlsbio_ctx_set_max_early_data`](crate::tlsbio_ctx_set_max_early_data).
///
/// # Safety
///
/// `conn` is NULL or a live connection not used by another thread;
/// `buf[..len]` is writable (or NULL); `readbytes` is NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn tlsbio_read_early_data(
    conn: *mut tlsbio_conn,
    buf: *mut u8,
    len: usize,
    readbytes: *mut usize,
) -> c_int {
    // SAFETY: the caller's promise about `buf`.
    let buf = unsafe { bytes_mut(buf, len) };
    // SAFETY: the caller's promise about `conn`.
    let (ret, n) = unsafe {
        with_conn(conn, (crate::TLSBIO_READ_EARLY_DATA_ERROR, 0), |c| {
            let Some(buf) = buf.filter(|b| !b.is_empty()) else {
                c.fail(
                    TLSBIO_ERROR_SSL,
                    "tlsbio_read_early_data: the buffer is NULL or empty".into(),
                );
                return (crate::TLSBIO_READ_EARLY_DATA_ERROR, 0);
            };
            match c.engine.read_early_data(buf) {
                Ok(0) => {
                    c.ok();
                    (crate::TLSBIO_READ_EARLY_DATA_FINISH, 0)
                }
                Ok(n) => {
                    c.ok();
                    (crate::TLSBIO_READ_EARLY_DATA_SUCCESS, n)
                }
                Err(e) => {
                    c.record(&e);
                    (crate::TLSBIO_READ_EARLY_DATA_ERROR, 0)
                }
            }
        })
    };
    if !readbytes.is_null() {
        // SAFETY: non-NULL and writable (the caller's promise).
        unsafe { readbytes.write(n) };
    }
    ret
}

/// On a client, writes TLS 1.3 0-RTT early data (`SSL_write_early_data`)
/// to go with the ClientHello, before the handshake: 1 with `*written`
/// set (it may be less than `len`, and 0 once the server's limit is used
/// up), or 0 with [`tlsbio_get_error`] saying why (`TLSBIO_ERROR_SSL` with
/// a message when there is nothing to send it with: no ticket from this
/// server that allows 0-RTT, the handshake is past its first flight, or a
/// rustls 0.23 build, which has no client 0-RTT; the connection is as it
/// was). The server may refuse early data: after the handshake,
/// [`tlsbio_get_early_data_status`] says whether to write it again. Send
/// only what is safe to repeat: early data can be replayed.
///
/// # Safety
///
/// `conn` is NULL or a live connection not used by another thread;
/// `buf[..len]` is readable (or NULL); `written` is NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn tlsbio_write_early_data(
    conn: *mut tlsbio_conn,
    buf: *const u8,
    len: usize,
    written: *mut usize,
) -> c_int {
    // SAFETY: the caller's promise about `buf`.
    let buf = unsafe { bytes(buf, len) };
    // SAFETY: the caller's promise about `conn`.
    let (ret, n) = unsafe {
        with_conn(conn, (0, 0), |c| {
            let Some(buf) = buf else {
                c.fail(
                    TLSBIO_ERROR_SSL,
                    "tlsbio_write_early_data: the buffer is NULL".into(),
                );
                return (0, 0);
            };
            match c.engine.write_early_data(buf) {
                Ok(n) => {
                    c.ok();
                    (1, n)
                }
                Err(e) => {
                    c.record(&e);
                    (0, 0)
                }
            }
        })
    };
    if !written.is_null() {
        // SAFETY: non-NULL and writable (the caller's promise).
        unsafe { written.write(n) };
    }
    ret
}

/// Gives the verdict on the peer's certificates while a deferred
/// verification waits for it (after `TLSBIO_ERROR_WANT_RETRY_VERIFY`):
/// `TLSBIO_VERIFY_ACCEPT`, `TLSBIO_VERIFY_REJECT` (the next call fails with
/// the alert for it) or `TLSBIO_VERIFY_WITH_CONTEXT`. Then call the
/// handshake again. 1 on success, 0 if no verification waits or the
/// verdict is not one of those (see [`tlsbio_error_string`]).
///
/// # Safety
///
/// `conn` is NULL or a live connection not used by another thread.
#[no_mangle]
pub unsafe extern "C" fn tlsbio_set_verify_result(conn: *mut tlsbio_conn, verdict: c_int) -> c_int {
    // SAFETY: the caller's promise about `conn`.
    unsafe {
        with_conn(conn, 0, |c| {
            let Some(verification) = c.engine.verification() else {
                c.fail(
                    TLSBIO_ERROR_SSL,
                    "tlsbio_set_verify_result: no verification is waiting".into(),
                );
                return 0;
            };
            match verdict {
                crate::TLSBIO_VERIFY_ACCEPT => verification.accept(),
                crate::TLSBIO_VERIFY_REJECT => {
                    verification.reject(tlsbio::CertificateError::ApplicationVerificationFailure)
                }
                crate::TLSBIO_VERIFY_WITH_CONTEXT => verification.verify_with_config(),
                other => {
                    c.fail(
                        TLSBIO_ERROR_SSL,
                        format!("tlsbio_set_verify_result: {other} is not a verdict"),
                    );
                    return 0;
                }
            }
            c.ok();
            1
        })
    }
}

/// What became of a client's early data (`SSL_get_early_data_status`):
/// `TLSBIO_EARLY_DATA_ACCEPTED` or `TLSBIO_EARLY_DATA_REJECTED` once the
/// handshake is complete, `TLSBIO_EARLY_DATA_NOT_SENT` when none was
/// written, before the handshake completes, on a server, and for NULL.
///
/// # Safety
///
/// `conn` is NULL or a live connection not mutated by another thread.
#[no_mangle]
pub unsafe extern "C" fn tlsbio_get_early_data_status(conn: *const tlsbio_conn) -> c_int {
    // SAFETY: the caller's promise.
    let Some(c) = (unsafe { conn_ref(conn) }) else {
        return crate::TLSBIO_EARLY_DATA_NOT_SENT;
    };
    match c.engine.early_data_status() {
        None | Some(tlsbio::EarlyDataStatus::NotSent) => crate::TLSBIO_EARLY_DATA_NOT_SENT,
        Some(tlsbio::EarlyDataStatus::Rejected) => crate::TLSBIO_EARLY_DATA_REJECTED,
        Some(tlsbio::EarlyDataStatus::Accepted) => crate::TLSBIO_EARLY_DATA_ACCEPTED,
    }
}

/// Writes plaintext (`SSL_write`, with `SSL_MODE_ENABLE_PARTIAL_WRITE`):
/// the number of bytes taken (> 0; may be fewer than `len` when the output
/// buffer fills: take output, then write the rest), 0 when `len` is 0, -1
/// otherwise (see [`tlsbio_get_error`]). Before the handshake completes
/// this drives it, and fails with its wants.
///
/// # Safety
///
/// `conn` is NULL or a live connection not used by another thread;
/// `buf[..len]` is readable (or NULL).
#[no_mangle]
pub unsafe extern "C" fn tlsbio_write(conn: *mut tlsbio_conn, buf: *const u8, len: usize) -> c_int {
    // SAFETY: the caller's promise about `buf`.
    let buf = unsafe { bytes(buf, len) };
    // SAFETY: the caller's promise about `conn`.
    unsafe {
        with_conn(conn, -1, |c| {
            let Some(buf) = buf else {
                c.fail(
                    TLSBIO_ERROR_SSL,
                    "the write buffer is NULL with a non-zero length".into(),
                );
                return -1;
            };
            if buf.is_empty() {
                c.ok();
                return 0;
            }
            let r = c.engine.write(&buf[..buf.len().min(c_int::MAX as usize)]);
            c.count(r)
        })
    }
}

/// Closes the sending side with close_notify (`SSL_shutdown`): 0 when ours
/// is queued (take output), 1 when the peer's has also arrived, -1 with
/// [`tlsbio_get_error`] otherwise. Call again after `TLSBIO_ERROR_WANT_READ`
/// for the two-step close.
///
/// # Safety
///
/// `conn` is NULL or a live connection not used by another thread.
#[no_mangle]
pub unsafe extern "C" fn tlsbio_shutdown(conn: *mut tlsbio_conn) -> c_int {
    // SAFETY: the caller's promise.
    unsafe {
        with_conn(conn, -1, |c| match c.engine.shutdown() {
            Ok(Shutdown::Sent) => {
                c.ok();
                0
            }
            Ok(Shutdown::Complete) => {
                c.ok();
                1
            }
            Err(e) => {
                c.record(&e);
                -1
            }
        })
    }
}

/// Plaintext bytes ready to read without more input (`SSL_pending`).
///
/// # Safety
///
/// `conn` is NULL or a live connection not mutated by another thread.
#[no_mangle]
pub unsafe extern "C" fn tlsbio_pending(conn: *const tlsbio_conn) -> usize {
    // SAFETY: the caller's promise.
    unsafe { conn_ref(conn) }.map_or(0, |c| c.engine.pending())
}

/// The `TLSBIO_ERROR_*` code for the return value `ret` of the last call on
/// `conn` (`SSL_get_error`): `TLSBIO_ERROR_NONE` for a success,
/// `TLSBIO_ERROR_SSL` for a NULL connection.
///
/// # Safety
///
/// `conn` is NULL or a live connection not mutated by another thread.
#[no_mangle]
pub unsafe extern "C" fn tlsbio_get_error(conn: *const tlsbio_conn, ret: c_int) -> c_int {
    // SAFETY: the caller's promise; read only.
    let Some(c) = (unsafe { conn.as_ref() }) else {
        return TLSBIO_ERROR_SSL;
    };
    if c.poisoned.is_some() {
        return TLSBIO_ERROR_SSL;
    }
    if ret > 0 {
        return TLSBIO_ERROR_NONE;
    }
    c.last_code
}

/// The last failure on `conn` as a sentence (what happened and, where it
/// helps, what to do), or `""` if no call has failed. Never NULL; valid
/// until the next call on `conn`. For a NULL `conn`, this thread's last
/// error.
///
/// # Safety
///
/// `conn` is NULL or a live connection not mutated by another thread.
#[no_mangle]
pub unsafe extern "C" fn tlsbio_error_string(conn: *const tlsbio_conn) -> *const c_char {
    // SAFETY: the caller's promise; read only.
    match unsafe { conn.as_ref() } {
        Some(c) => c.message.as_ptr(),
        None => tlsbio_last_error(),
    }
}

// ---- the network side: ciphertext in and out ----

/// Writes received ciphertext into the connection's read buffer
/// (`BIO_write` on the network BIO): the number of bytes taken, at most
/// [`tlsbio_bio_get_write_guarantee`] (0 when it is full: call
/// `tlsbio_read` or `tlsbio_do_handshake` to make room); -1 for a NULL
/// argument. The bytes are copied.
///
/// # Safety
///
/// `conn` is NULL or a live connection not used by another thread;
/// `buf[..len]` is readable (or NULL).
#[no_mangle]
pub unsafe extern "C" fn tlsbio_bio_write(
    conn: *mut tlsbio_conn,
    buf: *const u8,
    len: usize,
) -> c_int {
    // SAFETY: the caller's promise about `buf`.
    let buf = unsafe { bytes(buf, len) };
    // SAFETY: the caller's promise about `conn`.
    unsafe {
        with_conn(conn, -1, |c| {
            let Some(buf) = buf else {
                c.message =
                    c_string("tlsbio_bio_write: the buffer is NULL with a non-zero length".into());
                return -1;
            };
            let n = c
                .engine
                .rbio_mut()
                .write(&buf[..buf.len().min(c_int::MAX as usize)]);
            n as c_int
        })
    }
}

/// How many bytes [`tlsbio_bio_write`] takes now
/// (`BIO_ctrl_get_write_guarantee`). 0 for NULL.
///
/// # Safety
///
/// `conn` is NULL or a live connection not mutated by another thread.
#[no_mangle]
pub unsafe extern "C" fn tlsbio_bio_get_write_guarantee(conn: *const tlsbio_conn) -> usize {
    // SAFETY: the caller's promise.
    unsafe { conn_ref(conn) }.map_or(0, |c| c.engine.rbio().write_guarantee())
}

/// The least number of bytes the engine needs written in before it can
/// make progress (`BIO_ctrl_get_read_request`), after a call failed with
/// `TLSBIO_ERROR_WANT_READ`: never more than
/// [`tlsbio_bio_get_write_guarantee`], and writing exactly this much always
/// lets the next call progress. 0 when it needs nothing, or for NULL.
///
/// # Safety
///
/// `conn` is NULL or a live connection not used by another thread.
#[no_mangle]
pub unsafe extern "C" fn tlsbio_read_request(conn: *mut tlsbio_conn) -> usize {
    // SAFETY: the caller's promise.
    unsafe { with_conn(conn, 0, |c| c.engine.read_request()) }
}

/// Tells the connection that the transport has ended: no more ciphertext
/// will come (`BIO_shutdown_wr` on the network BIO, or EOF on the socket).
/// A read then reports a clean close only if close_notify arrived, and
/// `TLSBIO_ERROR_SYSCALL` otherwise. 1, or -1 for NULL.
///
/// # Safety
///
/// `conn` is NULL or a live connection not used by another thread.
#[no_mangle]
pub unsafe extern "C" fn tlsbio_bio_shutdown_wr(conn: *mut tlsbio_conn) -> c_int {
    // SAFETY: the caller's promise.
    unsafe {
        with_conn(conn, -1, |c| {
            c.engine.rbio_mut().shutdown_wr();
            1
        })
    }
}

/// Ciphertext waiting to be sent (`BIO_ctrl_pending` on the network BIO).
/// The event-loop rule: after every call, take output until this is 0.
/// 0 for NULL.
///
/// # Safety
///
/// `conn` is NULL or a live connection not mutated by another thread.
#[no_mangle]
pub unsafe extern "C" fn tlsbio_bio_ctrl_pending(conn: *const tlsbio_conn) -> usize {
    // SAFETY: the caller's promise.
    unsafe { conn_ref(conn) }.map_or(0, tlsbio_conn::pending_out)
}

/// Copies ciphertext to send into `buf` and removes it (`BIO_read` on the
/// network BIO): the number of bytes (0 when nothing is pending), or -1 for
/// a NULL argument.
///
/// # Safety
///
/// `conn` is NULL or a live connection not used by another thread;
/// `buf[..len]` is writable (or NULL).
#[no_mangle]
pub unsafe extern "C" fn tlsbio_bio_read(
    conn: *mut tlsbio_conn,
    buf: *mut u8,
    len: usize,
) -> c_int {
    // SAFETY: the caller's promise about `buf`.
    let buf = unsafe { bytes_mut(buf, len) };
    // SAFETY: the caller's promise about `conn`.
    unsafe {
        with_conn(conn, -1, |c| {
            let Some(buf) = buf else {
                c.message =
                    c_string("tlsbio_bio_read: the buffer is NULL with a non-zero length".into());
                return -1;
            };
            let len = buf.len().min(c_int::MAX as usize);
            let mut done = 0;
            // What was lent goes first: it is older than what the engine holds.
            let n = c.lent.len().min(len);
            buf[..n].copy_from_slice(&c.lent[..n]);
            c.lent.advance(n);
            done += n;
            while done < len && c.engine.pending_output() > 0 {
                let n = c.engine.send_output(|out| {
                    let n = out.len().min(len - done);
                    buf[done..done + n].copy_from_slice(&out[..n]);
                    (n, n)
                });
                if n == 0 {
                    break;
                }
                done += n;
            }
            done as c_int
        })
    }
}

/// Lends the ciphertext at the front of the output without copying:
/// stores a pointer to it in `*data` and returns its length (0, with
/// `*data` NULL, when nothing is pending). The bytes are the engine's own
/// encryption buffer; they stay valid and unchanged until
/// [`tlsbio_bio_consume_out`], [`tlsbio_bio_read`] or [`tlsbio_free`] on
/// this connection. Calling it again before consuming returns the same
/// bytes. Send them, then consume what was sent; more may follow (loop
/// until [`tlsbio_bio_ctrl_pending`] is 0).
///
/// # Safety
///
/// `conn` is NULL or a live connection not used by another thread; `data`
/// is NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn tlsbio_bio_peek_out(
    conn: *mut tlsbio_conn,
    data: *mut *const u8,
) -> usize {
    if data.is_null() {
        set_thread_error("tlsbio_bio_peek_out: data is NULL");
        return 0;
    }
    // SAFETY: the caller's promise about `conn`.
    let (ptr, len) = unsafe {
        with_conn(conn, (std::ptr::null(), 0), |c| {
            if c.lent.is_empty() {
                c.lent = c.engine.pop_output().unwrap_or_default();
            }
            if c.lent.is_empty() {
                (std::ptr::null(), 0)
            } else {
                (c.lent.as_ptr(), c.lent.len())
            }
        })
    };
    // SAFETY: `data` is non-NULL and writable (the caller's promise).
    unsafe { data.write(ptr) };
    len
}

/// Removes the first `n` bytes of what [`tlsbio_bio_peek_out`] lent, once
/// they are sent: 1, or -1 (nothing removed) when `n` is more than was
/// lent or `conn` is NULL.
///
/// # Safety
///
/// `conn` is NULL or a live connection not used by another thread.
#[no_mangle]
pub unsafe extern "C" fn tlsbio_bio_consume_out(conn: *mut tlsbio_conn, n: usize) -> c_int {
    // SAFETY: the caller's promise.
    unsafe {
        with_conn(conn, -1, |c| {
            if n > c.lent.len() {
                c.message = c_string(format!(
                    "tlsbio_bio_consume_out: {n} bytes consumed but {} were lent by tlsbio_bio_peek_out",
                    c.lent.len()
                ));
                return -1;
            }
            c.lent.advance(n);
            1
        })
    }
}

#[cfg(test)]
#[allow(clippy::multiple_unsafe_ops_per_block)] // many calls on one live connection
mod tests {
    use super::*;

    fn client() -> *mut tlsbio_conn {
        let key = rcgen::generate_simple_self_signed(vec!["localhost".into()]).unwrap();
        let ca = key.cert.pem();
        // SAFETY: a Rust string, readable for the call.
        let ctx = unsafe { crate::tlsbio_ctx_new_client(ca.as_ptr(), ca.len()) };
        assert!(!ctx.is_null());
        // SAFETY: a live context and a NUL-terminated name.
        let conn = unsafe { tlsbio_new_client(ctx, c"localhost".as_ptr()) };
        // SAFETY: `ctx` is live and not used again.
        unsafe { crate::tlsbio_ctx_free(ctx) };
        assert!(!conn.is_null());
        conn
    }

    #[test]
    fn a_panic_is_caught_and_makes_the_connection_unusable() {
        let conn = client();
        // SAFETY: `conn` is live and used by this thread only.
        let r = unsafe { with_conn(conn, -7, |_| -> c_int { panic!("boom") }) };
        assert_eq!(r, -7, "the panic did not unwind past the guard");
        // SAFETY: as above.
        unsafe {
            assert_eq!(tlsbio_get_error(conn, -1), TLSBIO_ERROR_SSL);
            let why = std::ffi::CStr::from_ptr(tlsbio_error_string(conn))
                .to_str()
                .unwrap();
            assert!(
                why.contains("internal error") && why.contains("boom"),
                "{why}"
            );
            // Every later call fails, with the same reason, and touches nothing.
            assert_eq!(tlsbio_connect(conn), -1);
            assert_eq!(tlsbio_get_error(conn, -1), TLSBIO_ERROR_SSL);
            assert_eq!(tlsbio_bio_ctrl_pending(conn), 0);
            assert_eq!(tlsbio_pending(conn), 0);
            tlsbio_free(conn);
        }
    }

    #[test]
    fn output_lent_stays_put_until_consumed() {
        let conn = client();
        let mut first = std::ptr::null();
        let mut again = std::ptr::null();
        // SAFETY: `conn` is live and used by this thread only; the
        // out-pointers are writable.
        unsafe {
            assert_eq!(tlsbio_connect(conn), -1);
            let pending = tlsbio_bio_ctrl_pending(conn);
            let n = tlsbio_bio_peek_out(conn, &mut first);
            assert_eq!(n, pending, "the ClientHello is one chunk");
            let hello = std::slice::from_raw_parts(first, n).to_vec();
            // Another call on the connection does not move or change it.
            assert_eq!(tlsbio_connect(conn), -1);
            assert_eq!(tlsbio_bio_peek_out(conn, &mut again), n);
            assert_eq!(first, again);
            assert_eq!(std::slice::from_raw_parts(again, n), &hello[..]);
            assert_eq!(tlsbio_bio_consume_out(conn, 5), 1);
            assert_eq!(tlsbio_bio_ctrl_pending(conn), n - 5);
            let mut rest = vec![0u8; n];
            assert_eq!(
                tlsbio_bio_read(conn, rest.as_mut_ptr(), n),
                (n - 5) as c_int
            );
            assert_eq!(&rest[..n - 5], &hello[5..]);
            assert_eq!(tlsbio_bio_ctrl_pending(conn), 0);
            tlsbio_free(conn);
        }
    }
}
