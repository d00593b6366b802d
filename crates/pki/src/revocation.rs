//! Signatures on revocation data: CRLs (RFC 5280 §5) and OCSP responses (RFC 6960 §4.2.1),
//! RSA or GOST; and the status of one certificate from an OCSP response (CertID with SHA-256,
//! nonce, delegated responders certified for OCSP signing) or a CRL, with freshness. No I/O:
//! the edge fetches.
//!
//! The structures are read with RustCrypto's types after BER normalisation — x509-cert's
//! `CertificateList`, x509-ocsp's `OcspResponse` and `BasicOcspResponse` (they accept NCA's
//! files: the test CRLs and all four OCSP responses in the shared vectors). Only the signed
//! parts (`tbsCertList`, `tbsResponseData`) are taken as raw bytes, exactly as encoded, since
//! the signature is checked over them.

use der::{Decode, Encode};
use time::OffsetDateTime;
use x509_cert::Certificate;
use x509_cert::crl::CertificateList;
use x509_cert::ext::pkix::name::{DistributionPointName, GeneralName};
use x509_cert::ext::pkix::{AuthorityInfoAccessSyntax, CrlDistributionPoints};
use x509_ocsp::{BasicOcspResponse, OcspResponse};
use x509_ocsp::{CertId, CertStatus, OcspRequest, Request, TbsRequest, Version};

use crate::ber::{self, Tlv};
use crate::verify::{SigCheckError, verify_certificate_signature, verify_signature};

/// `id-pkix-ocsp-basic`.
const OCSP_BASIC: &str = "1.3.6.1.5.5.7.48.1.1";

fn malformed(what: &str) -> impl Fn(der::Error) -> SigCheckError + '_ {
    move |e| SigCheckError::Malformed(format!("{what}: {e}"))
}

fn spki_of(cert_der: &[u8]) -> Result<Vec<u8>, SigCheckError> {
    let c = Certificate::from_der(cert_der).map_err(|_| SigCheckError::BadKey)?;
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

// ---------------------------------------------------------------------------------------
// Status: building OCSP requests, reading OCSP responses and CRLs for one certificate.
// ---------------------------------------------------------------------------------------

/// id-ad-ocsp.
const AD_OCSP: &str = "1.3.6.1.5.5.7.48.1";
/// id-kp-OCSPSigning.
const EKU_OCSP_SIGNING: &str = "1.3.6.1.5.5.7.3.9";
/// SHA-256, the CertID hash NCA's responders use (KZ-PKI.md §6.1).
const SHA256: &str = "2.16.840.1.101.3.4.2.1";

/// A certificate's revocation status as one source tells it.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[serde(tag = "status", rename_all = "snake_case")]
pub enum Status {
    /// Not revoked.
    Good,
    /// Revoked at `time`, for `reason` (RFC 5280 reason name) when given.
    Revoked {
        /// When.
        #[serde(with = "time::serde::rfc3339")]
        time: OffsetDateTime,
        /// Why (`keyCompromise`, `certificateHold`…).
        reason: Option<String>,
    },
    /// The responder does not know the certificate.
    Unknown,
}

/// What one source said, and until when it holds.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Answer {
    /// The status.
    #[serde(flatten)]
    pub status: Status,
    /// `ocsp` or `crl`.
    pub source: &'static str,
    /// thisUpdate.
    #[serde(with = "time::serde::rfc3339")]
    pub this_update: OffsetDateTime,
    /// nextUpdate (a cache keeps the answer until then).
    #[serde(with = "time::serde::rfc3339::option")]
    pub next_update: Option<OffsetDateTime>,
}

/// Why a revocation answer is not usable.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum RevocationError {
    /// Not readable.
    #[error("malformed: {0}")]
    Malformed(String),
    /// Its signature does not check out (or the responder may not sign for this CA).
    #[error("bad signature: {0}")]
    Signature(String),
    /// The responder answered with an error status.
    #[error("the OCSP responder answered status {0}")]
    ResponderStatus(u8),
    /// It is not about this certificate.
    #[error("the answer is not about this certificate")]
    NotForThisCertificate,
    /// The nonce differs (a replayed answer).
    #[error("the OCSP nonce does not match the request")]
    Nonce,
    /// Outside thisUpdate..nextUpdate.
    #[error("the answer is out of date (valid {0})")]
    Stale(String),
}

