//! Checking one signature with a certificate's public key. RSA PKCS#1 v1.5 here; the Kazakh
//! GOST algorithms plug in with the GOST issue.

use aws_lc_rs::signature::{self as sig, UnparsedPublicKey};
use der::Decode;
use spki::SubjectPublicKeyInfoRef;

/// Why a signature could not be checked (distinct from "checked and wrong").
#[derive(Debug, thiserror::Error, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum SigCheckError {
    /// The signature does not verify.
    #[error("the signature does not match")]
    Mismatch,
    /// An algorithm this program cannot check.
    #[error("unsupported signature algorithm {0}")]
    Unsupported(String),
    /// The public key could not be read.
    #[error("the public key is malformed")]
    BadKey,
}

/// Digest algorithms by OID, as CMS names them.
pub mod digest_oid {
    /// SHA-1.
    pub const SHA1: &str = "1.3.14.3.2.26";
    /// SHA-256.
    pub const SHA256: &str = "2.16.840.1.101.3.4.2.1";
    /// SHA-384.
    pub const SHA384: &str = "2.16.840.1.101.3.4.2.2";
    /// SHA-512.
    pub const SHA512: &str = "2.16.840.1.101.3.4.2.3";
}

/// Verifies `signature` over `message` with the key in `spki_der` (SubjectPublicKeyInfo DER).
/// `sig_alg` is the signature AlgorithmIdentifier OID; for bare `rsaEncryption` (as OpenSSL
/// writes in CMS) the hash comes from `digest_alg`.
pub fn verify_signature(
    spki_der: &[u8],
    sig_alg: &str,
    digest_alg: Option<&str>,
    message: &[u8],
    signature: &[u8],
) -> Result<(), SigCheckError> {
    let spki = SubjectPublicKeyInfoRef::try_from(spki_der).map_err(|_| SigCheckError::BadKey)?;
    let key_oid = spki.algorithm.oid.to_string();
    let hash = match sig_alg {
        "1.2.840.113549.1.1.5" => digest_oid::SHA1,
        "1.2.840.113549.1.1.11" => digest_oid::SHA256,
        "1.2.840.113549.1.1.12" => digest_oid::SHA384,
        "1.2.840.113549.1.1.13" => digest_oid::SHA512,
        "1.2.840.113549.1.1.1" => digest_alg.unwrap_or(digest_oid::SHA256),
        other => return Err(SigCheckError::Unsupported(other.to_owned())),
    };
    if key_oid != crate::oid::RSA {
        return Err(SigCheckError::Unsupported(format!(
            "{sig_alg} with a {key_oid} key"
        )));
    }
    let params: &'static dyn sig::VerificationAlgorithm = match hash {
        digest_oid::SHA1 => &sig::RSA_PKCS1_1024_8192_SHA1_FOR_LEGACY_USE_ONLY,
        digest_oid::SHA256 => &sig::RSA_PKCS1_1024_8192_SHA256_FOR_LEGACY_USE_ONLY,
        digest_oid::SHA384 => &sig::RSA_PKCS1_2048_8192_SHA384,
        digest_oid::SHA512 => &sig::RSA_PKCS1_1024_8192_SHA512_FOR_LEGACY_USE_ONLY,
        other => {
            return Err(SigCheckError::Unsupported(format!(
                "RSA with digest {other}"
            )));
        }
    };
    let key = spki
        .subject_public_key
        .as_bytes()
        .ok_or(SigCheckError::BadKey)?;
    UnparsedPublicKey::new(params, key)
        .verify(message, signature)
        .map_err(|_| SigCheckError::Mismatch)
}

/// Verifies that `cert_der` was signed by the key of `issuer_der`.
pub fn verify_certificate_signature(
    cert_der: &[u8],
    issuer_der: &[u8],
) -> Result<(), SigCheckError> {
    let cert = x509_cert::Certificate::from_der(cert_der).map_err(|_| SigCheckError::BadKey)?;
    let issuer = x509_cert::Certificate::from_der(issuer_der).map_err(|_| SigCheckError::BadKey)?;
    let tbs = der::Encode::to_der(&cert.tbs_certificate).map_err(|_| SigCheckError::BadKey)?;
    let spki = der::Encode::to_der(&issuer.tbs_certificate.subject_public_key_info)
        .map_err(|_| SigCheckError::BadKey)?;
    let sig = cert.signature.as_bytes().ok_or(SigCheckError::BadKey)?;
    verify_signature(
        &spki,
        &cert.signature_algorithm.oid.to_string(),
        None,
        &tbs,
        sig,
    )
}
