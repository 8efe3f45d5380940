//! How a 0.23 server with its config from the start learns its
//! ClientHello without parsing it twice.
//!
//! rustls 0.23's `UnbufferedServerConnection` keeps the ClientHello (even
//! the SNI name) to itself. The one place rustls shows it, on every full
//! and resumed handshake and in both TLS versions, is the config's
//! certificate resolver, which it calls synchronously from inside
//! `process_tls_records` while handling the hello. So the engines of a
//! [`ServerContext`](crate::ServerContext) run on a copy of its config
//! whose resolver is [`Recorder`]: it copies the hello out if the current
//! thread is [listening](Listening), then asks the application's resolver
//! as before.
//!
//! The alternative, the buffered `Acceptor` on a copy of the first flight
//! as a paused server uses, parses the hello a second time: about 17
//! allocations and 10 k instructions per handshake
//! (docs/benchmarks.md).

use std::cell::Cell;
use std::sync::Arc;

use rustls::server::ResolvesServerCert;
use rustls::sign::CertifiedKey;
use rustls::ServerConfig;

use crate::hello::ClientHello;

/// The config an engine's session runs on: `config` with its resolver
/// wrapped in a [`Recorder`]. The copy shares everything else (session
/// storage, ticketer, key log) through the same `Arc`s.
pub(super) fn recording(config: &Arc<ServerConfig>) -> Arc<ServerConfig> {
    let mut copy = ServerConfig::clone(config);
    copy.cert_resolver = Arc::new(Recorder(Arc::clone(&config.cert_resolver)));
    Arc::new(copy)
}

/// What the current thread is doing with a ClientHello rustls shows.
#[derive(Default)]
enum Slot {
    /// No tlsbio server is in `process_tls_records` on this thread.
    #[default]
    Off,
    /// One is, and has no ClientHello yet.
    Waiting,
    /// Its resolver was called with this one.
    Heard(ClientHello),
}

thread_local! {
    static SLOT: Cell<Slot> = const { Cell::new(Slot::Off) };
}

/// The application's resolver, preceded by a copy of the ClientHello into
/// the listening session's slot.
#[derive(Debug)]
struct Recorder(Arc<dyn ResolvesServerCert>);

impl ResolvesServerCert for Recorder {
    fn resolve(&self, hello: rustls::server::ClientHello<'_>) -> Option<Arc<CertifiedKey>> {
        offer(|| ClientHello::from_rustls(&hello));
        // The slot is settled before the application's code runs, so a
        // resolver that drives another engine on this thread is fine.
        self.0.resolve(hello)
    }

    fn only_raw_public_keys(&self) -> bool {
        self.0.only_raw_public_keys()
    }
}

/// Gives the listening session, if any, its ClientHello.
fn offer(hello: impl FnOnce() -> ClientHello) {
    let slot = SLOT.take();
    SLOT.set(match slot {
        Slot::Waiting => Slot::Heard(hello()),
        other => other,
    });
}

/// The current thread listening for one session's ClientHello, for the
/// length of one rustls call. Dropping it without [`Listening::heard`]
/// (a panic in rustls) puts the thread back as it was.
pub(super) struct Listening {
    before: Option<Slot>,
}

impl Listening {
    pub(super) fn start() -> Self {
        Self {
            before: Some(SLOT.replace(Slot::Waiting)),
        }
    }

    /// The ClientHello the resolver was called with, if it was.
    pub(super) fn heard(mut self) -> Option<ClientHello> {
        let before = self.before.take().unwrap_or_default();
        match SLOT.replace(before) {
            Slot::Heard(hello) => Some(hello),
            Slot::Off | Slot::Waiting => None,
        }
    }
}

impl Drop for Listening {
    fn drop(&mut self) {
        if let Some(before) = self.before.take() {
            SLOT.set(before);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn named(name: &str) -> ClientHello {
        ClientHello::with_server_name(name)
    }

    #[test]
    fn a_hello_reaches_only_the_session_listening() {
        // Nobody listening: the hello is not kept.
        offer(|| named("nobody"));
        assert!(Listening::start().heard().is_none());

        let listening = Listening::start();
        offer(|| named("first"));
        // A second hello in the same call (after a HelloRetryRequest)
        // does not replace the first.
        offer(|| named("second"));
        let heard = listening.heard().unwrap();
        assert_eq!(heard.server_name(), Some("first"));
        offer(|| named("late"));
        assert!(Listening::start().heard().is_none());
    }

    #[test]
    fn a_resolver_driving_another_engine_leaves_the_outer_hello_alone() {
        let outer = Listening::start();
        offer(|| named("outer"));
        // The application's resolver runs now and drives another engine.
        let inner = Listening::start();
        offer(|| named("inner"));
        assert_eq!(inner.heard().unwrap().server_name(), Some("inner"));
        assert_eq!(outer.heard().unwrap().server_name(), Some("outer"));
    }

    #[test]
    fn a_listener_dropped_in_a_panic_puts_the_thread_back() {
        let outer = Listening::start();
        drop(Listening::start());
        offer(|| named("outer"));
        assert_eq!(outer.heard().unwrap().server_name(), Some("outer"));
        offer(|| named("after"));
        assert!(Listening::start().heard().is_none());
    }
}
