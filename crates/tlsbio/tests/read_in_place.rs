//! `Engine::read_in_place` lends a decrypted record without tlsbio copying
//! it. On rustls 0.24 the record is where rustls decrypted it, in the read
//! BIO's own memory: a read BIO that records the memory it shows proves
//! it. rustls 0.23's unbuffered API copies each record into a buffer of
//! its own before it hands it out (`ReadTraffic::next_record`), and the
//! test pins that too, so that a rustls that stops copying is noticed.

mod support;

use std::cell::Cell;
use std::rc::Rc;

use support::*;
use tlsbio::bio::{Bio, VecBio};
use tlsbio::{Engine, Error};

/// A `VecBio` that remembers the address range (start, end) of the last
/// slice it lent to a reader.
#[derive(Default)]
struct Spy {
    inner: VecBio,
    lent: Lent,
}

impl Bio for Spy {
    fn pending(&self) -> usize {
        self.inner.pending()
    }

    fn write_guarantee(&self) -> usize {
        self.inner.write_guarantee()
    }

    fn read_in_place<T>(&mut self, f: impl FnOnce(&mut [u8]) -> (usize, T)) -> T {
        let lent = self.lent.clone();
        self.inner.read_in_place(|bytes| {
            let start = bytes.as_ptr() as usize;
            lent.set((start, start + bytes.len()));
            f(bytes)
        })
    }

    fn write_in_place<T>(
        &mut self,
        min: usize,
        f: impl FnOnce(&mut [u8]) -> (usize, T),
    ) -> Option<T> {
        self.inner.write_in_place(min, f)
    }

    fn shutdown_wr(&mut self) {
        self.inner.shutdown_wr()
    }

    fn is_shutdown_wr(&self) -> bool {
        self.inner.is_shutdown_wr()
    }
}

type Server = Engine<Spy, VecBio>;

/// Where the spy records the memory it last lent: (start, end).
type Lent = Rc<Cell<(usize, usize)>>;

fn established(
    versions: &'static [&'static tlsbio::rustls::SupportedProtocolVersion],
) -> (Engine<VecBio, VecBio>, Server, Lent) {
    let (cc, sc) = configs(versions);
    let spy = Spy::default();
    let lent = spy.lent.clone();
    let mut client = Engine::client(&cctx(cc), name(), VecBio::new(), VecBio::new()).unwrap();
    let mut server = Engine::server(&sctx(sc), spy, VecBio::new());
    let out = handshake(&mut client, &mut server, usize::MAX);
    assert!(out.client.is_ok() && out.server.is_ok(), "{out:?}");
    (client, server, lent)
}

#[test]
fn the_record_is_lent_from_the_read_bios_own_memory_on_rustls_0_24() {
    for versions in [TLS13, TLS12] {
        let (mut client, mut server, lent) = established(versions);
        assert_eq!(client.write(b"hello, in place"), Ok(15));
        carry(&mut client, &mut server, 1 << 16, usize::MAX);
        let (at, text) = server
            .read_in_place(|plaintext| (plaintext.as_ptr() as usize, plaintext.to_vec()))
            .unwrap();
        assert_eq!(text, b"hello, in place");
        let (start, end) = lent.get();
        let in_the_read_bio = start <= at && at + text.len() <= end;
        assert_eq!(
            in_the_read_bio,
            cfg!(feature = "rustls-0-24"),
            "plaintext at {at:#x}, the read BIO's {start:#x}..{end:#x}"
        );
    }
}

#[test]
fn held_plaintext_is_lent_first_then_the_next_record() {
    let (mut client, mut server, _) = established(TLS13);
    assert_eq!(client.write(b"0123456789"), Ok(10));
    carry(&mut client, &mut server, 1 << 16, usize::MAX);
    let mut three = [0u8; 3];
    assert_eq!(server.read(&mut three), Ok(3));
    assert_eq!(
        server.read_in_place(<[u8]>::to_vec),
        Ok(b"3456789".to_vec())
    );
    assert_eq!(client.write(b"next"), Ok(4));
    carry(&mut client, &mut server, 1 << 16, usize::MAX);
    assert_eq!(server.read_in_place(<[u8]>::to_vec), Ok(b"next".to_vec()));
}

#[test]
fn one_record_per_call_and_the_ends_are_reads() {
    let (mut client, mut server, _) = established(TLS13);
    // Nothing yet: a want, as read gives.
    assert!(matches!(
        server.read_in_place(|p| p.len()),
        Err(Error::Want(tlsbio::Want::Read { .. }))
    ));
    let big = vec![7u8; 20_000];
    assert_eq!(client.write(&big), Ok(20_000));
    carry(&mut client, &mut server, 1 << 16, usize::MAX);
    let first = server.read_in_place(|p| p.len()).unwrap();
    let second = server.read_in_place(|p| p.len()).unwrap();
    assert_eq!(first + second, 20_000);
    assert!(first <= 16_384 && second <= 16_384);
    client.shutdown().unwrap();
    carry(&mut client, &mut server, 1 << 16, usize::MAX);
    assert_eq!(server.read_in_place(|p| p.len()), Err(Error::ZeroReturn));
}
