//! `tlsbio::Error` at the `std::io` boundary.

use std::io;

use tlsbio::Error;

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
    Error::from_io(error)
}

/// Maps an engine error to the `io::ErrorKind` a socket user expects, keeping
/// the engine error as the inner error.
pub(crate) fn to_io(error: Error) -> io::Error {
    // The core crate's mapping, shared with the mio driver.
    io::Error::from(error)
}
