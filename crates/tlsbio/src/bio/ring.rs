//! [`RingBio`]: a bounded ring, allocated as it fills.

use crate::copy::{copy, extend};

use super::{clamp, Bio, BioStats};

/// A ring buffer that holds at most its capacity.
///
/// Its memory is allocated as bytes arrive: a first write allocates what
/// it needs (at least 4 KiB), and a write that does not fit doubles the
/// allocation, up to the capacity; a ring at its capacity never
/// reallocates again. So a connection pays for the memory its traffic
/// uses (a handshake needs a few KiB, bulk transfer grows the ring to its
/// capacity once), and [`Bio::release_memory`] gives it all back when the
/// ring is empty. Growing moves the live bytes once, counted in
/// [`BioStats::bytes_moved`].
///
/// The engine needs contiguous regions (records are decrypted in place), so
/// when the live bytes wrap around the end, or a write needs more contiguous
/// room than the tail has, the ring rotates its bytes back to the start.
/// Rotations are counted in [`BioStats::bytes_moved`]; in steady state with
/// a capacity of a few records they are rare.
///
/// Bytes copied in ([`Bio::write`], the driver's copy of the peer's
/// ciphertext) land in memory that is not zeroed first; a region lent
/// with [`Bio::write_in_place`] is zeroed where nothing was written
/// before, each byte of an allocation at most once
/// ([`BioStats::bytes_zeroed`]).
///
/// ```
/// use tlsbio::bio::{Bio, RingBio};
///
/// let mut ring = RingBio::with_capacity(8);
/// assert_eq!(ring.write(b"abcdef"), 6);
/// let mut out = [0u8; 4];
/// assert_eq!(ring.read(&mut out), 4);
/// assert_eq!(ring.write(b"ghijkl"), 6); // wraps around
/// let mut all = [0u8; 8];
/// assert_eq!(ring.read(&mut all), 8);
/// assert_eq!(&all, b"efghijkl");
/// ```
#[derive(Debug)]
pub struct RingBio {
    /// The allocation so far. Its first `buf.len()` bytes have been
    /// written at least once; the rest, up to `size`, not yet. Bytes are
    /// written in ring order, so the live ones are always among the
    /// written ones, and a ring whose live bytes wrap has written all of
    /// `size`.
    buf: Vec<u8>,
    /// The ring's current size (where it wraps), at most `capacity`.
    size: usize,
    capacity: usize,
    head: usize,
    len: usize,
    eof: bool,
    stats: BioStats,
}

impl RingBio {
    /// The smallest allocation a ring makes.
    const FIRST_ALLOCATION: usize = 4096;

    /// A ring holding at most `capacity` bytes. Nothing is allocated yet.
    pub fn with_capacity(capacity: usize) -> Self {
        Self {
            buf: Vec::new(),
            size: 0,
            capacity,
            head: 0,
            len: 0,
            eof: false,
            stats: BioStats::default(),
        }
    }

    /// The most bytes it holds.
    pub fn capacity(&self) -> usize {
        self.capacity
    }

    /// Bytes allocated now (at most the capacity).
    pub fn allocated(&self) -> usize {
        self.size
    }

    /// Grows the allocation, if it is below the capacity, so that `more`
    /// bytes fit beside the live ones; the live bytes move to the front.
    fn grow_for(&mut self, more: usize) {
        let size = self.size;
        let need = self.len + more;
        if need <= size || size >= self.capacity {
            return;
        }
        let new_size = need
            .max(size * 2)
            .max(Self::FIRST_ALLOCATION)
            .min(self.capacity);
        // Only the live bytes go into the new allocation; nothing is
        // zeroed.
        let mut grown = Vec::with_capacity(new_size);
        let first = self.len.min(size - self.head);
        grown.extend_from_slice(&self.buf[self.head..self.head + first]);
        grown.extend_from_slice(&self.buf[..self.len - first]);
        self.stats.bytes_moved += self.len as u64;
        self.buf = grown;
        self.size = new_size;
        self.head = 0;
    }

    fn is_wrapped(&self) -> bool {
        self.head + self.len > self.size
    }

