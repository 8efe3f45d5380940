//! The error type: `SSL_get_error`'s taxonomy as a Rust enum.

use core::fmt;

use crate::tls::AlertDescription;

use crate::Want;

/// Why a call did not complete: `SSL_get_error`'s taxonomy.
///
/// | variant | OpenSSL | fatal? |
/// |---|---|---|
/// | [`Want`](Error::Want) | `SSL_ERROR_WANT_READ` / `_WRITE` / `_CLIENT_HELLO_CB` | no, retry |
/// | [`ZeroReturn`](Error::ZeroReturn) | `SSL_ERROR_ZERO_RETURN` | no, end of data |
/// | [`UnexpectedEof`](Error::UnexpectedEof) | `SSL_ERROR_SYSCALL` (EOF) | yes |
/// | [`Protocol`](Error::Protocol) | `SSL_ERROR_SSL` | yes |
/// | [`Limit`](Error::Limit) | `SSL_ERROR_SSL` | yes |
/// | [`NotTls`](Error::NotTls) | `SSL_ERROR_SSL` (`SSL_R_HTTP_REQUEST`, `SSL_R_WRONG_VERSION_NUMBER`) | yes |
/// | [`Usage`](Error::Usage) | `SSL_ERROR_SSL` (API misuse) | no |
/// | [`Config`](Error::Config) | `SSL_ERROR_SSL` (no connection was made) | — |
///
/// Fatal errors are *sticky*: every later call returns the same error. When
/// a fatal error is returned, any alert it caused is already in the write
/// output ([`Engine::pending_output`](crate::Engine::pending_output)).
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub enum Error {
    /// Not an error: the call must be repeated after the driver does what
    /// the [`Want`] says.
    Want(Want),
    /// The peer closed its sending side cleanly with `close_notify`. All
    /// data it sent before has been delivered. Our sending side may still
    /// be open (half-close).
    ZeroReturn,
    /// The transport ended without `close_notify`: the data may have been
    /// truncated by an attacker. Only an engine built with
    /// [`Options::ignore_unexpected_eof`](crate::Options::ignore_unexpected_eof)
    /// reports [`ZeroReturn`](Error::ZeroReturn) instead, and never during a
    /// handshake.
    UnexpectedEof {
        /// Whether the handshake had not completed.
        during_handshake: bool,
        /// Bytes of a partial record left unprocessed when the stream ended.
        partial_record: usize,
    },
    /// The TLS protocol failed: the peer misbehaved, sent an alert, or a
    /// certificate was rejected.
    Protocol(ProtocolError),
    /// A server's first bytes are not a TLS handshake: plain HTTP on a TLS
    /// port, a PROXY protocol header, anything else. Nothing was consumed
    /// and no alert was sent: the bytes are still in the read BIO
    /// (`engine.rbio_mut()`), so the application can answer in the
    /// peer's protocol (an HTTP 400 that says to use https, say).
    NotTls(NotTls),
    /// A bound the engine keeps on memory or work was reached. No alert is
    /// sent (rustls offers no way to send one of our choosing); close the
    /// transport.
    Limit(Limit),
    /// The call is not valid in the engine's current state. Nothing changed;
    /// the connection is still usable.
    Usage(Usage),
    /// A context or connection could not be made ([`ConfigError`]); there
    /// is no connection to use. Only constructors (and
    /// [`Accepted::choose`](crate::Accepted::choose)) return it.
    Config(ConfigError),
}

impl Error {
    /// Whether this error ends the connection: every later call returns it.
    pub fn is_fatal(&self) -> bool {
        matches!(
            self,
            Self::UnexpectedEof { .. } | Self::Protocol(_) | Self::Limit(_) | Self::NotTls(_)
        )
    }

    /// The want, if this is [`Error::Want`].
    pub fn want(&self) -> Option<Want> {
        match self {
            Self::Want(w) => Some(*w),
            _ => None,
        }
    }

