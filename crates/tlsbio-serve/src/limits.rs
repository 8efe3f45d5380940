//! A connection's BIO capacities and a server's bounds.

use std::time::Duration;

/// The BIO capacities of a connection: the most ciphertext it holds in each
/// direction, beyond the engine's own one record. Together they bound a
/// connection's memory.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Capacities {
    /// Ciphertext received and not yet decrypted. When it is full, the
    /// connection stops reading the socket until the application reads
    /// plaintext (TCP then slows the peer).
    pub read: usize,
    /// Ciphertext not yet sent. When it is full, the connection's `write`
    /// returns `WouldBlock`.
    pub write: usize,
}

impl Default for Capacities {
    /// 64 KiB each way: four full records, enough to keep a loopback link
    /// busy. Buffers are allocated on demand and given back when a
    /// connection goes quiet.
    fn default() -> Self {
        Self {
            read: 64 * 1024,
            write: 64 * 1024,
        }
    }
}

/// A server's bounds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct Limits {
    /// Each connection's BIO capacities.
    pub capacities: Capacities,
    /// How long a client has from accept to a finished handshake; the
    /// server's `expire` ends it after that ([`Expiry::Handshake`]). A
    /// slow-loris client that trickles its ClientHello ends here.
    pub handshake_timeout: Duration,
    /// How long a connection may move no bytes at all before `expire`
    /// ends it ([`Expiry::Idle`]); `None` never. The server notices
    /// movement when it checks, so a connection ends after between one
    /// and two of these without traffic.
    pub idle_timeout: Option<Duration>,
    /// How long a connection may move no bytes before its buffers are
    /// given back; `None` never. Thousands of mostly idle connections then
    /// cost a few KiB each.
    pub release_memory_after: Option<Duration>,
    /// The most connections at once; more are accepted and closed at once
    /// (so they see a close, not a hang in the backlog).
    pub max_connections: usize,
    /// Whether every connection starts with a PROXY protocol header (for a
    /// server behind a load balancer that sends one). Off by default;
    /// tlsbio-uring refuses it (not supported there yet).
    pub proxy_protocol: bool,
}

impl Limits {
    /// Sets [`Limits::capacities`].
    pub fn capacities(mut self, capacities: Capacities) -> Self {
        self.capacities = capacities;
        self
    }

    /// Sets [`Limits::handshake_timeout`].
    pub fn handshake_timeout(mut self, timeout: Duration) -> Self {
        self.handshake_timeout = timeout;
        self
    }

    /// Sets [`Limits::idle_timeout`].
    pub fn idle_timeout(mut self, timeout: Option<Duration>) -> Self {
        self.idle_timeout = timeout;
        self
    }

    /// Sets [`Limits::release_memory_after`].
    pub fn release_memory_after(mut self, quiet: Option<Duration>) -> Self {
        self.release_memory_after = quiet;
        self
    }

    /// Sets [`Limits::proxy_protocol`].
    pub fn proxy_protocol(mut self, on: bool) -> Self {
        self.proxy_protocol = on;
        self
    }

    /// Sets [`Limits::max_connections`].
    pub fn max_connections(mut self, max: usize) -> Self {
        self.max_connections = max;
        self
    }

    /// How often connections are looked at for quiet: the shorter of the
    /// two quiet limits (at least 1 ms), or `None` when neither is set.
    pub fn quiet_interval(&self) -> Option<Duration> {
        match (self.idle_timeout, self.release_memory_after) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        }
        .map(|d| d.max(Duration::from_millis(1)))
    }
}

impl Default for Limits {
    /// Default capacities, 10 s to handshake, no idle limit, buffers given
    /// back after 1 s of quiet, 1024 connections.
    fn default() -> Self {
        Self {
            capacities: Capacities::default(),
            handshake_timeout: Duration::from_secs(10),
            idle_timeout: None,
            release_memory_after: Some(Duration::from_secs(1)),
            max_connections: 1024,
            proxy_protocol: false,
        }
    }
}

/// Why a server's `expire` ended a connection.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Expiry {
    /// The handshake was not done by [`Limits::handshake_timeout`].
    Handshake,
    /// No bytes moved for [`Limits::idle_timeout`].
    Idle,
}
