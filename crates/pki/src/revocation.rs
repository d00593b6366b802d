//! Signatures on revocation data: CRLs (RFC 5280 §5) and OCSP responses (RFC 6960 §4.2.1),
//! RSA or GOST. Fetching, freshness and status interpretation arrive with the revocation issue.

use crate::ber::Tlv;
use crate::verify::{SigCheckError, verify_certificate_signature, verify_signature};

fn spki_of(cert_der: &[u8]) -> Result<Vec<u8>, SigCheckError> {
    use der::{Decode, Encode};
    let c = x509_cert::Certificate::from_der(cert_der).map_err(|_| SigCheckError::BadKey)?;
    c.tbs_certificate
        .subject_public_key_info
        .to_der()
        .map_err(|_| SigCheckError::BadKey)
}

fn oid_of(alg: &Tlv<'_>) -> Result<String, SigCheckError> {
    use der::Decode;
    let first = alg
        .children()
        .ok()
        .and_then(|c| c.into_iter().next())
        .ok_or(SigCheckError::BadKey)?;
    Ok(der::asn1::ObjectIdentifier::from_der(first.raw)
        .map_err(|_| SigCheckError::BadKey)?
        .to_string())
}

/// `(tbs, algorithm, signature bytes)` of a `SEQUENCE { tbs, AlgorithmIdentifier, BIT STRING }`.
fn signed_parts<'a>(seq: &Tlv<'a>) -> Result<(&'a [u8], String, &'a [u8]), SigCheckError> {
    let parts = seq.children().map_err(|_| SigCheckError::BadKey)?;
    let (tbs, alg, sig) = match parts.as_slice() {
        [tbs, alg, sig, ..] if sig.tag == 0x03 => (tbs, alg, sig),
        _ => return Err(SigCheckError::BadKey),
    };
    let bits = sig
        .value
        .split_first()
        .filter(|(unused, _)| **unused == 0)
        .ok_or(SigCheckError::BadKey)?
        .1;
    Ok((tbs.raw, oid_of(alg)?, bits))
}

/// Verifies a CRL's signature with its issuer's certificate.
pub fn verify_crl(crl_der: &[u8], issuer_der: &[u8]) -> Result<(), SigCheckError> {
    let crl = Tlv::parse_exact(crl_der).map_err(|_| SigCheckError::BadKey)?;
    let (tbs, alg, sig) = signed_parts(&crl)?;
    verify_signature(&spki_of(issuer_der)?, &alg, None, tbs, sig)
}

/// Verifies an OCSP response: the BasicOCSPResponse signature with the responder certificate it
/// carries (or the issuer itself), and that responder certificate's signature by `issuer_der`.
/// Returns the responder certificate (DER).
pub fn verify_ocsp_response(resp_der: &[u8], issuer_der: &[u8]) -> Result<Vec<u8>, SigCheckError> {
    let resp = Tlv::parse_exact(resp_der).map_err(|_| SigCheckError::BadKey)?;
    let parts = resp.children().map_err(|_| SigCheckError::BadKey)?;
    // OCSPResponse ::= SEQUENCE { responseStatus, responseBytes [0] EXPLICIT ResponseBytes }
    let bytes = parts
        .iter()
        .find(|t| t.tag == 0xa0)
        .ok_or(SigCheckError::BadKey)?;
    let rb = Tlv::parse_exact(bytes.value).map_err(|_| SigCheckError::BadKey)?;
    let rb_parts = rb.children().map_err(|_| SigCheckError::BadKey)?;
    let octets = rb_parts
        .get(1)
        .filter(|t| t.tag == 0x04)
        .ok_or(SigCheckError::BadKey)?;
    let basic = Tlv::parse_exact(octets.value).map_err(|_| SigCheckError::BadKey)?;
    let (tbs, alg, sig) = signed_parts(&basic)?;
    let certs: Vec<Vec<u8>> = basic
        .children()
        .ok()
        .and_then(|c| c.into_iter().find(|t| t.tag == 0xa0))
        .and_then(|t| Tlv::parse_exact(t.value).ok())
        .and_then(|seq| seq.children().ok())
        .map(|cs| cs.iter().map(|c| c.raw.to_vec()).collect())
        .unwrap_or_default();
    let responder = certs
        .into_iter()
        .next()
        .unwrap_or_else(|| issuer_der.to_vec());
    verify_signature(&spki_of(&responder)?, &alg, None, tbs, sig)?;
    if responder != issuer_der {
        verify_certificate_signature(&responder, issuer_der)?;
    }
    Ok(responder)
}
