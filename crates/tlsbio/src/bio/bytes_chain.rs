//! [`BytesBio`]: a queue of `Bytes` chunks moved in and out without copying.

use std::collections::VecDeque;

use bytes::{Buf, Bytes, BytesMut};

use super::{clamp, Bio, BioStats};

/// A queue of chunks that moves [`Bytes`] in and out without copying the
/// ciphertext.
///
/// - [`push_bytes`](Bio::push_bytes) keeps the chunk's memory when the
///   `Bytes` is the only handle to it (`Bytes::try_into_mut`); a shared
///   chunk is copied once (counted in [`BioStats::bytes_copied`]) because
///   the engine decrypts in place and must not write into memory someone
///   else can see.
/// - [`pop_bytes`](Bio::pop_bytes) hands out the front chunk as it is.
/// - The engine's in-place writes go into a scratch region, zeroed only as
///   far as a write asks for (each byte once), that is split off as a
///   chunk on commit; consecutive records stay
///   adjacent in memory, so popping them as one chunk is free.
/// - When a record spans two chunks that are not adjacent in memory, they
///   are merged (counted in [`BioStats::bytes_moved`]).
///
/// ```
/// use bytes::Bytes;
/// use tlsbio::bio::{Bio, BytesBio};
///
/// let mut bio = BytesBio::with_limit(1024);
/// bio.push_bytes(Bytes::from_static(b"ping")).unwrap();
/// assert_eq!(bio.pop_bytes().unwrap(), Bytes::from_static(b"ping"));
/// ```
#[derive(Debug)]
pub struct BytesBio {
    chunks: VecDeque<BytesMut>,
    scratch: BytesMut,
    pending: usize,
    limit: usize,
    eof: bool,
    stats: BioStats,
}

impl BytesBio {
    /// Scratch grows in steps of this many bytes once the queue has carried
    /// bulk data: a few maximum-size records.
    const SCRATCH_STEP: usize = 64 * 1024;

    /// Until then, room for a handshake message or a small record; a
    /// handshake needs no more (a bigger region is made at the size asked
    /// for).
    const FIRST_SCRATCH: usize = 4096;

    /// A queue that has held more than a maximum-size record has carried
    /// bulk data.
    const BULK: usize = 16 * 1024 + 2048 + 5;

    /// An empty queue that never holds more than `limit` bytes.
    pub fn with_limit(limit: usize) -> Self {
        Self {
            chunks: VecDeque::new(),
            scratch: BytesMut::new(),
            pending: 0,
            limit,
            eof: false,
            stats: BioStats::default(),
        }
    }

    /// How much scratch to make at a time: a little until the queue has
    /// carried bulk data, then a few records' worth.
    fn scratch_step(&self) -> usize {
        if self.stats.high_water > Self::BULK {
            Self::SCRATCH_STEP
        } else {
            Self::FIRST_SCRATCH
        }
    }

    fn append(&mut self, chunk: BytesMut) {
        if chunk.is_empty() {
            return;
        }
        self.pending += chunk.len();
        self.stats.high_water = self.stats.high_water.max(self.pending);
        if let Some(last) = self.chunks.back_mut() {
            if adjacent(last, &chunk) {
                last.unsplit(chunk);
                return;
            }
        }
        self.chunks.push_back(chunk);
    }

    /// Appends a chunk the caller owns outright: never copied, whatever
    /// else shares its allocation (a `BytesMut` is exclusive over its own
    /// range). Gives it back if it does not fit.
    ///
    /// With [`pop_bytes_mut`](Self::pop_bytes_mut), moves ciphertext from
    /// one engine's write BIO into another's read BIO without a copy:
    ///
    /// ```
    /// use tlsbio::bio::{Bio, BytesBio};
    ///
    /// let (mut from, mut to) = (BytesBio::with_limit(1 << 16), BytesBio::with_limit(1 << 16));
    /// from.write(b"a record");
    /// while let Some(chunk) = from.pop_bytes_mut() {
    ///     to.push_bytes_mut(chunk).unwrap();
    /// }
    /// assert_eq!(to.pending(), 8);
    /// assert_eq!(to.stats().bytes_copied, 0);
    /// ```
    pub fn push_bytes_mut(&mut self, chunk: BytesMut) -> Result<(), BytesMut> {
        if chunk.len() > self.write_guarantee() {
            return Err(chunk);
        }
        self.append(chunk);
        Ok(())
    }

    /// Takes the front chunk, still writable. A chunk the engine wrote
    /// shares its allocation with the queue's scratch space, so
    /// [`pop_bytes`](Bio::pop_bytes)' frozen `Bytes` would have to be
    /// copied by a receiving `BytesBio`; this one need not.
    pub fn pop_bytes_mut(&mut self) -> Option<BytesMut> {
        let chunk = self.chunks.pop_front()?;
        self.pending -= chunk.len();
        Some(chunk)
    }

