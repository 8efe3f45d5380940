//! Handshakes and data both ways over every BIO kind, TLS 1.3 and 1.2.

mod support;

use support::*;
use tlsbio::bio::{pair, sync_pair, Bio, BytesBio, RingBio, VecBio};
use tlsbio::rustls;
use tlsbio::ProtocolVersion;
use tlsbio::{Engine, HandshakeState};

fn exchange<R1: Bio, W1: Bio, R2: Bio, W2: Bio>(
    mut client: Engine<R1, W1>,
    mut server: Engine<R2, W2>,
    version: ProtocolVersion,
    chunk: usize,
) {
    let out = handshake(&mut client, &mut server, chunk);
    assert!(out.client.is_ok() && out.server.is_ok(), "{out:?}");
    assert_eq!(client.protocol_version(), Some(version));
    assert_eq!(server.protocol_version(), Some(version));
    assert_eq!(client.state(), HandshakeState::Established);
    assert_eq!(server.server_name(), Some("localhost"));
    let group = client.key_exchange_group();
    assert!(
        group.is_some(),
        "no key exchange group after a full handshake"
    );
    assert_eq!(group, server.key_exchange_group());
    let up = payload(100_000, 1);
    assert_eq!(send(&mut client, &mut server, &up, chunk), up);
    let down = payload(70_001, 2);
    assert_eq!(send(&mut server, &mut client, &down, chunk), down);
}

fn each_version(f: impl Fn(&'static [&'static rustls::SupportedProtocolVersion], ProtocolVersion)) {
    f(TLS13, ProtocolVersion::TLSv1_3);
    f(TLS12, ProtocolVersion::TLSv1_2);
}

#[test]
fn vec_bio_both_versions() {
    each_version(|v, pv| {
        let (cc, sc) = configs(v);
        let client = Engine::client(&cctx(cc), name(), VecBio::new(), VecBio::new()).unwrap();
        let server = Engine::server(&sctx(sc), VecBio::new(), VecBio::new());
        exchange(client, server, pv, 1 << 20);
    });
}

#[test]
fn ring_bio_both_versions() {
    each_version(|v, pv| {
        let (cc, sc) = configs(v);
        let ring = || RingBio::with_capacity(40_000);
        let client = Engine::client(&cctx(cc), name(), ring(), ring()).unwrap();
        let server = Engine::server(&sctx(sc), ring(), ring());
        exchange(client, server, pv, 7_000);
    });
}

#[test]
fn bytes_bio_both_versions() {
    each_version(|v, pv| {
        let (cc, sc) = configs(v);
        let b = || BytesBio::with_limit(1 << 20);
        let client = Engine::client(&cctx(cc), name(), b(), b()).unwrap();
        let server = Engine::server(&sctx(sc), b(), b());
        exchange(client, server, pv, 1 << 20);
    });
}

#[test]
fn bio_pair_both_versions() {
    each_version(|v, pv| {
        let (cc, sc) = configs(v);
        let (c_engine, mut c_net) = pair(20_000, 20_000);
        let (s_engine, mut s_net) = pair(20_000, 20_000);
        let mut client = Engine::client(&cctx(cc), name(), c_engine.rd, c_engine.wr).unwrap();
        let mut server = Engine::server(&sctx(sc), s_engine.rd, s_engine.wr);
        // The driver holds the network halves and shuttles between them.
        let mut steps = 0;
        loop {
            steps += 1;
            assert!(steps < 100, "handshake did not finish");
            let c = client.connect();
            let s = server.accept();
            transfer(&mut c_net.rd, &mut s_net.wr, 4096, usize::MAX);
            transfer(&mut s_net.rd, &mut c_net.wr, 4096, usize::MAX);
            if c.is_ok() && s.is_ok() {
                break;
            }
        }
        assert_eq!(client.protocol_version(), Some(pv));
        assert_eq!(client.write(b"over the pair").unwrap(), 13);
        transfer(&mut c_net.rd, &mut s_net.wr, 4096, usize::MAX);
        let mut buf = [0u8; 32];
        let n = server.read(&mut buf).unwrap();
        assert_eq!(&buf[..n], b"over the pair");
    });
}

#[test]
fn sync_pair_engine_moves_between_threads() {
    let (cc, sc) = configs(TLS13);
    let (c_engine, mut c_net) = sync_pair(20_000, 20_000);
    let (s_engine, mut s_net) = sync_pair(20_000, 20_000);
    let client = Engine::client(&cctx(cc), name(), c_engine.rd, c_engine.wr).unwrap();
    let server = Engine::server(&sctx(sc), s_engine.rd, s_engine.wr);
    let server = std::thread::spawn(move || {
        let mut server = server;
        for _ in 0..10_000 {
            match server.accept() {
                Ok(()) => break,
                Err(e) if e.want().is_some() => std::thread::yield_now(),
                Err(e) => panic!("{e}"),
            }
        }
        let mut buf = [0u8; 5];
        loop {
            match server.read(&mut buf) {
                Ok(n) => return buf[..n].to_vec(),
                Err(e) if e.want().is_some() => std::thread::yield_now(),
                Err(e) => panic!("{e}"),
            }
        }
    });
    let mut client = client;
    let mut written = false;
    for _ in 0..100_000 {
        transfer(&mut c_net.rd, &mut s_net.wr, 4096, usize::MAX);
        transfer(&mut s_net.rd, &mut c_net.wr, 4096, usize::MAX);
        if client.connect().is_ok() && !written {
            written = client.write(b"hello").unwrap() == 5;
        }
        if server.is_finished() {
            break;
        }
        std::thread::yield_now();
    }
    assert_eq!(server.join().unwrap(), b"hello");
}
