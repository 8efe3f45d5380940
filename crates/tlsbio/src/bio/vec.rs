//! [`VecBio`]: a growable buffer with a byte limit.

use super::{clamp, Bio, BioStats};

/// A growable buffer with a byte limit, the analogue of `BIO_s_mem`.
///
/// It starts empty and grows (doubling, up to the limit) as bytes are
/// written. Consumed bytes at the front are reclaimed lazily: the live bytes
/// move back to the start only when a write needs the room, and every such
/// move is counted in [`BioStats::bytes_moved`].
///
/// ```
/// use tlsbio::bio::{Bio, VecBio};
///
/// let mut bio = VecBio::with_limit(4);
/// assert_eq!(bio.write(b"hello"), 4); // the limit holds
/// assert_eq!(bio.write_guarantee(), 0);
/// let mut out = [0u8; 2];
/// assert_eq!(bio.read(&mut out), 2);
/// assert_eq!(bio.write_guarantee(), 2);
/// ```
#[derive(Debug)]
pub struct VecBio {
    buf: Vec<u8>,
    start: usize,
    end: usize,
    limit: usize,
    eof: bool,
    stats: BioStats,
}

impl VecBio {
    /// The limit [`VecBio::new`] uses: 256 KiB, room for a full TLS flight
    /// and several maximum-size records.
    pub const DEFAULT_LIMIT: usize = 256 * 1024;

    /// An empty buffer with [`DEFAULT_LIMIT`](Self::DEFAULT_LIMIT).
    pub fn new() -> Self {
        Self::with_limit(Self::DEFAULT_LIMIT)
    }

    /// An empty buffer that never holds more than `limit` bytes.
    pub fn with_limit(limit: usize) -> Self {
        Self {
            buf: Vec::new(),
            start: 0,
            end: 0,
            limit,
            eof: false,
            stats: BioStats::default(),
        }
    }

    /// An empty buffer that never holds more than `limit` bytes, writing
    /// into `buf`'s allocation: a buffer from a connection that ended
    /// ([`VecBio::into_vec`]), so that a server reusing them allocates no
    /// BIO memory per connection once its pool is warm.
    ///
    /// `buf`'s contents are dropped (nothing of another connection is
    /// kept or shown) and its capacity kept. It grows past that capacity
    /// as [`VecBio::with_limit`]'s does; `limit` bounds the bytes held, as
    /// always, and a buffer larger than it is used as it is, not shrunk.
    ///
    /// ```
    /// use tlsbio::bio::{Bio, VecBio};
    ///
    /// let mut used = VecBio::with_limit(1 << 16);
    /// used.write(b"the last connection's ciphertext");
    /// let buf = used.into_vec();
    /// assert!(buf.is_empty() && buf.capacity() >= 4096);
    ///
    /// let capacity = buf.capacity();
    /// let mut bio = VecBio::with_buffer(buf, 1 << 16);
    /// assert_eq!(bio.pending(), 0);
    /// bio.write(b"a new connection");
    /// assert_eq!(bio.allocated(), capacity); // no new allocation
    /// ```
    pub fn with_buffer(mut buf: Vec<u8>, limit: usize) -> Self {
        buf.clear();
        Self {
            buf,
            ..Self::with_limit(limit)
        }
    }

    /// The allocation, emptied, for [`VecBio::with_buffer`] to reuse;
    /// bytes still pending are dropped. Take the BIOs out of an engine
    /// that is done with [`Engine::into_bios`](crate::Engine::into_bios).
    pub fn into_vec(self) -> Vec<u8> {
        let mut buf = self.buf;
        buf.clear();
        buf
    }

    /// The byte limit.
    pub fn limit(&self) -> usize {
        self.limit
    }

    /// Bytes currently allocated: at most the limit, unless the buffer
    /// given to [`VecBio::with_buffer`] was larger.
    pub fn allocated(&self) -> usize {
        self.buf.capacity()
    }

    /// Makes room for `min` bytes at `end` inside the allocation,
    /// compacting or growing as needed. The room may lie past `buf.len()`
    /// (after [`Bio::write_in_vec`] the `Vec` ends where the bytes do).
    fn reserve(&mut self, min: usize) -> bool {
        if min > self.write_guarantee() {
            return false;
        }
        if self.buf.capacity() - self.end >= min {
            return true;
        }
        let live = self.end - self.start;
        if self.start > 0 {
            self.buf.copy_within(self.start..self.end, 0);
            self.stats.bytes_moved += live as u64;
            self.start = 0;
            self.end = live;
            if self.buf.capacity() - live >= min {
                return true;
            }
        }
        // Grow; only the live bytes are worth moving to the new allocation.
        let want = (live + min)
            .max(self.buf.capacity() * 2)
            .max(4096)
            .min(self.limit)
            .max(live + min);
        self.buf.truncate(live);
        self.buf.reserve_exact(want - live);
        true
    }
}

