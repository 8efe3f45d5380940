//! How far a connection's closing got: ours (`SSL_shutdown`) and the
//! peer's.

/// How far [`Engine::shutdown`](crate::Engine::shutdown) got, like
/// `SSL_shutdown`'s 0 and 1.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Shutdown {
    /// Our close_notify is in the output (`SSL_shutdown` returned 0).
    /// Call again to wait for the peer's.
    Sent,
    /// Both close_notify alerts have been exchanged (`SSL_shutdown`
    /// returned 1).
    Complete,
}

/// Our side of the close.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum CloseState {
    Open,
    /// close_notify is in the output; nothing more will be sent.
    Sent,
}
