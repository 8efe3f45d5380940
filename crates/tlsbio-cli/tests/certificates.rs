//! `tlsbio client` against `tlsbio server` with certificates that fail (or
//! used to) the way users meet them: each failure is one sentence naming
//! the cause and the fix, and `--ca` holding the server's own self-signed
//! CA:TRUE certificate (what `openssl req -x509` makes) is trusted as
//! OpenSSL, curl and Python trust it, with name and dates still checked.

mod support;

use rcgen::{
    date_time_ymd, BasicConstraints, Certificate, CertificateParams, DnType, IsCa, KeyPair,
};
use support::*;

/// A validity period: not before, not after (year, month, day).
type Dates = ((i32, u8, u8), (i32, u8, u8));

/// Writes a certificate for `names` (self-signed if `issuer` is `None`)
/// as `<file>.pem` / `<file>.key`, returning their paths.
fn issue(
    pki: &Pki,
    file: &str,
    names: &[&str],
    ca: bool,
    dates: Option<Dates>,
    issuer: Option<(&Certificate, &KeyPair)>,
) -> (String, String, Certificate, KeyPair) {
    let mut params =
        CertificateParams::new(names.iter().map(|s| s.to_string()).collect::<Vec<_>>()).unwrap();
    params
        .distinguished_name
        .push(DnType::CommonName, names.first().copied().unwrap_or(file));
    if ca {
        params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    }
    if let Some(((y1, m1, d1), (y2, m2, d2))) = dates {
        params.not_before = date_time_ymd(y1, m1, d1);
        params.not_after = date_time_ymd(y2, m2, d2);
    }
    let key = KeyPair::generate().unwrap();
    let cert = match issuer {
        Some((ca, ca_key)) => params.signed_by(&key, ca, ca_key).unwrap(),
        None => params.self_signed(&key).unwrap(),
    };
    let (pem, key_path) = (
        scratch(pki, &format!("{file}.pem")),
        scratch(pki, &format!("{file}.key")),
    );
    std::fs::write(&pem, cert.pem()).unwrap();
    std::fs::write(&key_path, key.serialize_pem()).unwrap();
    (
        pem.to_str().unwrap().to_string(),
        key_path.to_str().unwrap().to_string(),
        cert,
        key,
    )
}

/// Runs `tlsbio client --ca ca --sni sni` against a server with `cert` /
/// `key`; returns whether it succeeded and its stderr.
fn connect(cert: &str, key: &str, ca: &str, sni: &str) -> (bool, String) {
    let (_server, port) = tlsbio_server_with(cert, key, &[]);
    let address = format!("127.0.0.1:{port}");
    let args = ["client", &address, "--ca", ca, "--sni", sni];
    let mut client = Proc::spawn(TLSBIO, &args);
    client.send("hello\n");
    let ok = client.finish();
    (ok, client.stderr())
}

fn fails_with(cert: &str, key: &str, ca: &str, sni: &str, sentence: &str) {
    let (ok, err) = connect(cert, key, ca, sni);
    assert!(!ok, "connected, but should fail with {sentence:?}:\n{err}");
    assert_eq!(err.lines().count(), 1, "not one line: {err}");
    assert!(err.contains(sentence), "expected {sentence:?} in:\n{err}");
}

#[test]
fn a_self_signed_ca_certificate_in_ca_is_trusted_as_itself() {
    let pki = Pki::new();
    let (cert, key, ..) = issue(&pki, "self", &["localhost", "127.0.0.1"], true, None, None);
    let (ok, err) = connect(&cert, &key, &cert, "localhost");
    assert!(ok, "{err}");
    assert!(
        err.contains("trust      the server's own certificate, from --ca"),
        "the summary does not say why it was trusted:\n{err}"
    );
    // An ordinary chain says nothing of the kind.
    let (ok, err) = connect(
        &pki.path("server.pem"),
        &pki.path("server.key"),
        &pki.path("ca.pem"),
        "localhost",
    );
    assert!(ok, "{err}");
    assert!(!err.contains("trust  "), "{err}");
}

#[test]
fn a_self_signed_ca_certificate_still_has_its_name_and_dates_checked() {
    let pki = Pki::new();
    let (cert, key, ..) = issue(&pki, "self", &["localhost"], true, None, None);
    fails_with(
        &cert,
        &key,
        &cert,
        "other.example",
        "not valid for \"other.example\" (it is for localhost)",
    );
    let (old, old_key, ..) = issue(
        &pki,
        "expired",
        &["localhost"],
        true,
        Some(((2020, 1, 1), (2021, 1, 1))),
        None,
    );
    fails_with(&old, &old_key, &old, "localhost", "has expired: renew it");
    // A different self-signed CA certificate in --ca trusts nothing here.
    let (other, ..) = issue(&pki, "other", &["localhost"], true, None, None);
    let (ok, err) = connect(&cert, &key, &other, "localhost");
    assert!(!ok && err.contains("tlsbio: error: handshake"), "{err}");
}