    /// Merges all chunks into the first one.
    fn make_contiguous(&mut self) {
        while self.chunks.len() > 1 {
            let next = self.chunks.remove(1).unwrap_or_default();
            let first = &mut self.chunks[0];
            if !adjacent(first, &next) {
                self.stats.bytes_moved += next.len() as u64;
            }
            first.unsplit(next);
        }
    }
}

/// Whether `b` starts where `a` ends, so that `unsplit` is free.
fn adjacent(a: &BytesMut, b: &BytesMut) -> bool {
    a.as_ptr().wrapping_add(a.len()) == b.as_ptr()
}

impl Bio for BytesBio {
    fn pending(&self) -> usize {
        self.pending
    }

    fn write_guarantee(&self) -> usize {
        self.limit.saturating_sub(self.pending)
    }

    fn read_in_place<T>(&mut self, f: impl FnOnce(&mut [u8]) -> (usize, T)) -> T {
        self.make_contiguous();
        let Some(front) = self.chunks.front_mut() else {
            return f(&mut []).1;
        };
        let (n, out) = f(front);
        let n = clamp(n, front.len());
        front.advance(n);
        if front.is_empty() {
            self.chunks.pop_front();
        }
        self.pending -= n;
        out
    }

    fn write_in_place<T>(
        &mut self,
        min: usize,
        f: impl FnOnce(&mut [u8]) -> (usize, T),
    ) -> Option<T> {
        let room = self.write_guarantee();
        if min > room {
            return None;
        }
        if self.scratch.len() < min {
            // Room for many regions, but only what this one asks for is
            // zeroed (safe Rust lends only initialised memory): the
            // engine writes over it at once.
            if self.scratch.capacity() < min {
                // `reserve` takes the old allocation back when every chunk
                // split off it has gone, instead of allocating anew.
                let step = min.max(self.scratch_step()).min(room.max(min));
                self.scratch.clear();
                self.scratch.reserve(step);
            }
            self.stats.bytes_zeroed += (min - self.scratch.len()) as u64;
            self.scratch.resize(min, 0);
        }
        let len = self.scratch.len().min(room);
        let (n, out) = f(&mut self.scratch[..len]);
        let written = self.scratch.split_to(clamp(n, len));
        self.append(written);
        Some(out)
    }

    /// Copies into the scratch without zeroing it first, which
    /// [`write_in_place`](Bio::write_in_place) has to do for a region
    /// (safe Rust hands out only initialised memory): a copy needs none.
    fn write(&mut self, buf: &[u8]) -> usize {
        let n = buf.len().min(self.write_guarantee());
        if n == 0 {
            return 0;
        }
        if self.scratch.len() >= n {
            // Zeroed already by an earlier region: use it.
            crate::copy::copy(&mut self.scratch[..n], &buf[..n]);
        } else {
            // Append to an empty scratch instead, keeping its capacity
            // when that is enough (a new one is a step's worth).
            self.scratch.clear();
            if self.scratch.capacity() < n {
                self.scratch = BytesMut::with_capacity(n.max(self.scratch_step()));
            }
            let end = self.scratch.as_ptr().wrapping_add(self.scratch.len());
            for piece in crate::copy::pieces(end, &buf[..n]) {
                self.scratch.extend_from_slice(piece);
            }
        }
        let written = self.scratch.split_to(n);
        self.append(written);
        n
    }

    /// A `Vec` of its own for each call, exactly `min` bytes of capacity,
    /// kept as a chunk without a copy (`Bytes::from` takes the `Vec`'s
    /// memory over): one allocation instead of copying `min` bytes.
    fn write_in_vec<T>(&mut self, min: usize, f: impl FnOnce(&mut Vec<u8>) -> T) -> Option<T> {
        if min > self.write_guarantee() {
            return None;
        }
        let mut vec = Vec::with_capacity(min);
        let out = f(&mut vec);
        self.append(BytesMut::from(Bytes::from(vec)));
        Some(out)
    }

    fn shutdown_wr(&mut self) {
        self.eof = true;
    }

    fn is_shutdown_wr(&self) -> bool {
        self.eof
    }

    fn push_bytes(&mut self, chunk: Bytes) -> Result<(), Bytes> {
        if chunk.len() > self.write_guarantee() {
            return Err(chunk);
        }
        let chunk = match chunk.try_into_mut() {
            Ok(owned) => owned,
            Err(shared) => {
                self.stats.bytes_copied += shared.len() as u64;
                BytesMut::from(&shared[..])
            }
        };
        self.append(chunk);
        Ok(())
    }

    fn pop_bytes(&mut self) -> Option<Bytes> {
        self.pop_bytes_mut().map(BytesMut::freeze)
    }

    fn release_memory(&mut self) {
        if self.pending == 0 {
            self.chunks = VecDeque::new();
        }
        self.scratch = BytesMut::new();
    }

    fn stats(&self) -> BioStats {
        self.stats
    }
}
