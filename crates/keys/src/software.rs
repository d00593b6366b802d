use std::fmt;

use aws_lc_rs::rsa::{self, KeyPair};
use aws_lc_rs::signature::{RSA_PKCS1_SHA256, RSA_PKCS1_SHA384, RSA_PKCS1_SHA512, RsaEncoding};
use qoltanba_pki::{CertificateDetails, KeyAlgorithm};

use crate::{KeyError, SignatureAlgorithm, SigningKey};

/// Private key material held in this process.
enum Material {
    /// AWS-LC key; its memory is cleansed by `RSA_free` on drop.
    Rsa(KeyPair),
    /// A GOST scalar (zeroized on drop).
    Gost(qoltanba_gost::PrivateKey),
}

/// A key from a file (PKCS#12), held in memory for as long as the caller keeps it.
pub struct SoftwareKey {
    alias: String,
    certificate: Vec<u8>,
    chain: Vec<Vec<u8>>,
    details: CertificateDetails,
    material: Material,
}

impl fmt::Debug for SoftwareKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SoftwareKey")
            .field("alias", &self.alias)
            .field("algorithm", &self.details.key_algorithm)
            .finish_non_exhaustive()
    }
}

impl SoftwareKey {
    /// Builds a key from a PKCS#8 `PrivateKeyInfo` and its certificate. For RSA the key must
    /// match the certificate's public key.
    pub fn from_pkcs8(
        alias: String,
        pkcs8: &[u8],
        key_oid: &str,
        certificate: Vec<u8>,
        chain: Vec<Vec<u8>>,
    ) -> Result<Self, KeyError> {
        let details = CertificateDetails::from_der(&certificate)
            .map_err(|e| KeyError::Corrupt(format!("certificate: {e}")))?;
        let material = match KeyAlgorithm::from_oid(key_oid, 0) {
            KeyAlgorithm::Rsa { .. } => {
                let kp = KeyPair::from_pkcs8(pkcs8).map_err(|_| KeyError::InvalidKey)?;
                if !rsa_matches_certificate(&kp, &certificate) {
                    return Err(KeyError::Corrupt(
                        "the private key does not belong to the certificate".into(),
                    ));
                }
                Material::Rsa(kp)
            }
            a if a.is_gost() => Material::Gost(gost_key(&a, pkcs8, &certificate)?),
            other => return Err(KeyError::UnsupportedKeyAlgorithm(other.label())),
        };

        Ok(Self {
            alias,
            certificate,
            chain,
            details,
            material,
        })
    }
}

/// The GOST scalar from a PKCS#8 `PrivateKeyInfo` (KZ-PKI.md §3.3): the privateKey OCTET STRING
/// wraps a DER INTEGER (big-endian; 2004 keys) or an OCTET STRING (little-endian; 2015 keys).
/// Checked by d·G == the certificate's public key.
fn gost_key(
    alg: &KeyAlgorithm,
    pkcs8: &[u8],
    certificate: &[u8],
) -> Result<qoltanba_gost::PrivateKey, KeyError> {
    use qoltanba_gost::{CurveId, PrivateKey};
    use qoltanba_pki::ber::Tlv;
    let curve = match alg {
        KeyAlgorithm::Gost2004 => CurveId::CryptoProA,
        KeyAlgorithm::Gost2015_512 => CurveId::Tc26_512A,
        other => return Err(KeyError::UnsupportedKeyAlgorithm(other.label())),
    };
    let info = Tlv::parse_exact(pkcs8).map_err(|_| KeyError::InvalidKey)?;
    let parts = info.children().map_err(|_| KeyError::InvalidKey)?;
    let key_octets = parts
        .get(2)
        .filter(|t| t.tag == 0x04)
        .ok_or(KeyError::InvalidKey)?;
    let inner = Tlv::parse_exact(key_octets.value).ok();
    let key = match inner {
        Some(t) if t.tag == 0x02 => PrivateKey::from_be(curve, t.value),
        Some(t) if t.tag == 0x04 => PrivateKey::from_le(curve, t.value),
        // Some writers put the scalar directly in the privateKey OCTET STRING (little-endian).
        _ => PrivateKey::from_le(curve, key_octets.value),
    }
    .map_err(|_| KeyError::InvalidKey)?;
    let cert = <x509_cert::Certificate as der::Decode>::from_der(certificate)
        .map_err(|_| KeyError::InvalidKey)?;
    let spki = der::Encode::to_der(&cert.tbs_certificate.subject_public_key_info)
        .map_err(|_| KeyError::InvalidKey)?;
    let public = qoltanba_pki::verify::gost_public_key(&spki)
        .map_err(|_| KeyError::Corrupt("the certificate's GOST public key is malformed".into()))?;
    if key.public_key() != public {
        return Err(KeyError::Corrupt(
            "the private key does not belong to the certificate".into(),
        ));
    }
    Ok(key)
}

