//! Walks one direction's ciphertext stream as TLS records, naming what can
//! be named without keys: content types, plaintext handshake messages and
//! alerts. Used by the ladder diagram and by replay's divergence reports.

use std::fmt;

#[cfg(feature = "rustls-0-24")]
use tlsbio::rustls::enums::{ContentType, HandshakeType};
#[cfg(not(feature = "rustls-0-24"))]
use tlsbio::rustls::{ContentType, HandshakeType};
use tlsbio::AlertDescription;

use crate::decrypt::Opened;

const HEADER: usize = 5;
const CCS: u8 = 20;
const ALERT: u8 = 21;
const HANDSHAKE: u8 = 22;
const APPLICATION_DATA: u8 = 23;

/// One record, as seen on the wire.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Record {
    /// Offset of the header in the direction's stream.
    pub(crate) start: u64,
    pub(crate) content_type: u8,
    pub(crate) len: usize,
    /// Whether the body is ciphertext.
    pub(crate) encrypted: bool,
    /// What the body holds, when it is plaintext.
    pub(crate) contents: Vec<Content>,
    /// The header and body as on the wire, when encrypted (to decrypt).
    pub(crate) sealed: Option<([u8; HEADER], Vec<u8>)>,
    /// The ClientHello and ServerHello bodies this record completed
    /// (type, body), which name the connection's keys.
    pub(crate) hellos: Vec<(u8, Vec<u8>)>,
}

/// A piece of a plaintext record body.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Content {
    /// A handshake message starts here: its type, body length, and where
    /// it starts within the record body.
    Message { typ: u8, len: usize, at: usize },
    /// The rest of a handshake message begun in an earlier record.
    Continued { typ: u8, bytes: usize },
    /// An alert.
    Alert { level: u8, description: u8 },
}

impl Record {
    /// The content type's name, as rustls spells it.
    pub(crate) fn type_name(&self) -> String {
        content_type_name(self.content_type)
    }

    /// A one-line summary: type, length and what is inside.
    pub(crate) fn summary(&self) -> String {
        self.summary_opened(None)
    }

    /// As [`summary`](Self::summary), with what decryption found inside
    /// an encrypted record.
    pub(crate) fn summary_opened(&self, opened: Option<&Opened>) -> String {
        let mut s = format!("{} {}", self.type_name(), self.len);
        if self.encrypted {
            match opened {
                None => s.push_str(" (encrypted)"),
                Some(Opened::Failed) => s.push_str(" (did not decrypt: corrupted?)"),
                Some(Opened::Plain {
                    content_type,
                    contents,
                    len,
                }) => {
                    s.push_str(&format!(" => {} {len}", content_type_name(*content_type)));
                    push_contents(&mut s, contents);
                }
            }
            return s;
        }
        push_contents(&mut s, &self.contents);
        s
    }

    /// Which handshake message the body byte `at` belongs to, if known.
    pub(crate) fn message_at(&self, at: usize) -> Option<(u8, usize)> {
        let mut found = None;
        for content in &self.contents {
            match *content {
                Content::Message { typ, at: start, .. } if start <= at => {
                    found = Some((typ, at - start))
                }
                Content::Continued { typ, .. } if found.is_none() => found = Some((typ, at)),
                _ => {}
            }
        }
        found
    }
}

impl fmt::Display for Content {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            Self::Message { typ, len, .. } => write!(f, "{}({len})", handshake_name(typ)),
            Self::Continued { typ, bytes } => write!(f, "...{}(+{bytes})", handshake_name(typ)),
            Self::Alert { level, description } => write!(
                f,
                "{} {:?}",
                match level {
                    1 => "warning",
                    2 => "fatal",
                    _ => "level?",
                },
                AlertDescription::from(description)
            ),
        }
    }
}

fn push_contents(s: &mut String, contents: &[Content]) {
    let inner: Vec<String> = contents.iter().map(Content::to_string).collect();
    if !inner.is_empty() {
        s.push_str(&format!(" [{}]", inner.join(", ")));
    }
}

pub(crate) fn content_type_name(typ: u8) -> String {
    format!("{:?}", ContentType::from(typ))
}

pub(crate) fn handshake_name(typ: u8) -> String {
    format!("{:?}", HandshakeType::from(typ))
}

/// Turns a stream, pushed in any chunks, into records.
#[derive(Clone, Debug, Default)]
pub(crate) struct Walker {
    buf: Vec<u8>,
    /// Stream offset of `buf[0]`.
    offset: u64,
    /// A ChangeCipherSpec went by: later non-application-data records are
    /// encrypted in TLS 1.2. TLS 1.3 sends a CCS only for middlebox
    /// compatibility and protects records as application data, so a
    /// Handshake record after it (a second ClientHello after a
    /// HelloRetryRequest) is plaintext.
    after_ccs: bool,
    /// The connection is TLS 1.3 (set from the ServerHello by whoever
    /// walks both directions).
    pub(crate) tls13: bool,
    /// The handshake message being carried across records: type and
    /// bytes still to come.
    message: Option<(u8, usize)>,
    /// A handshake header split across records.
    partial_header: Vec<u8>,
    /// A ClientHello or ServerHello being collected: type, bytes so far.
    hello: Option<(u8, Vec<u8>)>,
    /// Hellos completed by the record being walked.
    hellos: Vec<(u8, Vec<u8>)>,
}

