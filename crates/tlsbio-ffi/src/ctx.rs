//! Contexts: `SSL_CTX`. A context holds the settings connections are made
//! from; each setter rebuilds the rustls config at once, so a bad setting
//! fails where it is made, and leaves the context as it was.

use std::ffi::CString;
use std::fmt;
use std::os::raw::{c_char, c_int, c_void};
use std::sync::{Arc, Mutex, MutexGuard};

use tlsbio::rustls::pki_types::pem::PemObject;
use tlsbio::rustls::pki_types::{CertificateDer, PrivateKeyDer};
use tlsbio::rustls::{self, KeyLog, RootCertStore};

use crate::backend;
use tlsbio::{ClientContext, ServerContext};

use crate::boundary::{bytes, c_str, no_unwind, set_thread_error, thread_error};
#[allow(unused_imports)] // for rustdoc links
use crate::tlsbio_set_ctx;
use crate::{
    TLSBIO_TLS1_2_VERSION, TLSBIO_TLS1_3_VERSION, TLSBIO_VERIFY_FAIL_IF_NO_PEER_CERT,
    TLSBIO_VERIFY_NONE, TLSBIO_VERIFY_PEER,
};

/// A context (`SSL_CTX`): the certificates, trust, ALPN and versions that
/// connections are made with. Opaque; made by `tlsbio_ctx_new_*`, freed by
/// [`tlsbio_ctx_free`].
///
/// A context may be shared between threads. Connections keep what they
/// need of it, so freeing a context while its connections live is safe;
/// setters change only connections made afterwards.
pub struct tlsbio_ctx {
    state: Mutex<State>,
}

/// A keylog callback (`SSL_CTX_set_keylog_callback`): called with one line
/// in the NSS key log format (`LABEL <client random> <secret>`, hex, no
/// newline) and the `userdata` given with it.
pub type tlsbio_keylog_cb =
    Option<unsafe extern "C" fn(line: *const c_char, userdata: *mut c_void)>;

struct State {
    settings: Settings,
    built: Built,
}

#[derive(Clone)]
pub(crate) enum Built {
    Server(ServerContext),
    Client(ClientContext),
}

#[derive(Clone)]
struct Settings {
    side: Side,
    alpn: Vec<Vec<u8>>,
    min: c_int,
    max: c_int,
    pause: bool,
    /// The application verifies the peer's certificates
    /// (`tlsbio_ctx_set_verify_deferred`).
    defer_verification: bool,
    keylog: Option<Arc<CKeyLog>>,
    max_early_data: u32,
}

#[derive(Clone)]
enum Side {
    Server {
        identity: Identity,
        clients: Option<(Arc<RootCertStore>, bool)>,
    },
    Client {
        roots: Arc<RootCertStore>,
        identity: Option<Identity>,
    },
}

struct Identity {
    chain: Vec<CertificateDer<'static>>,
    key: PrivateKeyDer<'static>,
}

impl Clone for Identity {
    fn clone(&self) -> Self {
        Self {
            chain: self.chain.clone(),
            key: self.key.clone_key(),
        }
    }
}

