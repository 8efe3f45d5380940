//! Property tests: any fragmentation and capacities, and hostile input.
//!
//! A failing case prints the proptest seed and the minimal input; rerun
//! with `PROPTEST_CASES` / the persisted regression file to reproduce.

mod support;

use proptest::prelude::*;
use support::*;
use tlsbio::bio::{Bio, RingBio, VecBio};
use tlsbio::{Engine, Error};

fn version(tls13: bool) -> &'static [&'static tlsbio::rustls::SupportedProtocolVersion] {
    if tls13 {
        TLS13
    } else {
        TLS12
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(24))]

    /// For any chunk size on the link and any BIO capacities >= 1, the
    /// handshake completes and data arrives identical, with a driver that
    /// only does what the engines ask (so no lost wake-up either).
    #[test]
    fn handshake_completes_for_any_fragmentation(
        tls13 in any::<bool>(),
        chunk in 1usize..3000,
        client_cap in 1usize..40_000,
        server_cap in 1usize..40_000,
        len in 0usize..40_000,
        seed in any::<u64>(),
    ) {
        let (cc, sc) = configs(version(tls13));
        let mut client = Engine::client(&cctx(cc), name(), RingBio::with_capacity(client_cap), RingBio::with_capacity(client_cap),
        ).unwrap();
        let mut server = Engine::server(&sctx(sc), RingBio::with_capacity(server_cap), RingBio::with_capacity(server_cap),
        );
        let out = handshake(&mut client, &mut server, chunk);
        prop_assert!(out.client.is_ok() && out.server.is_ok(), "{:?}", out);
        let data = payload(len, seed);
        if len > 0 {
            prop_assert_eq!(send(&mut client, &mut server, &data, chunk), data.clone());
            prop_assert_eq!(send(&mut server, &mut client, &data, chunk), data);
        }
    }

    /// Random bytes in place of a ClientHello give an error or a want,
    /// never a panic, a hang, or unbounded buffering.
    #[test]
    fn random_bytes_as_client_hello_never_panic(
        junk in proptest::collection::vec(any::<u8>(), 0..5000),
        chunk in 1usize..600,
        tls_header in any::<bool>(),
    ) {
        let (_, sc) = configs(TLS13);
        let mut server = Engine::server(&sctx(sc), VecBio::with_limit(1 << 20), VecBio::new());
        let mut input = junk;
        if tls_header && input.len() >= 5 {
            // Make it look like a handshake record to get past the first check.
            input[0] = 22;
            input[1] = 3;
            input[2] = 1;
        }
        feed_junk(&mut server, &input, chunk)?;
    }

    /// Random bytes in place of a ServerHello, likewise.
    #[test]
    fn random_bytes_as_server_hello_never_panic(
        junk in proptest::collection::vec(any::<u8>(), 0..5000),
        chunk in 1usize..600,
    ) {
        let (cc, _) = configs(TLS13);
        let mut client = Engine::client(&cctx(cc), name(), VecBio::with_limit(1 << 20), VecBio::new()).unwrap();
        prop_assert!(client.connect().unwrap_err().want().is_some());
        client.pop_output();
        feed_junk(&mut client, &junk, chunk)?;
    }
}

fn feed_junk<R: Bio, W: Bio>(
    engine: &mut Engine<R, W>,
    input: &[u8],
    chunk: usize,
) -> Result<(), TestCaseError> {
    for piece in input.chunks(chunk) {
        engine.rbio_mut().write(piece);
        match engine.do_handshake() {
            Ok(()) => prop_assert!(false, "junk completed a handshake"),
            Err(Error::Want(_)) => {}
            Err(e) => {
                prop_assert!(e.is_fatal(), "{e}");
                prop_assert_eq!(engine.do_handshake().unwrap_err(), e, "sticky");
                return Ok(());
            }
        }
        prop_assert!(engine.buffered() <= 200_000);
    }
    engine.rbio_mut().shutdown_wr();
    let e = engine.do_handshake().unwrap_err();
    prop_assert!(e.is_fatal(), "{e}");
    Ok(())
}
