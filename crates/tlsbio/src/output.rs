//! The output: the write BIO and the bytes the engine queued behind it.
//!
//! Everything rustls produces is appended here, and a driver takes it from
//! here only ([`Engine::send_output`](crate::Engine::send_output) and its
//! siblings), so outgoing ciphertext has one place. The write BIO is the
//! front of the queue; the engine's own staging, its back, holds at most
//! one record, handshake message or alert that did not fit, and moves into
//! the write BIO as the driver frees room.

use bytes::Bytes;

use crate::bio::Bio;
use crate::error::AlertSent;

/// A plaintext alert record: type, version, length 2, level, description.
const ALERT_RECORD: usize = 7;

pub(crate) struct Output<W> {
    pub(crate) wbio: W,
    /// Bytes behind a full write BIO. Non-empty only while the write BIO
    /// is full (every append and every take moves what fits).
    staged: Vec<u8>,
    /// The first bytes appended since the last [`Output::mark`], to tell
    /// which alert a failing step sent.
    head: [u8; ALERT_RECORD],
    head_len: usize,
    /// Bytes appended since the last mark.
    since_mark: usize,
    /// Bytes that went through `staged`.
    pub(crate) staged_total: u64,
    /// Bytes copied in from a buffer the session wrote first.
    pub(crate) copied_total: u64,
}

impl<W> Output<W> {
    /// Bytes the engine holds itself, beyond the write BIO.
    pub(crate) fn staged(&self) -> usize {
        self.staged.len()
    }
}

impl<W: Bio> Output<W> {
    pub(crate) fn new(wbio: W) -> Self {
        Self {
            wbio,
            staged: Vec::new(),
            head: [0; ALERT_RECORD],
            head_len: 0,
            since_mark: 0,
            staged_total: 0,
            copied_total: 0,
        }
    }

    /// Everything waiting to be sent.
    pub(crate) fn pending(&self) -> usize {
        self.wbio.pending() + self.staged.len()
    }

    /// Whether output is queued behind a full write BIO: nothing more may
    /// be produced until the driver takes some.
    pub(crate) fn is_stuck(&self) -> bool {
        !self.staged.is_empty()
    }

    /// Contiguous room for new output in the write BIO.
    pub(crate) fn room(&self) -> usize {
        if self.is_stuck() {
            0
        } else {
            self.wbio.write_guarantee()
        }
    }

    /// Writes in place into at least `min` bytes of the write BIO: `f`
    /// returns how many bytes it wrote and a value. `None`, without calling
    /// `f`, if there is no such room.
    pub(crate) fn write_in_place<T>(
        &mut self,
        min: usize,
        f: impl FnOnce(&mut [u8]) -> (usize, T),
    ) -> Option<T> {
        if self.is_stuck() || min > self.wbio.write_guarantee() {
            return None;
        }
        let Self {
            wbio,
            head,
            head_len,
            since_mark,
            ..
        } = self;
        wbio.write_in_place(min, |region| {
            let (n, value) = f(region);
            let n = n.min(region.len());
            note_head(head, head_len, since_mark, &region[..n]);
            (n, value)
        })
    }

    /// Appends `len` bytes that `f` writes (returning how many it wrote):
    /// in place in the write BIO if there is room, otherwise into the
    /// staging. Always succeeds; callers keep the staging to one record or
    /// message by producing only while the output is not stuck.
    pub(crate) fn append_with(&mut self, len: usize, f: impl FnOnce(&mut [u8]) -> usize) {
        if len == 0 {
            return;
        }
        let mut f = Some(f);
        let done = self.write_in_place(len, |region| {
            let write = f.take().map_or(0, |f| f(region));
            (write, ())
        });
        if done.is_some() {
            return;
        }
        let Some(f) = f else { return };
        let start = self.staged.len();
        self.staged.resize(start + len, 0);
        let written = f(&mut self.staged[start..]).min(len);
        self.staged.truncate(start + written);
        note_head(
            &mut self.head,
            &mut self.head_len,
            &mut self.since_mark,
            &self.staged[start..],
        );
        self.staged_total += written as u64;
        self.flush();
    }

