//! The deterministic provider on rustls 0.23's crypto traits.

use std::sync::Arc;

use crate::rustls::crypto::{
    aws_lc_rs, ActiveKeyExchange, CryptoProvider, GetRandomFailed, KeyProvider, SecureRandom,
    SharedSecret, SupportedKxGroup,
};
use crate::rustls::pki_types::{CertificateDer, PrivateKeyDer};
use crate::rustls::sign::SigningKey;
use crate::rustls::time_provider::TimeProvider;
use crate::rustls::{
    self, ClientConfig, NamedGroup, PeerMisbehaved, RootCertStore, ServerConfig,
    SignatureAlgorithm, SupportedProtocolVersion,
};

use super::{
    fill, not_ed25519, Ed25519Only, KxGroup, P256Share, SeededP256, SeededRandom, SeededX25519,
    Stream, X25519Share,
};

pub(super) fn provider(stream: Stream, groups: &[KxGroup]) -> CryptoProvider {
    let stock = aws_lc_rs::default_provider();
    let random: &'static SeededRandom = Box::leak(Box::new(SeededRandom(stream.clone())));
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
        key_provider: &Ed25519Only,
    }
}

pub(super) fn client_config(
    provider: Arc<CryptoProvider>,
    time: Arc<dyn TimeProvider>,
    roots: RootCertStore,
    versions: &[&'static SupportedProtocolVersion],
) -> ClientConfig {
    ClientConfig::builder_with_details(provider, time)
        .with_protocol_versions(versions)
        .expect("the deterministic provider supports TLS 1.2 and 1.3")
        .with_root_certificates(roots)
        .with_no_client_auth()
}

pub(super) fn server_config(
    provider: Arc<CryptoProvider>,
    time: Arc<dyn TimeProvider>,
    chain: Vec<CertificateDer<'static>>,
    key: PrivateKeyDer<'static>,
    versions: &[&'static SupportedProtocolVersion],
) -> ServerConfig {
    ServerConfig::builder_with_details(provider, time)
        .with_protocol_versions(versions)
        .expect("the deterministic provider supports TLS 1.2 and 1.3")
        .with_no_client_auth()
        .with_single_cert(chain, key)
        .expect("the deterministic PKI's leaf key is Ed25519")
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

impl KeyProvider for Ed25519Only {
    fn load_private_key(
        &self,
        key_der: PrivateKeyDer<'static>,
    ) -> Result<Arc<dyn SigningKey>, rustls::Error> {
        let key = aws_lc_rs::default_provider()
            .key_provider
            .load_private_key(key_der)?;
        if key.algorithm() != SignatureAlgorithm::ED25519 {
            return Err(rustls::Error::General(not_ed25519(key.algorithm())));
        }
        Ok(key)
    }
}
