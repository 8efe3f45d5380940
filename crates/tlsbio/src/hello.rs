//! What a paused server can see of the ClientHello.

use crate::tls::{CipherSuite, SignatureScheme};

/// The parts of a ClientHello a server uses to choose its configuration,
/// copied out of rustls so that the caller can decide later, on another
/// task, without borrowing the engine.
///
/// Shown by [`Accepted::client_hello`](crate::Accepted::client_hello) while
/// a server built with [`Engine::server_paused`](crate::Engine::server_paused)
/// is paused (the `SSL_CTX_set_client_hello_cb` analogue), and by
/// [`Engine::client_hello`](crate::Engine::client_hello) on any server
/// once read.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ClientHello {
    server_name: Option<String>,
    alpn: Vec<Vec<u8>>,
    cipher_suites: Vec<CipherSuite>,
    signature_schemes: Vec<SignatureScheme>,
}

impl ClientHello {
    /// An empty ClientHello, for a handle that somehow lost its own.
    pub(crate) fn empty() -> &'static Self {
        static EMPTY: ClientHello = ClientHello {
            server_name: None,
            alpn: Vec::new(),
            cipher_suites: Vec::new(),
            signature_schemes: Vec::new(),
        };
        &EMPTY
    }

    pub(crate) fn from_rustls(hello: &crate::rustls::server::ClientHello<'_>) -> Self {
        Self {
            // A `&str` on 0.23, a `DnsName` on 0.24.
            server_name: hello
                .server_name()
                .map(|name| AsRef::<str>::as_ref(name).to_owned()),
            alpn: hello
                .alpn()
                .map(|protocols| protocols.map(<[u8]>::to_vec).collect())
                .unwrap_or_default(),
            cipher_suites: hello.cipher_suites().to_vec(),
            signature_schemes: hello.signature_schemes().to_vec(),
        }
    }

    /// A hello with only a server name, for tests of the backends.
    #[cfg(all(test, not(feature = "rustls-0-24")))]
    pub(crate) fn with_server_name(name: &str) -> Self {
        Self {
            server_name: Some(name.to_owned()),
            ..Self::default()
        }
    }

    /// The SNI host name the client asked for, if any.
    pub fn server_name(&self) -> Option<&str> {
        self.server_name.as_deref()
    }

    /// The ALPN protocols the client offered, in its order of preference.
    pub fn alpn(&self) -> impl Iterator<Item = &[u8]> {
        self.alpn.iter().map(Vec::as_slice)
    }

    /// The cipher suites the client offered.
    pub fn cipher_suites(&self) -> &[CipherSuite] {
        &self.cipher_suites
    }

    /// The signature schemes the client accepts. On the rustls 0.23
    /// backend, a server that did not pause sees the list rustls gives its
    /// certificate resolver: only the schemes that go with a cipher suite
    /// both sides support.
    pub fn signature_schemes(&self) -> &[SignatureScheme] {
        &self.signature_schemes
    }
}
