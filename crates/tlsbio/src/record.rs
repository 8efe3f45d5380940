//! Record boundaries in the ciphertext input, for want-read size hints.
//!
//! rustls works on whole records and tells us only how many bytes it is done
//! with. To answer "how many more bytes make progress" exactly, the engine
//! keeps a cursor at the first record it has not seen complete. Bytes before
//! the cursor are whole records that rustls may already have decrypted or
//! coalesced in place; bytes from the cursor on are raw, because rustls
//! never touches a partial record (RFC 8446 section 5.1 framing).

/// TLS record header length: type (1), legacy version (2), length (2).
pub(crate) const HEADER_LEN: usize = 5;

/// The largest record rustls accepts on the wire: 2^14 + 2048 bytes of
/// payload plus the header (RFC 8446 section 5.2 allows 2^14 + 256; TLS 1.2
/// allows 2^14 + 2048).
pub(crate) const MAX_WIRE_RECORD: usize = 16_384 + 2_048 + HEADER_LEN;

/// A cursor at the first incomplete record of an input buffer.
#[derive(Debug, Default, Clone, Copy)]
pub(crate) struct Scanner {
    cursor: usize,
}

impl Scanner {
    /// Advances over the complete records in `input`, which must be the same
    /// buffer (less what was discarded) the cursor was last used with.
    pub(crate) fn scan(&mut self, input: &[u8]) {
        while let Some(len) = record_len(&input[self.cursor.min(input.len())..]) {
            if self.cursor + len > input.len() {
                break;
            }
            self.cursor += len;
        }
    }

    /// Shifts the cursor after `n` bytes were removed from the front.
    pub(crate) fn discard(&mut self, n: usize) {
        self.cursor = self.cursor.saturating_sub(n);
    }

    /// The cursor: the offset of the first record not seen complete.
    pub(crate) fn cursor(&self) -> usize {
        self.cursor
    }

    /// Forgets all positions (the buffer was emptied or replaced).
    pub(crate) fn reset(&mut self) {
        self.cursor = 0;
    }

    /// The least number of bytes to append to `input` to complete the record
    /// at the cursor.
    pub(crate) fn needed(&self, input: &[u8]) -> usize {
        let have = input.len().saturating_sub(self.cursor);
        match record_len(&input[self.cursor.min(input.len())..]) {
            Some(len) => len.saturating_sub(have).max(1),
            None => HEADER_LEN - have.min(HEADER_LEN - 1),
        }
    }

    /// Bytes of an incomplete record after the cursor.
    pub(crate) fn partial(&self, input: &[u8]) -> usize {
        input.len().saturating_sub(self.cursor)
    }
}

/// What a server's first bytes are, when they are not the start of a TLS
/// record (a record type, 20 to 23, and major version 3); `None` while they
/// may be. Any TLS record goes to rustls, which judges it (a warning alert
/// before the ClientHello is one it may take, as rustls 0.24 does for TLS
/// 1.2; found by the differential target). Decided on the first byte (or
/// the first two), classified on what has arrived.
pub(crate) fn not_tls(front: &[u8]) -> Option<crate::NotTls> {
    use crate::NotTls;
    match front {
        [] | [20..=23] | [20..=23, 3, ..] => return None,
        _ => {}
    }
    const HTTP: [&[u8]; 9] = [
        b"GET ", b"POST", b"HEAD", b"PUT ", b"DELE", b"OPTI", b"PATC", b"CONN", b"TRAC",
    ];
    Some(if front.starts_with(b"PROXY ") {
        NotTls::ProxyV1
    } else if front.starts_with(b"\r\n\r\n\0\r\nQUIT\n") {
        NotTls::ProxyV2
    } else if HTTP.iter().any(|method| front.starts_with(method)) {
        NotTls::Http
    } else {
        NotTls::Other
    })
}

/// Whether the input, `a` followed by `b`, starts with a complete record.
pub(crate) fn front_record_complete(a: &[u8], b: &[u8]) -> bool {
    let mut header = [0u8; HEADER_LEN];
    let have = a.len() + b.len();
    if have < HEADER_LEN {
        return false;
    }
    for (i, byte) in header.iter_mut().enumerate() {
        *byte = if i < a.len() { a[i] } else { b[i - a.len()] };
    }
    record_len(&header).is_some_and(|len| have >= len)
}

/// The total length of the record starting at `buf`, if its header is there.
fn record_len(buf: &[u8]) -> Option<usize> {
    let header = buf.get(..HEADER_LEN)?;
    Some(HEADER_LEN + usize::from(u16::from_be_bytes([header[3], header[4]])))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn needed_is_rest_of_header_then_rest_of_record() {
        let mut s = Scanner::default();
        let rec = [23u8, 3, 3, 0, 10, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10];
        for have in 0..HEADER_LEN {
            s.scan(&rec[..have]);
            assert_eq!(s.needed(&rec[..have]), HEADER_LEN - have);
        }
        for have in HEADER_LEN..rec.len() {
            s.scan(&rec[..have]);
            assert_eq!(s.needed(&rec[..have]), rec.len() - have);
        }
        s.scan(&rec);
        assert_eq!(s.partial(&rec), 0);
        assert_eq!(s.needed(&rec), HEADER_LEN);
        s.discard(rec.len());
        assert_eq!(s.needed(&[]), HEADER_LEN);
    }

    #[test]
    fn front_record_complete_across_two_slices() {
        let rec = [23u8, 3, 3, 0, 3, 1, 2, 3];
        for split in 0..=rec.len() {
            let (a, b) = rec.split_at(split);
            assert!(front_record_complete(a, b), "split at {split}");
            assert!(!front_record_complete(a, &b[..b.len().saturating_sub(1)]) || b.is_empty());
        }
        assert!(!front_record_complete(&rec[..7], &[]));
        assert!(!front_record_complete(&[], &rec[..4]));
    }

    #[test]
    fn not_tls_is_decided_on_the_first_bytes() {
        use crate::NotTls;
        assert_eq!(not_tls(b""), None);
        assert_eq!(not_tls(&[22]), None);
        assert_eq!(not_tls(&[22, 3, 1, 0]), None);
        assert_eq!(not_tls(&[22, 4]), Some(NotTls::Other));
        assert_eq!(not_tls(b"GET / HTTP/1.1\r\n"), Some(NotTls::Http));
        assert_eq!(not_tls(b"PROXY TCP4 1.2.3.4"), Some(NotTls::ProxyV1));
        assert_eq!(not_tls(b"\r\n\r\n\0\r\nQUIT\n!"), Some(NotTls::ProxyV2));
        assert_eq!(
            not_tls(b"G"),
            Some(NotTls::Other),
            "classified on what arrived"
        );
        assert_eq!(
            not_tls(&[0x80, 0x2e]),
            Some(NotTls::Other),
            "an SSLv2 hello"
        );
    }

    #[test]
    fn scans_several_records() {
        let mut buf = vec![22u8, 3, 3, 0, 1, 0];
        buf.extend_from_slice(&[22, 3, 3, 0, 2, 0]);
        let mut s = Scanner::default();
        s.scan(&buf);
        assert_eq!(s.partial(&buf), 6);
        assert_eq!(s.needed(&buf), 1);
    }
}
