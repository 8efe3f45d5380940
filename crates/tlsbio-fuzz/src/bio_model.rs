//! `bio_model`: every `Bio` against a `VecDeque`.

use std::collections::VecDeque;

use arbitrary::{Arbitrary, Unstructured};
use bytes::{Bytes, BytesMut};
use tlsbio::bio::{pair, sync_pair, Bio, BytesBio, RingBio, Shared, VecBio};

/// The most operations one input runs.
const MAX_OPS: usize = 512;

#[derive(Arbitrary, Debug)]
struct Input {
    /// The capacity, minus one, modulo 4096: small enough that the
    /// operations fill it.
    capacity: u16,
    ops: Vec<Op>,
}

#[derive(Arbitrary, Debug)]
enum Op {
    Write(Vec<u8>),
    Read(u16),
    ReadInPlace {
        consume: u16,
    },
    WriteInPlace {
        min: u16,
        commit: u16,
    },
    /// `append` is cut to `min`, as the engine promises.
    WriteInVec {
        min: u16,
        append: u16,
    },
    Push(Vec<u8>),
    Pop,
    ShutdownWr,
    ReleaseMemory,
}

/// Differential: the same operation sequence on every `Bio` (`VecBio`,
/// `RingBio`, `BytesBio`, both pair halves' shared queues) and on a
/// `VecDeque` with a capacity. After every operation each BIO must have
/// returned the model's bytes and counts, and agree with it on `pending`,
/// `write_guarantee` and `is_shutdown_wr` (also across `release_memory`,
/// which must never drop a pending byte); an in-place write succeeds
/// exactly when `min` fits in the room left, and so does a write into a
/// lent `Vec` on the BIOs that lend one (`VecBio`, `BytesBio`, a `Shared`
/// `VecBio`); the others refuse it. A `VecBio` made with `with_buffer`
/// on another's memory must behave exactly as a fresh one: on the
/// buffer of a `VecBio` that ran the same operations (`into_vec`), and on
/// a buffer larger than the limit and full of other bytes, none of which
/// may ever be read.
pub fn bio_model(data: &[u8]) {
    let Ok(input) = Input::arbitrary_take_rest(Unstructured::new(data)) else {
        return;
    };
    let cap = usize::from(input.capacity % 4096) + 1;
    let ops = &input.ops[..input.ops.len().min(MAX_OPS)];
    let used = check("VecBio", VecBio::with_limit(cap), cap, ops, true);
    let reused = VecBio::with_buffer(used.into_vec(), cap);
    check("VecBio (reused memory)", reused, cap, ops, true);
    let junk = VecBio::with_buffer(vec![0xa5; cap + 4096], cap);
    check("VecBio (larger junk buffer)", junk, cap, ops, true);
    check("RingBio", RingBio::with_capacity(cap), cap, ops, false);
    check("BytesBio", BytesBio::with_limit(cap), cap, ops, true);
    check(
        "Shared<VecBio>",
        Shared::new(VecBio::with_limit(cap)),
        cap,
        ops,
        true,
    );
    check("pair", pair(cap, cap).0.wr, cap, ops, false);
    check("sync_pair", sync_pair(cap, cap).0.wr, cap, ops, false);
    // The two owners of one queue: writes through one, reads through the
    // other, and both must see the same state.
    let (a, b) = pair(cap, cap);
    check(
        "pair (both handles)",
        TwoHandles {
            writer: a.wr,
            reader: b.rd,
        },
        cap,
        ops,
        false,
    );
    let (a, b) = sync_pair(cap, cap);
    check(
        "sync_pair (both handles)",
        TwoHandles {
            writer: a.wr,
            reader: b.rd,
        },
        cap,
        ops,
        false,
    );
    // BytesBio's BytesMut paths, which the zero-copy benchmarks use.
    check(
        "BytesBio (BytesMut)",
        MutPaths(BytesBio::with_limit(cap)),
        cap,
        ops,
        true,
    );
}

/// One queue seen through its writer's and its reader's handle.
struct TwoHandles<B> {
    writer: B,
    reader: B,
}

impl<B: Bio> TwoHandles<B> {
    fn agree<T: PartialEq + std::fmt::Debug>(&self, what: &str, f: impl Fn(&B) -> T) -> T {
        let (w, r) = (f(&self.writer), f(&self.reader));
        assert_eq!(w, r, "the pair's two handles disagree on {what}");
        w
    }
}

impl<B: Bio> Bio for TwoHandles<B> {
    fn pending(&self) -> usize {
        self.agree("pending", Bio::pending)
    }
    fn write_guarantee(&self) -> usize {
        self.agree("write_guarantee", Bio::write_guarantee)
    }
    fn read_in_place<T>(&mut self, f: impl FnOnce(&mut [u8]) -> (usize, T)) -> T {
        self.reader.read_in_place(f)
    }
    fn write_in_place<T>(
        &mut self,
        min: usize,
        f: impl FnOnce(&mut [u8]) -> (usize, T),
    ) -> Option<T> {
        self.writer.write_in_place(min, f)
    }
    fn write_in_vec<T>(&mut self, min: usize, f: impl FnOnce(&mut Vec<u8>) -> T) -> Option<T> {
        self.writer.write_in_vec(min, f)
    }
    fn shutdown_wr(&mut self) {
        self.writer.shutdown_wr();
    }
    fn is_shutdown_wr(&self) -> bool {
        self.agree("is_shutdown_wr", Bio::is_shutdown_wr)
    }
    fn push_bytes(&mut self, chunk: Bytes) -> Result<(), Bytes> {
        self.writer.push_bytes(chunk)
    }
    fn pop_bytes(&mut self) -> Option<Bytes> {
        self.reader.pop_bytes()
    }
    fn release_memory(&mut self) {
        self.writer.release_memory();
        self.reader.release_memory();
    }
}

