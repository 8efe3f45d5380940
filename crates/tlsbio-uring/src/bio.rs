//! BIO memory the kernel can own for a while: [`LendBio`], [`Lease`] and
//! the crate's implementation, [`UringBio`].

use std::any::Any;
use std::cell::Cell;
use std::ptr::NonNull;
use std::rc::Rc;

use tlsbio::bio::{Bio, BioStats};

/// A region of a BIO's memory lent to the kernel for one operation.
///
/// The lease keeps the memory allocated: it holds a reference to the
/// allocation, so the memory outlives the BIO (and the connection) if they
/// are dropped while the operation is in flight. The driver drops the lease
/// when the operation's completion arrives, and not before.
pub struct Lease {
    ptr: NonNull<u8>,
    len: usize,
    _owner: Rc<dyn Any>,
}

impl Lease {
    /// A lease on `len` bytes at `ptr`.
    ///
    /// # Safety
    ///
    /// `ptr..ptr + len` must be one allocation's memory that stays
    /// allocated, and at the same address, for as long as `owner` is alive.
    pub unsafe fn from_raw_parts(ptr: NonNull<u8>, len: usize, owner: Rc<dyn Any>) -> Self {
        Self {
            ptr,
            len,
            _owner: owner,
        }
    }

    /// The first byte of the region.
    pub fn as_ptr(&self) -> *mut u8 {
        self.ptr.as_ptr()
    }

    /// The region's length.
    pub fn len(&self) -> usize {
        self.len
    }

    /// Whether the region is empty (a lender never lends one).
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }
}

impl std::fmt::Debug for Lease {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Lease")
            .field("ptr", &self.ptr)
            .field("len", &self.len)
            .finish()
    }
}

/// A [`Bio`] that can lend its memory to the kernel: the free region after
/// its pending bytes for a receive to fill, or its pending bytes for a send
/// to read, with the bytes committed when the completion arrives.
///
/// It is the completion-I/O counterpart of `Bio::write_in_place` and
/// `Bio::read_in_place`, whose closures cannot span the time between a
/// submission and its completion. Like `bytes::BufMut`, it is an `unsafe`
/// trait: the driver hands the lent memory to the kernel and relies on the
/// rules below for memory safety.
///
/// # Safety
///
/// An implementation must keep, for every lease it returns, until the
/// matching `return_*` call (and, for the memory itself, until the lease is
/// dropped):
///
/// 1. **The memory stays put.** The region is allocated, at the same
///    address, for as long as the [`Lease`] lives, even if the BIO is
///    dropped first.
/// 2. **Nobody else touches it.** While [`lend_free`](Self::lend_free)'s
///    region is out, no method writes to it or reads it, and the BIO moves
///    no bytes into it (no compaction or rotation); while
///    [`lend_pending`](Self::lend_pending)'s region is out, no method
///    writes to it or moves it (it may be read).
/// 3. **The queue stays consistent.** The pending bytes before a free-region
///    loan, and the bytes after a pending-region loan, may be read and
///    consumed, and bytes may be appended after a pending-region loan, as
///    long as rule 2 holds.
/// 4. **One loan of each kind at a time.** `lend_*` returns `None` while a
///    loan of the same kind is out.
pub unsafe trait LendBio: Bio {
    /// Lends up to `max` bytes of contiguous free room after the pending
    /// bytes, for the kernel to fill. `None` if there is no room (the BIO
    /// is full), `max` is 0, or a free-region loan is already out. While
    /// the loan is out the kernel is the BIO's only writer.
    fn lend_free(&mut self, max: usize) -> Option<Lease>;

    /// Ends the free-region loan: the kernel wrote `n` bytes at its start
    /// (clamped to the lent length), which become pending. `n = 0` adds
    /// nothing.
    fn return_free(&mut self, n: usize);

    /// Lends up to `max` of the pending bytes from the front, for the
    /// kernel to send. `None` if nothing is pending, `max` is 0, or a
    /// pending-region loan is already out.
    fn lend_pending(&mut self, max: usize) -> Option<Lease>;

    /// Ends the pending-region loan: the kernel took `n` bytes from its
    /// front (clamped to the lent length), which are consumed.
    fn return_pending(&mut self, n: usize);

    /// Whether any loan is out.
    fn is_lent(&self) -> bool;
}

/// A BIO's first allocation unless its first write needs more: a
/// ClientHello, or a server's first flight with a short chain. It doubles
/// from there as more is needed, up to the capacity.
const FIRST_ALLOCATION: usize = 4096;

thread_local! {
    static LIVE_ALLOCATIONS: Cell<usize> = const { Cell::new(0) };
}

/// How many [`UringBio`] allocations are alive on this thread, including
/// those kept alive only by leases whose operations are still in flight.
/// For tests and leak checks.
pub fn live_allocations() -> usize {
    LIVE_ALLOCATIONS.with(Cell::get)
}