impl Default for VecBio {
    fn default() -> Self {
        Self::new()
    }
}

impl Bio for VecBio {
    fn pending(&self) -> usize {
        self.end - self.start
    }

    fn write_guarantee(&self) -> usize {
        self.limit.saturating_sub(self.pending())
    }

    fn read_in_place<T>(&mut self, f: impl FnOnce(&mut [u8]) -> (usize, T)) -> T {
        let region = &mut self.buf[self.start..self.end];
        let len = region.len();
        let (n, out) = f(region);
        self.start += clamp(n, len);
        if self.start == self.end {
            self.start = 0;
            self.end = 0;
        }
        out
    }

    fn write_in_place<T>(
        &mut self,
        min: usize,
        f: impl FnOnce(&mut [u8]) -> (usize, T),
    ) -> Option<T> {
        if !self.reserve(min) {
            return None;
        }
        if self.buf.len() < self.end + min {
            // The region must be initialised: zero what is asked for
            // beyond what is already, so that each byte of an allocation
            // is zeroed at most once, and only if a region reaches it.
            let want = self.end + min;
            self.stats.bytes_zeroed += (want - self.buf.len()) as u64;
            self.buf.resize(want, 0);
        }
        let room = self.write_guarantee();
        let region = &mut self.buf[self.end..];
        let len = region.len().min(room);
        let (n, out) = f(&mut region[..len]);
        self.end += clamp(n, len);
        self.stats.high_water = self.stats.high_water.max(self.pending());
        Some(out)
    }

    /// Copies into the spare capacity without zeroing it first, which
    /// [`write_in_place`](Bio::write_in_place) has to do (safe Rust
    /// hands out only initialised memory): a copy needs no region.
    fn write(&mut self, buf: &[u8]) -> usize {
        let n = buf.len().min(self.write_guarantee());
        if n == 0 || !self.reserve(n) {
            return 0;
        }
        self.buf.truncate(self.end);
        crate::copy::extend(&mut self.buf, &buf[..n]);
        self.end += n;
        self.stats.high_water = self.stats.high_water.max(self.pending());
        n
    }

    fn write_in_vec<T>(&mut self, min: usize, f: impl FnOnce(&mut Vec<u8>) -> T) -> Option<T> {
        if !self.reserve(min) {
            return None;
        }
        // The Vec ends where the bytes do; what `f` appends follows them.
        self.buf.truncate(self.end);
        let out = f(&mut self.buf);
        self.end = self.buf.len();
        self.start = self.start.min(self.end);
        self.stats.high_water = self.stats.high_water.max(self.pending());
        Some(out)
    }

    fn shutdown_wr(&mut self) {
        self.eof = true;
    }

    fn is_shutdown_wr(&self) -> bool {
        self.eof
    }

    fn release_memory(&mut self) {
        if self.start == self.end {
            self.buf = Vec::new();
            self.start = 0;
            self.end = 0;
        }
    }

    fn stats(&self) -> BioStats {
        self.stats
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_reused_buffer_is_not_reallocated_and_shows_nothing_old() {
        let mut used = VecBio::with_limit(1 << 16);
        used.write_in_place(64, |region| {
            region.fill(0xAB);
            (64, ())
        });
        let buf = used.into_vec();
        let (ptr, capacity) = (buf.as_ptr(), buf.capacity());
        assert!(buf.is_empty());

        let mut bio = VecBio::with_buffer(buf, 1 << 16);
        assert_eq!(bio.pending(), 0);
        // A region over the old bytes reads as zeroes, not as the last
        // connection's.
        bio.write_in_place(64, |region| {
            assert!(region[..64].iter().all(|&b| b == 0));
            (64, ())
        });
        assert_eq!(bio.write(&vec![1; capacity - 64]), capacity - 64);
        assert_eq!(bio.allocated(), capacity);
        let back = bio.into_vec();
        assert_eq!(back.as_ptr(), ptr);
    }

    #[test]
    fn the_limit_holds_over_a_larger_buffer() {
        let mut bio = VecBio::with_buffer(Vec::with_capacity(8192), 100);
        assert_eq!(bio.write(&[7; 200]), 100);
        assert_eq!(bio.write_guarantee(), 0);
        assert!(bio.write_in_place(1, |_| (0, ())).is_none());
        let mut out = [0; 60];
        assert_eq!(bio.read(&mut out), 60);
        assert_eq!(bio.write(&[8; 200]), 60);
        assert_eq!(bio.pending(), 100);
        assert_eq!(bio.allocated(), 8192);
    }
}
