//! [`RingBio`]: a fixed-capacity ring that never reallocates.

use super::{clamp, Bio, BioStats};

/// A fixed-capacity ring buffer. Its memory is allocated once, in
/// [`RingBio::with_capacity`], and never again.
///
/// The engine needs contiguous regions (records are decrypted in place), so
/// when the live bytes wrap around the end, or a write needs more contiguous
/// room than the tail has, the ring rotates its bytes back to the start.
/// Rotations are counted in [`BioStats::bytes_moved`]; in steady state with
/// a capacity of a few records they are rare.
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
    buf: Box<[u8]>,
    head: usize,
    len: usize,
    eof: bool,
    stats: BioStats,
}

impl RingBio {
    /// A ring holding at most `capacity` bytes.
    pub fn with_capacity(capacity: usize) -> Self {
        Self {
            buf: vec![0; capacity].into_boxed_slice(),
            head: 0,
            len: 0,
            eof: false,
            stats: BioStats::default(),
        }
    }

    /// The fixed capacity.
    pub fn capacity(&self) -> usize {
        self.buf.len()
    }

    fn is_wrapped(&self) -> bool {
        self.head + self.len > self.buf.len()
    }

    /// Moves the live bytes to the start of the buffer.
    fn rotate_to_front(&mut self) {
        if self.head == 0 {
            return;
        }
        if self.is_wrapped() {
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
        let cap = self.buf.len();
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
        self.buf.len() - self.len
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
        let (mut start, mut len) = self.tail_region();
        if len < min {
            self.rotate_to_front();
            (start, len) = self.tail_region();
        }
        let (n, out) = f(&mut self.buf[start..start + len]);
        self.len += clamp(n, len);
        self.stats.high_water = self.stats.high_water.max(self.len);
        Some(out)
    }

    /// Copies in up to two pieces around the end, never rotating.
    fn write(&mut self, buf: &[u8]) -> usize {
        let cap = self.buf.len();
        let n = buf.len().min(cap - self.len);
        if n == 0 {
            return 0;
        }
        let tail = (self.head + self.len) % cap;
        let first = n.min(cap - tail);
        self.buf[tail..tail + first].copy_from_slice(&buf[..first]);
        self.buf[..n - first].copy_from_slice(&buf[first..n]);
        self.len += n;
        self.stats.high_water = self.stats.high_water.max(self.len);
        n
    }

    /// Copies out in up to two pieces around the end, never rotating.
    fn read(&mut self, buf: &mut [u8]) -> usize {
        let cap = self.buf.len();
        let n = buf.len().min(self.len);
        if n == 0 {
            return 0;
        }
        let first = n.min(cap - self.head);
        buf[..first].copy_from_slice(&self.buf[self.head..self.head + first]);
        buf[first..n].copy_from_slice(&self.buf[..n - first]);
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

    fn stats(&self) -> BioStats {
        self.stats
    }
}
