//! The PROXY protocol header (HAProxy's, versions 1 and 2) that load
//! balancers put in front of the TLS bytes, read from a [`Bio`] and
//! stripped in place before the engine sees the rest.
//!
//! A server behind a load balancer that speaks the PROXY protocol gets a
//! header first, then the client's ClientHello. [`strip`] parses the
//! header at the front of the read BIO and consumes exactly its bytes, so
//! the engine started on that BIO sees only TLS, with no copy:
//!
//! ```
//! use tlsbio::bio::{Bio, VecBio};
//! use tlsbio::proxy;
//!
//! let mut rbio = VecBio::new();
//! rbio.write(b"PROXY TCP4 192.0.2.1 198.51.100.7 51234 443\r\n\x16\x03\x01");
//! let header = proxy::strip(&mut rbio).unwrap().expect("a whole header");
//! assert_eq!(header.source().unwrap().to_string(), "192.0.2.1:51234");
//! assert_eq!(rbio.pending(), 3); // the TLS bytes, untouched
//! // Now start the engine on `rbio`.
//! ```
//!
//! Until the whole header has arrived, [`strip`] returns `Ok(None)` and
//! consumes nothing; a header that cannot be one (bad syntax, a v1 line
//! over 107 bytes, a v2 header larger than [`MAX_V2_LEN`] or than the BIO
//! can ever hold, or the stream ending inside it) is an [`Error`], so a
//! driver never waits for bytes that cannot come. Not calling the engine
//! before the header is stripped matters: the engine would report the
//! header as [`NotTls::ProxyV1`](crate::NotTls::ProxyV1) / `ProxyV2`.
//!
//! The header must be contiguous at the front of the BIO, which it is for
//! [`VecBio`](crate::bio::VecBio) and [`BytesBio`](crate::bio::BytesBio),
//! and for a ring whose first bytes these are.

use std::fmt;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};

use crate::bio::Bio;

/// The longest version 1 header, CRLF included (the spec's limit).
pub const MAX_V1_LEN: usize = 107;

/// The longest version 2 header accepted: the 16-byte preamble and 4 KiB
/// of addresses and TLVs (the spec allows 64 KiB; real load balancers send
/// well under 1 KiB).
pub const MAX_V2_LEN: usize = 16 + 4096;

const V2_SIGNATURE: &[u8; 12] = b"\r\n\r\n\0\r\nQUIT\n";
const V1_PREFIX: &[u8; 6] = b"PROXY ";

/// A parsed PROXY header.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Header {
    version: u8,
    addresses: Option<(SocketAddr, SocketAddr)>,
    len: usize,
}

impl Header {
    /// 1 (text) or 2 (binary).
    pub fn version(&self) -> u8 {
        self.version
    }

    /// The original client's address; `None` for `PROXY UNKNOWN`, a v2
    /// `LOCAL` command (a health check from the proxy itself) or an
    /// address family other than IPv4 and IPv6.
    pub fn source(&self) -> Option<SocketAddr> {
        self.addresses.map(|(source, _)| source)
    }

    /// The address the client connected to, as [`source`](Self::source).
    pub fn destination(&self) -> Option<SocketAddr> {
        self.addresses.map(|(_, destination)| destination)
    }

    /// The header's length on the wire: the bytes [`strip`] consumed.
    pub fn len(&self) -> usize {
        self.len
    }

    /// Always false: a header has at least its preamble.
    pub fn is_empty(&self) -> bool {
        false
    }
}

impl fmt::Display for Header {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.addresses {
            Some((source, destination)) => {
                write!(f, "PROXY v{} from {source} to {destination}", self.version)
            }
            None => write!(f, "PROXY v{} (no addresses)", self.version),
        }
    }
}

/// Why the front of the stream is not a usable PROXY header.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Error {
    /// The first bytes are not a PROXY header of either version.
    NotProxy,
    /// The header breaks the protocol; the text says where.
    Malformed(&'static str),
    /// The header is longer than this limit ([`MAX_V1_LEN`],
    /// [`MAX_V2_LEN`], or the read BIO's capacity).
    TooLong {
        /// The limit.
        limit: usize,
    },
    /// The stream ended inside the header.
    Truncated {
        /// The bytes of it that arrived.
        received: usize,
    },
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::NotProxy => f.write_str(
                "expected a PROXY protocol header, but the connection does not start with one \
                 (is the load balancer configured to send it?)",
            ),
            Error::Malformed(what) => write!(f, "malformed PROXY protocol header: {what}"),
            Error::TooLong { limit } => {
                write!(f, "PROXY protocol header longer than {limit} bytes")
            }
            Error::Truncated { received } => write!(
                f,
                "the connection ended inside the PROXY protocol header (after {received} bytes)"
            ),
        }
    }
}