impl Walker {
    /// Adds bytes; returns the records they completed.
    pub(crate) fn push(&mut self, bytes: &[u8]) -> Vec<Record> {
        self.buf.extend_from_slice(bytes);
        let mut out = Vec::new();
        while self.buf.len() >= HEADER {
            let len = usize::from(u16::from_be_bytes([self.buf[3], self.buf[4]]));
            if self.buf.len() < HEADER + len {
                break;
            }
            let body: Vec<u8> = self.buf[HEADER..HEADER + len].to_vec();
            let mut header = [0u8; HEADER];
            header.copy_from_slice(&self.buf[..HEADER]);
            let record = self.record(header, body);
            self.buf.drain(..HEADER + len);
            self.offset += (HEADER + len) as u64;
            out.push(record);
        }
        out
    }

    /// Bytes of an unfinished record held back.
    pub(crate) fn held(&self) -> usize {
        self.buf.len()
    }

    fn record(&mut self, header: [u8; HEADER], body: Vec<u8>) -> Record {
        let content_type = header[0];
        let encrypted = content_type == APPLICATION_DATA || (self.after_ccs && !self.tls13);
        let mut contents = Vec::new();
        if !encrypted {
            if content_type == CCS {
                self.after_ccs = true;
            }
            contents = self.inner(content_type, &body);
        }
        Record {
            start: self.offset,
            content_type,
            len: body.len(),
            encrypted,
            contents,
            hellos: std::mem::take(&mut self.hellos),
            sealed: encrypted.then_some((header, body)),
        }
    }

    /// What a plaintext record body (or a decrypted one) of
    /// `content_type` holds; handshake messages may span records.
    pub(crate) fn inner(&mut self, content_type: u8, body: &[u8]) -> Vec<Content> {
        let mut contents = Vec::new();
        match content_type {
            HANDSHAKE => self.handshake(body, &mut contents),
            ALERT if body.len() == 2 => contents.push(Content::Alert {
                level: body[0],
                description: body[1],
            }),
            _ => {}
        }
        contents
    }

    /// Collects hello bytes, handing a hello on once whole.
    fn collect_hello(&mut self, bytes: &[u8], done: bool) {
        if let Some((_, collected)) = &mut self.hello {
            collected.extend_from_slice(bytes);
            if done {
                let hello = self.hello.take().expect("collecting");
                self.hellos.push(hello);
            }
        }
    }

    fn handshake(&mut self, body: &[u8], contents: &mut Vec<Content>) {
        let mut at = 0;
        while at < body.len() {
            if let Some((typ, left)) = self.message.take() {
                let n = left.min(body.len() - at);
                contents.push(Content::Continued { typ, bytes: n });
                self.collect_hello(&body[at..at + n], left == n);
                at += n;
                if left > n {
                    self.message = Some((typ, left - n));
                }
                continue;
            }
            let need = 4 - self.partial_header.len();
            let n = need.min(body.len() - at);
            let header_start = at;
            self.partial_header.extend_from_slice(&body[at..at + n]);
            at += n;
            if self.partial_header.len() < 4 {
                break;
            }
            let h = std::mem::take(&mut self.partial_header);
            let typ = h[0];
            let len = usize::from(h[1]) << 16 | usize::from(h[2]) << 8 | usize::from(h[3]);
            contents.push(Content::Message {
                typ,
                len,
                at: header_start,
            });
            if matches!(typ, 1 | 2) {
                self.hello = Some((typ, Vec::with_capacity(len)));
            }
            let n = len.min(body.len() - at);
            self.collect_hello(&body[at..at + n], len == n);
            at += n;
            if len > n {
                self.message = Some((typ, len - n));
            }
        }
    }
}

/// Where a stream offset falls: which record, and what is there.
pub(crate) fn locate(stream: &[u8], offset: u64) -> String {
    let mut walker = Walker::default();
    let records = walker.push(stream);
    for (index, record) in records.iter().enumerate() {
        let end = record.start + (HEADER + record.len) as u64;
        if offset >= end {
            continue;
        }
        let within = offset - record.start;
        let what = if within < HEADER as u64 {
            ["content type", "version", "version", "length", "length"][within as usize].to_string()
        } else {
            let body_at = (within - HEADER as u64) as usize;
            match record.message_at(body_at) {
                Some((typ, at)) if !record.encrypted => {
                    format!("{} byte {at}", handshake_name(typ))
                }
                _ => format!("body byte {body_at}"),
            }
        };
        return format!(
            "record {index} ({}) at stream offset {}, {what}",
            record.summary(),
            record.start
        );
    }
    format!(
        "past the last whole record ({} records, {} bytes of a partial one)",
        records.len(),
        walker.held()
    )
}