/// One BIO's memory: a boxed slice turned into a raw pointer so that
/// leases can point into it while the BIO makes slices of other parts.
///
/// Zeroed when allocated and only ever written with initialised bytes
/// since (by Rust through `slice_mut`, by the kernel through leases), so
/// every byte of it is initialised for as long as it lives, including
/// when a [`BufferPool`] hands it to a new BIO.
pub(crate) struct Storage {
    ptr: NonNull<u8>,
    len: usize,
}

impl Storage {
    fn new(len: usize) -> Rc<Self> {
        let boxed: Box<[u8]> = vec![0u8; len].into_boxed_slice();
        let ptr = NonNull::from(Box::leak(boxed)).cast::<u8>();
        LIVE_ALLOCATIONS.with(|n| n.set(n.get() + 1));
        Rc::new(Self { ptr, len })
    }
}

impl Drop for Storage {
    fn drop(&mut self) {
        LIVE_ALLOCATIONS.with(|n| n.set(n.get() - 1));
        let slice = std::ptr::slice_from_raw_parts_mut(self.ptr.as_ptr(), self.len);
        // No lease outlives the storage (each holds an `Rc` to it), so
        // nothing, kernel included, uses the memory after this.
        // SAFETY: `ptr`/`len` came from `Box::leak` of a `Box<[u8]>` of this
        // length in `Storage::new`; this is the only place that frees it.
        drop(unsafe { Box::from_raw(slice) });
    }
}

/// A bounded BIO whose memory the kernel can own while an operation is in
/// flight ([`LendBio`]).
///
/// Its bytes live in one allocation, made on first use (4 KiB, or what the
/// first write needs) and doubled as more is needed, never beyond the
/// capacity; [`Bio::release_memory`] gives it back when the BIO is empty
/// and nothing is lent (so an idle connection holds no buffer). Pending
/// bytes are `[start, end)`; consumed bytes at the front are reclaimed by
/// moving the live bytes back, only when nothing is lent (counted in
/// [`BioStats::bytes_moved`]).
///
/// Growing makes a new allocation and copies the pending bytes into it
/// (counted in `bytes_moved` too). It never happens while a free-region
/// loan is out: the kernel is writing into the old allocation. While a
/// pending-region loan is out it may: the kernel goes on sending from the
/// old allocation, which its lease keeps alive, and the bytes there are
/// the same bytes.
///
/// ```
/// use tlsbio::bio::Bio;
/// use tlsbio_uring::{LendBio, UringBio};
///
/// let mut bio = UringBio::with_capacity(64);
/// let lease = bio.lend_free(16).unwrap();
/// assert_eq!(lease.len(), 16);
/// // ... the kernel writes 5 bytes at `lease.as_ptr()` ...
/// bio.return_free(5);
/// drop(lease);
/// assert_eq!(bio.pending(), 5);
/// ```
pub struct UringBio {
    storage: Option<Rc<Storage>>,
    capacity: usize,
    start: usize,
    end: usize,
    /// Length of the free-region loan at `end`, if one is out.
    free_lent: Option<usize>,
    /// Length of the pending-region loan at `start`, if one is out.
    pending_lent: Option<usize>,
    /// The last receive filled all the room it was lent: the peer sends
    /// faster than that, so the next loan comes after doubling.
    filled: bool,
    eof: bool,
    stats: BioStats,
}

impl std::fmt::Debug for UringBio {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("UringBio")
            .field("capacity", &self.capacity)
            .field("allocated", &self.storage.is_some())
            .field("start", &self.start)
            .field("end", &self.end)
            .field("free_lent", &self.free_lent)
            .field("pending_lent", &self.pending_lent)
            .field("eof", &self.eof)
            .finish()
    }
}

impl UringBio {
    /// An empty BIO that holds at most `capacity` bytes (at least 1). No
    /// memory is allocated until bytes arrive, and then only as much as
    /// they need, doubling.
    pub fn with_capacity(capacity: usize) -> Self {
        Self {
            storage: None,
            capacity: capacity.max(1),
            start: 0,
            end: 0,
            free_lent: None,
            pending_lent: None,
            filled: false,
            eof: false,
            stats: BioStats::default(),
        }
    }

    /// The most bytes it holds (and allocates).
    pub fn capacity(&self) -> usize {
        self.capacity
    }

    /// Contiguous free room after the pending bytes in the current
    /// allocation, without compacting or growing: what
    /// [`LendBio::lend_free`] could lend without moving a byte.
    pub fn tail_room(&self) -> usize {
        if self.start == self.end && !self.is_lent() {
            self.allocated().max(FIRST_ALLOCATION.min(self.capacity))
        } else {
            self.allocated() - self.end
        }
    }

    /// Moves the pending bytes to the front (if nothing is lent), so that
    /// all the free room follows them: for a driver that knows the
    /// pending bytes are few (the start of a record) and the tail short.
    pub fn compact_now(&mut self) {
        self.compact();
    }

    /// Bytes currently allocated: at most the capacity, 0 before the first
    /// use and after [`Bio::release_memory`].
    pub fn allocated(&self) -> usize {
        self.storage.as_ref().map_or(0, |s| s.len)
    }

