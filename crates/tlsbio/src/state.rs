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

/// The engine's event queue: the first few events (a whole handshake's
/// worth) inline, the rest in a `VecDeque`, so that a connection that
/// nobody polls for events does not allocate for them, and one that is
/// never polled still loses none.
#[derive(Debug, Default)]
pub(crate) struct Events {
    inline: [Option<Event>; Self::INLINE],
    /// Events in `inline`, oldest first.
    len: usize,
    spill: std::collections::VecDeque<Event>,
}

impl Events {
    /// Before, handshaking, established, one shutdown step each way, and
    /// an alert: the usual life of a connection.
    const INLINE: usize = 6;

    pub(crate) fn push(&mut self, event: Event) {
        if self.len < Self::INLINE && self.spill.is_empty() {
            self.inline[self.len] = Some(event);
            self.len += 1;
        } else {
            self.spill.push_back(event);
        }
    }

    pub(crate) fn pop(&mut self) -> Option<Event> {
        if self.len == 0 {
            return self.spill.pop_front();
        }
        let event = self.inline[0].take();
        self.inline.rotate_left(1);
        self.len -= 1;
        // Keep the order: what spilled comes after what is inline.
        if let Some(next) = self.spill.pop_front() {
            self.inline[self.len] = Some(next);
            self.len += 1;
        }
        event
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn events_come_out_in_order_past_the_inline_ones() {
        let mut events = Events::default();
        let all: Vec<Event> = (0..20u8)
            .map(|i| Event::AlertReceived(AlertDescription::from(i)))
            .collect();
        // Interleave pushes and pops so the queue spills, refills and drains.
        let mut out = Vec::new();
        for (i, e) in all.iter().enumerate() {
            events.push(*e);
            if i % 3 == 2 {
                out.extend(events.pop());
            }
        }
        while let Some(e) = events.pop() {
            out.push(e);
        }
        assert_eq!(out, all);
        assert!(events.pop().is_none());
    }
}
