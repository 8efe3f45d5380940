//! The deterministic provider: same seed, same bytes; other seed, other
//! bytes; and it cannot sign non-deterministically.

mod support;

use std::sync::Arc;

use support::*;
use tlsbio_memory::deterministic::{DeterministicPki, InsecureDeterministicCrypto, LeafKey};
use tlsbio_memory::rustls::pki_types::{PrivateKeyDer, PrivatePkcs8KeyDer};
use tlsbio_memory::{Dir, Schedule};

#[test]
fn one_seed_gives_byte_identical_transcripts_both_ways() {
    for v in VERSIONS {
        for schedule in [Schedule::lockstep(), Schedule::seeded(5)] {
            let a = recorded(7, v, schedule.clone(), 2000, 3000);
            let b = recorded(7, v, schedule.clone(), 2000, 3000);
            for dir in [Dir::ClientToServer, Dir::ServerToClient] {
                assert_eq!(a.stream(dir), b.stream(dir), "{} {dir}", name(v));
            }
            assert_eq!(a.to_text(), b.to_text(), "{}", name(v));
        }
    }
}

#[test]
fn another_seed_gives_another_transcript_both_ways() {
    for v in VERSIONS {
        let a = recorded(7, v, Schedule::lockstep(), 2000, 3000);
        let b = recorded(8, v, Schedule::lockstep(), 2000, 3000);
        for dir in [Dir::ClientToServer, Dir::ServerToClient] {
            let (x, y) = (a.stream(dir), b.stream(dir));
            // Same shape, different bytes (randoms, key shares, signatures).
            assert_ne!(x, y, "{} {dir}", name(v));
            // The very first record differs: the hellos carry the randoms.
            assert_ne!(x[..64], y[..64], "{} {dir}", name(v));
        }
    }
}

/// The bytes on the wire depend on the crypto seed only, not on the order
/// in which the sides ran, as long as the application data is cut into the
/// same records (no payload here).
#[test]
fn handshake_bytes_do_not_depend_on_the_schedule() {
    for v in VERSIONS {
        let run = |schedule| {
            let mut h = pair(3, v, schedule, 0, 0).build().unwrap();
            let r = h.run();
            assert!(r.is_clean(), "{}\n{r}", h.schedule().name());
            let t = h.transcript();
            (t.stream(Dir::ClientToServer), t.stream(Dir::ServerToClient))
        };
        let lockstep = run(Schedule::lockstep());
        assert_eq!(run(Schedule::trickle()), lockstep, "{}", name(v));
        for seed in 0..8 {
            assert_eq!(
                run(Schedule::seeded(seed)),
                lockstep,
                "{} seed {seed}",
                name(v)
            );
        }
    }
}

#[test]
fn certificates_are_the_same_for_the_same_seed() {
    let a = DeterministicPki::new(1, &["localhost"]);
    let b = DeterministicPki::new(1, &["localhost"]);
    let c = DeterministicPki::new(2, &["localhost"]);
    assert_eq!(a.ca(), b.ca());
    assert_eq!(a.chain(), b.chain());
    assert_ne!(a.ca(), c.ca());
    assert_ne!(a.chain(), c.chain());
}

#[test]
fn keys_it_cannot_sign_with_deterministically_are_refused() {
    let crypto = InsecureDeterministicCrypto::new(1);
    let provider = crypto.server_provider();
    // An ECDSA P-384 key: aws-lc-rs would sign with random nonces, and the
    // provider has no deterministic signer for it.
    let p384 = fresh_key(&rcgen::PKCS_ECDSA_P384_SHA384);
    let err = provider.key_provider.load_private_key(p384).unwrap_err();
    assert!(
        err.to_string()
            .contains("only with Ed25519, ECDSA P-256 and RSA"),
        "{err}"
    );
    // A stock provider would happily have loaded it.
    assert!(tlsbio_memory::tlsbio::default_provider()
        .key_provider
        .load_private_key(fresh_key(&rcgen::PKCS_ECDSA_P384_SHA384))
        .is_ok());
    // Every kind the PKI makes loads, and so does any P-256 key.
    for kind in [LeafKey::Ed25519, LeafKey::EcdsaP256, LeafKey::Rsa2048] {
        let pki = DeterministicPki::with_key(1, &["localhost"], kind);
        assert!(provider.key_provider.load_private_key(pki.key()).is_ok());
        assert!(provider
            .key_provider
            .load_private_key(pki.client_key())
            .is_ok());
    }
    assert!(provider
        .key_provider
        .load_private_key(fresh_key(&rcgen::PKCS_ECDSA_P256_SHA256))
        .is_ok());
}

/// A fresh key of `alg`, from rcgen (random).
fn fresh_key(alg: &'static rcgen::SignatureAlgorithm) -> PrivateKeyDer<'static> {
    let key = rcgen::KeyPair::generate_for(alg).unwrap();
    PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(key.serialize_der()))
}

#[test]
fn configs_from_the_provider_have_no_other_key_exchange() {
    let crypto = InsecureDeterministicCrypto::new(1);
    let pki = DeterministicPki::new(1, &["localhost"]);
    let config = Arc::new(crypto.client_config(&pki, TLS13));
    #[cfg(not(feature = "rustls-0-24"))]
    let provider = config.crypto_provider();
    #[cfg(feature = "rustls-0-24")]
    let provider = config.provider();
    assert_eq!(provider.kx_groups.len(), 1);
}

#[test]
fn rewindable_configs_repeat_the_first_connection_every_time() {
    for v in VERSIONS {
        let crypto = InsecureDeterministicCrypto::new(11);
        let pki = DeterministicPki::new(11, &["localhost"]);
        let client = crypto.rewindable_client_config(&pki, v);
        let server = crypto.rewindable_server_config(&pki, v);
        let run = |client: Arc<_>, server: Arc<_>| {
            let mut h = tlsbio_memory::Harness::builder(
                tlsbio_memory::Endpoint::client(client, "localhost").unwrap(),
                tlsbio_memory::Endpoint::Server(server),
            )
            .build()
            .unwrap();
            assert!(h.run().is_clean());
            h.transcript().to_text()
        };
        let first = run(client.fresh(), server.fresh());
        // Same as a plain config's first connection...
        let plain = run(
            Arc::new(crypto.client_config(&pki, v)),
            Arc::new(crypto.server_config(&pki, v)),
        );
        assert_eq!(first, plain, "{}", name(v));
        // ...and the tenth fresh copy repeats it, with no resumption from
        // the earlier runs' sessions.
        for _ in 0..9 {
            assert_eq!(run(client.fresh(), server.fresh()), first, "{}", name(v));
        }
        // Reusing one copy is not rewinding: the second connection differs.
        let (c, s) = (client.fresh(), server.fresh());
        assert_eq!(run(c.clone(), s.clone()), first);
        assert_ne!(run(c, s), first, "{}", name(v));
    }
}
