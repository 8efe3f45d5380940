//! Queues with two owners, and [`pair`], the analogue of `BIO_new_bio_pair`.

use std::cell::RefCell;
use std::rc::Rc;
use std::sync::{Arc, Mutex, MutexGuard};

use bytes::Bytes;

use super::{Bio, BioStats, RingBio};

/// A handle to a queue that several owners share on one thread.
///
/// Cloning the handle clones the `Rc`, not the bytes: what one owner writes,
/// another reads. This is how the engine and a driver can each hold their
/// end of the same queue. For engines that move between threads use
/// [`SyncShared`].
#[derive(Debug)]
pub struct Shared<B>(Rc<RefCell<B>>);

impl<B> Shared<B> {
    /// Wraps `bio` in a shared handle.
    pub fn new(bio: B) -> Self {
        Self(Rc::new(RefCell::new(bio)))
    }
}

impl<B> Clone for Shared<B> {
    fn clone(&self) -> Self {
        Self(Rc::clone(&self.0))
    }
}

/// A handle to a queue shared across threads (`Send + Sync` when `B: Send`).
///
/// The lock is held only for the duration of one trait call. A poisoned
/// lock is recovered: every `Bio` method leaves its queue consistent before
/// it can panic.
#[derive(Debug)]
pub struct SyncShared<B>(Arc<Mutex<B>>);

impl<B> SyncShared<B> {
    /// Wraps `bio` in a shared, thread-safe handle.
    pub fn new(bio: B) -> Self {
        Self(Arc::new(Mutex::new(bio)))
    }

    fn lock(&self) -> MutexGuard<'_, B> {
        self.0
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

impl<B> Clone for SyncShared<B> {
    fn clone(&self) -> Self {
        Self(Arc::clone(&self.0))
    }
}

/// Implements `Bio` for a handle by forwarding every call to the queue
/// behind `$get`.
macro_rules! forward_bio {
    ($ty:ident, $get:ident, $get_mut:ident) => {
        impl<B: Bio> Bio for $ty<B> {
            fn pending(&self) -> usize {
                self.$get().pending()
            }
            fn write_guarantee(&self) -> usize {
                self.$get().write_guarantee()
            }
            fn read_in_place<T>(&mut self, f: impl FnOnce(&mut [u8]) -> (usize, T)) -> T {
                self.$get_mut().read_in_place(f)
            }
            fn write_in_place<T>(
                &mut self,
                min: usize,
                f: impl FnOnce(&mut [u8]) -> (usize, T),
            ) -> Option<T> {
                self.$get_mut().write_in_place(min, f)
            }
            fn write_in_vec<T>(
                &mut self,
                min: usize,
                f: impl FnOnce(&mut Vec<u8>) -> T,
            ) -> Option<T> {
                self.$get_mut().write_in_vec(min, f)
            }
            fn shutdown_wr(&mut self) {
                self.$get_mut().shutdown_wr()
            }
            fn is_shutdown_wr(&self) -> bool {
                self.$get().is_shutdown_wr()
            }
            fn read(&mut self, buf: &mut [u8]) -> usize {
                self.$get_mut().read(buf)
            }
            fn write(&mut self, buf: &[u8]) -> usize {
                self.$get_mut().write(buf)
            }
            fn push_bytes(&mut self, chunk: Bytes) -> Result<(), Bytes> {
                self.$get_mut().push_bytes(chunk)
            }
            fn pop_bytes(&mut self) -> Option<Bytes> {
                self.$get_mut().pop_bytes()
            }
            fn release_memory(&mut self) {
                self.$get_mut().release_memory()
            }
            fn stats(&self) -> BioStats {
                self.$get().stats()
            }
        }
    };
}

impl<B> Shared<B> {
    fn get(&self) -> std::cell::Ref<'_, B> {
        self.0.borrow()
    }
    fn get_mut(&self) -> std::cell::RefMut<'_, B> {
        self.0.borrow_mut()
    }
}

impl<B> SyncShared<B> {
    fn get_mut(&self) -> MutexGuard<'_, B> {
        self.lock()
    }
}

forward_bio!(Shared, get, get_mut);
forward_bio!(SyncShared, lock, get_mut);

/// One half of a [`pair`]: the queue this half reads from and the queue it
/// writes to.
///
/// Give one half to the engine (`rd` as its read BIO, `wr` as its write BIO)
/// and keep the other: what the engine writes, the other half reads, and
/// the other way round.
#[derive(Debug, Clone)]
pub struct PairHalf<B = RingBio> {
    /// The queue this half reads from (the other half's `wr`).
    pub rd: Shared<B>,
    /// The queue this half writes to (the other half's `rd`).
    pub wr: Shared<B>,
}

/// The thread-safe form of [`PairHalf`], from [`sync_pair`].
#[derive(Debug, Clone)]
pub struct SyncPairHalf<B = RingBio> {
    /// The queue this half reads from (the other half's `wr`).
    pub rd: SyncShared<B>,
    /// The queue this half writes to (the other half's `rd`).
    pub wr: SyncShared<B>,
}

/// Two connected halves, like `BIO_new_bio_pair(&a, cap_a_to_b, &b,
/// cap_b_to_a)`: bytes written to `a.wr` are read from `b.rd` (at most
/// `cap_a_to_b` at a time), and bytes written to `b.wr` from `a.rd`.
///
/// Each direction is a fixed [`RingBio`]; the halves can be owned
/// separately.
///
/// ```
/// use tlsbio::bio::{pair, Bio};
///
/// let (mut a, mut b) = pair(16, 16);
/// assert_eq!(a.wr.write(b"hello"), 5);
/// let mut buf = [0u8; 5];
/// assert_eq!(b.rd.read(&mut buf), 5);
/// assert_eq!(&buf, b"hello");
/// ```
pub fn pair(cap_a_to_b: usize, cap_b_to_a: usize) -> (PairHalf, PairHalf) {
    let ab = Shared::new(RingBio::with_capacity(cap_a_to_b));
    let ba = Shared::new(RingBio::with_capacity(cap_b_to_a));
    (
        PairHalf {
            rd: ba.clone(),
            wr: ab.clone(),
        },
        PairHalf { rd: ab, wr: ba },
    )
}

/// [`pair`] with thread-safe halves, for engines that move between threads.
///
/// ```
/// use tlsbio::bio::{sync_pair, Bio};
///
/// let (a, mut b) = sync_pair(16, 16);
/// std::thread::spawn(move || {
///     let mut a = a;
///     a.wr.write(b"hi")
/// })
/// .join()
/// .unwrap();
/// let mut buf = [0u8; 2];
/// assert_eq!(b.rd.read(&mut buf), 2);
/// ```
pub fn sync_pair(cap_a_to_b: usize, cap_b_to_a: usize) -> (SyncPairHalf, SyncPairHalf) {
    let ab = SyncShared::new(RingBio::with_capacity(cap_a_to_b));
    let ba = SyncShared::new(RingBio::with_capacity(cap_b_to_a));
    (
        SyncPairHalf {
            rd: ba.clone(),
            wr: ab.clone(),
        },
        SyncPairHalf { rd: ab, wr: ba },
    )
}
