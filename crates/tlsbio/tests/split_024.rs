//! Full duplex on the rustls 0.24 backend: an established connection split
//! into a read half and a write half (`Engine::split`), each side's halves
//! on threads of their own, 64 MiB each way at once, with a KeyUpdate from
//! the client halfway (the server's read half queues the response, its
//! write half sends it) and close_notify both ways at the end.
#![cfg(feature = "rustls-0-24")]

mod support;

use std::sync::mpsc::{sync_channel, Receiver, SyncSender};
use std::thread;
use std::time::Duration;

use support::*;
use tlsbio::bio::{Bio, VecBio};
use tlsbio::split::{ReadHalf, WriteHalf};
use tlsbio::{Engine, Error, Usage, Want};

const TOTAL: usize = 64 << 20;
const CHUNK: usize = 16 << 10;
const TIMEOUT: Duration = Duration::from_secs(60);

/// The bytes a side sends: position-dependent, so a lost, doubled or
/// reordered chunk shows in the checksum.
fn byte(side: u8, at: usize) -> u8 {
    (at as u8).wrapping_mul(31) ^ (at >> 12) as u8 ^ side
}

/// FNV-1a over the stream, and its length.
#[derive(Default, Debug, PartialEq, Eq, Clone, Copy)]
struct Digest(u64, usize);

impl Digest {
    fn new() -> Self {
        Self(0xcbf2_9ce4_8422_2325, 0)
    }

    fn update(&mut self, bytes: &[u8]) {
        for b in bytes {
            self.0 = (self.0 ^ u64::from(*b)).wrapping_mul(0x100_0000_01b3);
        }
        self.1 += bytes.len();
    }
}

fn expected(side: u8) -> Digest {
    let mut d = Digest::new();
    let mut at = 0;
    let mut chunk = vec![0u8; CHUNK];
    while at < TOTAL {
        for (i, b) in chunk.iter_mut().enumerate() {
            *b = byte(side, at + i);
        }
        d.update(&chunk);
        at += CHUNK;
    }
    d
}

/// Writes the side's stream, a KeyUpdate halfway if asked, then
/// close_notify; every byte of output goes to `wire`.
fn writer(mut half: WriteHalf<VecBio>, side: u8, key_update: bool, wire: SyncSender<Vec<u8>>) {
    let send = |half: &mut WriteHalf<VecBio>| {
        while let Some(bytes) = half.pop_output() {
            wire.send(bytes.to_vec()).expect("the reader hung up");
        }
    };
    let mut chunk = vec![0u8; CHUNK];
    let mut at = 0;
    while at < TOTAL {
        for (i, b) in chunk.iter_mut().enumerate() {
            *b = byte(side, at + i);
        }
        let mut done = 0;
        while done < CHUNK {
            match half.write(&chunk[done..]) {
                Ok(n) => done += n,
                Err(Error::Want(Want::Write)) => {}
                Err(e) => panic!("side {side} write: {e}"),
            }
            send(&mut half);
        }
        at += CHUNK;
        if key_update && at == TOTAL / 2 {
            half.key_update().unwrap();
            send(&mut half);
        }
        if half.wants_flush() {
            half.flush().unwrap();
            send(&mut half);
        }
    }
    half.close().unwrap();
    send(&mut half);
}

/// Reads until the peer's close_notify, taking ciphertext from `wire`.
fn reader(mut half: ReadHalf<VecBio>, wire: Receiver<Vec<u8>>) -> Digest {
    let mut digest = Digest::new();
    let mut backlog: Vec<u8> = Vec::new();
    loop {
        match half.read_in_place(|plaintext| digest.update(plaintext)) {
            Ok(()) => {}
            Err(Error::ZeroReturn) => return digest,
            Err(Error::Want(Want::Read { .. })) => {
                if backlog.is_empty() {
                    backlog = wire.recv_timeout(TIMEOUT).expect("the writer went quiet");
                }
                let n = half.rbio_mut().write(&backlog);
                backlog.drain(..n);
            }
            Err(e) => panic!("read: {e}"),
        }
    }
}

