//! Where outgoing ciphertext is written: straight into the write BIO, or
//! into a buffer of the engine's and then copied (`EngineStats::output_copied`).
//!
//! rustls 0.23 encrypts into the write BIO's region on every BIO. rustls
//! 0.24 appends only to a `Vec`, so the 0.24 backend writes data records
//! into the write BIO's own memory when the BIO lends it as one
//! (`Bio::write_in_vec`: `VecBio`, `BytesBio`) and copies otherwise.

mod support;

use support::*;
use tlsbio::bio::{Bio, BytesBio, RingBio, VecBio};
use tlsbio::Engine;

const LIMIT: usize = 256 * 1024;

/// A megabyte from client to server after the handshake, with a key
/// update in the middle; returns the client's output copied meanwhile.
fn bulk<W: Bio>(wbio: impl Fn() -> W) -> u64 {
    let (cc, sc) = configs(TLS13);
    let mut client = Engine::client(&cctx(cc), name(), VecBio::new(), wbio()).unwrap();
    let mut server = Engine::server(&sctx(sc), VecBio::new(), wbio());
    let out = handshake(&mut client, &mut server, usize::MAX);
    assert!(out.client.is_ok() && out.server.is_ok(), "{out:?}");
    carry(&mut server, &mut client, usize::MAX, usize::MAX);

    let before = client.stats().output_copied;
    let data = payload(1 << 20, 3);
    let mut got = send(&mut client, &mut server, &data[..1 << 19], 1 << 14);
    client.key_update().unwrap();
    got.extend(send(&mut client, &mut server, &data[1 << 19..], 1 << 14));
    assert!(got == data, "the megabyte arrived intact");
    client.stats().output_copied - before
}

#[test]
fn data_records_go_straight_into_a_write_bio_that_lends_its_memory() {
    for (name, copied) in [
        ("VecBio", bulk(|| VecBio::with_limit(LIMIT))),
        ("BytesBio", bulk(|| BytesBio::with_limit(LIMIT))),
    ] {
        assert_eq!(copied, 0, "{name}: {copied} bytes copied");
    }
}

#[test]
fn a_ring_write_bio_is_copied_into_on_rustls_0_24_only() {
    let copied = bulk(|| RingBio::with_capacity(LIMIT));
    if cfg!(feature = "rustls-0-24") {
        // Every record and the KeyUpdate went through the scratch `Vec`.
        assert!(copied > 1 << 20, "{copied}");
    } else {
        assert_eq!(copied, 0, "0.23 encrypts in place into any BIO");
    }
}

#[test]
fn handshake_flights_are_copied_on_rustls_0_24_only() {
    let (cc, sc) = configs(TLS13);
    let mut client = Engine::client(&cctx(cc), name(), VecBio::new(), VecBio::new()).unwrap();
    let mut server = Engine::server(&sctx(sc), VecBio::new(), VecBio::new());
    let out = handshake(&mut client, &mut server, usize::MAX);
    assert!(out.client.is_ok() && out.server.is_ok(), "{out:?}");
    let copied = server.stats().output_copied;
    if cfg!(feature = "rustls-0-24") {
        // The server's first flight at least: hello, certificate, finished.
        assert!(copied > 500, "{copied}");
    } else {
        assert_eq!(copied, 0);
    }
}

/// A whole TLS 1.3 handshake and a megabyte between two engines on `bio`s:
/// the bytes each engine's read BIO had to zero, and its write BIO's.
fn zeroed<B: Bio>(bio: impl Fn() -> B) -> [(&'static str, u64); 4] {
    let (cc, sc) = configs(TLS13);
    let mut client = Engine::client(&cctx(cc), name(), bio(), bio()).unwrap();
    let mut server = Engine::server(&sctx(sc), bio(), bio());
    let out = handshake(&mut client, &mut server, usize::MAX);
    assert!(out.client.is_ok() && out.server.is_ok(), "{out:?}");
    carry(&mut server, &mut client, usize::MAX, usize::MAX);
    let data = payload(1 << 20, 5);
    assert!(send(&mut client, &mut server, &data, 1 << 14) == data);
    [
        ("client read", client.rbio().stats().bytes_zeroed),
        ("server read", server.rbio().stats().bytes_zeroed),
        ("client write", client.wbio().stats().bytes_zeroed),
        ("server write", server.wbio().stats().bytes_zeroed),
    ]
}

#[test]
fn ciphertext_copied_into_a_bio_is_not_zeroed_first() {
    for (kind, counts) in [
        ("VecBio", zeroed(VecBio::new)),
        ("BytesBio", zeroed(|| BytesBio::with_limit(LIMIT))),
        ("RingBio", zeroed(|| RingBio::with_capacity(LIMIT))),
    ] {
        // The peer's ciphertext arrives by `Bio::write` (the driver's
        // copy): never zeroed, on either backend.
        for (bio, n) in &counts[..2] {
            assert_eq!(*n, 0, "{kind}: {bio} BIO zeroed {n} bytes");
        }
        // What the engine writes: on 0.24 every record is appended to the
        // BIO's `Vec` and every flight copied in, so nothing is zeroed;
        // 0.23 encodes and encrypts into an initialised region: a
        // `VecBio` or a `RingBio` zeroes each allocation at most once
        // (doubling up to its limit: at most twice the limit in all), a
        // `BytesBio` each region it splits off as a chunk (about every
        // byte written in place).
        for (bio, n) in &counts[2..] {
            if cfg!(feature = "rustls-0-24") {
                assert_eq!(*n, 0, "{kind}: {bio} BIO zeroed {n} bytes");
            } else if kind != "BytesBio" {
                assert!(
                    *n > 0 && *n <= 2 * VecBio::DEFAULT_LIMIT as u64,
                    "{kind}: {bio} BIO zeroed {n} bytes"
                );
            } else {
                assert!(*n > 0, "{kind}: {bio} BIO zeroed nothing");
            }
        }
    }
}