    /// Moves the live bytes to the start of the buffer.
    fn rotate_to_front(&mut self) {
        if self.head == 0 {
            return;
        }
        if self.is_wrapped() {
            debug_assert_eq!(self.buf.len(), self.size, "wrapped, so all written");
            self.buf.rotate_left(self.head);
        } else {
            self.buf.copy_within(self.head..self.head + self.len, 0);
        }
        self.stats.bytes_moved += self.len as u64;
        self.head = 0;
    }

    /// Start and length of the free region after the live bytes, without
    /// wrapping.
    fn tail_region(&self) -> (usize, usize) {
        let cap = self.size;
        if self.is_wrapped() {
            let start = self.head + self.len - cap;
            (start, self.head - start)
        } else {
            let start = self.head + self.len;
            (start, cap - start)
        }
    }
}

impl Bio for RingBio {
    fn pending(&self) -> usize {
        self.len
    }

    fn write_guarantee(&self) -> usize {
        self.capacity - self.len
    }

    fn read_in_place<T>(&mut self, f: impl FnOnce(&mut [u8]) -> (usize, T)) -> T {
        if self.is_wrapped() {
            self.rotate_to_front();
        }
        let region = &mut self.buf[self.head..self.head + self.len];
        let (n, out) = f(region);
        let n = clamp(n, self.len);
        self.len -= n;
        self.head = if self.len == 0 { 0 } else { self.head + n };
        out
    }

    fn write_in_place<T>(
        &mut self,
        min: usize,
        f: impl FnOnce(&mut [u8]) -> (usize, T),
    ) -> Option<T> {
        if min > self.write_guarantee() {
            return None;
        }
        self.grow_for(min.max(1));
        let (mut start, mut len) = self.tail_region();
        if len < min {
            self.rotate_to_front();
            (start, len) = self.tail_region();
        }
        if self.buf.len() < start + min {
            // The region must be initialised: zero what is asked for
            // beyond what was ever written, each byte at most once.
            let want = start + min;
            self.stats.bytes_zeroed += (want - self.buf.len()) as u64;
            self.buf.resize(want, 0);
        }
        // What is initialised of the free room, at least `min`.
        let len = len.min(self.buf.len() - start);
        let (n, out) = f(&mut self.buf[start..start + len]);
        self.len += clamp(n, len);
        self.stats.high_water = self.stats.high_water.max(self.len);
        Some(out)
    }

    /// Copies in up to two pieces around the end, never rotating.
    fn write(&mut self, buf: &[u8]) -> usize {
        let n = buf.len().min(self.capacity - self.len);
        if n == 0 {
            return 0;
        }
        self.grow_for(n);
        let cap = self.size;
        let tail = (self.head + self.len) % cap;
        let first = n.min(cap - tail);
        // Up to where bytes were written before, then appended (the tail
        // never lies beyond the written bytes); around the end, all of
        // the ring has been written.
        debug_assert!(
            tail <= self.buf.len(),
            "the tail is among the written bytes"
        );
        let over = (tail + first).saturating_sub(self.buf.len()).min(first);
        copy(
            &mut self.buf[tail..tail + first - over],
            &buf[..first - over],
        );
        extend(&mut self.buf, &buf[first - over..first]);
        copy(&mut self.buf[..n - first], &buf[first..n]);
        self.len += n;
        self.stats.high_water = self.stats.high_water.max(self.len);
        n
    }

    /// Copies out in up to two pieces around the end, never rotating.
    fn read(&mut self, buf: &mut [u8]) -> usize {
        let cap = self.size;
        let n = buf.len().min(self.len);
        if n == 0 {
            return 0;
        }
        let first = n.min(cap - self.head);
        copy(&mut buf[..first], &self.buf[self.head..self.head + first]);
        copy(&mut buf[first..n], &self.buf[..n - first]);
        self.len -= n;
        self.head = if self.len == 0 {
            0
        } else {
            (self.head + n) % cap
        };
        n
    }

    fn shutdown_wr(&mut self) {
        self.eof = true;
    }

    fn is_shutdown_wr(&self) -> bool {
        self.eof
    }

    /// Gives the allocation back when the ring is empty.
    fn release_memory(&mut self) {
        if self.len == 0 {
            self.buf = Vec::new();
            self.size = 0;
            self.head = 0;
        }
    }

    fn stats(&self) -> BioStats {
        self.stats
    }
}
