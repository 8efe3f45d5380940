//! The deterministic provider's other keys and client certificates:
//! ECDSA P-256 (RFC 6979) and RSA (PSS salts from the stream) sign the
//! same bytes for the same seed, and client certificates are asked for,
//! sent, missing and refused the way rustls does it.

mod support;

use std::sync::Arc;

use support::*;
use tlsbio_memory::deterministic::{
    ClientAuth, DeterministicPki, InsecureDeterministicCrypto, LeafKey,
};
use tlsbio_memory::rustls::SupportedProtocolVersion;
use tlsbio_memory::{Dir, Endpoint, Harness, Report, Schedule, Script, Side, Transcript};

const KINDS: [LeafKey; 3] = [LeafKey::Ed25519, LeafKey::EcdsaP256, LeafKey::Rsa2048];

/// One run between a client and a server made from `crypto` and `pki`.
fn run(
    crypto: &InsecureDeterministicCrypto,
    client: &InsecureDeterministicCrypto,
    pki: &DeterministicPki,
    v: &[&'static SupportedProtocolVersion],
    schedule: Schedule,
) -> (Report, Transcript) {
    let mut h = Harness::builder(
        Endpoint::client(Arc::new(client.client_config(pki, v)), "localhost").unwrap(),
        Endpoint::Server(Arc::new(crypto.server_config(pki, v))),
    )
    .schedule(schedule)
    .client_script(Script::sending(Side::Client, 500))
    .server_script(Script::sending(Side::Server, 500))
    .build()
    .unwrap();
    let report = h.run();
    (report, h.transcript().clone())
}

#[test]
fn every_kind_of_key_gives_byte_identical_handshakes() {
    for kind in KINDS {
        for v in VERSIONS {
            let pki = DeterministicPki::with_key(5, &["localhost"], kind);
            let crypto = InsecureDeterministicCrypto::new(5);
            let (a, ta) = run(&crypto, &crypto, &pki, v, Schedule::lockstep());
            assert!(a.is_clean(), "{kind:?} {}: {a}", name(v));
            let (b, tb) = run(&crypto, &crypto, &pki, v, Schedule::seeded(3));
            assert!(b.is_clean(), "{kind:?} {}: {b}", name(v));
            // The server's flight carries the CertificateVerify signature:
            // it repeats only if the signature does.
            assert_eq!(
                ta.stream(Dir::ServerToClient),
                tb.stream(Dir::ServerToClient),
                "{kind:?} {}",
                name(v)
            );
            // Another seed signs something else (another transcript).
            let other = InsecureDeterministicCrypto::new(6);
            let (c, tc) = run(&other, &other, &pki, v, Schedule::lockstep());
            assert!(c.is_clean(), "{kind:?} {}: {c}", name(v));
            assert_ne!(
                ta.stream(Dir::ServerToClient),
                tc.stream(Dir::ServerToClient)
            );
        }
    }
}

#[test]
fn each_kind_has_certificates_of_its_own_that_repeat() {
    let chains: Vec<_> = KINDS
        .iter()
        .map(|&kind| DeterministicPki::with_key(1, &["localhost"], kind).chain())
        .collect();
    for (i, kind) in KINDS.iter().enumerate() {
        assert_eq!(
            DeterministicPki::with_key(1, &["localhost"], *kind).chain(),
            chains[i],
            "{kind:?}"
        );
        for j in 0..i {
            assert_ne!(chains[i], chains[j], "{kind:?} and {:?}", KINDS[j]);
        }
    }
    // The Ed25519 PKI is what `new` always made: same CA, same leaf.
    let plain = DeterministicPki::new(1, &["localhost"]);
    assert_eq!(plain.chain(), chains[0]);
    assert_ne!(plain.client_chain(), plain.chain());
}

#[test]
fn a_client_certificate_is_sent_verified_and_repeats() {
    for kind in KINDS {
        for v in VERSIONS {
            let pki = DeterministicPki::with_key(2, &["localhost"], kind);
            for auth in [ClientAuth::Optional, ClientAuth::Required] {
                let server = InsecureDeterministicCrypto::new(2).with_client_auth(auth);
                let client = InsecureDeterministicCrypto::new(2).with_client_certificate();
                let (a, ta) = run(&server, &client, &pki, v, Schedule::lockstep());
                assert!(a.is_clean(), "{kind:?} {auth:?} {}: {a}", name(v));
                let (_, tb) = run(&server, &client, &pki, v, Schedule::trickle());
                assert_eq!(
                    ta.stream(Dir::ClientToServer),
                    tb.stream(Dir::ClientToServer),
                    "the client's CertificateVerify repeats: {kind:?} {}",
                    name(v)
                );
            }
        }
    }
}

#[test]
fn a_missing_client_certificate_is_refused_only_when_required() {
    for v in VERSIONS {
        let pki = DeterministicPki::new(3, &["localhost"]);
        let client = InsecureDeterministicCrypto::new(3);
        let optional = InsecureDeterministicCrypto::new(3).with_client_auth(ClientAuth::Optional);
        let (r, _) = run(&optional, &client, &pki, v, Schedule::lockstep());
        assert!(r.is_clean(), "{}: {r}", name(v));

        let required = InsecureDeterministicCrypto::new(3).with_client_auth(ClientAuth::Required);
        let (r, _) = run(&required, &client, &pki, v, Schedule::lockstep());
        let error = r.server.error.as_ref().expect("the server refuses");
        assert!(
            error.to_string().to_lowercase().contains("certificate"),
            "{}: {error}",
            name(v)
        );
        assert!(
            r.client.error.is_some(),
            "{}: the client hears of it: {r}",
            name(v)
        );
    }
}

#[test]
fn a_client_certificate_from_another_ca_is_refused() {
    for v in VERSIONS {
        let pki = DeterministicPki::new(4, &["localhost"]);
        // The same CA and server leaf, but the client leaf of another CA.
        let mixed = pki
            .clone()
            .with_client_from(&DeterministicPki::new(40, &["localhost"]));
        assert_ne!(mixed.client_chain(), pki.client_chain());
        let server = InsecureDeterministicCrypto::new(4).with_client_auth(ClientAuth::Optional);
        let client = InsecureDeterministicCrypto::new(4).with_client_certificate();
        let (r, _) = run(&server, &client, &mixed, v, Schedule::lockstep());
        // Both CAs have the same name, so the server tries its own CA's
        // key on the stranger's signature.
        let error = r.server.error.as_ref().expect("the server refuses it");
        assert!(
            error.to_string().contains("bad signature"),
            "{}: {error}",
            name(v)
        );
        // With its own client leaf the same pair connects.
        let (r, _) = run(&server, &client, &pki, v, Schedule::lockstep());
        assert!(r.is_clean(), "{}: {r}", name(v));
    }
}