impl tlsbio_ctx {
    fn new(side: Side) -> Result<Box<Self>, String> {
        let settings = Settings {
            side,
            alpn: Vec::new(),
            min: 0,
            max: 0,
            pause: false,
            defer_verification: false,
            keylog: None,
            max_early_data: 0,
        };
        let built = settings.build()?;
        Ok(Box::new(Self {
            state: Mutex::new(State { settings, built }),
        }))
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        // A panic while the lock was held cannot leave a half-made state:
        // settings and config are replaced together, after both are built.
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// What a connection is made from, and whether servers start paused.
    pub(crate) fn snapshot(&self) -> (Built, bool) {
        let state = self.lock();
        (state.built.clone(), state.settings.pause)
    }

    /// Changes the settings with `f`, rebuilds, and keeps the change only
    /// if both worked.
    fn update(&self, f: impl FnOnce(&mut Settings) -> Result<(), String>) -> Result<(), String> {
        let mut state = self.lock();
        let mut settings = state.settings.clone();
        f(&mut settings)?;
        let built = settings.build()?;
        *state = State { settings, built };
        Ok(())
    }
}

impl Settings {
    fn build(&self) -> Result<Built, String> {
        let versions = self.versions()?;
        // `Vec<u8>` on rustls 0.23, `ApplicationProtocol` on 0.24.
        #[allow(clippy::useless_conversion)]
        let alpn = self.alpn.iter().cloned().map(Into::into).collect();
        match &self.side {
            Side::Server { identity, clients } => {
                let identity = identity.clone();
                let clients = clients
                    .as_ref()
                    .map(|(roots, required)| (roots.clone(), *required));
                let mut config =
                    backend::server_config(&versions, clients, identity.chain, identity.key)?;
                config.alpn_protocols = alpn;
                config.max_early_data_size = self.max_early_data;
                if let Some(keylog) = &self.keylog {
                    config.key_log = keylog.clone();
                }
                ServerContext::new(Arc::new(config))
                    .and_then(|c| match self.defer_verification {
                        true => c.with_deferred_verification(),
                        false => Ok(c),
                    })
                    .map(Built::Server)
                    .map_err(|e| e.to_string())
            }
            Side::Client { roots, identity } => {
                let identity = identity.clone().map(|id| (id.chain, id.key));
                let mut config = backend::client_config(&versions, roots.clone(), identity)?;
                config.alpn_protocols = alpn;
                config.enable_early_data = self.max_early_data > 0;
                if let Some(keylog) = &self.keylog {
                    config.key_log = keylog.clone();
                }
                ClientContext::new(Arc::new(config))
                    .and_then(|c| match self.defer_verification {
                        true => c.with_deferred_verification(),
                        false => Ok(c),
                    })
                    .map(Built::Client)
                    .map_err(|e| e.to_string())
            }
        }
    }

    fn versions(&self) -> Result<Vec<&'static rustls::SupportedProtocolVersion>, String> {
        let min = if self.min == 0 {
            TLSBIO_TLS1_2_VERSION
        } else {
            self.min
        };
        let max = if self.max == 0 {
            TLSBIO_TLS1_3_VERSION
        } else {
            self.max
        };
        let mut versions = Vec::new();
        if (min..=max).contains(&TLSBIO_TLS1_2_VERSION) {
            versions.push(&rustls::version::TLS12);
        }
        if (min..=max).contains(&TLSBIO_TLS1_3_VERSION) {
            versions.push(&rustls::version::TLS13);
        }
        if versions.is_empty() {
            return Err(format!(
                "no protocol version between {min:#06x} and {max:#06x}; tlsbio speaks TLS 1.2 (0x0303) and 1.3 (0x0304)"
            ));
        }
        Ok(versions)
    }
}

fn check_version(version: c_int) -> Result<c_int, String> {
    match version {
        0 | TLSBIO_TLS1_2_VERSION | TLSBIO_TLS1_3_VERSION => Ok(version),
        0x0300..=0x0302 => Err(format!(
            "version {version:#06x} (SSL 3.0 to TLS 1.1) is not supported by rustls; use TLSBIO_TLS1_2_VERSION or TLSBIO_TLS1_3_VERSION"
        )),
        _ => Err(format!(
            "{version:#06x} is not a TLS version; use 0, TLSBIO_TLS1_2_VERSION or TLSBIO_TLS1_3_VERSION"
        )),
    }
}

/// Parses `len` bytes of PEM at `ptr` into certificates.
///
/// # Safety
///
/// As [`bytes`].
unsafe fn pem_certs(
    ptr: *const u8,
    len: usize,
    what: &str,
) -> Result<Vec<CertificateDer<'static>>, String> {
    // SAFETY: passed through from the extern function's caller.
    let pem = unsafe { bytes(ptr, len) }.ok_or_else(|| format!("{what} is NULL"))?;
    let certs = CertificateDer::pem_slice_iter(pem)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| format!("{what}: bad PEM: {e}"))?;
    if certs.is_empty() {
        return Err(format!(
            "{what}: no CERTIFICATE block; expected PEM (-----BEGIN CERTIFICATE-----)"
        ));
    }
    Ok(certs)
}

/// Parses the first private key in `len` bytes of PEM at `ptr`.
///
/// # Safety
///
/// As [`bytes`].
unsafe fn pem_key(
    ptr: *const u8,
    len: usize,
    what: &str,
) -> Result<PrivateKeyDer<'static>, String> {
    // SAFETY: passed through from the extern function's caller.
    let pem = unsafe { bytes(ptr, len) }.ok_or_else(|| format!("{what} is NULL"))?;
    PrivateKeyDer::from_pem_slice(pem).map_err(|e| {
        format!("{what}: no usable private key ({e}); expected a PEM PRIVATE KEY block (PKCS#8, PKCS#1 or SEC1)")
    })
}