    fn storage(&mut self) -> &Rc<Storage> {
        if self.storage.is_none() {
            // Nothing is lent without storage, so this allocates.
            self.grow_to(1);
        }
        self.storage
            .as_ref()
            .expect("grow_to allocates when nothing is lent")
    }

    /// Moves the pending bytes to the front of a new allocation of at least
    /// `len` bytes (doubling from the current size, or from 4 KiB, at most
    /// the capacity; the same size when that is already enough, for a
    /// pending-region loan that keeps the bytes from being compacted).
    /// Never while a free-region loan is out (the kernel writes into the
    /// old allocation). While a pending-region loan is out the kernel keeps
    /// sending from the old allocation, which its lease keeps alive, and
    /// the loan now stands for the same bytes at the front of the new one.
    fn grow_to(&mut self, len: usize) {
        if self.free_lent.is_some() {
            return;
        }
        let len = len.min(self.capacity);
        let old = self.allocated();
        let mut new_len = old.max(FIRST_ALLOCATION).min(self.capacity);
        while new_len < len {
            new_len = (new_len * 2).min(self.capacity);
        }
        let new = Storage::new(new_len);
        let (start, end) = (self.start, self.end);
        if start < end {
            let old = self.storage.as_ref().expect("pending bytes are stored");
            // SAFETY: `start < end <= old.len`: inside the old allocation.
            let src = unsafe { old.ptr.as_ptr().add(start) };
            // The old range is initialised (see `Storage`) and only read
            // here: no free-region loan is out (checked above), and a
            // pending-region loan lets the kernel read it too, never write.
            // The new allocation is this function's alone (no lease names
            // it yet) and at least `end - start` bytes long.
            // SAFETY: both ranges are valid for `end - start` bytes and
            // belong to different allocations, so they do not overlap.
            unsafe { std::ptr::copy_nonoverlapping(src, new.ptr.as_ptr(), end - start) };
            self.stats.bytes_moved += (end - start) as u64;
        }
        self.storage = Some(new);
        self.start = 0;
        self.end = end - start;
    }

    /// `[from, to)` of the storage as a mutable slice.
    ///
    /// Callers only ask for ranges that no loan covers (checked in debug
    /// builds), and the slice lives no longer than the `&mut self` borrow.
    fn slice_mut(&mut self, from: usize, to: usize) -> &mut [u8] {
        debug_assert!(from <= to && to <= self.capacity);
        debug_assert!(to <= self.allocated() || from == to);
        debug_assert!(!self.overlaps_loan(from, to), "slice over lent memory");
        if from == to {
            return &mut [];
        }
        let storage = self.storage();
        // SAFETY: `from < to <= storage.len` (callers slice inside the
        // allocation, checked above in debug builds): the offset stays
        // inside the allocation.
        let start = unsafe { storage.ptr.as_ptr().add(from) };
        // The range is inside the allocation, which `self.storage` keeps
        // alive for the borrow of `self`, and initialised (see `Storage`);
        // no loan covers it (the callers' rule, checked above
        // in debug builds), so the kernel neither reads nor writes it now.
        // SAFETY: all of the above, and `&mut self` makes this the only
        // Rust reference to the range.
        unsafe { std::slice::from_raw_parts_mut(start, to - from) }
    }

    fn overlaps_loan(&self, from: usize, to: usize) -> bool {
        let overlaps = |at: usize, len: usize| from < at + len && at < to;
        self.free_lent.is_some_and(|len| overlaps(self.end, len))
            || self
                .pending_lent
                .is_some_and(|len| overlaps(self.start, len))
    }

    /// Moves the pending bytes to the front, if nothing is lent.
    fn compact(&mut self) {
        if self.start == 0 || self.is_lent() {
            return;
        }
        let (start, end) = (self.start, self.end);
        if start < end {
            self.slice_mut(0, end).copy_within(start..end, 0);
            self.stats.bytes_moved += (end - start) as u64;
        }
        self.start = 0;
        self.end = end - start;
    }

    fn lease(&mut self, at: usize, len: usize) -> Lease {
        let storage = self.storage().clone();
        debug_assert!(at + len <= storage.len);
        // SAFETY: `at + len <= storage.len`: both callers lend inside the
        // allocation, so the pointer stays inside it.
        let ptr = unsafe { storage.ptr.add(at) };
        // SAFETY: the range is inside `storage`'s allocation, which never
        // moves and is freed only when the last `Rc` (this lease's among
        // them) is dropped.
        unsafe { Lease::from_raw_parts(ptr, len, storage) }
    }
}

impl Bio for UringBio {
    fn pending(&self) -> usize {
        self.end - self.start
    }

    /// While a free-region loan is out, the room the kernel may still fill
    /// counts: the kernel is the writer then. While a pending-region loan
    /// is out, only the tail can take bytes (nothing may move).
    fn write_guarantee(&self) -> usize {
        if self.pending_lent.is_some() && self.allocated() == self.capacity {
            self.capacity - self.end
        } else {
            // Compacting, or growing (which copies the pending bytes to the
            // front of the new allocation), frees all of it.
            self.capacity - self.pending()
        }
    }

