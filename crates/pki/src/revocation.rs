//! Signatures on revocation data: CRLs (RFC 5280 §5) and OCSP responses (RFC 6960 §4.2.1),
//! RSA or GOST. Fetching, freshness and status interpretation arrive with the revocation issue.
//!
//! The structures are read with RustCrypto's types after BER normalisation — x509-cert's
//! `CertificateList`, x509-ocsp's `OcspResponse` and `BasicOcspResponse` (they accept NCA's
//! files: the test CRLs and all four OCSP responses in the shared vectors). Only the signed
//! parts (`tbsCertList`, `tbsResponseData`) are taken as raw bytes, exactly as encoded, since
//! the signature is checked over them.

use der::{Decode, Encode};
use x509_cert::crl::CertificateList;
use x509_ocsp::{BasicOcspResponse, OcspResponse};

use crate::ber::{self, Tlv};
use crate::verify::{SigCheckError, verify_certificate_signature, verify_signature};

/// `id-pkix-ocsp-basic`.
const OCSP_BASIC: &str = "1.3.6.1.5.5.7.48.1.1";

fn malformed(what: &str) -> impl Fn(der::Error) -> SigCheckError + '_ {
    move |e| SigCheckError::Malformed(format!("{what}: {e}"))
}

fn spki_of(cert_der: &[u8]) -> Result<Vec<u8>, SigCheckError> {
    let c = x509_cert::Certificate::from_der(cert_der).map_err(|_| SigCheckError::BadKey)?;
    c.tbs_certificate
        .subject_public_key_info
        .to_der()
        .map_err(|_| SigCheckError::BadKey)
}

/// The first element of a DER SEQUENCE, as encoded (the signed part).
fn signed_bytes(seq_der: &[u8]) -> Result<&[u8], SigCheckError> {
    Tlv::parse_exact(seq_der)
        .ok()
        .and_then(|t| t.children().ok())
        .and_then(|c| c.first().map(|t| t.raw))
        .ok_or_else(|| SigCheckError::Malformed("no signed part".into()))
}

fn normalised(input: &[u8]) -> Result<Vec<u8>, SigCheckError> {
    ber::to_der(input).map_err(|e| SigCheckError::Malformed(e.to_string()))
}

/// Verifies a CRL's signature with its issuer's certificate.
pub fn verify_crl(crl_der: &[u8], issuer_der: &[u8]) -> Result<(), SigCheckError> {
    let der = normalised(crl_der)?;
    let crl = CertificateList::from_der(&der).map_err(malformed("CRL"))?;
    let sig = crl
        .signature
        .as_bytes()
        .ok_or_else(|| SigCheckError::Malformed("CRL signature bits".into()))?;
    let alg = crl.signature_algorithm.oid.to_string();
    verify_signature(&spki_of(issuer_der)?, &alg, None, signed_bytes(&der)?, sig)
}

/// Verifies an OCSP response: the BasicOCSPResponse signature with whichever certificate it
/// carries verifies it (a delegated responder), or with the issuer itself; a carried responder
/// certificate must be signed by `issuer_der`. Returns the responder certificate (DER).
pub fn verify_ocsp_response(resp_der: &[u8], issuer_der: &[u8]) -> Result<Vec<u8>, SigCheckError> {
    let der = normalised(resp_der)?;
    let resp = OcspResponse::from_der(&der).map_err(malformed("OCSP response"))?;
    let bytes = resp
        .response_bytes
        .ok_or_else(|| SigCheckError::Malformed("the OCSP response has no body".into()))?;
    if bytes.response_type.to_string() != OCSP_BASIC {
        return Err(SigCheckError::Unsupported(format!(
            "OCSP response type {}",
            bytes.response_type
        )));
    }
    let basic_der = bytes.response.as_bytes();
    let basic = BasicOcspResponse::from_der(basic_der).map_err(malformed("BasicOCSPResponse"))?;
    let tbs = signed_bytes(basic_der)?;
    let alg = basic.signature_algorithm.oid.to_string();
    let sig = basic
        .signature
        .as_bytes()
        .ok_or_else(|| SigCheckError::Malformed("OCSP signature bits".into()))?;
    let carried: Vec<Vec<u8>> = basic
        .certs
        .iter()
        .flatten()
        .filter_map(|c| c.to_der().ok())
        .collect();
    let mut last = SigCheckError::Mismatch;
    for responder in carried.iter().chain(std::iter::once(&issuer_der.to_vec())) {
        match verify_signature(&spki_of(responder)?, &alg, None, tbs, sig) {
            Ok(()) => {
                if responder.as_slice() != issuer_der {
                    verify_certificate_signature(responder, issuer_der)?;
                }
                return Ok(responder.clone());
            }
            Err(e) => last = e,
        }
    }
    Err(last)
}