    pub(crate) fn want_read(at_least: usize) -> Self {
        Self::Want(Want::Read {
            at_least: at_least.max(1),
        })
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Want(w) => w.fmt(f),
            Self::ZeroReturn => f.write_str("peer closed the connection cleanly (close_notify)"),
            Self::UnexpectedEof {
                during_handshake: true,
                ..
            } => f.write_str(
                "transport closed during the tls handshake; check that the peer speaks tls",
            ),
            Self::UnexpectedEof { partial_record, .. } => write!(
                f,
                "transport closed without close_notify ({partial_record} bytes of a partial \
                 record left): the data may be truncated; treat the response as incomplete"
            ),
            Self::Protocol(e) => e.fmt(f),
            Self::Limit(l) => l.fmt(f),
            Self::NotTls(kind) => write!(
                f,
                "the peer did not start a tls handshake ({kind}); its bytes are still in the \
                 read bio, to answer in its own protocol"
            ),
            Self::Usage(u) => u.fmt(f),
            Self::Config(c) => c.fmt(f),
        }
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Self::Protocol(e) => Some(&e.error),
            Self::Config(ConfigError::Rustls(e)) => Some(e),
            _ => None,
        }
    }
}

impl From<Error> for std::io::Error {
    /// The `io::ErrorKind` a socket user expects, with the engine error
    /// kept inside ([`Error::from_io`] gets it back):
    ///
    /// | error | kind |
    /// |---|---|
    /// | `UnexpectedEof` (truncation) | `UnexpectedEof` |
    /// | `Protocol`, `Limit::StagedInput` | `InvalidData` |
    /// | `Limit::Steps` (a tlsbio bug) | `Other` |
    /// | `Usage::WriteAfterShutdown` | `BrokenPipe` |
    /// | other `Usage`, `Config` | `InvalidInput` |
    /// | `ZeroReturn` (a call needed the peer to stay) | `ConnectionAborted` |
    /// | `Want::Read` / `Want::Write` | `WouldBlock` |
    /// | `Want::ClientHello` | `Other` |
    fn from(error: Error) -> Self {
        use std::io::ErrorKind;
        let kind = match &error {
            Error::UnexpectedEof { .. } => ErrorKind::UnexpectedEof,
            Error::Protocol(_) | Error::Limit(Limit::StagedInput { .. }) | Error::NotTls(_) => {
                ErrorKind::InvalidData
            }
            Error::Limit(_) => ErrorKind::Other,
            Error::Usage(Usage::WriteAfterShutdown) => ErrorKind::BrokenPipe,
            Error::Usage(_) | Error::Config(_) => ErrorKind::InvalidInput,
            Error::ZeroReturn => ErrorKind::ConnectionAborted,
            Error::Want(Want::Read { .. } | Want::Write) => ErrorKind::WouldBlock,
            Error::Want(_) => ErrorKind::Other,
        };
        std::io::Error::new(kind, error)
    }
}

impl Error {
    /// The engine error inside an `io::Error` that a driver made from it,
    /// or `None` if the error came from the transport.
    ///
    /// ```
    /// use std::io;
    /// use tlsbio::Error;
    ///
    /// let e = io::Error::from(Error::ZeroReturn);
    /// assert_eq!(e.kind(), io::ErrorKind::ConnectionAborted);
    /// assert_eq!(Error::from_io(&e), Some(&Error::ZeroReturn));
    /// assert_eq!(Error::from_io(&io::ErrorKind::ConnectionReset.into()), None);
    /// ```
    pub fn from_io(error: &std::io::Error) -> Option<&Error> {
        error.get_ref()?.downcast_ref::<Error>()
    }
}

impl From<Want> for Error {
    fn from(w: Want) -> Self {
        Self::Want(w)
    }
}

impl From<ConfigError> for Error {
    fn from(c: ConfigError) -> Self {
        Self::Config(c)
    }
}

impl From<Usage> for Error {
    fn from(u: Usage) -> Self {
        Self::Usage(u)
    }
}

/// What a server's first bytes look like when they are not TLS
/// ([`Error::NotTls`]), judged on the bytes that had arrived.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum NotTls {
    /// An HTTP/1 request line (`GET `, `POST`, ...): plain HTTP on a TLS
    /// port.
    Http,
    /// A PROXY protocol v1 header (`PROXY ...`).
    ProxyV1,
    /// A PROXY protocol v2 header (its 12-byte signature).
    ProxyV2,
    /// Anything else that is not a TLS handshake record.
    Other,
}

impl fmt::Display for NotTls {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Http => "it sent what looks like plain http",
            Self::ProxyV1 => "it sent a proxy protocol v1 header",
            Self::ProxyV2 => "it sent a proxy protocol v2 header",
            Self::Other => "its first bytes are not a tls record",
        })
    }
}

