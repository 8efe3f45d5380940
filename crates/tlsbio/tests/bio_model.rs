//! BIO unit tests. The differential test of every `Bio` against a
//! `VecDeque` model lives in `tlsbio-fuzz` (`bio_model`), where cargo test
//! runs it over the checked-in corpus and proptest inputs and libFuzzer
//! runs it for as long as we let it.

use bytes::Bytes;
use tlsbio::bio::{Bio, BytesBio, RingBio};

#[test]
fn ring_counts_rotations_and_stays_at_its_capacity() {
    let mut ring = RingBio::with_capacity(10);
    ring.write(b"0123456789");
    assert_eq!(ring.allocated(), 10);
    let mut buf = [0u8; 6];
    ring.read(&mut buf);
    ring.write(b"abcd"); // wraps
    let seen = ring.read_in_place(|d| (0, d.to_vec()));
    assert_eq!(seen, b"6789abcd");
    assert_eq!(ring.stats().bytes_moved, 8);
    assert_eq!((ring.capacity(), ring.allocated()), (10, 10));
}

#[test]
fn ring_allocates_as_it_fills_and_gives_it_back_when_empty() {
    let cap = 64 * 1024;
    let mut ring = RingBio::with_capacity(cap);
    assert_eq!(ring.allocated(), 0, "nothing before the first byte");
    assert_eq!(ring.write_guarantee(), cap);
    assert_eq!(ring.write(&[1; 100]), 100);
    assert_eq!(ring.allocated(), 4096, "a handshake-sized first allocation");
    // Wrap the live bytes around the end, then outgrow the allocation:
    // they must come out in order.
    assert_eq!(ring.read(&mut [0u8; 90]), 90);
    let data: Vec<u8> = (0..4090u32).map(|i| i as u8).collect();
    assert_eq!(ring.write(&data), 4090); // 10 + 4090 = 4100 > 4096: grows
    assert_eq!(ring.allocated(), 8192);
    let mut out = vec![0u8; 4100];
    assert_eq!(ring.read(&mut out), 4100);
    assert_eq!(&out[..10], &[1; 10]);
    assert_eq!(&out[10..], &data[..]);
    // Doubling stops at the capacity, and a full ring refuses more.
    assert_eq!(ring.write(&vec![2; cap]), cap);
    assert_eq!(ring.allocated(), cap);
    assert_eq!(ring.write(&[3]), 0);
    assert!(ring.write_in_place(1, |r| (r.len(), ())).is_none());
    // Not while bytes are held; then all of it.
    ring.release_memory();
    assert_eq!(ring.allocated(), cap);
    assert_eq!(ring.read(&mut vec![0u8; cap]), cap);
    ring.release_memory();
    assert_eq!(ring.allocated(), 0);
    assert_eq!(ring.write(b"again"), 5);
    assert_eq!(ring.read_in_place(|d| (d.len(), d.to_vec())), b"again");
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
