//! The deterministic provider on rustls 0.24's crypto traits: the same
//! keys and streams; versions are chosen by the provider's cipher suites.

use std::borrow::Cow;
use std::sync::Arc;

use crate::rustls::crypto::kx::{
    ActiveKeyExchange, NamedGroup, SharedSecret, StartedKeyExchange, SupportedKxGroup,
};
use crate::rustls::crypto::{
    CryptoProvider, GetRandomFailed, Identity, KeyProvider, SecureRandom, SignatureScheme, Signer,
    SigningKey,
};
use crate::rustls::error::PeerMisbehaved;
use crate::rustls::pki_types::{CertificateDer, PrivateKeyDer, SubjectPublicKeyInfoDer};
use crate::rustls::time_provider::TimeProvider;
use crate::rustls::{self, ClientConfig, RootCertStore, ServerConfig, SupportedProtocolVersion};

use super::{
    fill, keys, not_deterministic, KxGroup, P256Share, SeededKey, SeededKeys, SeededP256,
    SeededRandom, SeededSigner, SeededX25519, Stream, X25519Share,
};

pub(super) fn provider(stream: Stream, groups: &[KxGroup]) -> CryptoProvider {
    let stock = rustls_aws_lc_rs::DEFAULT_PROVIDER;
    let random: &'static SeededRandom = Box::leak(Box::new(SeededRandom(stream.clone())));
    let keys: &'static SeededKeys = Box::leak(Box::new(SeededKeys(stream.clone())));
    let kx_groups: Vec<&'static dyn SupportedKxGroup> = groups
        .iter()
        .map(|group| -> &'static dyn SupportedKxGroup {
            match group {
                KxGroup::X25519 => Box::leak(Box::new(SeededX25519(stream.clone()))),
                KxGroup::Secp256r1 => Box::leak(Box::new(SeededP256(stream.clone()))),
            }
        })
        .collect();
    CryptoProvider {
        kx_groups: Cow::Owned(kx_groups),
        secure_random: random,
        key_provider: keys,
        ..stock
    }
}

/// `provider` cut down to `versions`' cipher suites.
fn with_versions(
    provider: Arc<CryptoProvider>,
    versions: &[&'static SupportedProtocolVersion],
) -> Arc<CryptoProvider> {
    tlsbio::provider_for_versions(&provider, versions)
}

pub(super) fn client_config(
    provider: Arc<CryptoProvider>,
    time: Arc<dyn TimeProvider>,
    roots: RootCertStore,
    identity: Option<(Vec<CertificateDer<'static>>, PrivateKeyDer<'static>)>,
    versions: &[&'static SupportedProtocolVersion],
) -> ClientConfig {
    let builder = ClientConfig::builder_with_details(with_versions(provider, versions), time)
        .with_root_certificates(roots);
    match identity {
        None => builder
            .with_no_client_auth()
            .expect("the deterministic provider supports TLS 1.2 and 1.3"),
        Some((chain, key)) => {
            let identity =
                Identity::from_cert_chain(chain).expect("the deterministic PKI has a client leaf");
            builder
                .with_client_auth_cert(Arc::new(identity), key)
                .expect("the deterministic PKI's client key signs deterministically")
        }
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
    let identity = Identity::from_cert_chain(chain).expect("the deterministic PKI has a leaf");
    let provider = with_versions(provider, versions);
    let builder = ServerConfig::builder_with_details(provider.clone(), time);
    let builder = match clients {
        None => builder.with_no_client_auth(),
        Some((roots, required)) => {
            let verifier =
                rustls::server::WebPkiClientVerifier::builder(Arc::new(roots), &provider);
            let verifier = if required {
                verifier
            } else {
                verifier.allow_unauthenticated()
            };
            builder.with_client_cert_verifier(Arc::new(
                verifier
                    .build()
                    .expect("the deterministic CA verifies clients"),
            ))
        }
    };
    builder
        .with_single_cert(Arc::new(identity), key)
        .expect("the deterministic PKI's leaf key signs deterministically")
}

impl SecureRandom for SeededRandom {
    fn fill(&self, buf: &mut [u8]) -> Result<(), GetRandomFailed> {
        fill(&self.0, buf);
        Ok(())
    }
}

impl SupportedKxGroup for SeededX25519 {
    fn start(&self) -> Result<StartedKeyExchange, rustls::Error> {
        Ok(StartedKeyExchange::Single(Box::new(self.share())))
    }

    fn name(&self) -> NamedGroup {
        NamedGroup::X25519
    }
}

impl SupportedKxGroup for SeededP256 {
    fn start(&self) -> Result<StartedKeyExchange, rustls::Error> {
        match self.share() {
            Some(share) => Ok(StartedKeyExchange::Single(Box::new(share))),
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
    ) -> Result<Box<dyn SigningKey>, rustls::Error> {
        if let PrivateKeyDer::Pkcs8(pkcs8) = &key_der {
            if let Some(key) = keys::Key::from_pkcs8(pkcs8.secret_pkcs8_der(), &self.0) {
                return Ok(Box::new(SeededKey(Arc::new(key))));
            }
        }
        let key = rustls_aws_lc_rs::DEFAULT_KEY_PROVIDER.load_private_key(key_der)?;
        // 0.24's keys do not name their algorithm: an Ed25519 key is one
        // that can sign with Ed25519.
        if key.choose_scheme(&[SignatureScheme::ED25519]).is_none() {
            return Err(rustls::Error::General(not_deterministic(
                key.public_key().map(|spki| spki.as_ref().len()),
            )));
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
}

impl Signer for SeededSigner {
    fn sign(self: Box<Self>, message: &[u8]) -> Result<Vec<u8>, rustls::Error> {
        self.sign_message(message)
    }

    fn scheme(&self) -> SignatureScheme {
        SignatureScheme::from(self.scheme)
    }
}