impl From<SigCheckError> for RevocationError {
    fn from(e: SigCheckError) -> Self {
        Self::Signature(e.to_string())
    }
}

fn dt(t: &der::asn1::GeneralizedTime) -> OffsetDateTime {
    OffsetDateTime::from_unix_timestamp(
        i64::try_from(t.to_unix_duration().as_secs()).unwrap_or(i64::MAX),
    )
    .unwrap_or(OffsetDateTime::UNIX_EPOCH)
}

fn x509_time(t: &x509_cert::time::Time) -> OffsetDateTime {
    OffsetDateTime::from_unix_timestamp(
        i64::try_from(t.to_unix_duration().as_secs()).unwrap_or(i64::MAX),
    )
    .unwrap_or(OffsetDateTime::UNIX_EPOCH)
}

fn cert(der: &[u8]) -> Result<Certificate, RevocationError> {
    Certificate::from_der(der).map_err(|e| RevocationError::Malformed(format!("certificate: {e}")))
}

fn sha256(data: &[u8]) -> Vec<u8> {
    aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, data)
        .as_ref()
        .to_vec()
}

/// The CertID of `leaf` (issued by `issuer`) with SHA-256.
fn cert_id(leaf: &Certificate, issuer: &Certificate) -> Result<CertId, RevocationError> {
    let name = issuer
        .tbs_certificate
        .subject
        .to_der()
        .map_err(|e| RevocationError::Malformed(e.to_string()))?;
    let key = issuer
        .tbs_certificate
        .subject_public_key_info
        .subject_public_key
        .raw_bytes();
    let m = |e: der::Error| RevocationError::Malformed(e.to_string());
    Ok(CertId {
        hash_algorithm: spki::AlgorithmIdentifierOwned {
            oid: der::oid::ObjectIdentifier::new_unwrap(SHA256),
            parameters: Some(der::Any::null()),
        },
        issuer_name_hash: der::asn1::OctetString::new(sha256(&name)).map_err(m)?,
        issuer_key_hash: der::asn1::OctetString::new(sha256(key)).map_err(m)?,
        serial_number: leaf.tbs_certificate.serial_number.clone(),
    })
}

/// An OCSP request (DER) for `leaf_der`, issued by `issuer_der`, with `nonce`.
pub fn ocsp_request(
    leaf_der: &[u8],
    issuer_der: &[u8],
    nonce: &[u8],
) -> Result<Vec<u8>, RevocationError> {
    let m = |e: der::Error| RevocationError::Malformed(e.to_string());
    let id = cert_id(&cert(leaf_der)?, &cert(issuer_der)?)?;
    let nonce = x509_ocsp::ext::Nonce::new(nonce.to_vec()).map_err(m)?;
    let ext = x509_cert::ext::Extension {
        extn_id: der::oid::ObjectIdentifier::new_unwrap("1.3.6.1.5.5.7.48.1.2"),
        critical: false,
        extn_value: der::asn1::OctetString::new(nonce.to_der().map_err(m)?).map_err(m)?,
    };
    OcspRequest {
        tbs_request: TbsRequest {
            version: Version::V1,
            requestor_name: None,
            request_list: vec![Request {
                req_cert: id,
                single_request_extensions: None,
            }],
            request_extensions: Some(vec![ext]),
        },
        optional_signature: None,
    }
    .to_der()
    .map_err(m)
}

fn fresh(
    this: OffsetDateTime,
    next: Option<OffsetDateTime>,
    now: OffsetDateTime,
) -> Result<(), RevocationError> {
    // Five minutes of clock skew either way.
    let skew = time::Duration::minutes(5);
    if this > now + skew || next.is_some_and(|n| n + skew < now) {
        return Err(RevocationError::Stale(format!(
            "{this} – {}",
            next.map_or_else(|| "…".to_owned(), |n| n.to_string())
        )));
    }
    Ok(())
}

