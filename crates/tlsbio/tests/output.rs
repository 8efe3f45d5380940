//! The output side of the contract: one output path, and calls that are
//! safe to retry when it is full.

mod support;

use support::*;
use tlsbio::bio::{Bio, RingBio, VecBio};
use tlsbio::{Engine, Error, Want};

fn established_through(wbio_capacity: usize) -> (Engine<VecBio, RingBio>, Engine<VecBio, VecBio>) {
    let (cc, sc) = configs(TLS13);
    let mut client = Engine::client(
        &cctx(cc),
        name(),
        VecBio::new(),
        RingBio::with_capacity(wbio_capacity),
    )
    .unwrap();
    let mut server = Engine::server(&sctx(sc), VecBio::new(), VecBio::new());
    let out = handshake(&mut client, &mut server, usize::MAX);
    assert!(out.client.is_ok() && out.server.is_ok(), "{out:?}");
    carry(&mut server, &mut client, usize::MAX, usize::MAX);
    let mut scratch = [0u8; 1];
    assert!(client.read(&mut scratch).unwrap_err().want().is_some());
    assert_eq!(client.pending_output(), 0);
    (client, server)
}

/// Everything a call produced is counted by `pending_output` and comes out
/// of `send_output`, however small the write BIO: the engine's staging
/// moves in as room frees, and nothing is left behind.
#[test]
fn one_output_path_through_a_one_byte_write_bio() {
    let (mut client, mut server) = established_through(1);
    let data = payload(40_000, 9);
    let mut sent = 0;
    let mut wire = Vec::new();
    while sent < data.len() {
        match client.write(&data[sent..]) {
            Ok(n) => sent += n,
            Err(Error::Want(Want::Write)) => {}
            Err(e) => panic!("{e}"),
        }
        // A record bigger than the write BIO: the rest waits in staging,
        // and pending_output says so.
        assert!(client.pending_output() >= client.wbio().pending());
        // The driver rule, one byte at a time.
        while client.pending_output() > 0 {
            let n = client.send_output(|bytes| {
                wire.extend_from_slice(&bytes[..1]);
                (1, 1)
            });
            assert_eq!(n, 1);
        }
    }
    assert_eq!(client.pending_output(), 0);
    server.rbio_mut().write(&wire);
    let mut got = Vec::new();
    let mut buf = vec![0u8; 20_000];
    while got.len() < data.len() {
        let n = server.read(&mut buf).unwrap();
        got.extend_from_slice(&buf[..n]);
    }
    assert_eq!(got, data);
}

/// `take_output` lends the write BIO and refills it afterwards; `pop_output`
/// hands out chunks until none is left.
#[test]
fn take_and_pop_drain_everything() {
    let (mut client, _server) = established_through(7);
    client.write(&payload(1_000, 1)).unwrap();
    let total = client.pending_output();
    assert!(total > 7, "a record bigger than the write BIO");
    let first = client.take_output(|wbio| {
        let mut b = [0u8; 7];
        wbio.read(&mut b)
    });
    assert_eq!(first, 7);
    assert_eq!(client.pending_output(), total - 7);
    let mut rest = 0;
    while let Some(chunk) = client.pop_output() {
        rest += chunk.len();
    }
    assert_eq!(first + rest, total);
    assert_eq!(client.pending_output(), 0);
}

/// A KeyUpdate retried after want-write is the same KeyUpdate: through a
/// one-byte write BIO the bytes on the wire are exactly those of one
/// KeyUpdate through a large one. (The strict harness found retries asking
/// rustls for a new KeyUpdate each time, for ever.)
#[test]
fn key_update_retried_after_want_write_sends_one_key_update() {
    let (mut big, _) = established_through(65_536);
    big.key_update().unwrap();
    let one_key_update = big.pending_output();
    assert!(one_key_update > 0);

    let (mut small, _) = established_through(1);
    let mut wire = 0;
    let mut wants = 0;
    loop {
        match small.key_update() {
            Ok(()) => break,
            Err(Error::Want(Want::Write)) => wants += 1,
            Err(e) => panic!("{e}"),
        }
        while let Some(chunk) = small.pop_output() {
            wire += chunk.len();
        }
        assert!(wants < 1_000, "key_update never completes");
    }
    while let Some(chunk) = small.pop_output() {
        wire += chunk.len();
    }
    assert!(wants > 0, "the one-byte BIO pushed back");
    assert_eq!(wire, one_key_update);
}