#[test]
fn every_certificate_failure_is_a_sentence_with_the_fix() {
    let pki = Pki::new();
    let (ca, _, ca_cert, ca_key) = issue(&pki, "ca", &[], true, None, None);
    let signer = Some((&ca_cert, &ca_key));
    let (cert, key, ..) = issue(
        &pki,
        "later",
        &["localhost"],
        false,
        Some(((2090, 1, 1), (2091, 1, 1))),
        signer,
    );
    fails_with(
        &cert,
        &key,
        &ca,
        "localhost",
        "is not valid yet: check this machine's clock",
    );
    let (cert, key, ..) = issue(
        &pki,
        "old",
        &["localhost"],
        false,
        Some(((2020, 1, 1), (2021, 1, 1))),
        signer,
    );
    fails_with(&cert, &key, &ca, "localhost", "has expired: renew it");
    let (cert, key, ..) = issue(
        &pki,
        "elsewhere",
        &["elsewhere.example"],
        false,
        None,
        signer,
    );
    fails_with(
        &cert,
        &key,
        &ca,
        "localhost",
        "not valid for \"localhost\" (it is for elsewhere.example)",
    );
    // Signed by the interop PKI's CA, which --ca does not hold.
    fails_with(
        &pki.path("server.pem"),
        &pki.path("server.key"),
        &ca,
        "localhost",
        "issued by a ca we do not trust: add that ca",
    );
    // A CA certificate, issued by the trusted CA, used as a server's.
    let (cert, key, ..) = issue(&pki, "intermediate", &["localhost"], true, None, signer);
    fails_with(
        &cert,
        &key,
        &ca,
        "localhost",
        "is a ca certificate (basicConstraints ca:true) used as a server certificate",
    );
}

/// The same with `openssl req -x509`, the way users make them.
#[test]
fn openssl_req_x509_certificates_work_with_ca() {
    if !have("openssl") {
        return;
    }
    let pki = Pki::new();
    let (cert, key) = (scratch(&pki, "req.pem"), scratch(&pki, "req.key"));
    let status = std::process::Command::new("openssl")
        .args([
            "req",
            "-x509",
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:P-256",
            "-nodes",
        ])
        .args([
            "-subj",
            "/CN=localhost",
            "-addext",
            "subjectAltName=DNS:localhost,IP:127.0.0.1",
        ])
        .args(["-days", "30", "-keyout"])
        .arg(&key)
        .arg("-out")
        .arg(&cert)
        .stderr(std::process::Stdio::null())
        .status()
        .unwrap();
    assert!(status.success());
    let (cert, key) = (cert.to_str().unwrap(), key.to_str().unwrap());
    let (ok, err) = connect(cert, key, cert, "localhost");
    assert!(ok, "{err}");
    assert!(err.contains("accepted as its own trust anchor"), "{err}");
}

#[test]
fn a_server_chain_file_is_sent_whole() {
    let pki = Pki::new();
    let (root, _, root_cert, root_key) = issue(&pki, "root", &[], true, None, None);
    let (middle, _, middle_cert, middle_key) = issue(
        &pki,
        "middle",
        &[],
        true,
        None,
        Some((&root_cert, &root_key)),
    );
    let (leaf, key, ..) = issue(
        &pki,
        "leaf",
        &["localhost"],
        false,
        None,
        Some((&middle_cert, &middle_key)),
    );
    let chain = scratch(&pki, "chain.pem");
    let pem = std::fs::read_to_string(&leaf).unwrap() + &std::fs::read_to_string(&middle).unwrap();
    std::fs::write(&chain, pem).unwrap();
    let (ok, err) = connect(chain.to_str().unwrap(), &key, &root, "localhost");
    assert!(ok, "{err}");
    // Without the intermediate the client cannot build the chain.
    fails_with(
        &leaf,
        &key,
        &root,
        "localhost",
        "issued by a ca we do not trust",
    );
}

/// `tlsbio server` with `args` exits at once; returns its stderr.
fn server_refuses(args: &[&str]) -> String {
    let mut all = vec!["server", "--listen", "127.0.0.1:0"];
    all.extend_from_slice(args);
    let mut server = Proc::spawn(TLSBIO, &all);
    assert!(
        !server.finish(),
        "started with {args:?}: {}",
        server.output()
    );
    server.stderr()
}

#[test]
fn server_file_errors_name_the_file_and_the_problem() {
    let pki = Pki::new();
    let (cert, key) = (pki.path("server.pem"), pki.path("server.key"));
    let err = server_refuses(&["--client-ca", "/nonexistent/ca.pem"]);
    assert!(
        err.contains("--client-ca: cannot read /nonexistent/ca.pem"),
        "{err}"
    );
    let err = server_refuses(&["--client-ca", &key]);
    assert!(
        err.contains(&format!("--client-ca: {key}: no CERTIFICATE block")),
        "{err}"
    );
    let err = server_refuses(&["--cert", &key, "--key", &key]);
    assert!(
        err.contains(&format!("--cert: {key}: no CERTIFICATE block")),
        "{err}"
    );
    let err = server_refuses(&["--cert", &cert, "--key", &cert]);
    assert!(
        err.contains(&format!("--key: {cert}: no usable private key")),
        "{err}"
    );
    let other = pki.path("client.key");
    let err = server_refuses(&["--cert", &cert, "--key", &other]);
    assert!(
        err.contains(&format!(
            "--key {other} is not the private key of the first certificate in --cert {cert}"
        )),
        "{err}"
    );
}
