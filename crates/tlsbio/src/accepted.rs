//! [`Accepted`]: the one value that can continue a paused server.

use crate::bio::Bio;
use crate::context::ServerContext;
use crate::engine::Engine;
use crate::hello::ClientHello;
use crate::Error;

/// A server paused at its ClientHello, as rustls' `Accepted` is: the only
/// value that can choose the configuration, so choosing one for a server
/// that is not paused (or twice) does not compile.
///
/// Get it from [`Engine::accepted`] after [`Engine::accept`] returned
/// [`Want::ClientHello`](crate::Want::ClientHello); look at
/// [`client_hello`](Self::client_hello) (SNI, ALPN, suites) and continue
/// with [`choose`](Self::choose), then call `accept` again. Nothing the
/// client sent is lost in between, however long the choice takes.
///
/// ```
/// # use tlsbio::bio::VecBio;
/// # use tlsbio::{Engine, Error, ServerContext, Want};
/// # fn pick(name: Option<&str>) -> &'static ServerContext { unimplemented!() }
/// # fn run(engine: &mut Engine<VecBio, VecBio>) -> Result<(), Error> {
/// match engine.accept() {
///     Err(Error::Want(Want::ClientHello)) => {
///         let accepted = engine.accepted().expect("paused at the ClientHello");
///         let context = pick(accepted.client_hello().server_name());
///         accepted.choose(context)?;
///         engine.accept()
///     }
///     other => other,
/// }
/// # }
/// ```
#[derive(Debug)]
pub struct Accepted<'a, R, W> {
    engine: &'a mut Engine<R, W>,
}

impl<'a, R: Bio, W: Bio> Accepted<'a, R, W> {
    pub(crate) fn new(engine: &'a mut Engine<R, W>) -> Self {
        Self { engine }
    }

    /// What the client offered.
    pub fn client_hello(&self) -> &ClientHello {
        // `Engine::accepted` makes this handle only while paused, and the
        // paused session always has its ClientHello.
        self.engine
            .client_hello()
            .unwrap_or_else(|| ClientHello::empty())
    }

    /// Continues the handshake with `context`; the ClientHello is processed
    /// again by a connection built from it. Fails only if rustls refuses to
    /// start a connection from the config.
    pub fn choose(self, context: &ServerContext) -> Result<(), Error> {
        self.engine.choose(context)
    }
}