impl std::error::Error for Error {}

/// Parses the header at the front of `input`: `Ok(Some)` with its length
/// when it is whole, `Ok(None)` when more bytes are needed, an error when
/// it cannot be a header.
pub fn parse(input: &[u8]) -> Result<Option<Header>, Error> {
    let preamble = input.len().min(V2_SIGNATURE.len());
    if input[..preamble] == V2_SIGNATURE[..preamble] {
        return parse_v2(input);
    }
    let prefix = input.len().min(V1_PREFIX.len());
    if input[..prefix] == V1_PREFIX[..prefix] {
        return parse_v1(input);
    }
    Err(Error::NotProxy)
}

/// Parses the header at the front of `bio` and consumes exactly its bytes
/// (the rest stays, unmoved): `Ok(Some)` once whole, `Ok(None)` (nothing
/// consumed) while more bytes are needed and can still come. An error when
/// it cannot be a header, cannot fit in the BIO, or the BIO's writer shut
/// down inside it ([`Bio::is_shutdown_wr`]).
pub fn strip<B: Bio>(bio: &mut B) -> Result<Option<Header>, Error> {
    let pending = bio.pending();
    let capacity = pending.saturating_add(bio.write_guarantee());
    let eof = bio.is_shutdown_wr();
    bio.read_in_place(|front| {
        let outcome = match parse(front) {
            Ok(Some(header)) => return (header.len, Ok(Some(header))),
            Ok(None) if eof && front.len() == pending => Err(Error::Truncated {
                received: front.len(),
            }),
            Ok(None) => match needed(front) {
                Some(need) if need > capacity => Err(Error::TooLong { limit: capacity }),
                _ if front.len() < pending => Err(Error::Malformed(
                    "the header is split across the BIO's buffer",
                )),
                _ if front.len() >= capacity => Err(Error::TooLong { limit: capacity }),
                _ => Ok(None),
            },
            Err(e) => Err(e),
        };
        (0, outcome)
    })
}

/// How long the header at the front of `input` is, once that is known.
fn needed(input: &[u8]) -> Option<usize> {
    if input.starts_with(V2_SIGNATURE) && input.len() >= 16 {
        return Some(16 + usize::from(u16::from_be_bytes([input[14], input[15]])));
    }
    None
}

fn parse_v1(input: &[u8]) -> Result<Option<Header>, Error> {
    let Some(end) = input.windows(2).position(|w| w == b"\r\n") else {
        // A lone CR or LF, or no end within the limit, cannot become one.
        if input.len() >= MAX_V1_LEN {
            return Err(Error::TooLong { limit: MAX_V1_LEN });
        }
        if input[..input.len().saturating_sub(1)].contains(&b'\r') || input.contains(&b'\n') {
            return Err(Error::Malformed("a v1 line must end with CRLF"));
        }
        return Ok(None);
    };
    let len = end + 2;
    if len > MAX_V1_LEN {
        return Err(Error::TooLong { limit: MAX_V1_LEN });
    }
    let line = std::str::from_utf8(&input[V1_PREFIX.len()..end])
        .map_err(|_| Error::Malformed("a v1 line must be ASCII"))?;
    let fields: Vec<&str> = line.split(' ').collect();
    let addresses = match fields.as_slice() {
        ["UNKNOWN", ..] => None,
        [family @ ("TCP4" | "TCP6"), src, dst, sport, dport] => {
            let ip = |s: &str| -> Result<IpAddr, Error> {
                let ip = match *family {
                    "TCP4" => s.parse::<Ipv4Addr>().map(IpAddr::V4),
                    _ => s.parse::<Ipv6Addr>().map(IpAddr::V6),
                };
                ip.map_err(|_| Error::Malformed("a v1 address does not match its family"))
            };
            let port = |s: &str| -> Result<u16, Error> {
                let ok = !s.is_empty()
                    && s.bytes().all(|b| b.is_ascii_digit())
                    && (s == "0" || !s.starts_with('0'));
                ok.then(|| s.parse().ok()).flatten().ok_or(Error::Malformed(
                    "a v1 port must be a decimal from 0 to 65535",
                ))
            };
            Some((
                SocketAddr::new(ip(src)?, port(sport)?),
                SocketAddr::new(ip(dst)?, port(dport)?),
            ))
        }
        _ => {
            return Err(Error::Malformed(
                "a v1 line is PROXY TCP4|TCP6 SRC DST SPORT DPORT, or PROXY UNKNOWN",
            ))
        }
    };
    Ok(Some(Header {
        version: 1,
        addresses,
        len,
    }))
}