    /// Appends what `f` appends to a `Vec`, about `len` bytes: straight
    /// into the write BIO's memory when it lends a `Vec`
    /// ([`Bio::write_in_vec`]) and has room for `len`, otherwise into
    /// `scratch` (empty, and left empty) and from there as by
    /// [`append`](Self::append). For rustls 0.24, which encrypts only into
    /// a `Vec`.
    #[cfg_attr(not(feature = "rustls-0-24"), allow(dead_code))]
    pub(crate) fn append_vec<T>(
        &mut self,
        len: usize,
        scratch: &mut Vec<u8>,
        f: impl FnOnce(&mut Vec<u8>) -> T,
    ) -> T {
        let mut f = Some(f);
        let mut value = None;
        if !self.is_stuck() && len <= self.wbio.write_guarantee() {
            let Self {
                wbio,
                head,
                head_len,
                since_mark,
                ..
            } = self;
            wbio.write_in_vec(len, |vec| {
                let start = vec.len();
                if let Some(f) = f.take() {
                    value = Some(f(vec));
                }
                note_head(head, head_len, since_mark, vec.get(start..).unwrap_or(&[]));
            });
        }
        match (value, f) {
            (Some(value), _) => value,
            // Not lent: `f` was not called.
            (None, Some(f)) => {
                let value = f(scratch);
                self.append_copy(scratch);
                value
            }
            (None, None) => unreachable!("a called closure leaves its value"),
        }
    }

    /// Appends what a session wrote into `scratch` first, and empties it:
    /// a copy, counted.
    #[cfg_attr(not(feature = "rustls-0-24"), allow(dead_code))]
    pub(crate) fn append_copy(&mut self, scratch: &mut Vec<u8>) {
        self.copied_total += scratch.len() as u64;
        self.append(scratch);
        scratch.clear();
    }

    /// Appends `bytes`, as [`append_with`](Self::append_with), but through
    /// [`Bio::write`] when the write BIO has room: a BIO that copies without
    /// a region (`VecBio`) then zeroes nothing first.
    pub(crate) fn append(&mut self, bytes: &[u8]) {
        let mut bytes = bytes;
        if !self.is_stuck() && bytes.len() <= self.wbio.write_guarantee() {
            let n = self.wbio.write(bytes).min(bytes.len());
            note_head(
                &mut self.head,
                &mut self.head_len,
                &mut self.since_mark,
                &bytes[..n],
            );
            // A BIO that took less than it guaranteed: the rest is staged.
            bytes = &bytes[n..];
        }
        self.append_with(bytes.len(), |region| {
            crate::copy::copy(&mut region[..bytes.len()], bytes);
            bytes.len()
        });
    }

    /// Moves staged bytes into the write BIO. True when none are left.
    pub(crate) fn flush(&mut self) -> bool {
        if !self.staged.is_empty() {
            let n = self.wbio.write(&self.staged);
            self.staged.drain(..n);
        }
        self.staged.is_empty()
    }

    /// Starts counting what is appended, for [`alert_since_mark`](Self::alert_since_mark).
    pub(crate) fn mark(&mut self) {
        self.head_len = 0;
        self.since_mark = 0;
    }

    /// The alert the bytes appended since the last mark begin with.
    pub(crate) fn alert_since_mark(&self) -> AlertSent {
        match &self.head[..self.head_len] {
            [] => AlertSent::None,
            [21, _, _, 0, 2, _, desc] => {
                AlertSent::Plaintext(crate::tls::AlertDescription::from(*desc))
            }
            // Anything else a failing step wrote is the encrypted alert
            // (rustls writes nothing but the alert once it has failed).
            _ if self.since_mark > 0 => AlertSent::Encrypted,
            _ => AlertSent::None,
        }
    }

    // ---- the driver's side ----

    pub(crate) fn send<T>(&mut self, f: impl FnOnce(&[u8]) -> (usize, T)) -> T {
        let value = if self.wbio.pending() == 0 && !self.staged.is_empty() {
            // Only a write BIO that cannot hold a single byte gets here.
            let (n, value) = f(&self.staged);
            self.staged.drain(..n.min(self.staged.len()));
            value
        } else {
            self.wbio.read_in_place(|bytes| f(bytes))
        };
        self.flush();
        value
    }

    pub(crate) fn pop(&mut self) -> Option<Bytes> {
        let chunk = if self.wbio.pending() == 0 && !self.staged.is_empty() {
            Some(Bytes::from(std::mem::take(&mut self.staged)))
        } else {
            self.wbio.pop_bytes()
        };
        self.flush();
        chunk
    }

    pub(crate) fn take<T>(&mut self, f: impl FnOnce(&mut W) -> T) -> T {
        let value = f(&mut self.wbio);
        self.flush();
        value
    }

    pub(crate) fn release_memory(&mut self) {
        if self.staged.is_empty() {
            self.staged = Vec::new();
        }
        self.wbio.release_memory();
    }
}

/// Keeps the first bytes appended since the mark.
fn note_head(head: &mut [u8; ALERT_RECORD], len: &mut usize, since: &mut usize, bytes: &[u8]) {
    let take = (ALERT_RECORD - *len).min(bytes.len());
    head[*len..*len + take].copy_from_slice(&bytes[..take]);
    *len += take;
    *since += bytes.len();
}
