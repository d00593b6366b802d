//! Key sources behind one trait.
//!
//! A [`KeyProvider`] (key files here; PKCS#11 tokens and OS stores in their crates) lists
//! [`Candidate`]s and opens one with a [`Secret`] into a [`SigningKey`]: a certificate plus the
//! ability to sign. Formats (CMS, XMLDSig) take
//! `&dyn SigningKey` and never see where the key lives; the private key never crosses the
//! trait.
//!
//! Secrets come in as [`Secret`] (zeroized on drop, never printed).
#![forbid(unsafe_code)]

mod error;
pub mod files;
pub mod pkcs12;
pub mod provider;
mod secret;
mod software;

pub use error::{KeyError, tries_text};
pub use files::{FileMemory, KeyFiles, RememberedFile, STORAGE_PKCS12};
pub use provider::{
    Candidate, KeyProvider, KnownCertificate, Listing, Location, SecretKind, Tries,
};
pub use secret::Secret;
pub use software::SoftwareKey;

use qoltanba_pki::{CertificateDetails, KeyAlgorithm};

/// A signature algorithm a key can be asked to use. The message is hashed by the key (as
/// PKCS#11 `CKM_SHA256_RSA_PKCS` does), so token keys and file keys take the same input.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum SignatureAlgorithm {
    /// RSASSA-PKCS1-v1_5 with SHA-256 (sha256WithRSAEncryption).
    RsaPkcs1Sha256,
    /// RSASSA-PKCS1-v1_5 with SHA-384.
    RsaPkcs1Sha384,
    /// RSASSA-PKCS1-v1_5 with SHA-512.
    RsaPkcs1Sha512,
    /// GOST 34.310-2004 with GOST 34.311-95 (arrives with the GOST issue).
    Gost2004,
    /// GOST R 34.10-2015 512-bit with Streebog-512 (arrives with the GOST issue).
    Gost2015_512,
}

impl SignatureAlgorithm {
    /// The signature algorithm OID, dotted.
    pub const fn oid(self) -> &'static str {
        match self {
            Self::RsaPkcs1Sha256 => "1.2.840.113549.1.1.11",
            Self::RsaPkcs1Sha384 => "1.2.840.113549.1.1.12",
            Self::RsaPkcs1Sha512 => "1.2.840.113549.1.1.13",
            Self::Gost2004 => "1.2.398.3.10.1.1.1.2",
            Self::Gost2015_512 => "1.2.398.3.10.1.1.2.3.2",
        }
    }

    /// The digest algorithm OID that goes with it.
    pub const fn digest_oid(self) -> &'static str {
        match self {
            Self::RsaPkcs1Sha256 => "2.16.840.1.101.3.4.2.1",
            Self::RsaPkcs1Sha384 => "2.16.840.1.101.3.4.2.2",
            Self::RsaPkcs1Sha512 => "2.16.840.1.101.3.4.2.3",
            Self::Gost2004 => "1.2.398.3.10.1.3.1",
            Self::Gost2015_512 => "1.2.398.3.10.1.3.3",
        }
    }

    /// The algorithm a key of this type signs with by default.
    pub fn default_for(alg: &KeyAlgorithm) -> Result<Self, KeyError> {
        match alg {
            KeyAlgorithm::Rsa { .. } => Ok(Self::RsaPkcs1Sha256),
            KeyAlgorithm::Gost2004 => Ok(Self::Gost2004),
            KeyAlgorithm::Gost2015_512 => Ok(Self::Gost2015_512),
            other => Err(KeyError::UnsupportedKeyAlgorithm(other.label())),
        }
    }
}

/// A key that can sign, with its certificate. Implemented by file keys, token keys and OS-store
/// keys alike.
pub trait SigningKey: Send + Sync {
    /// The alias: NCA sets it to the hex Subject Key Identifier.
    fn alias(&self) -> &str;
    /// The key's certificate, DER.
    fn certificate_der(&self) -> &[u8];
    /// Other certificates that came with the key (chain), DER.
    fn chain_der(&self) -> &[Vec<u8>];
    /// Details of the certificate.
    fn details(&self) -> &CertificateDetails;
    /// The key's algorithm.
    fn key_algorithm(&self) -> &KeyAlgorithm {
        &self.details().key_algorithm
    }
    /// The algorithm the formats should ask for by default.
    fn default_signature_algorithm(&self) -> Result<SignatureAlgorithm, KeyError> {
        SignatureAlgorithm::default_for(self.key_algorithm())
    }
    /// Hashes `message` and signs it with `alg`. Returns the signature in the encoding the
    /// signature formats store (PKCS#1 v1.5 bytes for RSA).
    fn sign(&self, alg: SignatureAlgorithm, message: &[u8]) -> Result<Vec<u8>, KeyError>;
}

/// A shared key (a key file kept open, see [`files`]) signs as the key itself.
impl<K: SigningKey + ?Sized> SigningKey for std::sync::Arc<K> {
    fn alias(&self) -> &str {
        (**self).alias()
    }
    fn certificate_der(&self) -> &[u8] {
        (**self).certificate_der()
    }
    fn chain_der(&self) -> &[Vec<u8>] {
        (**self).chain_der()
    }
    fn details(&self) -> &CertificateDetails {
        (**self).details()
    }
    fn key_algorithm(&self) -> &KeyAlgorithm {
        (**self).key_algorithm()
    }
    fn default_signature_algorithm(&self) -> Result<SignatureAlgorithm, KeyError> {
        (**self).default_signature_algorithm()
    }
    fn sign(&self, alg: SignatureAlgorithm, message: &[u8]) -> Result<Vec<u8>, KeyError> {
        (**self).sign(alg, message)
    }
}