fn parse_v2(input: &[u8]) -> Result<Option<Header>, Error> {
    if input.len() < 16 {
        return Ok(None);
    }
    let version_command = input[12];
    if version_command >> 4 != 2 {
        return Err(Error::Malformed("a v2 header's version must be 2"));
    }
    let command = version_command & 0x0f;
    if command > 1 {
        return Err(Error::Malformed(
            "a v2 command must be LOCAL (0) or PROXY (1)",
        ));
    }
    let family = input[13];
    let body = usize::from(u16::from_be_bytes([input[14], input[15]]));
    let len = 16 + body;
    if len > MAX_V2_LEN {
        return Err(Error::TooLong { limit: MAX_V2_LEN });
    }
    if input.len() < len {
        return Ok(None);
    }
    let body = &input[16..len];
    let need = match family >> 4 {
        1 => 12,
        2 => 36,
        3 => 216,
        _ => 0,
    };
    if body.len() < need {
        return Err(Error::Malformed(
            "a v2 header is too short for its address family",
        ));
    }
    let port = |at: usize| u16::from_be_bytes([body[at], body[at + 1]]);
    let addresses = match (command, family >> 4) {
        (1, 1) => {
            let ip = |at: usize| Ipv4Addr::new(body[at], body[at + 1], body[at + 2], body[at + 3]);
            Some((
                SocketAddr::new(ip(0).into(), port(8)),
                SocketAddr::new(ip(4).into(), port(10)),
            ))
        }
        (1, 2) => {
            let ip = |at: usize| {
                let mut octets = [0u8; 16];
                octets.copy_from_slice(&body[at..at + 16]);
                Ipv6Addr::from(octets)
            };
            Some((
                SocketAddr::new(ip(0).into(), port(32)),
                SocketAddr::new(ip(16).into(), port(34)),
            ))
        }
        // LOCAL, UNSPEC and UNIX carry no IP addresses.
        _ => None,
    };
    Ok(Some(Header {
        version: 2,
        addresses,
        len,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::bio::VecBio;

    fn v2(command: u8, family: u8, body: &[u8]) -> Vec<u8> {
        let mut h = V2_SIGNATURE.to_vec();
        h.push(0x20 | command);
        h.push(family);
        h.extend_from_slice(&(body.len() as u16).to_be_bytes());
        h.extend_from_slice(body);
        h
    }

    #[test]
    fn v1_headers() {
        let h = parse(b"PROXY TCP4 192.0.2.1 198.51.100.7 51234 443\r\nrest")
            .unwrap()
            .unwrap();
        assert_eq!((h.version(), h.len()), (1, 45));
        assert_eq!(h.source(), Some("192.0.2.1:51234".parse().unwrap()));
        assert_eq!(h.destination(), Some("198.51.100.7:443".parse().unwrap()));
        let h = parse(b"PROXY TCP6 2001:db8::1 2001:db8::2 1 65535\r\n")
            .unwrap()
            .unwrap();
        assert_eq!(h.source(), Some("[2001:db8::1]:1".parse().unwrap()));
        let h = parse(b"PROXY UNKNOWN ffff::1 ::1 1 2\r\n")
            .unwrap()
            .unwrap();
        assert_eq!((h.source(), h.len()), (None, 31));
        assert_eq!(h.to_string(), "PROXY v1 (no addresses)");
    }

    #[test]
    fn v1_errors_say_what_is_wrong() {
        for (bad, why) in [
            (&b"PROXY TCP4 1.2.3.4 5.6.7.8 1 65536\r\n"[..], "port"),
            (b"PROXY TCP4 1.2.3.4 5.6.7.8 01 2\r\n", "port"),
            (b"PROXY TCP4 ::1 ::1 1 2\r\n", "family"),
            (b"PROXY TCP4 1.2.3.4 5.6.7.8 1\r\n", "PROXY TCP4|TCP6"),
            (b"PROXY TCP4  1.2.3.4 5.6.7.8 1 2\r\n", "PROXY TCP4|TCP6"),
            (b"PROXY UDP4 1.2.3.4 5.6.7.8 1 2\r\n", "PROXY TCP4|TCP6"),
            (b"PROXY TCP4 1.2.3.4\n", "CRLF"),
        ] {
            match parse(bad) {
                Err(Error::Malformed(what)) => assert!(what.contains(why), "{bad:?}: {what}"),
                other => panic!("{bad:?}: {other:?}"),
            }
        }
        let long = [b"PROXY ".as_slice(), &[b'x'; 120]].concat();
        assert_eq!(parse(&long), Err(Error::TooLong { limit: MAX_V1_LEN }));
        assert_eq!(parse(b"\x16\x03\x01\x00"), Err(Error::NotProxy));
        assert_eq!(parse(b"GET / HTTP/1.1\r\n"), Err(Error::NotProxy));
    }

    #[test]
    fn v2_headers() {
        let mut inet = vec![192, 0, 2, 1, 198, 51, 100, 7];
        inet.extend_from_slice(&51234u16.to_be_bytes());
        inet.extend_from_slice(&443u16.to_be_bytes());
        inet.extend_from_slice(&[0x20, 0, 1, 7]); // a TLV, ignored
        let bytes = v2(1, 0x11, &inet);
        let h = parse(&bytes).unwrap().unwrap();
        assert_eq!((h.version(), h.len()), (2, 16 + 16));
        assert_eq!(h.source(), Some("192.0.2.1:51234".parse().unwrap()));
        assert_eq!(h.destination(), Some("198.51.100.7:443".parse().unwrap()));

        let mut inet6 = [0u8; 36].to_vec();
        inet6[15] = 1;
        inet6[31] = 2;
        inet6[32..34].copy_from_slice(&7u16.to_be_bytes());
        let h = parse(&v2(1, 0x21, &inet6)).unwrap().unwrap();
        assert_eq!(h.source(), Some("[::1]:7".parse().unwrap()));
        // LOCAL: a health check, no addresses even if some are sent.
        let h = parse(&v2(0, 0x11, &inet)).unwrap().unwrap();
        assert_eq!(h.source(), None);
        let h = parse(&v2(0, 0x00, &[])).unwrap().unwrap();
        assert_eq!(h.len(), 16);
    }

    #[test]
    fn v2_errors() {
        let mut bad_version = v2(1, 0x11, &[0; 12]);
        bad_version[12] = 0x11;
        assert!(matches!(parse(&bad_version), Err(Error::Malformed(w)) if w.contains("version")));
        assert!(
            matches!(parse(&v2(2, 0x11, &[0; 12])), Err(Error::Malformed(w)) if w.contains("command"))
        );
        assert!(
            matches!(parse(&v2(1, 0x21, &[0; 12])), Err(Error::Malformed(w)) if w.contains("too short"))
        );
        let mut huge = v2(1, 0x11, &[]);
        huge[14..16].copy_from_slice(&0xffffu16.to_be_bytes());
        assert_eq!(parse(&huge), Err(Error::TooLong { limit: MAX_V2_LEN }));
    }

    /// Every prefix of a header is "need more", never an error or a
    /// different header.
    #[test]
    fn every_prefix_asks_for_more() {
        let mut inet = vec![10, 0, 0, 1, 10, 0, 0, 2, 0, 1, 0, 2];
        inet.extend_from_slice(&[1, 0, 0]);
        for whole in [
            b"PROXY TCP4 192.0.2.1 198.51.100.7 51234 443\r\n".to_vec(),
            v2(1, 0x11, &inet),
        ] {
            for cut in 0..whole.len() {
                assert_eq!(parse(&whole[..cut]), Ok(None), "cut at {cut} of {whole:?}");
            }
            assert!(parse(&whole).unwrap().is_some());
        }
    }

    #[test]
    fn strip_consumes_the_header_only_and_never_waits_in_vain() {
        let mut bio = VecBio::new();
        bio.write(b"PROXY TCP4 192.0.2.1 198.51.100.7 51234 ");
        assert_eq!(strip(&mut bio), Ok(None));
        assert_eq!(bio.pending(), 40, "nothing consumed while incomplete");
        bio.write(b"443\r\n\x16\x03\x01\x02\x00");
        let h = strip(&mut bio).unwrap().unwrap();
        assert_eq!(h.source().unwrap().port(), 51234);
        let mut rest = [0u8; 8];
        assert_eq!(bio.read(&mut rest), 5);
        assert_eq!(&rest[..5], b"\x16\x03\x01\x02\x00");
        assert_eq!(bio.stats().bytes_moved, 0, "the rest was not moved");

        // The stream ends inside the header.
        let mut bio = VecBio::new();
        bio.write(b"PROXY TCP4 1.2.3.4");
        bio.shutdown_wr();
        assert_eq!(strip(&mut bio), Err(Error::Truncated { received: 18 }));

        // A v2 header longer than the BIO can ever hold.
        let mut bio = VecBio::with_limit(64);
        let mut head = v2(1, 0x11, &[]);
        head[14..16].copy_from_slice(&200u16.to_be_bytes());
        bio.write(&head);
        assert_eq!(strip(&mut bio), Err(Error::TooLong { limit: 64 }));

        // TLS where a header was expected.
        let mut bio = VecBio::new();
        bio.write(b"\x16\x03\x01");
        assert_eq!(strip(&mut bio), Err(Error::NotProxy));
        assert_eq!(bio.pending(), 3);
    }
}