/// Which bound the engine reached ([`Error::Limit`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Limit {
    /// The peer sent more than `limit` bytes that the engine had to hold
    /// without completing one handshake message or record. rustls accepts
    /// handshake messages of up to 64 KiB; a peer past this bound is
    /// hostile or broken.
    StagedInput {
        /// The bound, in bytes.
        limit: usize,
    },
    /// One call took `limit` rustls steps without returning. Every step
    /// consumes input, produces output or changes state, so this is a bug
    /// in tlsbio: please report it with the input that caused it.
    Steps {
        /// The bound, in steps.
        limit: usize,
    },
}

impl fmt::Display for Limit {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::StagedInput { limit } => write!(
                f,
                "peer sent more than {limit} bytes without completing a handshake message or \
                 record; closing the connection"
            ),
            Self::Steps { limit } => write!(
                f,
                "tlsbio made no progress in {limit} steps; this is a bug, please report it"
            ),
        }
    }
}

/// A TLS protocol failure (`SSL_ERROR_SSL`): the rustls error, and the alert
/// we sent because of it.
#[derive(Clone, Debug, PartialEq)]
pub struct ProtocolError {
    pub(crate) error: crate::tls::Error,
    pub(crate) alert: AlertSent,
}

impl ProtocolError {
    /// The underlying rustls error.
    pub fn rustls_error(&self) -> &crate::tls::Error {
        &self.error
    }

    /// The alert we sent to the peer because of this error.
    pub fn alert_sent(&self) -> AlertSent {
        self.alert
    }

    /// The alert the peer sent us, if the failure is that the peer aborted.
    pub fn alert_received(&self) -> Option<AlertDescription> {
        match self.error {
            crate::tls::Error::AlertReceived(a) => Some(a),
            _ => None,
        }
    }
}

impl fmt::Display for ProtocolError {
    /// One sentence: what went wrong, in words a user can act on where
    /// there is something to do (certificate failures name the cause and
    /// the fix), then the alert we sent. The rustls error stays the
    /// [`source`](std::error::Error::source).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match explain(&self.error) {
            Some(why) => f.write_str(&why)?,
            None => write!(f, "tls protocol error: {}", self.error)?,
        }
        match self.alert {
            AlertSent::None => Ok(()),
            AlertSent::Plaintext(a) => write!(f, " (sent alert {a:?})"),
            AlertSent::Encrypted => f.write_str(" (sent an encrypted fatal alert)"),
        }
    }
}

/// A sentence for the rustls errors users meet most, naming the cause and
/// what to do; `None` for the rest (rustls' own message is used).
fn explain(error: &crate::tls::Error) -> Option<String> {
    use crate::tls::{AlertDescription as A, CertificateError as C, Error as E};
    let sentence = match error {
        E::InvalidCertificate(cert) => match cert {
            C::NotValidForNameContext {
                expected,
                presented,
            } => format!(
                "the peer's certificate is not valid for {:?} (it is for {}): connect by one of \
                 those names, or get a certificate for this one",
                expected.to_str(),
                if presented.is_empty() {
                    "no names at all".to_string()
                } else {
                    presented
                        .iter()
                        .map(|name| unquote(name))
                        .collect::<Vec<_>>()
                        .join(", ")
                }
            ),
            C::NotValidForName => "the peer's certificate is not valid for the name we \
                                   connected to: connect by a name it has"
                .into(),
            C::Expired | C::ExpiredContext { .. } => "the peer's certificate has expired: \
                 renew it (or check this machine's clock)"
                .into(),
            C::NotValidYet | C::NotValidYetContext { .. } => "the peer's certificate is not \
                 valid yet: check this machine's clock (or the certificate's start date)"
                .into(),
            C::UnknownIssuer => "the peer's certificate was issued by a ca we do not trust: \
                 add that ca to the trusted roots (or, for a self-signed certificate, the \
                 certificate itself)"
                .into(),
            C::BadSignature => "the peer's certificate chain has a bad signature".into(),
            C::Revoked => "the peer's certificate has been revoked".into(),
            C::InvalidPurpose | C::InvalidPurposeContext { .. } => "the peer's certificate is \
                 not for this use (its extended key usage does not allow it)"
                .into(),
            C::Other(other) => {
                // webpki's error is behind a trait object; its variant name
                // is the stable part of its Debug form.
                let inner = format!("{other:?}");
                if inner.contains("CaUsedAsEndEntity") {
                    "the peer's certificate is a ca certificate (basicConstraints ca:true) \
                     used as a server certificate: issue a leaf certificate (with openssl, \
                     add -addext basicConstraints=critical,CA:FALSE)"
                        .into()
                } else if inner.contains("EndEntityUsedAsCa") {
                    "a certificate in the peer's chain is used as a ca but is not one \
                     (basicConstraints ca:false): fix the chain"
                        .into()
                } else {
                    return None;
                }
            }
            _ => return None,
        },
        #[cfg(not(feature = "rustls-0-24"))]
        E::NoCertificatesPresented => {
            "the peer sent no certificate, and one is required: configure a client \
             certificate"
                .into()
        }
        #[cfg(feature = "rustls-0-24")]
        E::PeerMisbehaved(rustls024::error::PeerMisbehaved::NoCertificatesPresented) => {
            "the peer sent no certificate, and one is required: configure a client \
             certificate"
                .into()
        }
        E::NoApplicationProtocol => {
            "the peer offered no alpn protocol we support: check both sides' alpn lists".into()
        }
        E::DecryptError => "a record from the peer did not decrypt: the data was corrupted \
                            or tampered with on the way"
            .into(),
        E::AlertReceived(alert) => match *alert {
            A::BadCertificate
            | A::UnsupportedCertificate
            | A::CertificateUnknown
            | A::CertificateRevoked
            | A::CertificateExpired
            | crate::tls::ALERT_UNKNOWN_CA => format!(
                "the peer rejected our certificate (it sent {alert:?}): check that it trusts \
                 our certificate's issuer and that the name and dates are right"
            ),
            A::CertificateRequired => "the peer requires a client certificate and we sent \
                                       none: configure one"
                .into(),
            A::HandshakeFailure | A::InsufficientSecurity => format!(
                "the peer found nothing in common with our offer (it sent {alert:?}): check \
                 protocol versions, cipher suites and key-exchange groups on both sides"
            ),
            A::ProtocolVersion => "the peer supports none of our protocol versions (it sent \
                                   ProtocolVersion)"
                .into(),
            A::NoApplicationProtocol => "the peer supports none of our alpn protocols (it \
                                         sent NoApplicationProtocol)"
                .into(),
            other => format!("the peer aborted the connection with the alert {other:?}"),
        },
        _ => return None,
    };
    Some(sentence)
}

