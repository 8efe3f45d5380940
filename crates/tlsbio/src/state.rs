//! Where a connection is, and what happened to it: states and events.

use core::fmt;

use crate::tls::AlertDescription;

use crate::error::AlertSent;

/// Where the connection is, like `SSL_get_state`.
///
/// [`Display`](fmt::Display) gives the long description
/// (`SSL_state_string_long`); [`HandshakeState::short`] a short code
/// (`SSL_state_string`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum HandshakeState {
    /// Nothing has been sent or received yet.
    Before,
    /// A paused server is reading the ClientHello.
    ReadingClientHello,
    /// A paused server has read the ClientHello and waits for its config.
    ClientHelloPaused,
    /// The handshake is under way.
    Handshaking,
    /// The handshake is complete; data flows both ways.
    Established,
    /// We sent close_notify; the peer may still send data.
    ShutdownSent,
    /// The peer sent close_notify; we may still send data.
    PeerClosed,
    /// Both sides sent close_notify.
    Closed,
    /// A fatal error ended the connection.
    Failed,
}

impl HandshakeState {
    /// A short code, like `SSL_state_string`.
    pub fn short(self) -> &'static str {
        match self {
            Self::Before => "PINIT",
            Self::ReadingClientHello => "TRCH",
            Self::ClientHelloPaused => "CHPAUSE",
            Self::Handshaking => "HS",
            Self::Established => "SSLOK",
            Self::ShutdownSent => "SDSENT",
            Self::PeerClosed => "PCLOSED",
            Self::Closed => "CLOSED",
            Self::Failed => "FAILED",
        }
    }
}

impl fmt::Display for HandshakeState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Before => "before TLS handshake initialization",
            Self::ReadingClientHello => "server reading client hello",
            Self::ClientHelloPaused => "server paused after client hello, waiting for a config",
            Self::Handshaking => "TLS handshake in progress",
            Self::Established => "TLS handshake complete, connection established",
            Self::ShutdownSent => "close_notify sent, waiting for the peer's",
            Self::PeerClosed => "peer sent close_notify, our side still open",
            Self::Closed => "both sides sent close_notify, connection closed",
            Self::Failed => "connection failed with a fatal error",
        })
    }
}

/// Something that happened inside the engine, queued for the driver to
/// drain with [`Engine::poll_event`](crate::Engine::poll_event). The engine
/// never calls out.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Event {
    /// The state changed from the first to the second.
    StateChanged(HandshakeState, HandshakeState),
    /// We sent a fatal alert.
    AlertSent(AlertSent),
    /// The peer sent a fatal alert.
    AlertReceived(AlertDescription),
}
