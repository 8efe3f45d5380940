//! Every `Bio` against a `VecDeque` model under random operation sequences.

use std::collections::VecDeque;

use bytes::Bytes;
use proptest::prelude::*;
use tlsbio::bio::{pair, Bio, BytesBio, RingBio, VecBio};

#[derive(Debug, Clone)]
enum Op {
    Write(Vec<u8>),
    Read(usize),
    InPlace { consume: usize },
    WriteInPlace { min: usize, commit: usize },
    Push(Vec<u8>),
    Pop,
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        proptest::collection::vec(any::<u8>(), 0..300).prop_map(Op::Write),
        (0usize..400).prop_map(Op::Read),
        (0usize..400).prop_map(|consume| Op::InPlace { consume }),
        (0usize..300, 0usize..400).prop_map(|(min, commit)| Op::WriteInPlace { min, commit }),
        proptest::collection::vec(any::<u8>(), 0..300).prop_map(Op::Push),
        Just(Op::Pop),
    ]
}

fn check(mut bio: impl Bio, cap: usize, ops: &[Op]) -> Result<(), TestCaseError> {
    let mut model: VecDeque<u8> = VecDeque::new();
    for (i, op) in ops.iter().enumerate() {
        match op {
            Op::Write(data) => {
                let n = bio.write(data);
                prop_assert_eq!(n, data.len().min(cap - model.len()), "op {}", i);
                model.extend(&data[..n]);
            }
            Op::Read(len) => {
                let mut buf = vec![0; *len];
                let n = bio.read(&mut buf);
                let want: Vec<u8> = model.drain(..(*len).min(model.len())).collect();
                prop_assert_eq!(&buf[..n], &want[..], "op {}", i);
            }
            Op::InPlace { consume } => {
                let seen = bio.read_in_place(|data| (*consume, data.to_vec()));
                prop_assert_eq!(
                    &seen,
                    &model.iter().copied().collect::<Vec<_>>(),
                    "op {}",
                    i
                );
                model.drain(..(*consume).min(model.len()));
            }
            Op::WriteInPlace { min, commit } => {
                let room = cap - model.len();
                let r = bio.write_in_place(*min, |region| {
                    let n = (*commit).min(region.len());
                    for (k, b) in region[..n].iter_mut().enumerate() {
                        *b = k as u8;
                    }
                    (*commit, n)
                });
                match r {
                    Some(n) => {
                        prop_assert!(*min <= room, "op {}", i);
                        model.extend((0..n).map(|k| k as u8));
                    }
                    None => prop_assert!(*min > room, "op {}: {} <= {}", i, min, room),
                }
            }
            Op::Push(data) => {
                let fits = data.len() <= cap - model.len();
                prop_assert_eq!(bio.push_bytes(Bytes::from(data.clone())).is_ok(), fits);
                if fits {
                    model.extend(data);
                }
            }
            Op::Pop => {
                if let Some(chunk) = bio.pop_bytes() {
                    prop_assert!(!chunk.is_empty());
                    let want: Vec<u8> = model.drain(..chunk.len()).collect();
                    prop_assert_eq!(&chunk[..], &want[..]);
                } else {
                    prop_assert!(model.is_empty());
                }
            }
        }
        prop_assert_eq!(bio.pending(), model.len(), "op {}", i);
        prop_assert_eq!(bio.write_guarantee(), cap - model.len(), "op {}", i);
    }
    Ok(())
}

proptest! {
    #[test]
    fn every_bio_matches_the_model(ops in proptest::collection::vec(op(), 0..60), cap in 1usize..1000) {
        check(VecBio::with_limit(cap), cap, &ops)?;
        check(RingBio::with_capacity(cap), cap, &ops)?;
        check(BytesBio::with_limit(cap), cap, &ops)?;
        let (a, _b) = pair(cap, cap);
        check(a.wr, cap, &ops)?;
    }
}

#[test]
fn ring_never_reallocates_and_counts_rotations() {
    let mut ring = RingBio::with_capacity(10);
    ring.write(b"0123456789");
    let mut buf = [0u8; 6];
    ring.read(&mut buf);
    ring.write(b"abcd"); // wraps
    let seen = ring.read_in_place(|d| (0, d.to_vec()));
    assert_eq!(seen, b"6789abcd");
    assert_eq!(ring.stats().bytes_moved, 8);
    assert_eq!(ring.capacity(), 10);
}

#[test]
fn bytes_bio_moves_unique_chunks_without_copying() {
    let mut bio = BytesBio::with_limit(1 << 20);
    let chunk = Bytes::from(vec![7u8; 10_000]);
    let ptr = chunk.as_ptr();
    bio.push_bytes(chunk).unwrap();
    let out = bio.pop_bytes().unwrap();
    assert_eq!(out.as_ptr(), ptr, "same memory in and out");
    assert_eq!(bio.stats().bytes_copied, 0);
    // A shared chunk must be copied once: the engine decrypts in place.
    let shared = Bytes::from(vec![1u8; 100]);
    bio.push_bytes(shared.clone()).unwrap();
    assert_eq!(bio.stats().bytes_copied, 100);
}