#[test]
fn sixty_four_mib_each_way_at_once_with_a_key_update() {
    let (cc, sc) = configs(TLS13);
    let mut client = Engine::client(&cctx(cc), name(), VecBio::new(), VecBio::new()).unwrap();
    let mut server = Engine::server(&sctx(sc), VecBio::new(), VecBio::new());
    let out = handshake(&mut client, &mut server, usize::MAX);
    assert!(out.client.is_ok() && out.server.is_ok(), "{out:?}");
    // The server's tickets, taken in before the split.
    carry(&mut server, &mut client, 1 << 16, usize::MAX);
    assert!(matches!(
        client.read(&mut [0u8; 8]),
        Err(Error::Want(Want::Read { .. }))
    ));

    let (client_read, client_write) = client.split().unwrap();
    let (server_read, server_write) = server.split().unwrap();
    let (c2s_tx, c2s_rx) = sync_channel(64);
    let (s2c_tx, s2c_rx) = sync_channel(64);
    let threads = (
        thread::spawn(move || writer(client_write, 1, true, c2s_tx)),
        thread::spawn(move || writer(server_write, 2, false, s2c_tx)),
        thread::spawn(move || reader(server_read, c2s_rx)),
        thread::spawn(move || reader(client_read, s2c_rx)),
    );
    threads.0.join().unwrap();
    threads.1.join().unwrap();
    assert_eq!(threads.2.join().unwrap(), expected(1), "client -> server");
    assert_eq!(threads.3.join().unwrap(), expected(2), "server -> client");
}

/// Moves everything `from` has into `to`.
fn move_output(from: &mut WriteHalf<VecBio>, to: &mut ReadHalf<VecBio>) {
    while let Some(bytes) = from.pop_output() {
        assert_eq!(to.rbio_mut().write(&bytes), bytes.len());
    }
}

#[test]
fn the_read_half_queues_the_key_update_response_for_the_write_half() {
    let (cc, sc) = configs(TLS13);
    let mut client = Engine::client(&cctx(cc), name(), VecBio::new(), VecBio::new()).unwrap();
    let mut server = Engine::server(&sctx(sc), VecBio::new(), VecBio::new());
    let out = handshake(&mut client, &mut server, usize::MAX);
    assert!(out.client.is_ok() && out.server.is_ok(), "{out:?}");
    carry(&mut server, &mut client, 1 << 16, usize::MAX);
    let _ = client.read(&mut [0u8; 8]);
    let (mut client_read, mut client_write) = client.split().unwrap();
    let (mut server_read, mut server_write) = server.split().unwrap();

    client_write.key_update().unwrap();
    move_output(&mut client_write, &mut server_read);
    assert!(!server_write.wants_flush());
    assert!(matches!(
        server_read.read(&mut [0u8; 8]),
        Err(Error::Want(Want::Read { .. }))
    ));
    // The server's read half took the KeyUpdate and queued the response,
    // which only the write half can send.
    assert!(server_write.wants_flush());
    server_write.flush().unwrap();
    assert!(!server_write.wants_flush());
    assert!(server_write.pending_output() > 0, "the response");
    // Data the server sends after its response is under its new keys: the
    // client reads it only if it took the response in order.
    assert_eq!(server_write.write(b"after the update"), Ok(16));
    move_output(&mut server_write, &mut client_read);
    let mut buf = [0u8; 32];
    assert_eq!(client_read.read(&mut buf), Ok(16));
    assert_eq!(&buf[..16], b"after the update");
    // And the client's new keys work the other way.
    assert_eq!(client_write.write(b"and back"), Ok(8));
    move_output(&mut client_write, &mut server_read);
    assert_eq!(server_read.read(&mut buf), Ok(8));
}

#[test]
fn an_engine_that_cannot_split_comes_back_with_the_reason() {
    let (cc, sc) = configs(TLS13);
    let client = Engine::client(&cctx(cc), name(), VecBio::new(), VecBio::new()).unwrap();
    let err = client.split().unwrap_err();
    assert_eq!(err.reason, Usage::SplitNotPossible);
    assert!(err.to_string().contains("established"), "{err}");
    // The engine is as it was: it can still connect.
    let mut client = *err.engine;
    assert!(matches!(
        client.connect(),
        Err(Error::Want(Want::Read { .. }))
    ));
    let _ = sc;
}
