//! BIO unit tests. The differential test of every `Bio` against a
//! `VecDeque` model lives in `tlsbio-fuzz` (`bio_model`), where cargo test
//! runs it over the checked-in corpus and proptest inputs and libFuzzer
//! runs it for as long as we let it.

use bytes::Bytes;
use tlsbio::bio::{Bio, BytesBio, RingBio};

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