/// `DnsName("example.com")` and `IpAddress(127.0.0.1)` (how rustls lists
/// presented names) as `example.com` and `127.0.0.1`; anything else as it
/// is.
fn unquote(name: &str) -> &str {
    if let (Some(start), Some(end)) = (name.find('"'), name.rfind('"')) {
        if end > start {
            return &name[start + 1..end];
        }
    }
    match (name.find('('), name.strip_suffix(')')) {
        (Some(open), Some(inner)) => &inner[open + 1..],
        _ => name,
    }
}

/// The alert the engine sent when a protocol error occurred.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum AlertSent {
    /// No alert: the peer sent one, or rustls sends none for this error.
    None,
    /// A plaintext alert with this description (before handshake keys).
    Plaintext(AlertDescription),
    /// An encrypted alert. rustls does not expose which description it
    /// encrypted; the rustls error says why.
    Encrypted,
}

/// A call that is not valid in the engine's current state.
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub enum Usage {
    /// `write` after our `close_notify` was sent.
    WriteAfterShutdown,
    /// The call needs a completed handshake (key update, shutdown).
    HandshakeNotComplete,
    /// Key update is a TLS 1.3 feature.
    KeyUpdateNeedsTls13,
    /// Only a server reads 0-RTT early data.
    EarlyDataOnClient,
    /// Only a client writes 0-RTT early data.
    EarlyDataOnServer,
    /// `Engine::split` (rustls 0.24 backend) needs an established
    /// connection with both directions open, no fatal error, no staged
    /// output and no KeyUpdate half sent, on the rustls 0.24 backend's
    /// handshake API (not a server that accepts 0-RTT).
    SplitNotPossible,
    /// This client cannot send early data now: it has no ticket that
    /// allows it for this server, the handshake is past its first flight,
    /// or the rustls backend does not offer client 0-RTT.
    EarlyDataUnavailable,
}

