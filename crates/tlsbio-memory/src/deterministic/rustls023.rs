//! The deterministic provider on rustls 0.23's crypto traits.

use std::sync::Arc;

use crate::rustls::crypto::{
    aws_lc_rs, ActiveKeyExchange, CryptoProvider, GetRandomFailed, KeyProvider, SecureRandom,
    SharedSecret, SupportedKxGroup,
};
use crate::rustls::pki_types::SubjectPublicKeyInfoDer;
use crate::rustls::pki_types::{CertificateDer, PrivateKeyDer};
use crate::rustls::sign::{Signer, SigningKey};
use crate::rustls::time_provider::TimeProvider;
use crate::rustls::{
    self, ClientConfig, NamedGroup, PeerMisbehaved, RootCertStore, ServerConfig,
    SignatureAlgorithm, SignatureScheme, SupportedProtocolVersion,
};

use super::{
    fill, keys, not_deterministic, KxGroup, P256Share, SeededKey, SeededKeys, SeededP256,
    SeededRandom, SeededSigner, SeededX25519, Stream, X25519Share,
};

pub(super) fn provider(stream: Stream, groups: &[KxGroup]) -> CryptoProvider {
    let stock = aws_lc_rs::default_provider();
    let random: &'static SeededRandom = Box::leak(Box::new(SeededRandom(stream.clone())));
    let keys: &'static SeededKeys = Box::leak(Box::new(SeededKeys(stream.clone())));
    let kx_groups = groups
        .iter()
        .map(|group| -> &'static dyn SupportedKxGroup {
            match group {
                KxGroup::X25519 => Box::leak(Box::new(SeededX25519(stream.clone()))),
                KxGroup::Secp256r1 => Box::leak(Box::new(SeededP256(stream.clone()))),
            }
        })
        .collect();
    CryptoProvider {
        cipher_suites: stock.cipher_suites,
        kx_groups,
        signature_verification_algorithms: stock.signature_verification_algorithms,
        secure_random: random,
        key_provider: keys,
    }
}

pub(super) fn client_config(
    provider: Arc<CryptoProvider>,
    time: Arc<dyn TimeProvider>,
    roots: RootCertStore,
    identity: Option<(Vec<CertificateDer<'static>>, PrivateKeyDer<'static>)>,
    versions: &[&'static SupportedProtocolVersion],
) -> ClientConfig {
    let builder = ClientConfig::builder_with_details(provider, time)
        .with_protocol_versions(versions)
        .expect("the deterministic provider supports TLS 1.2 and 1.3")
        .with_root_certificates(roots);
    match identity {
        None => builder.with_no_client_auth(),
        Some((chain, key)) => builder
            .with_client_auth_cert(chain, key)
            .expect("the deterministic PKI's client key signs deterministically"),
    }
}

pub(super) fn server_config(
    provider: Arc<CryptoProvider>,
    time: Arc<dyn TimeProvider>,
    clients: Option<(RootCertStore, bool)>,
    chain: Vec<CertificateDer<'static>>,
    key: PrivateKeyDer<'static>,
    versions: &[&'static SupportedProtocolVersion],
) -> ServerConfig {
    let builder = ServerConfig::builder_with_details(provider.clone(), time)
        .with_protocol_versions(versions)
        .expect("the deterministic provider supports TLS 1.2 and 1.3");
    let builder = match clients {
        None => builder.with_no_client_auth(),
        Some((roots, required)) => {
            let verifier = rustls::server::WebPkiClientVerifier::builder_with_provider(
                Arc::new(roots),
                provider,
            );
            let verifier = if required {
                verifier
            } else {
                verifier.allow_unauthenticated()
            };
            builder.with_client_cert_verifier(
                verifier
                    .build()
                    .expect("the deterministic CA verifies clients"),
            )
        }
    };
    builder
        .with_single_cert(chain, key)
        .expect("the deterministic PKI's leaf key signs deterministically")
}

impl SecureRandom for SeededRandom {
    fn fill(&self, buf: &mut [u8]) -> Result<(), GetRandomFailed> {
        fill(&self.0, buf);
        Ok(())
    }
}

impl SupportedKxGroup for SeededX25519 {
    fn start(&self) -> Result<Box<dyn ActiveKeyExchange>, rustls::Error> {
        Ok(Box::new(self.share()))
    }

    fn name(&self) -> NamedGroup {
        NamedGroup::X25519
    }
}

impl SupportedKxGroup for SeededP256 {
    fn start(&self) -> Result<Box<dyn ActiveKeyExchange>, rustls::Error> {
        match self.share() {
            Some(share) => Ok(Box::new(share)),
            None => Err(rustls::Error::FailedToGetRandomBytes),
        }
    }

    fn name(&self) -> NamedGroup {
        NamedGroup::secp256r1
    }
}

impl ActiveKeyExchange for P256Share {
    fn complete(self: Box<Self>, peer_pub_key: &[u8]) -> Result<SharedSecret, rustls::Error> {
        match self.agree(peer_pub_key) {
            Some(secret) => Ok(SharedSecret::from(secret)),
            None => Err(PeerMisbehaved::InvalidKeyShare.into()),
        }
    }

    fn pub_key(&self) -> &[u8] {
        &self.public
    }

    fn group(&self) -> NamedGroup {
        NamedGroup::secp256r1
    }
}

impl ActiveKeyExchange for X25519Share {
    fn complete(self: Box<Self>, peer_pub_key: &[u8]) -> Result<SharedSecret, rustls::Error> {
        match self.agree(peer_pub_key) {
            Some(secret) => Ok(SharedSecret::from(&secret[..])),
            None => Err(PeerMisbehaved::InvalidKeyShare.into()),
        }
    }

    fn pub_key(&self) -> &[u8] {
        self.public.as_bytes()
    }

    fn group(&self) -> NamedGroup {
        NamedGroup::X25519
    }
}

impl KeyProvider for SeededKeys {
    fn load_private_key(
        &self,
        key_der: PrivateKeyDer<'static>,
    ) -> Result<Arc<dyn SigningKey>, rustls::Error> {
        if let PrivateKeyDer::Pkcs8(pkcs8) = &key_der {
            if let Some(key) = keys::Key::from_pkcs8(pkcs8.secret_pkcs8_der(), &self.0) {
                return Ok(Arc::new(SeededKey(Arc::new(key))));
            }
        }
        let key = aws_lc_rs::default_provider()
            .key_provider
            .load_private_key(key_der)?;
        if key.algorithm() != SignatureAlgorithm::ED25519 {
            return Err(rustls::Error::General(not_deterministic(key.algorithm())));
        }
        Ok(key)
    }
}

impl SigningKey for SeededKey {
    fn choose_scheme(&self, offered: &[SignatureScheme]) -> Option<Box<dyn Signer>> {
        let signer = self.signer(offered.iter().map(|s| u16::from(*s)))?;
        Some(Box::new(signer))
    }

    fn public_key(&self) -> Option<SubjectPublicKeyInfoDer<'_>> {
        self.0.spki().map(SubjectPublicKeyInfoDer::from)
    }

    fn algorithm(&self) -> SignatureAlgorithm {
        match *self.0 {
            keys::Key::Ecdsa(_) => SignatureAlgorithm::ECDSA,
            keys::Key::Rsa(..) => SignatureAlgorithm::RSA,
        }
    }
}

impl Signer for SeededSigner {
    fn sign(&self, message: &[u8]) -> Result<Vec<u8>, rustls::Error> {
        self.sign_message(message)
    }

    fn scheme(&self) -> SignatureScheme {
        SignatureScheme::from(self.scheme)
    }
}