fn root_store(certs: Vec<CertificateDer<'static>>, what: &str) -> Result<RootCertStore, String> {
    let mut roots = RootCertStore::empty();
    for (i, cert) in certs.into_iter().enumerate() {
        roots
            .add(cert)
            .map_err(|e| format!("{what}: certificate {i} is not a usable trust anchor: {e}"))?;
    }
    Ok(roots)
}

fn read_file(path: &str) -> Result<Vec<u8>, String> {
    std::fs::read(path).map_err(|e| format!("cannot read {path}: {e}"))
}

/// Runs a context constructor under the panic guard, setting this thread's
/// error on failure.
fn construct(f: impl FnOnce() -> Result<Box<tlsbio_ctx>, String>) -> *mut tlsbio_ctx {
    match no_unwind(f).and_then(|r| r) {
        Ok(ctx) => Box::into_raw(ctx),
        Err(e) => {
            set_thread_error(e);
            std::ptr::null_mut()
        }
    }
}

/// Runs a setter: 1 on success, 0 with this thread's error set otherwise.
///
/// # Safety
///
/// `ctx` is NULL or a live context.
unsafe fn set(
    ctx: *const tlsbio_ctx,
    f: impl FnOnce(&mut Settings) -> Result<(), String>,
) -> c_int {
    // SAFETY: the caller promises `ctx` is NULL or a live context; it is
    // only used through `&`, and its state is behind a mutex.
    let Some(ctx) = (unsafe { ctx.as_ref() }) else {
        set_thread_error("the context is NULL");
        return 0;
    };
    match no_unwind(|| ctx.update(f)).and_then(|r| r) {
        Ok(()) => 1,
        Err(e) => {
            set_thread_error(e);
            0
        }
    }
}

/// A server context from a certificate chain (leaf first) and its private
/// key, both PEM, as bytes (`SSL_CTX_new`, `SSL_CTX_use_certificate_chain`
/// and `SSL_CTX_use_PrivateKey`). TLS 1.2 and 1.3, no ALPN, no client
/// certificates, until set.
///
/// Returns NULL on failure; [`tlsbio_last_error`] says why.
///
/// # Safety
///
/// `chain_pem[..chain_len]` and `key_pem[..key_len]` are readable (or NULL).
#[no_mangle]
pub unsafe extern "C" fn tlsbio_ctx_new_server(
    chain_pem: *const u8,
    chain_len: usize,
    key_pem: *const u8,
    key_len: usize,
) -> *mut tlsbio_ctx {
    construct(|| {
        // SAFETY: the caller's promise, passed on.
        let chain = unsafe { pem_certs(chain_pem, chain_len, "the certificate chain") }?;
        // SAFETY: the caller's promise, passed on.
        let key = unsafe { pem_key(key_pem, key_len, "the private key") }?;
        tlsbio_ctx::new(Side::Server {
            identity: Identity { chain, key },
            clients: None,
        })
    })
}

/// As [`tlsbio_ctx_new_server`], reading the PEM from two files.
///
/// # Safety
///
/// Both paths are NUL-terminated strings (or NULL).
#[no_mangle]
pub unsafe extern "C" fn tlsbio_ctx_new_server_from_files(
    chain_path: *const c_char,
    key_path: *const c_char,
) -> *mut tlsbio_ctx {
    construct(|| {
        // SAFETY: the caller's promise, passed on.
        let chain = read_file(unsafe { c_str(chain_path, "the chain path") }?)?;
        // SAFETY: the caller's promise, passed on.
        let key = read_file(unsafe { c_str(key_path, "the key path") }?)?;
        // SAFETY: both are Rust slices, readable for the call.
        let chain = unsafe { pem_certs(chain.as_ptr(), chain.len(), "the certificate chain") }?;
        // SAFETY: as above.
        let key = unsafe { pem_key(key.as_ptr(), key.len(), "the private key") }?;
        tlsbio_ctx::new(Side::Server {
            identity: Identity { chain, key },
            clients: None,
        })
    })
}

