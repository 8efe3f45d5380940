//! Signing keys whose signatures repeat: Ed25519 (deterministic by RFC
//! 8032, through aws-lc-rs), ECDSA P-256 with RFC 6979 nonces (p256), and
//! RSA with PSS salts and blinding from the seeded stream (rsa) or
//! PKCS#1 v1.5 (deterministic by definition). The rustls trait impls are
//! in the backend modules; this is what they share.

use p256::pkcs8::{DecodePrivateKey, EncodePublicKey};
use rsa::signature::{RandomizedSigner, SignatureEncoding, Signer};

use super::Stream;

/// The kind of key a [`DeterministicPki`](super::DeterministicPki) gives
/// its leaf certificates.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum LeafKey {
    /// Ed25519, from the seed (the default).
    #[default]
    Ed25519,
    /// ECDSA on P-256 with SHA-256, from the seed; signatures use RFC 6979
    /// nonces, so they repeat.
    EcdsaP256,
    /// RSA 2048: one fixed key for every seed (making one takes seconds),
    /// signing RSA-PSS with SHA-256, its salt and blinding drawn from the
    /// seeded stream, or PKCS#1 v1.5 with SHA-256 where a TLS 1.2 peer
    /// offers only that.
    Rsa2048,
}

/// The fixed RSA key, PKCS#8 (made once with `openssl genpkey -algorithm
/// RSA -pkeyopt rsa_keygen_bits:2048`, then `openssl pkcs8 -topk8 -nocrypt
/// -outform DER`). Public knowledge, like every key here.
pub(super) const RSA_2048: &[u8] = include_bytes!("rsa2048.pk8");

/// A private key the deterministic provider signs with.
pub(super) enum Key {
    Ecdsa(p256::ecdsa::SigningKey),
    Rsa(Box<RsaKey>),
}

/// An RSA key ready to sign both ways, made once when it is loaded (each
/// signer holds its own copy of the private key).
pub(super) struct RsaKey {
    pss: rsa::pss::SigningKey<sha2::Sha256>,
    pkcs1: rsa::pkcs1v15::SigningKey<sha2::Sha256>,
    public: rsa::RsaPublicKey,
    stream: Stream,
}

/// The signature schemes a [`Key`] makes, by TLS code point, in the order
/// it prefers them.
pub(super) const ECDSA_SCHEMES: &[u16] = &[0x0403]; // ecdsa_secp256r1_sha256
pub(super) const RSA_SCHEMES: &[u16] = &[0x0804, 0x0401]; // rsa_pss_rsae_sha256, rsa_pkcs1_sha256

impl Key {
    /// The key in `pkcs8`, if it is ECDSA P-256 or RSA; `None` for any
    /// other kind (Ed25519 goes to aws-lc-rs).
    pub(super) fn from_pkcs8(pkcs8: &[u8], stream: &Stream) -> Option<Self> {
        if let Ok(key) = p256::ecdsa::SigningKey::from_pkcs8_der(pkcs8) {
            return Some(Self::Ecdsa(key));
        }
        rsa::RsaPrivateKey::from_pkcs8_der(pkcs8).ok().map(|key| {
            Self::Rsa(Box::new(RsaKey {
                public: key.to_public_key(),
                pss: rsa::pss::SigningKey::new(key.clone()),
                pkcs1: rsa::pkcs1v15::SigningKey::new(key),
                stream: stream.clone(),
            }))
        })
    }

    pub(super) fn schemes(&self) -> &'static [u16] {
        match self {
            Self::Ecdsa(_) => ECDSA_SCHEMES,
            Self::Rsa(..) => RSA_SCHEMES,
        }
    }

    /// The first scheme of ours that the peer offered.
    pub(super) fn choose(&self, offered: &[u16]) -> Option<u16> {
        self.schemes()
            .iter()
            .copied()
            .find(|scheme| offered.contains(scheme))
    }

    /// Signs `message` with `scheme` (one of [`schemes`](Self::schemes)).
    pub(super) fn sign(&self, scheme: u16, message: &[u8]) -> Result<Vec<u8>, String> {
        match (self, scheme) {
            (Self::Ecdsa(key), 0x0403) => {
                let signature: p256::ecdsa::Signature = key.sign(message);
                Ok(signature.to_der().as_bytes().to_vec())
            }
            (Self::Rsa(key), 0x0804) => {
                let mut rng = key
                    .stream
                    .lock()
                    .unwrap_or_else(std::sync::PoisonError::into_inner);
                key.pss
                    .try_sign_with_rng(&mut *rng, message)
                    .map(|s| s.to_vec())
                    .map_err(|e| format!("RSA-PSS signing failed: {e}"))
            }
            (Self::Rsa(key), 0x0401) => key
                .pkcs1
                .try_sign(message)
                .map(|s| s.to_vec())
                .map_err(|e| format!("RSA PKCS#1 signing failed: {e}")),
            _ => Err(format!("scheme {scheme:#06x} is not this key's")),
        }
    }

    /// The public key, as a SubjectPublicKeyInfo.
    pub(super) fn spki(&self) -> Option<Vec<u8>> {
        let der = match self {
            Self::Ecdsa(key) => p256::PublicKey::from(key.verifying_key()).to_public_key_der(),
            Self::Rsa(key) => key.public.to_public_key_der(),
        };
        der.ok().map(|der| der.as_bytes().to_vec())
    }
}

/// A P-256 private key from the stream, as PKCS#8 (the rare draw that is
/// no scalar, about 2^-32 of them, is drawn again).
///
/// # Panics
///
/// After 64 such draws in a row: test set-up, and it does not happen.
pub(super) fn ecdsa_pkcs8(stream: &Stream) -> Vec<u8> {
    use p256::pkcs8::EncodePrivateKey;
    for _ in 0..64 {
        let mut scalar = [0u8; 32];
        super::fill(stream, &mut scalar);
        if let Ok(key) = p256::SecretKey::from_slice(&scalar) {
            return key
                .to_pkcs8_der()
                .expect("a P-256 key always encodes")
                .as_bytes()
                .to_vec();
        }
    }
    panic!("64 draws from the stream and no P-256 scalar")
}