    /// Shows the pending bytes; while a pending-region loan is out, none
    /// (the kernel is sending the front, and the rest must stay behind it).
    fn read_in_place<T>(&mut self, f: impl FnOnce(&mut [u8]) -> (usize, T)) -> T {
        let (start, end) = if self.pending_lent.is_some() {
            (self.start, self.start)
        } else {
            (self.start, self.end)
        };
        let region = self.slice_mut(start, end);
        let len = region.len();
        let (n, out) = f(region);
        self.start += n.min(len);
        if self.start == self.end && !self.is_lent() {
            self.start = 0;
            self.end = 0;
        }
        out
    }

    /// Refuses (`None`) while a free-region loan is out: the kernel is the
    /// writer then.
    fn write_in_place<T>(
        &mut self,
        min: usize,
        f: impl FnOnce(&mut [u8]) -> (usize, T),
    ) -> Option<T> {
        if self.free_lent.is_some() || min > self.write_guarantee() {
            return None;
        }
        let want = min.max(1);
        if self.allocated() - self.end < want {
            self.compact();
            if self.allocated() - self.end < want {
                self.grow_to(self.pending() + want);
            }
        }
        let (from, to) = (self.end, self.allocated());
        let region = self.slice_mut(from, to);
        let len = region.len();
        let (n, out) = f(region);
        self.end += n.min(len);
        self.stats.high_water = self.stats.high_water.max(self.pending());
        Some(out)
    }

    fn shutdown_wr(&mut self) {
        self.eof = true;
    }

    fn is_shutdown_wr(&self) -> bool {
        self.eof
    }

    /// Gives the allocation back when the BIO is empty and nothing is lent.
    fn release_memory(&mut self) {
        if self.start == self.end && !self.is_lent() {
            self.storage = None;
            self.filled = false;
            self.start = 0;
            self.end = 0;
        }
    }

    fn stats(&self) -> BioStats {
        self.stats
    }
}

impl UringBio {
    /// An empty BIO of `capacity` bytes on `storage`, memory of at most
    /// that many bytes that no lease names (a [`BufferPool`] checks both
    /// before it calls this).
    fn on_storage(capacity: usize, storage: Rc<Storage>) -> Self {
        debug_assert!(storage.len <= capacity);
        Self {
            storage: Some(storage),
            ..Self::with_capacity(capacity)
        }
    }

    /// The BIO's memory, if it has any, for a [`BufferPool`]. A lease still
    /// out keeps its own reference to it.
    fn into_storage(self) -> Option<Rc<Storage>> {
        self.storage
    }
}

/// Memory of retired connections' BIOs, for new connections to start on:
/// no allocation, and no zeroing, per connection.
///
/// A buffer is handed out again only once nothing else refers to it
/// (`Rc::get_mut` succeeds): every operation that named it has completed
/// and dropped its lease, so the kernel is done with it. One still lent to
/// an operation in flight (a retired connection's cancelled receive) waits
/// in the pool until that completion arrives. At most `max` buffers are
/// kept, each no larger than the capacity of the BIO it came from.
#[derive(Debug)]
pub(crate) struct BufferPool {
    buffers: Vec<Rc<Storage>>,
    max: usize,
    reused: u64,
}

impl std::fmt::Debug for Storage {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Storage").field("len", &self.len).finish()
    }
}

impl BufferPool {
    /// A pool that keeps at most `max` buffers.
    pub(crate) fn new(max: usize) -> Self {
        Self {
            buffers: Vec::new(),
            max,
            reused: 0,
        }
    }

    /// Keeps at most `max` buffers from now on; 0 turns the pool off.
    pub(crate) fn set_max(&mut self, max: usize) {
        self.max = max;
        self.buffers.truncate(max);
        self.buffers.shrink_to_fit();
    }

    /// A BIO of `capacity` bytes, on the largest pooled buffer no larger
    /// than that which no lease names, if there is one; otherwise a new
    /// BIO, which allocates on first use.
    pub(crate) fn bio(&mut self, capacity: usize) -> UringBio {
        let capacity = capacity.max(1);
        let free = (self.buffers.iter_mut().enumerate())
            .filter(|(_, s)| s.len <= capacity)
            .filter_map(|(i, s)| Some((i, Rc::get_mut(s)?.len)))
            .max_by_key(|&(_, len)| len)
            .map(|(i, _)| i);
        match free {
            Some(i) => {
                self.reused += 1;
                UringBio::on_storage(capacity, self.buffers.swap_remove(i))
            }
            None => UringBio::with_capacity(capacity),
        }
    }

    /// Keeps `bio`'s memory, if it has any and the pool has room.
    pub(crate) fn put(&mut self, bio: UringBio) {
        if let Some(storage) = bio.into_storage() {
            if self.buffers.len() < self.max {
                self.buffers.push(storage);
            }
        }
    }

