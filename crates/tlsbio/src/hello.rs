//! What a paused server can see of the ClientHello.

use std::fmt;
use std::ops::Range;

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
///
/// The copy is one allocation, whatever the client offered: every server
/// makes one, so its lists come back as iterators over that one buffer
/// rather than as slices of their own.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct ClientHello {
    /// The cipher suites and then the signature schemes, two big-endian
    /// bytes each; then the server name's bytes; then each ALPN protocol
    /// after its length in two big-endian bytes.
    data: Vec<u8>,
    /// Where the signature schemes start in `data`.
    schemes: usize,
    /// The server name's bytes in `data`, if the client sent one.
    server_name: Option<Range<usize>>,
    /// Where the ALPN protocols start in `data`.
    alpn: usize,
}

impl ClientHello {
    /// An empty ClientHello, for a handle that somehow lost its own.
    pub(crate) fn empty() -> &'static Self {
        static EMPTY: ClientHello = ClientHello {
            data: Vec::new(),
            schemes: 0,
            server_name: None,
            alpn: 0,
        };
        &EMPTY
    }

    pub(crate) fn from_rustls(hello: &crate::rustls::server::ClientHello<'_>) -> Self {
        // A `&str` on 0.23, a `DnsName` on 0.24.
        let name = hello.server_name().map(AsRef::<str>::as_ref);
        Self::new(
            name,
            || hello.alpn().into_iter().flatten(),
            hello.cipher_suites(),
            hello.signature_schemes(),
        )
    }

    /// Copies the parts into one buffer; `alpn` is called twice, to size
    /// it and then to fill it.
    fn new<'a, I: Iterator<Item = &'a [u8]>>(
        server_name: Option<&str>,
        alpn: impl Fn() -> I,
        cipher_suites: &[CipherSuite],
        signature_schemes: &[SignatureScheme],
    ) -> Self {
        let name_len = server_name.map_or(0, str::len);
        let alpn_len: usize = alpn().map(|protocol| 2 + protocol.len()).sum();
        let len = 2 * (cipher_suites.len() + signature_schemes.len()) + name_len + alpn_len;
        let mut data = Vec::with_capacity(len);
        for &suite in cipher_suites {
            data.extend_from_slice(&u16::from(suite).to_be_bytes());
        }
        let schemes = data.len();
        for &scheme in signature_schemes {
            data.extend_from_slice(&u16::from(scheme).to_be_bytes());
        }
        let server_name = server_name.map(|name| {
            let start = data.len();
            data.extend_from_slice(name.as_bytes());
            start..data.len()
        });
        let alpn_start = data.len();
        for protocol in alpn() {
            // rustls reads each protocol after a one-byte length, so the
            // length always fits; a longer one would end the list here.
            let Ok(protocol_len) = u16::try_from(protocol.len()) else {
                break;
            };
            data.extend_from_slice(&protocol_len.to_be_bytes());
            data.extend_from_slice(protocol);
        }
        debug_assert!(data.len() <= len, "the first allocation was too small");
        Self {
            data,
            schemes,
            server_name,
            alpn: alpn_start,
        }
    }

    /// A hello with only a server name, for tests of the backends.
    #[cfg(all(test, not(feature = "rustls-0-24")))]
    pub(crate) fn with_server_name(name: &str) -> Self {
        Self::new(Some(name), std::iter::empty, &[], &[])
    }

    /// The SNI host name the client asked for, if any.
    pub fn server_name(&self) -> Option<&str> {
        let range = self.server_name.clone()?;
        // Copied from a `&str`, so always valid.
        std::str::from_utf8(&self.data[range]).ok()
    }

    /// The ALPN protocols the client offered, in its order of preference.
    pub fn alpn(&self) -> impl Iterator<Item = &[u8]> + Clone + '_ {
        Protocols(&self.data[self.alpn..])
    }

    /// The cipher suites the client offered, in its order.
    ///
    /// ```
    /// # fn chosen(hello: &tlsbio::ClientHello) -> bool {
    /// use tlsbio::CipherSuite;
    ///
    /// hello
    ///     .cipher_suites()
    ///     .any(|suite| suite == CipherSuite::TLS13_AES_128_GCM_SHA256)
    /// # }
    /// ```
    pub fn cipher_suites(&self) -> impl ExactSizeIterator<Item = CipherSuite> + Clone + '_ {
        pairs(&self.data[..self.schemes]).map(CipherSuite::from)
    }

    /// The signature schemes the client accepts. On the rustls 0.23
    /// backend, a server that did not pause sees the list rustls gives its
    /// certificate resolver: only the schemes that go with a cipher suite
    /// both sides support.
    pub fn signature_schemes(&self) -> impl ExactSizeIterator<Item = SignatureScheme> + Clone + '_ {
        let end = self
            .server_name
            .as_ref()
            .map_or(self.alpn, |name| name.start);
        pairs(&self.data[self.schemes..end]).map(SignatureScheme::from)
    }
}