/// A client context that trusts the CA certificates in `ca_pem` (PEM, one
/// or more), like `SSL_CTX_load_verify_locations` with a CA file. Server
/// names and validity are checked; connections from one context resume
/// each other's sessions.
///
/// Returns NULL on failure; [`tlsbio_last_error`] says why.
///
/// # Safety
///
/// `ca_pem[..ca_len]` is readable (or NULL).
#[no_mangle]
pub unsafe extern "C" fn tlsbio_ctx_new_client(
    ca_pem: *const u8,
    ca_len: usize,
) -> *mut tlsbio_ctx {
    construct(|| {
        // SAFETY: the caller's promise, passed on.
        let certs = unsafe { pem_certs(ca_pem, ca_len, "the CA certificates") }?;
        let roots = root_store(certs, "the CA certificates")?;
        tlsbio_ctx::new(Side::Client {
            roots: Arc::new(roots),
            identity: None,
        })
    })
}

/// A client context that trusts the system's CA store
/// (`SSL_CTX_set_default_verify_paths`; `SSL_CERT_FILE` and `SSL_CERT_DIR`
/// are honoured).
///
/// Returns NULL when no usable CA certificate was found;
/// [`tlsbio_last_error`] says why.
#[no_mangle]
pub extern "C" fn tlsbio_ctx_new_client_system_roots() -> *mut tlsbio_ctx {
    construct(|| {
        let found = rustls_native_certs::load_native_certs();
        let mut roots = RootCertStore::empty();
        let (added, _) = roots.add_parsable_certificates(found.certs);
        if added == 0 {
            let why: Vec<String> = found.errors.iter().map(|e| e.to_string()).collect();
            return Err(format!(
                "no usable CA certificate in the system store{}; set SSL_CERT_FILE or use tlsbio_ctx_new_client",
                if why.is_empty() { String::new() } else { format!(" ({})", why.join("; ")) }
            ));
        }
        tlsbio_ctx::new(Side::Client {
            roots: Arc::new(roots),
            identity: None,
        })
    })
}

/// Frees a context. Connections made from it keep working. NULL is
/// ignored.
///
/// # Safety
///
/// `ctx` is NULL or a context from `tlsbio_ctx_new_*` not yet freed, and
/// no other thread uses it during or after this call.
#[no_mangle]
pub unsafe extern "C" fn tlsbio_ctx_free(ctx: *mut tlsbio_ctx) {
    if ctx.is_null() {
        return;
    }
    // SAFETY: `ctx` came from `Box::into_raw` in `construct` and is freed
    // once (the caller's promise).
    let ctx = unsafe { Box::from_raw(ctx) };
    let _ = no_unwind(move || drop(ctx));
}

/// The ALPN protocols to offer (client) or accept, in preference order
/// (server), in the wire format of `SSL_CTX_set_alpn_protos`: each name
/// preceded by its length byte, e.g. `"\x02h2\x08http/1.1"`. Length 0
/// clears the list.
///
/// Returns **1 on success** and 0 on failure (OpenSSL's call returns 0 on
/// success; tlsbio keeps one convention). A server whose client offers
/// none of its protocols fails the handshake with `no_application_protocol`.
///
/// # Safety
///
/// `ctx` is NULL or a live context; `protos[..len]` is readable (or NULL).
#[no_mangle]
pub unsafe extern "C" fn tlsbio_ctx_set_alpn_protos(
    ctx: *const tlsbio_ctx,
    protos: *const u8,
    len: usize,
) -> c_int {
    // SAFETY: the caller's promise; the slice is parsed before `set` returns.
    let Some(wire) = (unsafe { bytes(protos, len) }) else {
        set_thread_error("the ALPN list is NULL with a non-zero length");
        return 0;
    };
    let parsed = parse_alpn(wire);
    // SAFETY: the caller's promise about `ctx`.
    unsafe {
        set(ctx, |s| {
            s.alpn = parsed?;
            Ok(())
        })
    }
}

fn parse_alpn(mut wire: &[u8]) -> Result<Vec<Vec<u8>>, String> {
    let mut names = Vec::new();
    while let Some((&n, rest)) = wire.split_first() {
        let n = usize::from(n);
        if n == 0 || n > rest.len() {
            return Err(format!(
                "the ALPN list is malformed at protocol {}: expected a length byte (1-255) and that many bytes",
                names.len()
            ));
        }
        names.push(rest[..n].to_vec());
        wire = &rest[n..];
    }
    Ok(names)
}

