//! OpenSSL's integer conventions, for code ported from C.
//!
//! [`Ssl`] wraps an [`Engine`] and answers like `SSL_accept`, `SSL_read`
//! and friends: `1` (or a byte count) for success, `0` or `-1` otherwise,
//! and [`Ssl::get_error`] turns the return value into an `SSL_ERROR_*`
//! code with OpenSSL's numeric value.
//!
//! ```
//! use tlsbio::bio::VecBio;
//! use tlsbio::compat::{Ssl, SSL_ERROR_WANT_READ};
//! use tlsbio::{ClientContext, Engine};
//!
//! # fn tlsbio_doc_configs() -> (std::sync::Arc<tlsbio::rustls::ClientConfig>, std::sync::Arc<tlsbio::rustls::ServerConfig>) {
//! #     use tlsbio::rustls::{pki_types::{PrivateKeyDer, PrivatePkcs8KeyDer}, ClientConfig, RootCertStore, ServerConfig};
//! #     let ck = rcgen::generate_simple_self_signed(vec!["localhost".to_string()]).unwrap();
//! #     let mut roots = RootCertStore::empty();
//! #     roots.add(ck.cert.der().clone()).unwrap();
//! #     let key = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(ck.key_pair.serialize_der()));
//! #     let chain = vec![ck.cert.der().clone()];
//! #     #[cfg(not(feature = "rustls-0-24"))]
//! #     let (client, server) = (
//! #         ClientConfig::builder().with_root_certificates(roots).with_no_client_auth(),
//! #         ServerConfig::builder().with_no_client_auth().with_single_cert(chain, key).unwrap());
//! #     #[cfg(feature = "rustls-0-24")]
//! #     let (client, server) = (
//! #         ClientConfig::builder(tlsbio::default_provider()).with_root_certificates(roots)
//! #             .with_no_client_auth().unwrap(),
//! #         ServerConfig::builder(tlsbio::default_provider()).with_no_client_auth()
//! #             .with_single_cert(std::sync::Arc::new(
//! #                 tlsbio::rustls::crypto::Identity::from_cert_chain(chain).unwrap()), key)
//! #             .unwrap());
//! #     (std::sync::Arc::new(client), std::sync::Arc::new(server))
//! # }
//! # let (client_config, _) = tlsbio_doc_configs();
//! let context = ClientContext::new(client_config).unwrap();
//! let engine = Engine::client(&context, "localhost".try_into().unwrap(),
//!                             VecBio::new(), VecBio::new()).unwrap();
//! let mut ssl = Ssl::new(engine);
//! let ret = ssl.connect(); // ClientHello is now in the write BIO
//! assert_eq!(ret, -1);
//! assert_eq!(ssl.get_error(ret), SSL_ERROR_WANT_READ);
//! ```
//!
//! # Codes this crate never returns
//!
//! - `SSL_ERROR_WANT_X509_LOOKUP`: rustls resolves certificates
//!   synchronously through its `ResolvesServerCert` trait; to choose a
//!   certificate asynchronously, pause at the ClientHello instead
//!   (`SSL_ERROR_WANT_CLIENT_HELLO_CB`).
//! - `SSL_ERROR_WANT_RETRY_VERIFY` on rustls 0.23, which verifies chains
//!   inside its handshake; on the rustls 0.24 backend a context that defers
//!   verification returns it ([`Want::Verify`]).
//! - `SSL_ERROR_WANT_ASYNC`, `SSL_ERROR_WANT_ASYNC_JOB`: there are no async
//!   crypto engines in rustls.
//! - `SSL_ERROR_WANT_CONNECT`, `SSL_ERROR_WANT_ACCEPT`: those come from
//!   connect/accept BIOs over sockets; the engine has no sockets.

use crate::bio::Bio;
use crate::{EarlyDataStatus, Engine, Error, Shutdown, Want};

