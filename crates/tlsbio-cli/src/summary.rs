//! What a handshake negotiated, in the words `openssl s_client` uses.

use std::fmt::Write as _;

use tlsbio::bio::Bio;
use tlsbio::rustls::pki_types::CertificateDer;
use tlsbio::Engine;

/// Several lines: version, suite, ALPN, resumption, and the peer's
/// certificate (subject, issuer, validity).
pub(crate) fn handshake<R: Bio, W: Bio>(engine: &Engine<R, W>) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "protocol   {}", version(engine));
    let _ = writeln!(out, "suite      {}", suite(engine));
    let _ = writeln!(out, "group      {}", group(engine));
    let _ = writeln!(out, "alpn       {}", alpn(engine));
    let _ = writeln!(
        out,
        "resumed    {}",
        if engine.is_resumed() { "yes" } else { "no" }
    );
    match engine.peer_certificates().and_then(|c| c.first()) {
        Some(leaf) => out.push_str(&certificate(leaf)),
        None => out.push_str("peer certificate: none\n"),
    }
    out
}

/// One line for a server's log.
pub(crate) fn line<R: Bio, W: Bio>(engine: &Engine<R, W>) -> String {
    format!(
        "{} {} group={} alpn={} sni={} resumed={} client-cert={}",
        version(engine),
        suite(engine),
        group(engine),
        alpn(engine),
        engine.server_name().unwrap_or("-"),
        if engine.is_resumed() { "yes" } else { "no" },
        match engine.peer_certificates().and_then(|c| c.first()) {
            Some(leaf) => subject(leaf),
            None => "none".into(),
        }
    )
}

fn version<R: Bio, W: Bio>(engine: &Engine<R, W>) -> String {
    engine
        .protocol_version()
        .map_or("-".into(), |v| format!("{v:?}"))
}

fn suite<R: Bio, W: Bio>(engine: &Engine<R, W>) -> String {
    engine
        .cipher_suite()
        .map_or("-".into(), |s| format!("{:?}", s.suite()))
}

fn group<R: Bio, W: Bio>(engine: &Engine<R, W>) -> String {
    engine
        .key_exchange_group()
        .map_or("-".into(), |g| format!("{g:?}"))
}

fn alpn<R: Bio, W: Bio>(engine: &Engine<R, W>) -> String {
    engine
        .alpn_protocol()
        .map_or("-".into(), |p| String::from_utf8_lossy(p).into_owned())
}

fn subject(der: &CertificateDer<'_>) -> String {
    match x509_parser::parse_x509_certificate(der) {
        Ok((_, cert)) => cert.subject().to_string(),
        Err(_) => "(unparsable)".into(),
    }
}

fn certificate(der: &CertificateDer<'_>) -> String {
    match x509_parser::parse_x509_certificate(der) {
        Ok((_, cert)) => {
            let validity = cert.validity();
            format!(
                "peer certificate\n  subject  {}\n  issuer   {}\n  valid    {} to {}\n",
                cert.subject(),
                cert.issuer(),
                validity.not_before,
                validity.not_after
            )
        }
        Err(e) => format!("peer certificate: {} bytes, not parsable: {e}\n", der.len()),
    }
}