/// The lowest protocol version (`SSL_CTX_set_min_proto_version`):
/// `TLSBIO_TLS1_2_VERSION`, `TLSBIO_TLS1_3_VERSION`, or 0 for the lowest
/// supported. 1 on success, 0 on failure.
///
/// # Safety
///
/// `ctx` is NULL or a live context.
#[no_mangle]
pub unsafe extern "C" fn tlsbio_ctx_set_min_proto_version(
    ctx: *const tlsbio_ctx,
    version: c_int,
) -> c_int {
    // SAFETY: the caller's promise about `ctx`.
    unsafe {
        set(ctx, |s| {
            s.min = check_version(version)?;
            Ok(())
        })
    }
}

/// The highest protocol version (`SSL_CTX_set_max_proto_version`), as
/// [`tlsbio_ctx_set_min_proto_version`].
///
/// # Safety
///
/// `ctx` is NULL or a live context.
#[no_mangle]
pub unsafe extern "C" fn tlsbio_ctx_set_max_proto_version(
    ctx: *const tlsbio_ctx,
    version: c_int,
) -> c_int {
    // SAFETY: the caller's promise about `ctx`.
    unsafe {
        set(ctx, |s| {
            s.max = check_version(version)?;
            Ok(())
        })
    }
}

/// On a server context, whether and how clients are asked for certificates
/// (`SSL_CTX_set_verify` + `SSL_CTX_load_verify_locations`): `mode` is
/// `TLSBIO_VERIFY_NONE`, `TLSBIO_VERIFY_PEER` (verified if sent), or
/// `TLSBIO_VERIFY_PEER | TLSBIO_VERIFY_FAIL_IF_NO_PEER_CERT` (required),
/// against the CA certificates in `ca_pem` (ignored for
/// `TLSBIO_VERIFY_NONE`). 1 on success, 0 on failure.
///
/// # Safety
///
/// `ctx` is NULL or a live context; `ca_pem[..ca_len]` is readable (or
/// NULL).
#[no_mangle]
pub unsafe extern "C" fn tlsbio_ctx_set_verify_client(
    ctx: *const tlsbio_ctx,
    mode: c_int,
    ca_pem: *const u8,
    ca_len: usize,
) -> c_int {
    let clients = match mode {
        TLSBIO_VERIFY_NONE => Ok(None),
        TLSBIO_VERIFY_PEER | 3 => {
            // SAFETY: the caller's promise, passed on.
            unsafe { pem_certs(ca_pem, ca_len, "the client CA certificates") }
                .and_then(|certs| root_store(certs, "the client CA certificates"))
                .map(|roots| Some((Arc::new(roots), mode & TLSBIO_VERIFY_FAIL_IF_NO_PEER_CERT != 0)))
        }
        _ => Err(format!(
            "verify mode {mode} is not TLSBIO_VERIFY_NONE, TLSBIO_VERIFY_PEER or TLSBIO_VERIFY_PEER | TLSBIO_VERIFY_FAIL_IF_NO_PEER_CERT"
        )),
    };
    // SAFETY: the caller's promise about `ctx`.
    unsafe {
        set(ctx, |s| match &mut s.side {
            Side::Server { clients: c, .. } => {
                *c = clients?;
                Ok(())
            }
            Side::Client { .. } => {
                Err("client certificate verification is set on a server context".into())
            }
        })
    }
}

/// On a client context, the certificate chain and key to present when a
/// server asks (`SSL_CTX_use_certificate_chain` + `SSL_CTX_use_PrivateKey`
/// on a client). 1 on success, 0 on failure.
///
/// # Safety
///
/// `ctx` is NULL or a live context; both buffers are readable (or NULL).
#[no_mangle]
pub unsafe extern "C" fn tlsbio_ctx_use_client_certificate(
    ctx: *const tlsbio_ctx,
    chain_pem: *const u8,
    chain_len: usize,
    key_pem: *const u8,
    key_len: usize,
) -> c_int {
    // SAFETY: the caller's promise, passed on.
    let chain = unsafe { pem_certs(chain_pem, chain_len, "the client certificate chain") };
    // SAFETY: the caller's promise, passed on.
    let key = unsafe { pem_key(key_pem, key_len, "the client private key") };
    // SAFETY: the caller's promise about `ctx`.
    unsafe {
        set(ctx, |s| {
            match &mut s.side {
            Side::Client { identity, .. } => {
                *identity = Some(Identity { chain: chain?, key: key? });
                Ok(())
            }
            Side::Server { .. } => Err("a client certificate is set on a server context (a server's own certificate is given to tlsbio_ctx_new_server)".into()),
        }
        })
    }
}

