//! `tlsbio::Error` at the `std::io` boundary.

use std::io;

use tlsbio::{Error, Usage};

/// The [`tlsbio::Error`] inside an `io::Error` returned by a
/// [`Stream`](crate::Stream), if the error came from TLS rather than the
/// transport.
///
/// ```
/// use std::io;
/// # fn failing() -> io::Result<()> {
/// #     Err(io::Error::new(io::ErrorKind::InvalidData, tlsbio::Error::ZeroReturn))
/// # }
/// # use tlsbio_blocking::tlsbio;
/// match failing() {
///     Err(e) => match tlsbio_blocking::tls_error(&e) {
///         Some(tlsbio::Error::Protocol(p)) => eprintln!("alert sent: {:?}", p.alert_sent()),
///         Some(other) => eprintln!("tls: {other}"),
///         None => eprintln!("transport: {e}"),
///     },
///     Ok(()) => {}
/// }
/// ```
pub fn tls_error(error: &io::Error) -> Option<&Error> {
    error.get_ref()?.downcast_ref::<Error>()
}

/// Maps an engine error to the `io::ErrorKind` a socket user expects, keeping
/// the engine error as the inner error.
pub(crate) fn to_io(error: Error) -> io::Error {
    let kind = match &error {
        Error::UnexpectedEof { .. } => io::ErrorKind::UnexpectedEof,
        Error::Protocol(_) => io::ErrorKind::InvalidData,
        Error::Usage(Usage::WriteAfterShutdown) => io::ErrorKind::BrokenPipe,
        Error::Usage(_) => io::ErrorKind::InvalidInput,
        // The peer closed cleanly, but the call (a handshake, a key update)
        // needed it to stay.
        Error::ZeroReturn => io::ErrorKind::ConnectionAborted,
        // Only a paused server's ClientHello want can reach the caller: the
        // stream cannot choose a config for it. Everything else is handled.
        _ => io::ErrorKind::Other,
    };
    io::Error::new(kind, error)
}