    /// Buffers in the pool, lent ones included.
    pub(crate) fn len(&self) -> usize {
        self.buffers.len()
    }

    /// Buffers handed to new BIOs so far.
    pub(crate) fn reused(&self) -> u64 {
        self.reused
    }
}

// `LendBio`'s rules, one by one. (1) Leases hold an `Rc` to the storage,
// which is freed only when the last one goes, and the storage never
// reallocates (`storage` is replaced only in `release_memory`, and only
// when nothing is lent). (2)
// Every slice the BIO makes goes through `slice_mut`, whose ranges avoid
// both loans: `read_in_place` shows `[start, end)`, which excludes the free
// loan at `end` and, while the pending loan at `start` is out, shows
// nothing; `write_in_place` refuses while the free loan is out and writes
// only after `end`, so never into the pending loan; `compact` does nothing
// while anything is lent. (3) `start` and `end` stay put while their loans
// are out: `read_in_place` resets them only when nothing is lent, and only
// `return_*` moves them across a loan. (4) Each `lend_*` checks its own
// loan first.
// SAFETY: the four rules hold, as just shown.
unsafe impl LendBio for UringBio {
    fn lend_free(&mut self, max: usize) -> Option<Lease> {
        if self.free_lent.is_some() || max == 0 || self.eof {
            return None;
        }
        if self.pending() == 0 && self.pending_lent.is_none() {
            self.start = 0;
            self.end = 0;
        }
        let allocated = self.allocated();
        let short = self.filled || self.pending() > allocated / 2;
        if allocated == 0 || (short && allocated < self.capacity) {
            // Doubled when the last receive found more than it had room
            // for, and so that at least half of it stays for the kernel.
            self.grow_to((allocated * 2).max(1));
        } else if self.end == allocated {
            self.compact();
        }
        let len = (self.allocated() - self.end).min(max);
        if len == 0 {
            return None;
        }
        self.free_lent = Some(len);
        Some(self.lease(self.end, len))
    }

    fn return_free(&mut self, n: usize) {
        let Some(len) = self.free_lent.take() else {
            return;
        };
        self.filled = n >= len;
        self.end += n.min(len);
        self.stats.high_water = self.stats.high_water.max(self.pending());
    }

    fn lend_pending(&mut self, max: usize) -> Option<Lease> {
        if self.pending_lent.is_some() || max == 0 {
            return None;
        }
        let len = self.pending().min(max);
        if len == 0 {
            return None;
        }
        self.pending_lent = Some(len);
        Some(self.lease(self.start, len))
    }

    fn return_pending(&mut self, n: usize) {
        let Some(len) = self.pending_lent.take() else {
            return;
        };
        self.start += n.min(len);
        if self.start == self.end && !self.is_lent() {
            self.start = 0;
            self.end = 0;
        }
    }