/// On a server context, whether its connections pause at the ClientHello
/// (`SSL_CTX_set_client_hello_cb` returning `SSL_CLIENT_HELLO_RETRY`):
/// `tlsbio_accept` then fails with `TLSBIO_ERROR_WANT_CLIENT_HELLO_CB`, the
/// caller reads the hello (`tlsbio_client_hello_*`), chooses a context with
/// [`tlsbio_set_ctx`] (this one, or another) and calls `tlsbio_accept`
/// again. 1 on success, 0 on failure.
///
/// # Safety
///
/// `ctx` is NULL or a live context.
#[no_mangle]
pub unsafe extern "C" fn tlsbio_ctx_set_client_hello_pause(
    ctx: *const tlsbio_ctx,
    on: c_int,
) -> c_int {
    // SAFETY: the caller's promise about `ctx`.
    unsafe {
        set(ctx, |s| match s.side {
            Side::Server { .. } => {
                s.pause = on != 0;
                Ok(())
            }
            Side::Client { .. } => Err("the ClientHello pause is set on a client context".into()),
        })
    }
}

/// Whether connections made from `ctx` leave the peer's certificates to
/// the application (OpenSSL 3's `SSL_set_retry_verify` from a verify
/// callback): the handshake call then fails with
/// `TLSBIO_ERROR_WANT_RETRY_VERIFY` once the certificates are in, the
/// application reads them (`tlsbio_get_peer_certificate`), decides on its
/// own time and gives its verdict with
/// [`tlsbio_set_verify_result`](crate::tlsbio_set_verify_result), then
/// calls again. On a server context this is about client certificates.
/// rustls 0.24 builds only: on 0.23 this fails with the reason. 1 on
/// success, 0 on failure.
///
/// # Safety
///
/// `ctx` is NULL or a live context.
#[no_mangle]
pub unsafe extern "C" fn tlsbio_ctx_set_verify_deferred(
    ctx: *const tlsbio_ctx,
    on: c_int,
) -> c_int {
    // SAFETY: the caller's promise about `ctx`.
    unsafe {
        set(ctx, |s| {
            s.defer_verification = on != 0;
            Ok(())
        })
    }
}

/// On a server context, how many bytes of TLS 1.3 0-RTT early data a
/// resuming client may send (`SSL_CTX_set_max_early_data`); 0 (the
/// default) refuses early data. (On rustls 0.24 builds a server that
/// pauses at the ClientHello cannot accept it.) On a client context
/// (rustls 0.24 builds only), any value above 0 lets its connections send early data with
/// [`tlsbio_write_early_data`](crate::tlsbio_write_early_data) (the
/// server's ticket sets the limit). Read it with
/// [`tlsbio_read_early_data`](crate::tlsbio_read_early_data). Sessions
/// resume from the context's own session store, whose entries are single
/// use, so within one process a session's early data is accepted once;
/// across processes nothing stops a replay. 1 on success, 0 on failure.
///
/// # Safety
///
/// `ctx` is NULL or a live context.
#[no_mangle]
pub unsafe extern "C" fn tlsbio_ctx_set_max_early_data(
    ctx: *const tlsbio_ctx,
    bytes: u32,
) -> c_int {
    // SAFETY: the caller's promise about `ctx`.
    unsafe {
        set(ctx, |s| match s.side {
            Side::Server { .. } => {
                s.max_early_data = bytes;
                Ok(())
            }
            // rustls 0.24: a client context with a limit above 0 sends
            // early data (rustls' enable_early_data), with
            // tlsbio_write_early_data.
            #[cfg(feature = "rustls-0-24")]
            Side::Client { .. } => {
                s.max_early_data = bytes;
                Ok(())
            }
            #[cfg(not(feature = "rustls-0-24"))]
            Side::Client { .. } => Err(
                "early data on a client context: tlsbio clients do not send 0-rtt on rustls 0.23 \
                 (they could not tell whether the server accepted it); build on rustls 0.24"
                    .into(),
            ),
        })
    }
}