impl fmt::Debug for ClientHello {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ClientHello")
            .field("server_name", &self.server_name())
            .field("alpn", &DebugList(self.alpn()))
            .field("cipher_suites", &DebugList(self.cipher_suites()))
            .field("signature_schemes", &DebugList(self.signature_schemes()))
            .finish()
    }
}

/// Big-endian `u16`s, two bytes each.
fn pairs(bytes: &[u8]) -> impl ExactSizeIterator<Item = u16> + Clone + '_ {
    bytes
        .chunks_exact(2)
        .map(|pair| u16::from_be_bytes([pair[0], pair[1]]))
}

/// Length-prefixed ALPN protocols.
#[derive(Clone)]
struct Protocols<'a>(&'a [u8]);

impl<'a> Iterator for Protocols<'a> {
    type Item = &'a [u8];

    fn next(&mut self) -> Option<&'a [u8]> {
        let (len, rest) = self.0.split_first_chunk::<2>()?;
        let len = usize::from(u16::from_be_bytes(*len));
        let protocol = rest.get(..len)?;
        self.0 = &rest[len..];
        Some(protocol)
    }
}

/// Shows an iterator's items as a list.
struct DebugList<I>(I);

impl<I: Iterator + Clone> fmt::Debug for DebugList<I>
where
    I::Item: fmt::Debug,
{
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list().entries(self.0.clone()).finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_part_comes_back_from_one_buffer() {
        let suites = [
            CipherSuite::TLS13_AES_128_GCM_SHA256,
            CipherSuite::from(0xfafa),
        ];
        let schemes = [
            SignatureScheme::ECDSA_NISTP256_SHA256,
            SignatureScheme::ED25519,
        ];
        let alpn: [&[u8]; 3] = [b"h2", b"", b"http/1.1"];
        let hello = ClientHello::new(
            Some("example.com"),
            || alpn.iter().copied(),
            &suites,
            &schemes,
        );

        assert_eq!(hello.server_name(), Some("example.com"));
        assert_eq!(hello.alpn().collect::<Vec<_>>(), alpn);
        assert_eq!(hello.cipher_suites().collect::<Vec<_>>(), suites);
        assert_eq!(hello.cipher_suites().len(), 2);
        assert_eq!(hello.signature_schemes().collect::<Vec<_>>(), schemes);
        assert_eq!(
            hello.data.capacity(),
            hello.data.len(),
            "one exact allocation"
        );
    }

    #[test]
    fn missing_parts_are_empty() {
        let hello = ClientHello::new(None, std::iter::empty, &[], &[SignatureScheme::ED25519]);
        assert_eq!(hello.server_name(), None);
        assert_eq!(hello.alpn().count(), 0);
        assert_eq!(hello.cipher_suites().len(), 0);
        assert_eq!(
            hello.signature_schemes().collect::<Vec<_>>(),
            [SignatureScheme::ED25519]
        );
        assert_eq!(ClientHello::empty().signature_schemes().len(), 0);
        assert_eq!(*ClientHello::empty(), ClientHello::default());
    }

    #[test]
    fn debug_shows_the_lists() {
        let hello = ClientHello::new(
            Some("a.example"),
            || [&b"h2"[..]].into_iter(),
            &[CipherSuite::TLS13_AES_128_GCM_SHA256],
            &[],
        );
        let shown = format!("{hello:?}");
        assert!(shown.contains("a.example"), "{shown}");
        assert!(shown.contains("TLS13_AES_128_GCM_SHA256"), "{shown}");
        assert!(shown.contains("signature_schemes: []"), "{shown}");
    }
}