/// Reads an OCSP response about `leaf_der`: the responder's signature (the issuer, or a
/// delegated responder the issuer certified for OCSP signing), the nonce when `nonce` is given,
/// the CertID, and freshness at `now`.
pub fn ocsp_status(
    resp_der: &[u8],
    leaf_der: &[u8],
    issuer_der: &[u8],
    nonce: Option<&[u8]>,
    now: OffsetDateTime,
) -> Result<Answer, RevocationError> {
    let der = normalised(resp_der)?;
    let resp = OcspResponse::from_der(&der)
        .map_err(|e| RevocationError::Malformed(format!("OCSP response: {e}")))?;
    let status = resp.response_status as u8;
    if status != 0 {
        return Err(RevocationError::ResponderStatus(status));
    }
    let responder = verify_ocsp_response(&der, issuer_der)?;
    if responder.as_slice() != issuer_der {
        let d = crate::CertificateDetails::from_der(&responder)
            .map_err(|e| RevocationError::Malformed(e.to_string()))?;
        if !d.ext_key_usage.iter().any(|e| e == EKU_OCSP_SIGNING) {
            return Err(RevocationError::Signature(
                "the responder certificate is not for OCSP signing".into(),
            ));
        }
    }
    let bytes = resp
        .response_bytes
        .ok_or_else(|| RevocationError::Malformed("no body".into()))?;
    let basic = BasicOcspResponse::from_der(bytes.response.as_bytes())
        .map_err(|e| RevocationError::Malformed(format!("BasicOCSPResponse: {e}")))?;
    if let Some(n) = nonce {
        match basic.nonce() {
            Some(got) if got.0.as_bytes() == n => {}
            _ => return Err(RevocationError::Nonce),
        }
    }
    let leaf = cert(leaf_der)?;
    let issuer = cert(issuer_der)?;
    let single = basic
        .tbs_response_data
        .responses
        .iter()
        .find(|r| {
            r.cert_id.serial_number == leaf.tbs_certificate.serial_number
                && cert_id_matches(&r.cert_id, &issuer)
        })
        .ok_or(RevocationError::NotForThisCertificate)?;
    let this_update = dt(&single.this_update.0);
    let next_update = single.next_update.as_ref().map(|t| dt(&t.0));
    fresh(this_update, next_update, now)?;
    let status = match &single.cert_status {
        CertStatus::Good(_) => Status::Good,
        CertStatus::Revoked(info) => Status::Revoked {
            time: dt(&info.revocation_time.0),
            reason: info
                .revocation_reason
                .map(|r| lower_first(&format!("{r:?}"))),
        },
        CertStatus::Unknown(_) => Status::Unknown,
    };
    Ok(Answer {
        status,
        source: "ocsp",
        this_update,
        next_update,
    })
}

fn lower_first(s: &str) -> String {
    let mut c = s.chars();
    c.next()
        .map(|f| f.to_lowercase().chain(c).collect())
        .unwrap_or_default()
}

/// The CertID names `issuer` (hashed with SHA-1 or SHA-256, as responders answer either way).
fn cert_id_matches(id: &CertId, issuer: &Certificate) -> bool {
    let Ok(name) = issuer.tbs_certificate.subject.to_der() else {
        return false;
    };
    let key = issuer
        .tbs_certificate
        .subject_public_key_info
        .subject_public_key
        .raw_bytes();
    let alg = id.hash_algorithm.oid.to_string();
    let h = |d: &[u8]| match alg.as_str() {
        SHA256 => Some(sha256(d)),
        "1.3.14.3.2.26" => Some(
            aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA1_FOR_LEGACY_USE_ONLY, d)
                .as_ref()
                .to_vec(),
        ),
        // GOST-hashed CertIDs: the serial number alone identifies it under this issuer.
        _ => None,
    };
    match (h(&name), h(key)) {
        (Some(n), Some(k)) => {
            id.issuer_name_hash.as_bytes() == n.as_slice()
                && id.issuer_key_hash.as_bytes() == k.as_slice()
        }
        _ => true,
    }
}