/// Compares the key's public modulus/exponent with the certificate's SPKI.
fn rsa_matches_certificate(kp: &KeyPair, cert: &[u8]) -> bool {
    use aws_lc_rs::signature::KeyPair as _;
    use der::Decode;
    let Ok(c) = x509_cert::Certificate::from_der(cert) else {
        return false;
    };
    // RSAPublicKey ::= SEQUENCE { modulus INTEGER, publicExponent INTEGER }
    let Some(key_bits) = c
        .tbs_certificate
        .subject_public_key_info
        .subject_public_key
        .as_bytes()
    else {
        return false;
    };
    let parts = qoltanba_pki::ber::Tlv::parse_exact(key_bits).and_then(|t| t.children());
    let Ok([n, e]) = parts.as_deref() else {
        return false;
    };
    let public: &rsa::PublicKey = kp.public_key();
    let trim = |b: &[u8]| -> Vec<u8> { b.iter().copied().skip_while(|x| *x == 0).collect() };
    trim(public.modulus().big_endian_without_leading_zero()) == trim(n.value)
        && trim(public.exponent().big_endian_without_leading_zero()) == trim(e.value)
}

impl SigningKey for SoftwareKey {
    fn alias(&self) -> &str {
        &self.alias
    }
    fn certificate_der(&self) -> &[u8] {
        &self.certificate
    }
    fn chain_der(&self) -> &[Vec<u8>] {
        &self.chain
    }
    fn details(&self) -> &CertificateDetails {
        &self.details
    }

    fn sign(&self, alg: SignatureAlgorithm, message: &[u8]) -> Result<Vec<u8>, KeyError> {
        match &self.material {
            Material::Rsa(kp) => {
                let enc: &'static dyn RsaEncoding = match alg {
                    SignatureAlgorithm::RsaPkcs1Sha256 => &RSA_PKCS1_SHA256,
                    SignatureAlgorithm::RsaPkcs1Sha384 => &RSA_PKCS1_SHA384,
                    SignatureAlgorithm::RsaPkcs1Sha512 => &RSA_PKCS1_SHA512,
                    _ => return Err(KeyError::AlgorithmMismatch("a GOST algorithm")),
                };
                let mut sig = vec![0; kp.public_modulus_len()];
                let rng = aws_lc_rs::rand::SystemRandom::new();
                kp.sign(enc, &rng, message, &mut sig)
                    .map_err(|_| KeyError::SigningFailed)?;
                Ok(sig)
            }
            Material::Gost(key) => {
                let digest: Vec<u8> = match (alg, key.curve()) {
                    (SignatureAlgorithm::Gost2004, qoltanba_gost::CurveId::CryptoProA) => {
                        qoltanba_gost::hash_34311(message).to_vec()
                    }
                    (SignatureAlgorithm::Gost2015_512, qoltanba_gost::CurveId::Tc26_512A) => {
                        qoltanba_gost::hash_streebog512(message).to_vec()
                    }
                    _ => {
                        return Err(KeyError::AlgorithmMismatch(
                            "an algorithm of another key type",
                        ));
                    }
                };
                key.sign_digest(&digest, |buf| aws_lc_rs::rand::fill(buf).is_ok())
                    .map_err(|_| KeyError::SigningFailed)
            }
        }
    }
}

impl SoftwareKey {
    /// NCA's convention: with no friendlyName, the alias is the hex SKI.
    pub(crate) fn default_alias(&mut self) {
        if self.alias.is_empty() {
            self.alias = self.details.subject_key_id.clone().unwrap_or_default();
        }
    }
}
