//! Pluggable ciphertext buffers: the Rust form of OpenSSL's memory BIOs.
//!
//! A [`Bio`] is one byte queue in one direction. The engine takes two of
//! them, like `SSL_set_bio(ssl, rbio, wbio)`: it *reads* ciphertext that the
//! driver wrote into the read BIO, and *writes* ciphertext into the write BIO
//! for the driver to send.
//!
//! The engine works on the BIO's memory in place: rustls decrypts records
//! inside the read BIO and encrypts straight into the write BIO's free space.
//! That is why the trait hands out contiguous mutable regions through
//! closures ([`Bio::read_in_place`], [`Bio::write_in_place`]) rather than
//! copying through `read`/`write`. Every access is *look, then commit*: the
//! closure returns how many bytes it consumed or produced, and nothing else
//! leaves or enters the queue.
//!
//! Implementations in this crate:
//!
//! | type | OpenSSL analogue | storage |
//! |---|---|---|
//! | [`VecBio`] | `BIO_s_mem` | growable `Vec`, with a byte limit |
//! | [`RingBio`] | `BIO_s_mem` with a fixed buffer | bounded ring, allocated as it fills, never beyond its capacity |
//! | [`BytesBio`] | — | queue of `Bytes` chunks, moved in and out without copying |
//! | [`Shared`], [`SyncShared`], [`pair`] | `BIO_new_bio_pair` | a queue with two owners |
//!
//! # Implementing `Bio`
//!
//! Only five methods are required. A minimal, unbounded BIO:
//!
//! ```
//! use tlsbio::bio::Bio;
//!
//! #[derive(Default)]
//! struct Unbounded {
//!     buf: Vec<u8>,
//!     eof: bool,
//! }
//!
//! impl Bio for Unbounded {
//!     fn pending(&self) -> usize {
//!         self.buf.len()
//!     }
//!     fn write_guarantee(&self) -> usize {
//!         usize::MAX - self.buf.len()
//!     }
//!     fn read_in_place<T>(&mut self, f: impl FnOnce(&mut [u8]) -> (usize, T)) -> T {
//!         let (consumed, out) = f(&mut self.buf);
//!         self.buf.drain(..consumed.min(self.buf.len()));
//!         out
//!     }
//!     fn write_in_place<T>(
//!         &mut self,
//!         min: usize,
//!         f: impl FnOnce(&mut [u8]) -> (usize, T),
//!     ) -> Option<T> {
//!         let start = self.buf.len();
//!         self.buf.resize(start + min.max(4096), 0);
//!         let (written, out) = f(&mut self.buf[start..]);
//!         self.buf.truncate(start + written);
//!         Some(out)
//!     }
//!     fn shutdown_wr(&mut self) {
//!         self.eof = true;
//!     }
//!     fn is_shutdown_wr(&self) -> bool {
//!         self.eof
//!     }
//! }
//!
//! let mut bio = Unbounded::default();
//! assert_eq!(bio.write(b"hello"), 5);
//! let mut out = [0u8; 8];
//! assert_eq!(bio.read(&mut out), 5);
//! assert_eq!(&out[..5], b"hello");
//! ```

use bytes::{Bytes, BytesMut};

mod bytes_chain;
mod pair;
mod ring;
mod vec;

pub use bytes_chain::BytesBio;
pub use pair::{pair, sync_pair, PairHalf, Shared, SyncPairHalf, SyncShared};
pub use ring::RingBio;
pub use vec::VecBio;

/// A byte queue that the engine reads ciphertext from or writes ciphertext to.
///
/// # Invariants implementations must keep
///
/// - [`pending`](Bio::pending) is the number of bytes that
///   [`read_in_place`](Bio::read_in_place) would show, and those bytes are
///   shown in the order they were written.
/// - [`write_guarantee`](Bio::write_guarantee) is how many bytes a writer can
///   add right now (`BIO_ctrl_get_write_guarantee`). A full queue answers 0.
///   [`write_in_place`](Bio::write_in_place) with `min <= write_guarantee()`
///   must succeed (compacting or growing if it has to).
/// - A closure's count is clamped to the slice it was given; a count of 0
///   changes nothing.
/// - After [`shutdown_wr`](Bio::shutdown_wr), no more bytes will be
///   written; a reader that finds the queue empty has reached end of stream.
pub trait Bio {
    /// Bytes waiting to be read (`BIO_ctrl_pending`).
    fn pending(&self) -> usize;

    /// Bytes that can be written now without failing
    /// (`BIO_ctrl_get_write_guarantee`).
    fn write_guarantee(&self) -> usize;

    /// Shows *all* pending bytes as one contiguous mutable slice, and removes
    /// the first `n` of them, where `(n, value)` is what `f` returns.
    ///
    /// A queue that stores its bytes in pieces (a wrapped ring, a chain of
    /// chunks) makes them contiguous first and should count the bytes it
    /// moved in [`BioStats::bytes_moved`]. The slice is mutable because the
    /// engine decrypts records in place.
    fn read_in_place<T>(&mut self, f: impl FnOnce(&mut [u8]) -> (usize, T)) -> T;

    /// Offers a contiguous writable region of at least `min` bytes, and
    /// appends the first `n` bytes of it to the queue, where `(n, value)` is
    /// what `f` returns.
    ///
    /// Returns `None`, without calling `f`, when no such region can be made
    /// within the queue's capacity. The region's initial contents are
    /// unspecified (but initialised).
    fn write_in_place<T>(
        &mut self,
        min: usize,
        f: impl FnOnce(&mut [u8]) -> (usize, T),
    ) -> Option<T>;

