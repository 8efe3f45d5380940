//! What the engine needs before a call can make progress.

use core::fmt;

/// What the driver must do before repeating a call: the
/// `SSL_ERROR_WANT_*` codes.
///
/// Whatever the want, a driver first sends all pending output
/// ([`Engine::pending_output`](crate::Engine::pending_output)); that rule
/// alone prevents the classic lost wake-up where both peers wait to read.
/// Then it calls again only once the want is met. See the crate docs for
/// the full driver loop.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Want {
    /// `SSL_ERROR_WANT_READ`: more ciphertext must be written into the read
    /// BIO.
    Read {
        /// The least number of bytes that can make progress, like
        /// `BIO_ctrl_get_read_request`: the rest of the current record once
        /// its 5-byte header has arrived, otherwise the rest of the header,
        /// capped at what the read BIO can take now
        /// ([`Bio::write_guarantee`](crate::bio::Bio::write_guarantee)).
        /// Never 0. Delivering exactly this many bytes (or marking the end
        /// of the stream) and calling again always makes progress;
        /// supplying more is fine.
        at_least: usize,
    },
    /// `SSL_ERROR_WANT_WRITE`: the output is full; once the transport has
    /// taken some of it ([`Engine::send_output`](crate::Engine::send_output)),
    /// call again. Nothing was consumed from the caller's buffer.
    Write,
    /// `SSL_ERROR_WANT_CLIENT_HELLO_CB`: a server built with
    /// [`Engine::server_paused`](crate::Engine::server_paused) has read the
    /// ClientHello. Take the [`Accepted`](crate::Accepted) handle from
    /// [`Engine::accepted`](crate::Engine::accepted), look at its
    /// ClientHello, and [`choose`](crate::Accepted::choose) a context.
    ClientHello,
    /// `SSL_ERROR_WANT_RETRY_VERIFY`: the peer's certificates are in and
    /// the context defers their verification
    /// ([`ClientContext::with_deferred_verification`](crate::ClientContext::with_deferred_verification)).
    /// Take the [`Verification`](crate::Verification) handle from
    /// [`Engine::verification`](crate::Engine::verification), decide (on
    /// your own time), give the verdict, and call again.
    Verify,
}

impl fmt::Display for Want {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Read { at_least } => write!(
                f,
                "want read: write at least {at_least} more ciphertext bytes into the read bio"
            ),
            Self::Write => f.write_str("want write: send pending output, then call again"),
            Self::ClientHello => {
                f.write_str("want client hello: take engine.accepted() and choose a server context")
            }
            Self::Verify => f.write_str(
                "want verify: take engine.verification() and accept or reject the peer's \
                 certificates",
            ),
        }
    }
}