/// `SSL_ERROR_NONE`: the call succeeded.
pub const SSL_ERROR_NONE: i32 = 0;
/// `SSL_ERROR_SSL`: a protocol error ([`Error::Protocol`]) or a misuse
/// ([`Error::Usage`]).
pub const SSL_ERROR_SSL: i32 = 1;
/// `SSL_ERROR_WANT_READ`: see [`Want::Read`].
pub const SSL_ERROR_WANT_READ: i32 = 2;
/// `SSL_ERROR_WANT_WRITE`: see [`Want::Write`].
pub const SSL_ERROR_WANT_WRITE: i32 = 3;
/// `SSL_ERROR_WANT_X509_LOOKUP`: never returned (see the module docs).
pub const SSL_ERROR_WANT_X509_LOOKUP: i32 = 4;
/// `SSL_ERROR_SYSCALL`: the transport ended without close_notify
/// ([`Error::UnexpectedEof`]).
pub const SSL_ERROR_SYSCALL: i32 = 5;
/// `SSL_ERROR_ZERO_RETURN`: the peer closed cleanly ([`Error::ZeroReturn`]).
pub const SSL_ERROR_ZERO_RETURN: i32 = 6;
/// `SSL_ERROR_WANT_CONNECT`: never returned.
pub const SSL_ERROR_WANT_CONNECT: i32 = 7;
/// `SSL_ERROR_WANT_ACCEPT`: never returned.
pub const SSL_ERROR_WANT_ACCEPT: i32 = 8;
/// `SSL_ERROR_WANT_ASYNC`: never returned.
pub const SSL_ERROR_WANT_ASYNC: i32 = 9;
/// `SSL_ERROR_WANT_ASYNC_JOB`: never returned.
pub const SSL_ERROR_WANT_ASYNC_JOB: i32 = 10;
/// `SSL_ERROR_WANT_CLIENT_HELLO_CB`: see [`Want::ClientHello`].
pub const SSL_ERROR_WANT_CLIENT_HELLO_CB: i32 = 11;
/// `SSL_ERROR_WANT_RETRY_VERIFY`: see [`Want::Verify`] (rustls 0.24
/// backend, a context that defers verification).
pub const SSL_ERROR_WANT_RETRY_VERIFY: i32 = 12;

/// `SSL_READ_EARLY_DATA_ERROR`: see [`Ssl::get_error`].
pub const SSL_READ_EARLY_DATA_ERROR: i32 = 0;
/// `SSL_READ_EARLY_DATA_SUCCESS`: early data was read.
pub const SSL_READ_EARLY_DATA_SUCCESS: i32 = 1;
/// `SSL_READ_EARLY_DATA_FINISH`: there is no (more) early data.
pub const SSL_READ_EARLY_DATA_FINISH: i32 = 2;

/// `SSL_EARLY_DATA_NOT_SENT`: see [`EarlyDataStatus::NotSent`]; also what
/// [`Ssl::get_early_data_status`] says before the handshake is complete.
pub const SSL_EARLY_DATA_NOT_SENT: i32 = 0;
/// `SSL_EARLY_DATA_REJECTED`: see [`EarlyDataStatus::Rejected`].
pub const SSL_EARLY_DATA_REJECTED: i32 = 1;
/// `SSL_EARLY_DATA_ACCEPTED`: see [`EarlyDataStatus::Accepted`].
pub const SSL_EARLY_DATA_ACCEPTED: i32 = 2;

/// The `SSL_ERROR_*` code for an error.
pub fn error_code(error: &Error) -> i32 {
    match error {
        Error::Want(Want::Read { .. }) => SSL_ERROR_WANT_READ,
        Error::Want(Want::Write) => SSL_ERROR_WANT_WRITE,
        Error::Want(Want::ClientHello) => SSL_ERROR_WANT_CLIENT_HELLO_CB,
        Error::Want(Want::Verify) => SSL_ERROR_WANT_RETRY_VERIFY,
        Error::ZeroReturn => SSL_ERROR_ZERO_RETURN,
        Error::UnexpectedEof { .. } => SSL_ERROR_SYSCALL,
        _ => SSL_ERROR_SSL,
    }
}

/// An [`Engine`] with OpenSSL's int-returning calls.
#[derive(Debug)]
pub struct Ssl<R, W> {
    engine: Engine<R, W>,
    last: Option<Error>,
}

impl<R: Bio, W: Bio> Ssl<R, W> {
    /// Wraps an engine.
    pub fn new(engine: Engine<R, W>) -> Self {
        Self { engine, last: None }
    }

    /// The engine, for everything this module has no int form of.
    pub fn engine(&mut self) -> &mut Engine<R, W> {
        &mut self.engine
    }

    /// Unwraps the engine.
    pub fn into_engine(self) -> Engine<R, W> {
        self.engine
    }

    /// `SSL_do_handshake`: 1 when complete, -1 otherwise (see
    /// [`get_error`](Self::get_error)).
    pub fn do_handshake(&mut self) -> i32 {
        let r = self.engine.do_handshake();
        self.status(r)
    }

    /// `SSL_accept`: as [`do_handshake`](Self::do_handshake).
    pub fn accept(&mut self) -> i32 {
        self.do_handshake()
    }

    /// `SSL_connect`: as [`do_handshake`](Self::do_handshake).
    pub fn connect(&mut self) -> i32 {
        self.do_handshake()
    }

    /// `SSL_read`: bytes read (> 0), or 0 / -1 with
    /// [`get_error`](Self::get_error) telling why. 0 is returned for a
    /// clean close, like OpenSSL.
    pub fn read(&mut self, buf: &mut [u8]) -> i32 {
        let r = self.engine.read(clamp_len(buf.len(), buf));
        self.count(r)
    }