impl fmt::Display for Usage {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::WriteAfterShutdown => {
                f.write_str("write after shutdown: close_notify was already sent")
            }
            Self::HandshakeNotComplete => {
                f.write_str("handshake not complete: call do_handshake until it returns Ok")
            }
            Self::KeyUpdateNeedsTls13 => {
                f.write_str("key update needs tls 1.3; this connection negotiated tls 1.2")
            }
            Self::EarlyDataOnClient => f.write_str(
                "read_early_data is for servers: a client's early data goes the other way",
            ),
            Self::EarlyDataOnServer => f.write_str(
                "write_early_data is for clients: a server reads the client's with \
                 read_early_data",
            ),
            Self::SplitNotPossible => f.write_str(
                "this engine cannot be split now: it needs an established connection with both \
                 directions open, no fatal error and no output staged in the engine (and not a \
                 0-rtt server)",
            ),
            Self::EarlyDataUnavailable => f.write_str(
                "no early data can be sent now: there is no ticket from this server that \
                 allows 0-rtt, or the handshake is past the first flight; send the data with \
                 write after the handshake",
            ),
        }
    }
}

/// Why a context or connection could not be made.
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub enum ConfigError {
    /// rustls rejected the configuration.
    Rustls(crate::tls::Error),
    /// A client config enables 0-RTT, which tlsbio does not offer on this
    /// rustls backend (see the Display text).
    EarlyDataUnsupported,
    /// A server config allows 0-RTT (`max_early_data_size` > 0) with a
    /// ticketer: rustls then never accepts early data, because only
    /// single-use, server-side session state stops a ticket from being
    /// replayed.
    EarlyDataNeedsStatefulResumption,
    /// A paused server chose a config that allows 0-RTT
    /// (`max_early_data_size` > 0), which the rustls 0.24.0-dev.2 backend
    /// cannot offer there: the handshake API the pause needs drops early
    /// data it has accepted. (A server with a fixed config accepts 0-RTT.)
    ServerEarlyDataUnsupported,
    /// Deferred peer verification needs the rustls 0.24 backend.
    DeferredVerificationUnsupported,
    /// The server name is neither a DNS name nor an IP address.
    InvalidServerName(String),
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Rustls(e) => write!(f, "rustls rejected the configuration: {e}"),
            #[cfg(not(feature = "rustls-0-24"))]
            Self::EarlyDataUnsupported => f.write_str(
                "client 0-rtt is not offered on rustls 0.23: its unbuffered client does not say \
                 whether the server accepted the early data, so rejected data could not be \
                 resent; set enable_early_data = false (servers can accept 0-rtt)",
            ),
            #[cfg(feature = "rustls-0-24")]
            Self::EarlyDataUnsupported => f.write_str(
                "client 0-rtt is not offered by tlsbio on rustls 0.24 yet; set \
                 enable_early_data = false",
            ),
            Self::EarlyDataNeedsStatefulResumption => f.write_str(
                "0-rtt needs stateful resumption: rustls accepts early data only with server-side \
                 session storage (single-use tickets), so remove the ticketer \
                 (config.ticketer) or set max_early_data_size = 0",
            ),
            Self::ServerEarlyDataUnsupported => f.write_str(
                "a paused server cannot accept 0-rtt on rustls 0.24.0-dev.2: the handshake api \
                 the pause needs drops early data it has accepted, so the data would be lost; \
                 choose a config with max_early_data_size = 0, or use a server with a fixed \
                 config (Engine::server), which accepts it",
            ),
            Self::DeferredVerificationUnsupported => f.write_str(
                "deferred peer verification needs tlsbio on rustls 0.24 (the rustls-0-24 \
                 feature): rustls 0.23 verifies certificates inside its handshake; use a \
                 custom verifier in the config instead",
            ),
            Self::InvalidServerName(name) => write!(
                f,
                "{name:?} is not a dns name or ip address; give the name the certificate is for"
            ),
        }
    }
}

impl std::error::Error for ConfigError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Self::Rustls(e) => Some(e),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn presented_names_lose_their_debug_wrapping() {
        assert_eq!(unquote("DnsName(\"example.com\")"), "example.com");
        assert_eq!(unquote("IpAddress(127.0.0.1)"), "127.0.0.1");
        assert_eq!(unquote("plain"), "plain");
    }

    #[test]
    fn limits_and_config_errors_say_what_to_do() {
        let limit = Error::Limit(Limit::StagedInput { limit: 10 });
        assert!(limit.is_fatal());
        assert!(limit.to_string().contains("more than 10 bytes"));
        let steps = Error::Limit(Limit::Steps { limit: 7 }).to_string();
        assert!(steps.contains("please report it"), "{steps}");
        let config = Error::from(ConfigError::EarlyDataUnsupported).to_string();
        assert!(config.contains("enable_early_data = false"), "{config}");
        let name = ConfigError::InvalidServerName("a b".into()).to_string();
        assert!(name.contains("\"a b\" is not a dns name"), "{name}");
    }
}
