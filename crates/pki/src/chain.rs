//! Building and checking a certificate path to given trust anchors (RFC 5280 §6, reduced to what
//! a signing client reports: names link, signatures verify, CA flags, validity at a time).

use der::Decode;
use serde::Serialize;
use time::OffsetDateTime;
use x509_cert::Certificate;

use crate::name::names_match;
use crate::verify::verify_certificate_signature;
use crate::{CertificateDetails, ValidityStatus};

/// Longest path tried (NCA paths are leaf → NCA → root).
pub const MAX_PATH: usize = 8;

/// Whether the certificate chains to a trust anchor.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum ChainStatus {
    /// A path to a trust anchor was found and every signature on it verifies.
    Trusted,
    /// No trust anchors were given, so nothing was checked.
    NotChecked,
    /// No path to any of the given trust anchors.
    Untrusted,
    /// A certificate on the path could not be checked (algorithm not supported yet).
    Unsupported(String),
    /// A certificate could not be read.
    Malformed(String),
}

/// The outcome of [`check`].
#[derive(Debug, Clone, Serialize)]
pub struct ChainReport {
    /// Trust.
    pub status: ChainStatus,
    /// Whether every certificate on the path was within its validity at the checked time
    /// (just the leaf when no path was found).
    pub validity: ValidityStatus,
    /// The time checked (signing time, or now).
    #[serde(with = "time::serde::rfc3339")]
    pub checked_at: OffsetDateTime,
    /// Subject CNs from the leaf up to the anchor.
    pub path: Vec<String>,
}

fn is_ca(cert: &Certificate) -> bool {
    use x509_cert::ext::pkix::BasicConstraints;
    cert.tbs_certificate
        .get::<BasicConstraints>()
        .ok()
        .flatten()
        .is_some_and(|(_, bc)| bc.ca)
}

fn validity(der: &[u8], at: OffsetDateTime) -> ValidityStatus {
    CertificateDetails::from_der(der).map_or(ValidityStatus::Expired, |d| d.validity_at(at))
}

fn cn(der: &[u8]) -> String {
    CertificateDetails::from_der(der)
        .ok()
        .and_then(|d| d.subject_cn)
        .unwrap_or_else(|| "?".into())
}

fn worst(a: ValidityStatus, b: ValidityStatus) -> ValidityStatus {
    // The first problem found stands; Valid only when both are.
    if a == ValidityStatus::Valid { b } else { a }
}

/// Tries to build a path from `leaf` through `pool` (certificates that came with the
/// signature) to one of `anchors` (DER), checking each link's signature, and reports trust and
/// validity at `at`.
pub fn check(
    leaf: &[u8],
    pool: &[Vec<u8>],
    anchors: &[Vec<u8>],
    at: OffsetDateTime,
) -> ChainReport {
    let mut report = ChainReport {
        status: ChainStatus::NotChecked,
        validity: validity(leaf, at),
        checked_at: at,
        path: vec![cn(leaf)],
    };
    if anchors.is_empty() {
        return report;
    }
    let parsed = |d: &[u8]| Certificate::from_der(d).map_err(|e| e.to_string());
    let mut current = leaf.to_vec();
    let mut current_cert = match parsed(leaf) {
        Ok(c) => c,
        Err(e) => {
            report.status = ChainStatus::Malformed(e);
            return report;
        }
    };
    let mut path_validity = report.validity;
    for _ in 0..MAX_PATH {
        if anchors.contains(&current) {
            report.status = ChainStatus::Trusted;
            report.validity = path_validity;
            return report;
        }
        let issuer_name = current_cert.tbs_certificate.issuer.clone();
        let mut next = None;
        let mut unsupported = None;
        for cand in anchors.iter().chain(pool.iter()) {
            if *cand == current {
                continue;
            }
            let Ok(c) = Certificate::from_der(cand) else {
                continue;
            };
            if !names_match(&c.tbs_certificate.subject, &issuer_name) || !is_ca(&c) {
                continue;
            }
            match verify_certificate_signature(&current, cand) {
                Ok(()) => {
                    next = Some((cand.clone(), c));
                    break;
                }
                Err(crate::verify::SigCheckError::Unsupported(a)) => unsupported = Some(a),
                Err(_) => {}
            }
        }
        let Some((der, cert)) = next else {
            report.status = unsupported.map_or(ChainStatus::Untrusted, ChainStatus::Unsupported);
            return report;
        };
        report.path.push(cn(&der));
        path_validity = worst(path_validity, validity(&der, at));
        if anchors.contains(&der) {
            report.status = ChainStatus::Trusted;
            report.validity = path_validity;
            return report;
        }
        current = der;
        current_cert = cert;
    }
    report.status = ChainStatus::Untrusted;
    report
}