    /// `SSL_peek`: as [`read`](Self::read), but the bytes stay for the
    /// next read.
    pub fn peek(&mut self, buf: &mut [u8]) -> i32 {
        let r = self.engine.peek(clamp_len(buf.len(), buf));
        self.count(r)
    }

    /// `SSL_read_early_data`: on a server, [`SSL_READ_EARLY_DATA_SUCCESS`]
    /// with the bytes read, [`SSL_READ_EARLY_DATA_FINISH`] once there is no
    /// more early data, or [`SSL_READ_EARLY_DATA_ERROR`] with
    /// [`get_error`](Self::get_error) (called with that value) telling why
    /// ([`Engine::read_early_data`]).
    pub fn read_early_data(&mut self, buf: &mut [u8]) -> (i32, usize) {
        match self.engine.read_early_data(buf) {
            Ok(0) if !buf.is_empty() => {
                self.last = None;
                (SSL_READ_EARLY_DATA_FINISH, 0)
            }
            Ok(n) => {
                self.last = None;
                (SSL_READ_EARLY_DATA_SUCCESS, n)
            }
            Err(e) => {
                self.last = Some(e);
                (SSL_READ_EARLY_DATA_ERROR, 0)
            }
        }
    }

    /// `SSL_write_early_data`: on a client, 1 with the bytes written, or 0
    /// with [`get_error`](Self::get_error) (called with 0) telling why
    /// ([`Engine::write_early_data`]).
    pub fn write_early_data(&mut self, buf: &[u8]) -> (i32, usize) {
        match self.engine.write_early_data(buf) {
            Ok(n) => {
                self.last = None;
                (1, n)
            }
            Err(e) => {
                self.last = Some(e);
                (0, 0)
            }
        }
    }

    /// `SSL_get_early_data_status`: what became of the client's early data
    /// ([`Engine::early_data_status`]); [`SSL_EARLY_DATA_NOT_SENT`] until
    /// the handshake is complete, as OpenSSL answers then.
    pub fn get_early_data_status(&self) -> i32 {
        match self.engine.early_data_status() {
            None | Some(EarlyDataStatus::NotSent) => SSL_EARLY_DATA_NOT_SENT,
            Some(EarlyDataStatus::Rejected) => SSL_EARLY_DATA_REJECTED,
            Some(EarlyDataStatus::Accepted) => SSL_EARLY_DATA_ACCEPTED,
        }
    }

    /// `SSL_write`: bytes written (> 0), or -1 with
    /// [`get_error`](Self::get_error) telling why. Partial writes happen, as
    /// with `SSL_MODE_ENABLE_PARTIAL_WRITE`.
    pub fn write(&mut self, buf: &[u8]) -> i32 {
        let len = buf.len().min(i32::MAX as usize);
        let r = self.engine.write(&buf[..len]);
        self.count(r)
    }

    /// `SSL_shutdown`: 0 when our close_notify is sent, 1 when both are, -1
    /// otherwise.
    pub fn shutdown(&mut self) -> i32 {
        match self.engine.shutdown() {
            Ok(Shutdown::Sent) => {
                self.last = None;
                0
            }
            Ok(Shutdown::Complete) => {
                self.last = None;
                1
            }
            Err(e) => {
                self.last = Some(e);
                -1
            }
        }
    }

    /// `SSL_pending`: plaintext bytes ready to read without new input.
    pub fn pending(&self) -> i32 {
        i32::try_from(self.engine.pending()).unwrap_or(i32::MAX)
    }

    /// `SSL_get_error`: the `SSL_ERROR_*` code for the last call's return
    /// value `ret`.
    pub fn get_error(&self, ret: i32) -> i32 {
        if ret > 0 {
            return SSL_ERROR_NONE;
        }
        match &self.last {
            Some(e) => error_code(e),
            None if ret == 0 => SSL_ERROR_NONE,
            None => SSL_ERROR_SSL,
        }
    }

    /// The last call's error as the enum, for logging.
    pub fn last_error(&self) -> Option<&Error> {
        self.last.as_ref()
    }

    fn status(&mut self, r: Result<(), Error>) -> i32 {
        match r {
            Ok(()) => {
                self.last = None;
                1
            }
            Err(e) => {
                self.last = Some(e);
                -1
            }
        }
    }

    fn count(&mut self, r: Result<usize, Error>) -> i32 {
        match r {
            Ok(n) => {
                self.last = None;
                i32::try_from(n).unwrap_or(i32::MAX)
            }
            Err(Error::ZeroReturn) => {
                self.last = Some(Error::ZeroReturn);
                0
            }
            Err(e) => {
                self.last = Some(e);
                -1
            }
        }
    }
}

/// Keeps a read within what an `i32` count can report.
fn clamp_len(len: usize, buf: &mut [u8]) -> &mut [u8] {
    &mut buf[..len.min(i32::MAX as usize)]
}