/// A `BytesBio` whose chunk calls go through `push_bytes_mut` /
/// `pop_bytes_mut`.
struct MutPaths(BytesBio);

impl Bio for MutPaths {
    fn pending(&self) -> usize {
        self.0.pending()
    }
    fn write_guarantee(&self) -> usize {
        self.0.write_guarantee()
    }
    fn read_in_place<T>(&mut self, f: impl FnOnce(&mut [u8]) -> (usize, T)) -> T {
        self.0.read_in_place(f)
    }
    fn write_in_place<T>(
        &mut self,
        min: usize,
        f: impl FnOnce(&mut [u8]) -> (usize, T),
    ) -> Option<T> {
        self.0.write_in_place(min, f)
    }
    fn write_in_vec<T>(&mut self, min: usize, f: impl FnOnce(&mut Vec<u8>) -> T) -> Option<T> {
        self.0.write_in_vec(min, f)
    }
    fn shutdown_wr(&mut self) {
        self.0.shutdown_wr();
    }
    fn is_shutdown_wr(&self) -> bool {
        self.0.is_shutdown_wr()
    }
    fn push_bytes(&mut self, chunk: Bytes) -> Result<(), Bytes> {
        self.0
            .push_bytes_mut(BytesMut::from(&chunk[..]))
            .map_err(BytesMut::freeze)
    }
    fn pop_bytes(&mut self) -> Option<Bytes> {
        self.0.pop_bytes_mut().map(BytesMut::freeze)
    }
    fn release_memory(&mut self) {
        self.0.release_memory();
    }
}

/// Runs `ops` on `bio` against the model; returns the BIO.
fn check<B: Bio>(name: &str, mut bio: B, cap: usize, ops: &[Op], lends: bool) -> B {
    let mut model: VecDeque<u8> = VecDeque::new();
    let mut shut = false;
    for (i, op) in ops.iter().enumerate() {
        let room = cap - model.len();
        match op {
            Op::Write(data) => {
                let n = bio.write(data);
                assert_eq!(n, data.len().min(room), "{name} op {i}: write count");
                model.extend(&data[..n]);
            }
            Op::Read(len) => {
                let mut buf = vec![0; usize::from(*len)];
                let n = bio.read(&mut buf);
                let want: Vec<u8> = model.drain(..buf.len().min(model.len())).collect();
                assert_eq!(&buf[..n], &want[..], "{name} op {i}: read");
            }
            Op::ReadInPlace { consume } => {
                let seen = bio.read_in_place(|data| (usize::from(*consume), data.to_vec()));
                assert!(seen.iter().eq(model.iter()), "{name} op {i}: read_in_place");
                model.drain(..usize::from(*consume).min(model.len()));
            }
            Op::WriteInPlace { min, commit } => {
                let (min, commit) = (usize::from(*min), usize::from(*commit));
                let r = bio.write_in_place(min, |region| {
                    let n = commit.min(region.len());
                    for (k, b) in region[..n].iter_mut().enumerate() {
                        *b = k as u8;
                    }
                    (commit, n)
                });
                match r {
                    Some(n) => {
                        assert!(
                            min <= room,
                            "{name} op {i}: {min} bytes granted, {room} free"
                        );
                        model.extend((0..n).map(|k| k as u8));
                    }
                    None => assert!(min > room, "{name} op {i}: {min} refused, {room} free"),
                }
            }
            Op::WriteInVec { min, append } => {
                let (min, append) = (
                    usize::from(*min),
                    usize::from(*append).min(usize::from(*min)),
                );
                let r = bio.write_in_vec(min, |vec| {
                    let spare = vec.capacity() - vec.len();
                    vec.extend((0..append).map(|k| k as u8));
                    spare
                });
                match r {
                    Some(spare) => {
                        assert!(lends, "{name} op {i}: lent a Vec it should not have");
                        assert!(min <= room, "{name} op {i}: {min} bytes lent, {room} free");
                        assert!(spare >= min, "{name} op {i}: {spare} spare for {min}");
                        model.extend((0..append).map(|k| k as u8));
                    }
                    None => assert!(
                        !lends || min > room,
                        "{name} op {i}: Vec for {min} refused, {room} free"
                    ),
                }
            }
            Op::Push(data) => {
                let fits = data.len() <= room;
                let pushed = bio.push_bytes(Bytes::from(data.clone()));
                assert_eq!(pushed.is_ok(), fits, "{name} op {i}: push");
                if let Err(back) = pushed {
                    assert_eq!(&back[..], &data[..], "{name} op {i}: refused chunk intact");
                } else {
                    model.extend(data);
                }
            }
            Op::Pop => match bio.pop_bytes() {
                Some(chunk) => {
                    assert!(!chunk.is_empty(), "{name} op {i}: empty chunk");
                    assert!(chunk.len() <= model.len(), "{name} op {i}: chunk too long");
                    let want: Vec<u8> = model.drain(..chunk.len()).collect();
                    assert_eq!(&chunk[..], &want[..], "{name} op {i}: pop");
                }
                None => assert!(model.is_empty(), "{name} op {i}: pop on a non-empty BIO"),
            },
            Op::ShutdownWr => {
                bio.shutdown_wr();
                shut = true;
            }
            // Frees only what holds no bytes: the model does not change.
            Op::ReleaseMemory => bio.release_memory(),
        }
        assert_eq!(bio.pending(), model.len(), "{name} op {i}: pending");
        assert_eq!(
            bio.write_guarantee(),
            cap - model.len(),
            "{name} op {i}: write_guarantee"
        );
        assert_eq!(bio.is_shutdown_wr(), shut, "{name} op {i}: is_shutdown_wr");
    }
    bio
}