    /// Lends the queue's own memory as a `Vec<u8>` to a writer that can only
    /// append to one, and keeps what `f` appends, without a copy. (rustls
    /// 0.24 encrypts into a `&mut Vec<u8>`; with this the engine's 0.24
    /// backend encrypts straight into the write BIO, as the 0.23 backend
    /// does through [`write_in_place`](Bio::write_in_place).)
    ///
    /// `min` is how many bytes the caller means to append; the queue makes
    /// room for them first (the `Vec` has that much spare capacity).
    /// Returns `None`, without calling `f`, when `min` exceeds
    /// [`write_guarantee`](Bio::write_guarantee) or when the queue cannot
    /// lend a `Vec`. That is the default: the caller then writes into a
    /// buffer of its own and copies it in with [`write`](Bio::write).
    ///
    /// `f` may only append. The bytes the `Vec` holds when `f` gets it are
    /// the queue's, and not necessarily all of them pending (a queue may
    /// keep consumed bytes ahead of its pending ones); a closure that
    /// shortens the `Vec` loses bytes, and the queue then holds what the
    /// `Vec` still does. Bytes appended beyond the write guarantee are
    /// kept, never dropped: the queue is over its limit until they are
    /// read.
    ///
    /// ```
    /// use tlsbio::bio::{Bio, RingBio, VecBio};
    ///
    /// let mut bio = VecBio::with_limit(1024);
    /// bio.write_in_vec(5, |vec| vec.extend_from_slice(b"hello")).unwrap();
    /// assert_eq!(bio.pending(), 5);
    /// // A ring cannot lend a Vec: the caller copies instead.
    /// let mut ring = RingBio::with_capacity(1024);
    /// assert!(ring.write_in_vec(5, |vec| vec.extend_from_slice(b"hello")).is_none());
    /// ```
    fn write_in_vec<T>(&mut self, min: usize, f: impl FnOnce(&mut Vec<u8>) -> T) -> Option<T> {
        let _ = (min, f);
        None
    }

    /// Marks the end of the stream: the writer will add nothing more
    /// (`BIO_shutdown_wr`, or `BIO_set_mem_eof_return(bio, 0)`).
    ///
    /// A driver calls this on the engine's read BIO when the transport
    /// reported end of file.
    fn shutdown_wr(&mut self);

    /// Whether [`shutdown_wr`](Bio::shutdown_wr) was called.
    fn is_shutdown_wr(&self) -> bool;

    /// Copies up to `buf.len()` pending bytes into `buf` and removes them.
    /// Returns how many were copied; 0 means the queue is empty (or `buf` is).
    fn read(&mut self, buf: &mut [u8]) -> usize {
        self.read_in_place(|data| {
            let n = data.len().min(buf.len());
            crate::copy::copy(&mut buf[..n], &data[..n]);
            (n, n)
        })
    }

    /// Copies as much of `buf` as fits into the queue. Returns how many bytes
    /// were taken; 0 means the queue is full (or `buf` is empty).
    fn write(&mut self, buf: &[u8]) -> usize {
        let n = buf.len().min(self.write_guarantee());
        if n == 0 {
            return 0;
        }
        self.write_in_place(n, |region| {
            crate::copy::copy(&mut region[..n], &buf[..n]);
            (n, n)
        })
        .unwrap_or(0)
    }

    /// Appends a whole chunk, or gives it back if it does not fit.
    ///
    /// The default copies; [`BytesBio`] keeps the chunk's memory.
    fn push_bytes(&mut self, chunk: Bytes) -> Result<(), Bytes> {
        if chunk.len() > self.write_guarantee() {
            return Err(chunk);
        }
        let written = self.write(&chunk);
        debug_assert_eq!(written, chunk.len());
        Ok(())
    }

    /// Removes and returns the pending bytes as one chunk, or `None` if the
    /// queue is empty.
    ///
    /// The default copies; [`BytesBio`] hands out its own chunks.
    fn pop_bytes(&mut self) -> Option<Bytes> {
        self.read_in_place(|data| {
            if data.is_empty() {
                (0, None)
            } else {
                (data.len(), Some(BytesMut::from(&data[..]).freeze()))
            }
        })
    }

    /// Gives back memory the queue keeps for future bytes, if it holds
    /// none now. For connections that go idle: the next write allocates
    /// again. The default does nothing; `VecBio` and `BytesBio` free their
    /// buffers, and so does `RingBio` (it allocates again as bytes arrive).
    fn release_memory(&mut self) {}

    /// Counters for tests and benchmarks.
    fn stats(&self) -> BioStats {
        BioStats::default()
    }
}

/// Counters a [`Bio`] keeps about its own work.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct BioStats {
    /// Bytes moved inside the queue to make a region contiguous (ring
    /// rotation, compaction, merging chunks). Zero on the fast path.
    pub bytes_moved: u64,
    /// Bytes copied in or out by [`Bio::push_bytes`] / [`Bio::pop_bytes`]
    /// because the chunk's memory could not be kept.
    pub bytes_copied: u64,
    /// The largest number of bytes the queue ever held at once.
    pub high_water: usize,
    /// Bytes zeroed to offer a writable region (safe Rust hands out only
    /// initialised memory): what [`Bio::write_in_place`] can cost on a
    /// fresh allocation. A plain [`Bio::write`] into `VecBio` or
    /// `BytesBio` zeroes nothing.
    pub bytes_zeroed: u64,
}

/// Clamps a closure's count to the region it was given, so that a buggy
/// closure can never corrupt the queue.
#[inline]
fn clamp(n: usize, len: usize) -> usize {
    n.min(len)
}
