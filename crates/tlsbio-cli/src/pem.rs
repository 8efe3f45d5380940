//! Certificates and keys: PEM files in, and a generated self-signed
//! certificate when the user gives none.

use std::path::{Path, PathBuf};

use tlsbio::rustls::pki_types::pem::PemObject;
use tlsbio::rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
use tlsbio::rustls::RootCertStore;

use crate::Result;

/// Every certificate in a PEM file; an error if there is none.
pub(crate) fn certs(path: &Path) -> Result<Vec<CertificateDer<'static>>> {
    let bytes = read(path)?;
    let certs = CertificateDer::pem_slice_iter(&bytes)
        .collect::<std::result::Result<Vec<_>, _>>()
        .map_err(|e| format!("{}: bad PEM: {e}", path.display()))?;
    if certs.is_empty() {
        return Err(format!(
            "{}: no CERTIFICATE block found; expected a PEM certificate file",
            path.display()
        ));
    }
    Ok(certs)
}

/// The first private key (PKCS#8, PKCS#1 or SEC1) in a PEM file.
pub(crate) fn key(path: &Path) -> Result<PrivateKeyDer<'static>> {
    let bytes = read(path)?;
    PrivateKeyDer::from_pem_slice(&bytes).map_err(|e| {
        format!(
            "{}: no usable private key ({e}); expected a PEM PRIVATE KEY block",
            path.display()
        )
    })
}

/// A root store with every certificate in a PEM file.
pub(crate) fn roots(path: &Path) -> Result<RootCertStore> {
    let mut roots = RootCertStore::empty();
    for cert in certs(path)? {
        roots
            .add(cert)
            .map_err(|e| format!("{}: not a usable CA certificate: {e}", path.display()))?;
    }
    Ok(roots)
}

/// Where the system keeps its CA bundle, on the distributions we know.
const SYSTEM_BUNDLES: &[&str] = &[
    "/etc/ssl/certs/ca-certificates.crt",
    "/etc/pki/tls/certs/ca-bundle.crt",
    "/etc/ssl/cert.pem",
];

/// The system's CA bundle, for a client given no `--ca`.
pub(crate) fn system_roots() -> Result<RootCertStore> {
    let path = SYSTEM_BUNDLES
        .iter()
        .map(Path::new)
        .find(|p| p.exists())
        .ok_or("no --ca given and no system CA bundle found; pass --ca PEM")?;
    roots(path)
}

/// A self-signed certificate for localhost and 127.0.0.1 (ECDSA P-256, so
/// that every peer we test with can verify it), written to `out` as PEM.
pub(crate) fn self_signed(
    out: &Path,
) -> Result<(Vec<CertificateDer<'static>>, PrivateKeyDer<'static>)> {
    let generate = || {
        let names = vec!["localhost".to_string(), "127.0.0.1".to_string()];
        let mut params = rcgen::CertificateParams::new(names)?;
        params.distinguished_name = rcgen::DistinguishedName::new();
        params
            .distinguished_name
            .push(rcgen::DnType::CommonName, "tlsbio server (self-signed)");
        let key = rcgen::KeyPair::generate()?;
        let cert = params.self_signed(&key)?;
        Ok::<_, rcgen::Error>((cert, key))
    };
    let (cert, key) = generate().map_err(|e| format!("cannot generate a certificate: {e}"))?;
    std::fs::write(out, cert.pem())
        .map_err(|e| format!("cannot write the certificate to {}: {e}", out.display()))?;
    let key = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(key.serialize_der()));
    Ok((vec![cert.der().clone()], key))
}

/// The default place for the generated certificate.
pub(crate) fn default_cert_out(port: u16) -> PathBuf {
    std::env::temp_dir().join(format!("tlsbio-server-{port}.pem"))
}

fn read(path: &Path) -> Result<Vec<u8>> {
    std::fs::read(path).map_err(|e| format!("cannot read {}: {e}", path.display()))
}