/// Reads a CRL issued by `issuer_der` about `leaf_der` at `now`: its signature, freshness, and
/// whether the serial number is listed.
pub fn crl_status(
    crl_der: &[u8],
    leaf_der: &[u8],
    issuer_der: &[u8],
    now: OffsetDateTime,
) -> Result<Answer, RevocationError> {
    verify_crl(crl_der, issuer_der)?;
    let der = normalised(crl_der)?;
    let crl = CertificateList::from_der(&der)
        .map_err(|e| RevocationError::Malformed(format!("CRL: {e}")))?;
    let leaf = cert(leaf_der)?;
    if crl.tbs_cert_list.issuer != leaf.tbs_certificate.issuer {
        return Err(RevocationError::NotForThisCertificate);
    }
    let this_update = x509_time(&crl.tbs_cert_list.this_update);
    let next_update = crl.tbs_cert_list.next_update.as_ref().map(x509_time);
    fresh(this_update, next_update, now)?;
    let listed = crl
        .tbs_cert_list
        .revoked_certificates
        .iter()
        .flatten()
        .find(|r| r.serial_number == leaf.tbs_certificate.serial_number);
    let status = match listed {
        None => Status::Good,
        Some(r) => Status::Revoked {
            time: x509_time(&r.revocation_date),
            reason: r.crl_entry_extensions.iter().flatten().find_map(|e| {
                (e.extn_id.to_string() == "2.5.29.21")
                    .then(|| {
                        x509_cert::ext::pkix::CrlReason::from_der(e.extn_value.as_bytes()).ok()
                    })
                    .flatten()
                    .map(|r| lower_first(&format!("{r:?}")))
            }),
        },
    };
    Ok(Answer {
        status,
        source: "crl",
        this_update,
        next_update,
    })
}

fn uris(names: &[GeneralName]) -> impl Iterator<Item = String> + '_ {
    names.iter().filter_map(|n| match n {
        GeneralName::UniformResourceIdentifier(u) => Some(u.as_str().to_owned()),
        _ => None,
    })
}

/// The OCSP responders a certificate names (AIA id-ad-ocsp).
pub fn ocsp_urls(leaf_der: &[u8]) -> Vec<String> {
    let Ok(c) = Certificate::from_der(leaf_der) else {
        return Vec::new();
    };
    let Ok(Some((_, aia))) = c.tbs_certificate.get::<AuthorityInfoAccessSyntax>() else {
        return Vec::new();
    };
    aia.0
        .iter()
        .filter(|a| a.access_method.to_string() == AD_OCSP)
        .flat_map(|a| uris(std::slice::from_ref(&a.access_location)).collect::<Vec<_>>())
        .collect()
}

/// The CRLs a certificate names (CRL distribution points, full names).
pub fn crl_urls(leaf_der: &[u8]) -> Vec<String> {
    let Ok(c) = Certificate::from_der(leaf_der) else {
        return Vec::new();
    };
    let Ok(Some((_, dps))) = c.tbs_certificate.get::<CrlDistributionPoints>() else {
        return Vec::new();
    };
    dps.0
        .iter()
        .filter_map(|dp| match &dp.distribution_point {
            Some(DistributionPointName::FullName(n)) => Some(uris(n).collect::<Vec<_>>()),
            _ => None,
        })
        .flatten()
        .collect()
}

/// What the engine knows about a certificate's revocation before signing.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum RevocationState {
    /// A responder or CRL says it is not revoked.
    Good {
        /// `ocsp` or `crl`.
        source: &'static str,
    },
    /// Revoked.
    Revoked {
        /// When.
        #[serde(with = "time::serde::rfc3339")]
        time: OffsetDateTime,
        /// Why, when given.
        reason: Option<String>,
        /// `ocsp` or `crl`.
        source: &'static str,
    },
    /// The responder does not know it.
    Unknown {
        /// `ocsp`.
        source: &'static str,
    },
    /// It names a responder or CRL, but none could be asked or read.
    Unchecked {
        /// Why, per source tried.
        why: String,
    },
    /// It names neither an OCSP responder nor a CRL: nothing to check.
    NothingToCheck,
}

impl RevocationState {
    /// From one source's answer.
    pub fn from_answer(a: &Answer) -> Self {
        match &a.status {
            Status::Good => Self::Good { source: a.source },
            Status::Revoked { time, reason } => Self::Revoked {
                time: *time,
                reason: reason.clone(),
                source: a.source,
            },
            Status::Unknown => Self::Unknown { source: a.source },
        }
    }
}

impl std::fmt::Display for RevocationState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Good { source } => write!(f, "not revoked ({source})"),
            Self::Revoked {
                time,
                reason,
                source,
            } => write!(
                f,
                "revoked on {}-{:02}-{:02}{} ({source})",
                time.year(),
                u8::from(time.month()),
                time.day(),
                reason
                    .as_ref()
                    .map(|r| format!(", {r}"))
                    .unwrap_or_default()
            ),
            Self::Unknown { source } => write!(f, "unknown to the responder ({source})"),
            Self::Unchecked { why } => write!(f, "could not be checked: {why}"),
            Self::NothingToCheck => f.write_str("names no OCSP responder or CRL: nothing to check"),
        }
    }
}