    fn is_lent(&self) -> bool {
        self.free_lent.is_some() || self.pending_lent.is_some()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// What the kernel does with a free-region lease: writes into it.
    fn kernel_fill(lease: &Lease, bytes: &[u8]) -> usize {
        let n = bytes.len().min(lease.len());
        // SAFETY: the lease is alive, so its `len` bytes are allocated,
        // and the BIO touches none of them until `return_free`.
        unsafe { std::ptr::copy_nonoverlapping(bytes.as_ptr(), lease.as_ptr(), n) };
        n
    }

    /// What the kernel does with a pending-region lease: reads it.
    fn kernel_take(lease: &Lease, n: usize) -> Vec<u8> {
        let n = n.min(lease.len());
        // SAFETY: as above; the BIO does not write the pending loan.
        unsafe { std::slice::from_raw_parts(lease.as_ptr(), n) }.to_vec()
    }

    #[test]
    fn a_filled_loan_becomes_pending_bytes_in_order() {
        let mut bio = UringBio::with_capacity(32);
        assert_eq!(bio.write(b"abc"), 3);
        let lease = bio.lend_free(8).unwrap();
        assert_eq!(lease.len(), 8);
        // The pending bytes before the loan can be read meanwhile.
        let mut out = [0u8; 2];
        assert_eq!(bio.read(&mut out), 2);
        assert_eq!(&out, b"ab");
        // No Rust writer while the kernel is the writer.
        assert_eq!(bio.write(b"x"), 0);
        assert!(bio.lend_free(8).is_none(), "one free loan at a time");
        let n = kernel_fill(&lease, b"defgh");
        bio.return_free(n);
        drop(lease);
        let mut all = [0u8; 16];
        assert_eq!(bio.read(&mut all), 6);
        assert_eq!(&all[..6], b"cdefgh");
    }

    #[test]
    fn a_sent_loan_is_consumed_and_appends_go_behind_it() {
        let mut bio = UringBio::with_capacity(16);
        assert_eq!(bio.write(b"0123456789"), 10);
        let lease = bio.lend_pending(usize::MAX).unwrap();
        assert_eq!(lease.len(), 10);
        // Nothing can be read around the kernel, and only the tail takes
        // bytes: nothing may move.
        assert_eq!(bio.read(&mut [0u8; 4]), 0);
        assert_eq!(bio.write_guarantee(), 6);
        assert_eq!(bio.write(b"abcdefgh"), 6);
        assert_eq!(kernel_take(&lease, 4), b"0123");
        bio.return_pending(4);
        drop(lease);
        assert_eq!(bio.pending(), 12);
        let mut all = [0u8; 16];
        assert_eq!(bio.read(&mut all), 12);
        assert_eq!(&all[..12], b"456789abcdef");
        assert_eq!(bio.stats().bytes_moved, 0);
    }

    #[test]
    fn the_memory_outlives_a_dropped_bio_until_the_lease_goes() {
        let before = live_allocations();
        let mut bio = UringBio::with_capacity(64);
        let lease = bio.lend_free(64).unwrap();
        assert_eq!(live_allocations(), before + 1);
        drop(bio);
        // The kernel may still write: the memory must be there.
        assert_eq!(live_allocations(), before + 1);
        assert_eq!(kernel_fill(&lease, &[0xAA; 64]), 64);
        drop(lease);
        assert_eq!(live_allocations(), before);
    }

    #[test]
    fn release_memory_waits_for_the_loans_and_the_bytes() {
        let mut bio = UringBio::with_capacity(64);
        assert_eq!(bio.allocated(), 0, "nothing until first use");
        let lease = bio.lend_free(10).unwrap();
        bio.release_memory();
        assert_eq!(bio.allocated(), 64, "lent: kept");
        bio.return_free(kernel_fill(&lease, b"hi"));
        drop(lease);
        bio.release_memory();
        assert_eq!(bio.allocated(), 64, "bytes pending: kept");
        assert_eq!(bio.read(&mut [0u8; 2]), 2);
        bio.release_memory();
        assert_eq!(bio.allocated(), 0);
    }

    #[test]
    fn consumed_front_is_reclaimed_between_loans_only() {
        let mut bio = UringBio::with_capacity(64);
        assert_eq!(bio.write(&[1; 60]), 60);
        assert_eq!(bio.read(&mut [0u8; 10]), 10);
        // A short tail is lent as it is: a short receive costs less than
        // moving the pending bytes.
        let lease = bio.lend_free(16).unwrap();
        assert_eq!(lease.len(), 4);
        bio.return_free(4);
        drop(lease);
        assert_eq!(bio.stats().bytes_moved, 0);
        // No tail at all brings the front back.
        let lease = bio.lend_free(16).unwrap();
        assert_eq!(lease.len(), 10);
        assert_eq!(bio.stats().bytes_moved, 54);
        // Not while anything is lent.
        bio.compact_now();
        assert_eq!(bio.stats().bytes_moved, 54);
        bio.return_free(0);
        drop(lease);
        // A driver that knows the pending bytes are few asks for it.
        assert_eq!(bio.read(&mut [0u8; 50]), 50);
        assert_eq!(bio.tail_room(), 10);
        bio.compact_now();
        assert_eq!(bio.tail_room(), 60);
        assert_eq!(bio.stats().bytes_moved, 58);
    }

    #[test]
    fn counts_are_clamped_to_the_loan() {
        let mut bio = UringBio::with_capacity(8);
        let lease = bio.lend_free(4).unwrap();
        bio.return_free(1000);
        drop(lease);
        assert_eq!(bio.pending(), 4);
        let lease = bio.lend_pending(2).unwrap();
        bio.return_pending(1000);
        drop(lease);
        assert_eq!(bio.pending(), 2);
        // A return without a loan changes nothing.
        bio.return_free(3);
        bio.return_pending(3);
        assert_eq!(bio.pending(), 2);
    }

    #[test]
    fn a_full_or_ended_bio_lends_no_free_room() {
        let mut bio = UringBio::with_capacity(4);
        assert_eq!(bio.write(b"full"), 4);
        assert!(bio.lend_free(4).is_none());
        let mut bio = UringBio::with_capacity(4);
        bio.shutdown_wr();
        assert!(bio.lend_free(4).is_none());
        assert!(bio.lend_pending(4).is_none(), "nothing pending");
    }

    #[test]
    fn a_pooled_buffer_is_handed_out_only_after_its_lease_is_dropped() {
        let before = live_allocations();
        let mut pool = BufferPool::new(4);
        let mut bio = pool.bio(64);
        assert_eq!(bio.write(b"abc"), 3);
        // A receive in flight when the connection retires.
        let lease = bio.lend_free(16).unwrap();
        pool.put(bio);
        assert_eq!(pool.len(), 1);
        let other = pool.bio(64);
        assert_eq!(other.allocated(), 0, "a lent buffer is not handed out");
        assert_eq!(pool.reused(), 0);
        // Its completion arrives: the kernel is done with the memory.
        kernel_fill(&lease, b"late");
        drop(lease);
        let mut reused = pool.bio(64);
        assert_eq!(pool.reused(), 1);
        assert_eq!(pool.len(), 0);
        assert_eq!(reused.allocated(), 64, "it starts on the pooled buffer");
        assert_eq!(live_allocations(), before + 1, "and allocates nothing");
        // None of the old bytes show; the BIO is empty and works.
        assert_eq!(reused.pending(), 0);
        assert_eq!(reused.read(&mut [0u8; 8]), 0);
        assert_eq!(reused.write(b"xy"), 2);
        let mut out = [0u8; 8];
        assert_eq!(reused.read(&mut out), 2);
        assert_eq!(&out[..2], b"xy");
        drop((reused, other, pool));
        assert_eq!(live_allocations(), before);
    }

    #[test]
    fn the_pool_keeps_only_memory_it_can_hand_out() {
        let mut off = BufferPool::new(0);
        let mut bio = off.bio(64);
        bio.write(b"a");
        off.put(bio);
        assert_eq!(off.len(), 0, "a pool of 0 keeps nothing");

        let mut pool = BufferPool::new(1);
        pool.put(UringBio::with_capacity(64));
        assert_eq!(pool.len(), 0, "a BIO that never allocated gives nothing");
        let (mut a, mut b) = (pool.bio(64), pool.bio(64));
        a.write(b"a");
        b.write(b"b");
        pool.put(a);
        pool.put(b);
        assert_eq!(pool.len(), 1, "at most max buffers");
        assert_eq!(
            pool.bio(32).allocated(),
            0,
            "no buffer larger than the capacity asked for"
        );
        pool.set_max(0);
        assert_eq!(pool.len(), 0);
        assert_eq!(pool.reused(), 0);
    }

    #[test]
    fn it_allocates_what_it_needs_doubling_up_to_its_capacity() {
        let mut bio = UringBio::with_capacity(40_000);
        assert_eq!(bio.allocated(), 0);
        assert_eq!(bio.write(&[1; 100]), 100);
        assert_eq!(bio.allocated(), FIRST_ALLOCATION);
        // A write that needs more: doubled until it fits, bytes kept.
        assert_eq!(bio.write(&[2; 9_000]), 9_000);
        assert_eq!(bio.allocated(), 16_384);
        assert_eq!(
            bio.stats().bytes_moved,
            100,
            "the pending bytes, copied once"
        );
        assert_eq!(bio.write(&[3; 40_000]), 40_000 - 9_100);
        assert_eq!(bio.allocated(), 40_000, "never beyond the capacity");
        assert_eq!(bio.write_guarantee(), 0);
        let mut all = vec![0u8; 40_000];
        assert_eq!(bio.read(&mut all), 40_000);
        assert!(all[..100].iter().all(|&b| b == 1));
        assert!(all[100..9_100].iter().all(|&b| b == 2));
        assert!(all[9_100..].iter().all(|&b| b == 3));
        // A large first write allocates what it needs at once.
        let mut big = UringBio::with_capacity(40_000);
        assert_eq!(big.write(&[0; 20_000]), 20_000);
        assert_eq!(big.allocated(), 32_768);
        assert_eq!(big.stats().bytes_moved, 0);
    }

    #[test]
    fn a_receive_loan_grows_only_between_completions() {
        let before = live_allocations();
        let mut bio = UringBio::with_capacity(64 * 1024);
        let lease = bio.lend_free(usize::MAX).unwrap();
        assert_eq!(
            lease.len(),
            FIRST_ALLOCATION,
            "the first receive gets 4 KiB"
        );
        // While the kernel may write, nothing moves: no write, no growth.
        assert_eq!(bio.write(b"x"), 0);
        assert_eq!(bio.allocated(), FIRST_ALLOCATION);
        kernel_fill(&lease, &[7; FIRST_ALLOCATION]);
        bio.return_free(FIRST_ALLOCATION);
        drop(lease);
        // It filled the allocation: the next loan comes after doubling.
        let lease = bio.lend_free(usize::MAX).unwrap();
        assert_eq!(bio.allocated(), 2 * FIRST_ALLOCATION);
        assert_eq!(lease.len(), FIRST_ALLOCATION);
        assert_eq!(
            live_allocations(),
            before + 1,
            "the old allocation is freed"
        );
        kernel_fill(&lease, &[8; 10]);
        bio.return_free(10);
        drop(lease);
        let mut all = vec![0u8; 2 * FIRST_ALLOCATION];
        assert_eq!(bio.read(&mut all), FIRST_ALLOCATION + 10);
        assert!(all[..FIRST_ALLOCATION].iter().all(|&b| b == 7));
        assert!(all[FIRST_ALLOCATION..FIRST_ALLOCATION + 10]
            .iter()
            .all(|&b| b == 8));
    }

    #[test]
    fn growing_under_a_send_loan_leaves_the_kernel_its_bytes() {
        let before = live_allocations();
        let mut bio = UringBio::with_capacity(64 * 1024);
        assert_eq!(bio.write(&[1; 3_000]), 3_000);
        let lease = bio.lend_pending(usize::MAX).unwrap();
        assert_eq!(lease.len(), 3_000);
        // More than the first allocation holds, while the kernel sends
        // from it: a new allocation, the old one kept for the kernel.
        assert_eq!(bio.write_guarantee(), 64 * 1024 - 3_000);
        assert_eq!(bio.write(&[2; 6_000]), 6_000);
        assert_eq!(bio.allocated(), 16_384);
        assert_eq!(live_allocations(), before + 2);
        assert_eq!(kernel_take(&lease, 3_000), vec![1; 3_000]);
        bio.return_pending(3_000);
        drop(lease);
        assert_eq!(live_allocations(), before + 1);
        let mut all = vec![0u8; 8_000];
        assert_eq!(bio.read(&mut all), 6_000);
        assert!(all[..6_000].iter().all(|&b| b == 2));
    }

    #[derive(Clone, Debug)]
    enum Op {
        Write(usize),
        Read(usize),
        LendFree(usize),
        ReturnFree(usize),
        LendPending(usize),
        ReturnPending(usize),
        Release,
    }

    fn op() -> impl proptest::strategy::Strategy<Value = Op> {
        use proptest::prelude::*;
        let len = || prop_oneof![0..64usize, 0..5_000usize, 0..40_000usize];
        prop_oneof![
            len().prop_map(Op::Write),
            len().prop_map(Op::Read),
            len().prop_map(|n| Op::LendFree(n.max(1))),
            len().prop_map(Op::ReturnFree),
            len().prop_map(|n| Op::LendPending(n.max(1))),
            len().prop_map(Op::ReturnPending),
            Just(Op::Release),
        ]
    }

    proptest::proptest! {
        /// Any interleaving of writes, reads, both loans (the kernel's side
        /// played by the test) and releases keeps the bytes a queue would
        /// hold, in order; a write the guarantee covers is taken whole; the
        /// allocation stays within the capacity; a send loan's memory holds
        /// the bytes it was lent for until it is returned, growth or not;
        /// and nothing is left allocated at the end.
        #[test]
        fn it_behaves_as_a_queue_whatever_the_loans(
            capacity in proptest::prop_oneof![1..200usize, 4_000..9_000usize, 60_000..70_000usize],
            ops in proptest::collection::vec(op(), 1..60),
        ) {
            let before = live_allocations();
            let mut bio = UringBio::with_capacity(capacity);
            let mut model = std::collections::VecDeque::<u8>::new();
            let mut next = 0u8;
            let mut pattern = |n: usize| -> Vec<u8> {
                (0..n).map(|_| { next = next.wrapping_add(1); next }).collect()
            };
            let mut free: Option<Lease> = None;
            let mut sending: Option<(Lease, Vec<u8>)> = None;
            for op in ops {
                match op {
                    Op::Write(n) => {
                        let guarantee = bio.write_guarantee();
                        let data = pattern(n);
                        let took = bio.write(&data);
                        let expected = if free.is_some() { 0 } else { n.min(guarantee) };
                        proptest::prop_assert_eq!(took, expected);
                        model.extend(&data[..took]);
                    }
                    Op::Read(n) => {
                        let mut buf = vec![0u8; n];
                        let got = bio.read(&mut buf);
                        if sending.is_some() {
                            proptest::prop_assert_eq!(got, 0);
                        } else {
                            let expected: Vec<u8> = model.drain(..n.min(model.len())).collect();
                            proptest::prop_assert_eq!(&buf[..got], &expected[..]);
                        }
                    }
                    Op::LendFree(max) => {
                        if free.is_none() {
                            free = bio.lend_free(max);
                            if let Some(lease) = &free {
                                proptest::prop_assert!(lease.len() <= max);
                                proptest::prop_assert!(model.len() + lease.len() <= capacity);
                            }
                        }
                    }
                    Op::ReturnFree(n) => {
                        if let Some(lease) = free.take() {
                            let data = pattern(n.min(lease.len()));
                            let n = kernel_fill(&lease, &data);
                            bio.return_free(n);
                            model.extend(&data[..n]);
                        }
                    }
                    Op::LendPending(max) => {
                        if sending.is_none() {
                            if let Some(lease) = bio.lend_pending(max) {
                                let front: Vec<u8> = model.iter().take(lease.len()).copied().collect();
                                proptest::prop_assert_eq!(kernel_take(&lease, lease.len()), front.clone());
                                sending = Some((lease, front));
                            }
                        }
                    }
                    Op::ReturnPending(n) => {
                        if let Some((lease, lent)) = sending.take() {
                            // The kernel still finds the bytes it was lent.
                            proptest::prop_assert_eq!(kernel_take(&lease, lease.len()), lent);
                            let n = n.min(lease.len());
                            bio.return_pending(n);
                            model.drain(..n);
                        }
                    }
                    Op::Release => bio.release_memory(),
                }
                proptest::prop_assert_eq!(bio.pending(), model.len());
                proptest::prop_assert!(bio.allocated() <= capacity);
            }
            drop((free, sending, bio));
            proptest::prop_assert_eq!(live_allocations(), before);
        }
    }
}
