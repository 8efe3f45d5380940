//! Errors a user reads: one sentence that names the cause and the fix,
//! with the rustls error kept as the source.

mod support;

use std::error::Error as _;
use std::sync::Arc;

use rcgen::{BasicConstraints, CertificateParams, IsCa, KeyPair};
use support::*;
use tlsbio::bio::VecBio;
use tlsbio::rustls::pki_types::{PrivateKeyDer, PrivatePkcs8KeyDer};
use tlsbio::rustls::{self, RootCertStore};
use tlsbio::{Engine, Error};

type Pair = (Engine<VecBio, VecBio>, Engine<VecBio, VecBio>);

/// A client for `name` that trusts `root`, against a server presenting
/// `server_chain`, after the handshake was tried.
fn attempt(
    server_chain: Vec<rustls::pki_types::CertificateDer<'static>>,
    key: PrivateKeyDer<'static>,
    root: rustls::pki_types::CertificateDer<'static>,
    name: &str,
) -> (Pair, Result<(), Error>) {
    let mut roots = RootCertStore::empty();
    roots.add(root).unwrap();
    let cc = client_config(ALL, roots, None);
    let sc = server_config(ALL, server_chain, key, None);
    let mut client = Engine::client(
        &cctx(Arc::new(cc)),
        name.to_string().try_into().unwrap(),
        VecBio::new(),
        VecBio::new(),
    )
    .unwrap();
    let mut server = Engine::server(&sctx(Arc::new(sc)), VecBio::new(), VecBio::new());
    let out = handshake(&mut client, &mut server, usize::MAX);
    ((client, server), out.client)
}

/// The client's error from [`attempt`].
fn failure(
    server_chain: Vec<rustls::pki_types::CertificateDer<'static>>,
    key: PrivateKeyDer<'static>,
    root: rustls::pki_types::CertificateDer<'static>,
    name: &str,
) -> Error {
    attempt(server_chain, key, root, name)
        .1
        .expect_err("the client must refuse")
}

#[test]
fn a_ca_certificate_used_as_a_server_certificate_is_named_with_the_fix() {
    // What `openssl req -x509` makes by default: CA:TRUE, self-signed.
    let mut params = CertificateParams::new(vec!["localhost".to_string()]).unwrap();
    params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    let key = KeyPair::generate().unwrap();
    let cert = params.self_signed(&key).unwrap();
    let der = cert.der().clone();
    let key = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(key.serialize_der()));
    let e = failure(vec![der.clone()], key, der, "localhost");
    let text = e.to_string();
    assert!(text.contains("is a ca certificate"), "{text}");
    assert!(text.contains("CA:FALSE"), "{text}");
    assert!(!text.contains("OtherError"), "no Debug dump: {text}");
    assert!(e.source().is_some(), "the rustls error is the source");
}

#[test]
fn a_wrong_name_lists_the_names_the_certificate_has() {
    let pki = Pki::new();
    let leaf = pki.leaf(&["alpha.test", "beta.test"]);
    let e = failure(
        leaf.chain,
        leaf.key,
        pki.ca.cert.der().clone(),
        "gamma.test",
    );
    let text = e.to_string();
    assert!(text.contains("not valid for \"gamma.test\""), "{text}");
    assert!(text.contains("alpha.test, beta.test"), "{text}");
}

/// A self-signed leaf (CA:FALSE) the client does not trust.
fn stranger() -> (
    Vec<rustls::pki_types::CertificateDer<'static>>,
    PrivateKeyDer<'static>,
) {
    let params = CertificateParams::new(vec!["localhost".to_string()]).unwrap();
    let key = KeyPair::generate().unwrap();
    let cert = params.self_signed(&key).unwrap();
    (
        vec![cert.der().clone()],
        PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(key.serialize_der())),
    )
}

#[test]
fn an_unknown_issuer_says_to_add_the_ca() {
    let pki = Pki::new();
    let (chain, key) = stranger();
    let e = failure(chain, key, pki.ca.cert.der().clone(), "localhost");
    let text = e.to_string();
    assert!(text.contains("ca we do not trust"), "{text}");
    assert!(text.contains("trusted roots"), "{text}");
}

#[test]
fn the_server_side_of_a_refused_certificate_reads_the_alert() {
    let pki = Pki::new();
    let (chain, key) = stranger();
    let ((mut client, mut server), result) =
        attempt(chain, key, pki.ca.cert.der().clone(), "localhost");
    assert!(result.is_err());
    // The client's alert reaches the server on the next exchange.
    carry(&mut client, &mut server, usize::MAX, usize::MAX);
    let e = server.accept().unwrap_err();
    let text = e.to_string();
    assert!(text.contains("rejected our certificate"), "{text}");
}