/// Calls `cb(line, userdata)` with each secret of connections made from now
/// on, in the NSS key log format (`SSL_CTX_set_keylog_callback`), for
/// Wireshark and debugging. NULL `cb` turns it off. 1 on success.
///
/// The callback is called during tlsbio calls on those connections, from
/// whichever thread makes them; it must not call into the same connection.
/// `line` is valid only during the call.
///
/// # Safety
///
/// `ctx` is NULL or a live context; `cb`, if not NULL, may be called with
/// `userdata` from any thread that uses a connection made from this
/// context, for as long as any such connection lives.
#[no_mangle]
pub unsafe extern "C" fn tlsbio_ctx_set_keylog_callback(
    ctx: *const tlsbio_ctx,
    cb: tlsbio_keylog_cb,
    userdata: *mut c_void,
) -> c_int {
    let keylog = cb.map(|cb| Arc::new(CKeyLog { cb, userdata }));
    // SAFETY: the caller's promise about `ctx`.
    unsafe {
        set(ctx, |s| {
            s.keylog = keylog;
            Ok(())
        })
    }
}

/// This thread's last error from a call without a connection (context
/// creation and setters, connection creation), as a sentence. Never NULL;
/// valid until the next such call on this thread.
#[no_mangle]
pub extern "C" fn tlsbio_last_error() -> *const c_char {
    thread_error()
}

struct CKeyLog {
    cb: unsafe extern "C" fn(*const c_char, *mut c_void),
    userdata: *mut c_void,
}

// SAFETY: the caller of `tlsbio_ctx_set_keylog_callback` promises that the
// callback may be called with `userdata` from any thread that uses the
// connections; the pointer is never dereferenced by Rust.
unsafe impl Send for CKeyLog {}
// SAFETY: as for Send; `log` only passes the pointer back to the callback.
unsafe impl Sync for CKeyLog {}

impl fmt::Debug for CKeyLog {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("CKeyLog")
    }
}

impl KeyLog for CKeyLog {
    fn log(&self, label: &str, client_random: &[u8], secret: &[u8]) {
        let mut line =
            String::with_capacity(label.len() + 2 + 2 * (client_random.len() + secret.len()));
        line.push_str(label);
        line.push(' ');
        hex(&mut line, client_random);
        line.push(' ');
        hex(&mut line, secret);
        let Ok(line) = CString::new(line) else {
            return; // labels are rustls' constants; cannot contain NUL
        };
        // SAFETY: the callback and userdata come from the caller of
        // tlsbio_ctx_set_keylog_callback, who promised they may be called
        // from here; `line` lives until after the call.
        unsafe { (self.cb)(line.as_ptr(), self.userdata) }
    }
}

fn hex(out: &mut String, bytes: &[u8]) {
    use std::fmt::Write;
    for b in bytes {
        let _ = write!(out, "{b:02x}");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn alpn_wire_format_is_parsed_and_checked() {
        assert_eq!(
            parse_alpn(b"\x02h2\x08http/1.1").unwrap(),
            vec![b"h2".to_vec(), b"http/1.1".to_vec()]
        );
        assert_eq!(parse_alpn(b"").unwrap(), Vec::<Vec<u8>>::new());
        assert!(parse_alpn(b"\x03h2").unwrap_err().contains("protocol 0"));
        assert!(parse_alpn(b"\x02h2\x00")
            .unwrap_err()
            .contains("protocol 1"));
    }

    #[test]
    fn versions_outside_rustls_are_refused_with_the_reason() {
        assert!(check_version(0x0301)
            .unwrap_err()
            .contains("not supported by rustls"));
        assert!(check_version(7).unwrap_err().contains("not a TLS version"));
        let s = |min, max| Settings {
            side: Side::Client {
                roots: Arc::new(RootCertStore::empty()),
                identity: None,
            },
            alpn: vec![],
            min,
            max,
            pause: false,
            defer_verification: false,
            keylog: None,
            max_early_data: 0,
        };
        assert_eq!(s(0, 0).versions().unwrap().len(), 2);
        assert_eq!(s(TLSBIO_TLS1_3_VERSION, 0).versions().unwrap().len(), 1);
        assert!(s(TLSBIO_TLS1_3_VERSION, TLSBIO_TLS1_2_VERSION)
            .versions()
            .is_err());
    }
}
