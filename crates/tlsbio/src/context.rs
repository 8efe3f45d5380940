//! Validated contexts: a rustls config checked once and shared by every
//! connection made from it (`SSL_CTX`).

use std::sync::Arc;

use crate::tls::{ClientConfig, ServerConfig};

use crate::engine::Options;
use crate::error::ConfigError;
use crate::session::Session;

/// A client configuration, validated once, cheap to clone, used for any
/// number of connections ([`Engine::client`](crate::Engine::client)):
/// the `SSL_CTX` of a client.
///
/// ```
/// # fn config() -> std::sync::Arc<tlsbio::rustls::ClientConfig> {
/// #     let roots = tlsbio::rustls::RootCertStore::empty();
/// #     #[cfg(not(feature = "rustls-0-24"))]
/// #     let config = tlsbio::rustls::ClientConfig::builder()
/// #         .with_root_certificates(roots).with_no_client_auth();
/// #     #[cfg(feature = "rustls-0-24")]
/// #     let config = tlsbio::rustls::ClientConfig::builder(tlsbio::default_provider())
/// #         .with_root_certificates(roots).with_no_client_auth().unwrap();
/// #     std::sync::Arc::new(config)
/// # }
/// use tlsbio::ClientContext;
///
/// let context = ClientContext::new(config())?;
/// let per_connection = context.clone(); // an Arc clone, no re-validation
/// # drop(per_connection);
/// # Ok::<(), tlsbio::ConfigError>(())
/// ```
#[derive(Clone, Debug)]
pub struct ClientContext {
    config: Arc<ClientConfig>,
    options: Options,
    defer_verification: bool,
}

impl ClientContext {
    /// Checks `config` once. On rustls 0.23, 0-RTT must be off: a client
    /// there cannot learn whether its early data was accepted, so tlsbio
    /// does not offer client early data
    /// ([`ConfigError::EarlyDataUnsupported`]). On rustls 0.24 a client
    /// with `enable_early_data` sends it with
    /// [`Engine::write_early_data`](crate::Engine::write_early_data).
    ///
    /// rustls itself checks a client config only when a connection starts,
    /// because starting one is writing its ClientHello (which draws
    /// randomness and makes key shares); what it would refuse then is
    /// refused by [`Engine::client`](crate::Engine::client).
    pub fn new(config: Arc<ClientConfig>) -> Result<Self, ConfigError> {
        Session::check_client_config(&config)?;
        Ok(Self {
            config,
            options: Options::default(),
            defer_verification: false,
        })
    }

    /// The same context, with the server's certificates verified by the
    /// application rather than during the handshake call: the handshake
    /// pauses with [`Want::Verify`](crate::Want::Verify) once they are in,
    /// and [`Engine::verification`](crate::Engine::verification) gives the
    /// handle that holds them and takes the verdict (an OCSP fetch, a
    /// policy service: take your time). rustls 0.24 backend only
    /// ([`ConfigError::DeferredVerificationUnsupported`] on 0.23, whose
    /// verifier runs inside rustls).
    pub fn with_deferred_verification(mut self) -> Result<Self, ConfigError> {
        Session::check_deferred_verification()?;
        self.defer_verification = true;
        Ok(self)
    }

    /// Whether the application verifies the server's certificates.
    pub fn defers_verification(&self) -> bool {
        self.defer_verification
    }

    /// The options every connection from this context starts with.
    pub fn with_options(mut self, options: Options) -> Self {
        self.options = options;
        self
    }

    /// The rustls config.
    pub fn config(&self) -> &Arc<ClientConfig> {
        &self.config
    }

    /// The options connections start with.
    pub fn options(&self) -> Options {
        self.options
    }
}

/// A server configuration, validated once, cheap to clone, used for any
/// number of connections ([`Engine::server`](crate::Engine::server)), or
/// chosen for one after its ClientHello
/// ([`Accepted::choose`](crate::Accepted::choose)): the `SSL_CTX` of a
/// server.
#[derive(Clone, Debug)]
pub struct ServerContext {
    config: Arc<ServerConfig>,
    /// What the engines run on: `config`, or on rustls 0.23 a copy that
    /// also tells the engine its ClientHello (see the 0.23 session).
    session_config: Arc<ServerConfig>,
    options: Options,
    defer_verification: bool,
}

impl ServerContext {
    /// Checks `config` once: rustls must accept it, and if it allows 0-RTT
    /// (`max_early_data_size` > 0; off by default) it must resume from
    /// server-side session storage, not tickets: rustls accepts early data
    /// only then ([`ConfigError::EarlyDataNeedsStatefulResumption`]). The
    /// early data is read with
    /// [`Engine::read_early_data`](crate::Engine::read_early_data); see
    /// there for what it means to accept it.
    pub fn new(config: Arc<ServerConfig>) -> Result<Self, ConfigError> {
        let session_config = Session::check_server_config(&config)?;
        Ok(Self {
            config,
            session_config,
            options: Options::default(),
            defer_verification: false,
        })
    }

    /// The same context, with client certificates verified by the
    /// application, as
    /// [`ClientContext::with_deferred_verification`]. Only a config that
    /// asks for client certificates pauses; rustls 0.24 backend only.
    pub fn with_deferred_verification(mut self) -> Result<Self, ConfigError> {
        Session::check_deferred_verification()?;
        self.defer_verification = true;
        Ok(self)
    }

    /// Whether the application verifies client certificates.
    pub fn defers_verification(&self) -> bool {
        self.defer_verification
    }

    /// The options every connection from this context starts with.
    pub fn with_options(mut self, options: Options) -> Self {
        self.options = options;
        self
    }

    /// The rustls config.
    pub fn config(&self) -> &Arc<ServerConfig> {
        &self.config
    }

    /// The options connections start with.
    pub fn options(&self) -> Options {
        self.options
    }

    /// The config [`Engine::server`](crate::Engine::server) runs on.
    pub(crate) fn session_config(&self) -> &Arc<ServerConfig> {
        &self.session_config
    }
}
