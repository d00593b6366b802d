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
    /// The signed structure could not be read.
    #[error("malformed: {0}")]
    Malformed(String),
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

/// GOST signature algorithm OIDs (KZ-PKI.md §3.1).
pub mod gost_oid {
    /// GOST 34.310-2004 with GOST 34.311-95.
    pub const SIG_2004: &str = "1.2.398.3.10.1.1.1.2";
    /// GOST R 34.10-2015 512-bit with Streebog-512.
    pub const SIG_2015_512: &str = "1.2.398.3.10.1.1.2.3.2";
    /// GOST 34.311-95 digest.
    pub const DIGEST_34311: &str = "1.2.398.3.10.1.3.1";
    /// Streebog-512 digest.
    pub const DIGEST_STREEBOG512: &str = "1.2.398.3.10.1.3.3";
}

/// The GOST public key in an SPKI: the curve from the key OID and `X ‖ Y` from the OCTET STRING
/// inside the BIT STRING.
pub fn gost_public_key(spki_der: &[u8]) -> Result<qoltanba_gost::PublicKey, SigCheckError> {
    let spki = SubjectPublicKeyInfoRef::try_from(spki_der).map_err(|_| SigCheckError::BadKey)?;
    let curve = match spki.algorithm.oid.to_string().as_str() {
        crate::oid::GOST_2004_KEY => qoltanba_gost::CurveId::CryptoProA,
        crate::oid::GOST_2015_512_KEY => qoltanba_gost::CurveId::Tc26_512A,
        other => return Err(SigCheckError::Unsupported(format!("GOST key {other}"))),
    };
    let bits = spki
        .subject_public_key
        .as_bytes()
        .ok_or(SigCheckError::BadKey)?;
    let octets = der::asn1::OctetStringRef::from_der(bits).map_err(|_| SigCheckError::BadKey)?;
    qoltanba_gost::PublicKey::from_le_xy(curve, octets.as_bytes())
        .map_err(|_| SigCheckError::BadKey)
}

fn verify_gost(
    spki_der: &[u8],
    sig_alg: &str,
    message: &[u8],
    signature: &[u8],
) -> Result<(), SigCheckError> {
    let key = gost_public_key(spki_der)?;
    let digest: Vec<u8> = match (sig_alg, key.curve()) {
        (gost_oid::SIG_2004, qoltanba_gost::CurveId::CryptoProA) => {
            qoltanba_gost::hash_34311(message).to_vec()
        }
        (gost_oid::SIG_2015_512, qoltanba_gost::CurveId::Tc26_512A) => {
            qoltanba_gost::hash_streebog512(message).to_vec()
        }
        _ => {
            return Err(SigCheckError::Unsupported(format!(
                "{sig_alg} with this GOST key"
            )));
        }
    };
    key.verify_digest(&digest, signature)
        .map_err(|_| SigCheckError::Mismatch)
}

/// Verifies a GOST signature over a precomputed digest (CMS signed attributes are hashed by
/// the caller with the SignerInfo's digest algorithm).
pub fn verify_gost_digest(
    spki_der: &[u8],
    digest: &[u8],
    signature: &[u8],
) -> Result<(), SigCheckError> {
    gost_public_key(spki_der)?
        .verify_digest(digest, signature)
        .map_err(|_| SigCheckError::Mismatch)
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
    // Some producers name the key algorithm where the signature algorithm belongs.
    let sig_alg = match sig_alg {
        crate::oid::GOST_2004_KEY => gost_oid::SIG_2004,
        crate::oid::GOST_2015_512_KEY => gost_oid::SIG_2015_512,
        other => other,
    };
    if sig_alg == gost_oid::SIG_2004 || sig_alg == gost_oid::SIG_2015_512 {
        return verify_gost(spki_der, sig_alg, message, signature);
    }
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
