//! A TLS stream over any `std::io::Read + Write`: the blocking driver for
//! [tlsbio].
//!
//! [`Stream`] owns a [`tlsbio::Engine`] and a transport (a `TcpStream`, a
//! `UnixStream`, a pipe, anything that reads and writes bytes) and moves
//! ciphertext between the engine's BIOs and the transport. It implements
//! [`std::io::Read`] and [`std::io::Write`], so it drops in wherever a
//! socket did.
//!
//! # Example
//!
//! ```no_run
//! use std::io::{Read, Write};
//! use std::net::TcpStream;
//! use std::sync::Arc;
//!
//! use tlsbio_blocking::Stream;
//! use tlsbio_blocking::tlsbio::rustls::{ClientConfig, RootCertStore};
//! use tlsbio_blocking::tlsbio::ClientContext;
//!
//! # fn main() -> std::io::Result<()> {
//! # let roots = RootCertStore::empty();
//! # #[cfg(not(feature = "rustls-0-24"))]
//! let config = ClientConfig::builder()
//!     .with_root_certificates(roots)
//!     .with_no_client_auth();
//! # #[cfg(feature = "rustls-0-24")]
//! # let config = ClientConfig::builder(tlsbio_blocking::tlsbio::default_provider())
//! #     .with_root_certificates(roots)
//! #     .with_no_client_auth()
//! #     .unwrap();
//! let tcp = TcpStream::connect("127.0.0.1:8443")?;
//! // Validated once; clone it (an Arc) for every connection.
//! let context = ClientContext::new(Arc::new(config)).map_err(std::io::Error::other)?;
//! let mut tls = Stream::connect(&context, "localhost", tcp)?;
//! tls.write_all(b"hello")?;
//! let mut reply = [0u8; 5];
//! tls.read_exact(&mut reply)?;
//! tls.shutdown_and_wait()?; // close_notify both ways
//! # Ok(())
//! # }
//! ```
//!
//! # The contract
//!
//! - **Blocking or not.** On a blocking transport every call completes or
//!   fails. On a non-blocking one a call returns
//!   [`io::ErrorKind::WouldBlock`](std::io::ErrorKind::WouldBlock) and is
//!   retried later; nothing is lost across retries: ciphertext stays in the
//!   engine's BIOs until the transport takes it, and a `write` that returns
//!   `WouldBlock` took nothing from the caller's buffer.
//! - **Timeouts are the transport's.** A socket read or write timeout
//!   surfaces as the transport's own error (`WouldBlock` or `TimedOut`);
//!   the call can be retried and resumes where it stopped, even in the
//!   middle of a record.
//! - **Truncation is an error.** EOF without close_notify is
//!   [`io::ErrorKind::UnexpectedEof`](std::io::ErrorKind::UnexpectedEof); a
//!   clean close_notify is `Ok(0)` from `read`.
//! - **Errors keep their cause.** A TLS failure is an `io::Error` whose inner
//!   error is the [`tlsbio::Error`] (with the rustls error and the alert we
//!   sent): see [`tls_error`]. A fatal alert is written to the transport
//!   before the error is returned.
//! - **`flush` really flushes**: when it returns `Ok`, every byte of
//!   ciphertext has been handed to the transport and the transport flushed.
//!
//! docs/blocking.md in the repository compares this with rustls'
//! `StreamOwned`.

#![forbid(unsafe_code)]
#![deny(missing_docs)]

mod error;
mod stream;

pub use error::tls_error;
pub use stream::Stream;

pub use tlsbio;
