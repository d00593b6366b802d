//! Building and checking a certificate path to given trust anchors (RFC 5280 §6, reduced to what
//! a signing client reports: names link, signatures verify, CA flags, validity at a time).

use std::sync::{Arc, Mutex};

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
///
/// The search depends only on the certificates, not on the time, and a server checks the same
/// key's chain on every request, so the last [`REMEMBERED`] searches are remembered: the path's
/// status and its certificates' details, from which the time-dependent part (validity at `at`)
/// is worked out each call.
pub fn check(
    leaf: &[u8],
    pool: &[Vec<u8>],
    anchors: &[Vec<u8>],
    at: OffsetDateTime,
) -> ChainReport {
    if anchors.is_empty() {
        return ChainReport {
            status: ChainStatus::NotChecked,
            validity: validity(leaf, at),
            checked_at: at,
            path: vec![cn(leaf)],
        };
    }
    let found = remembered_search(leaf, pool, anchors);
    let validity_of = |d: &Option<CertificateDetails>| {
        d.as_ref()
            .map_or(ValidityStatus::Expired, |d| d.validity_at(at))
    };
    // Every certificate's validity on a trusted path; just the leaf's otherwise.
    let validity = if found.status == ChainStatus::Trusted {
        found
            .path
            .iter()
            .map(validity_of)
            .fold(ValidityStatus::Valid, worst)
    } else {
        found
            .path
            .first()
            .map_or(ValidityStatus::Expired, validity_of)
    };
    ChainReport {
        status: found.status.clone(),
        validity,
        checked_at: at,
        path: found
            .path
            .iter()
            .map(|d| {
                d.as_ref()
                    .and_then(|d| d.subject_cn.clone())
                    .unwrap_or_else(|| "?".into())
            })
            .collect(),
    }
}

/// How many path searches [`check`] remembers.
pub const REMEMBERED: usize = 16;

/// A path search's outcome: the status, and the details of the certificates on the path from
/// the leaf up (`None` for one that does not parse).
struct Found {
    status: ChainStatus,
    path: Vec<Option<CertificateDetails>>,
}

fn remembered_search(leaf: &[u8], pool: &[Vec<u8>], anchors: &[Vec<u8>]) -> Arc<Found> {
    use sha2::{Digest, Sha256};
    static SEARCHES: Mutex<Vec<([u8; 32], Arc<Found>)>> = Mutex::new(Vec::new());
    // The key covers every certificate, each with its length, and where the anchors begin.
    let mut h = Sha256::new();
    for part in std::iter::once(leaf)
        .chain(pool.iter().map(Vec::as_slice))
        .chain(std::iter::once(&b"anchors"[..]))
        .chain(anchors.iter().map(Vec::as_slice))
    {
        h.update((part.len() as u64).to_be_bytes());
        h.update(part);
    }
    let key: [u8; 32] = h.finalize().into();
    if let Ok(searches) = SEARCHES.lock()
        && let Some((_, found)) = searches.iter().find(|(k, _)| *k == key)
    {
        return found.clone();
    }
    let (status, ders) = search(leaf, pool, anchors);
    let found = Arc::new(Found {
        status,
        path: ders
            .iter()
            .map(|d| CertificateDetails::from_der(d).ok())
            .collect(),
    });
    if let Ok(mut searches) = SEARCHES.lock() {
        if searches.len() >= REMEMBERED {
            searches.remove(0);
        }
        searches.push((key, found.clone()));
    }
    found
}

/// The path search: the status and the certificates on the path, from the leaf up as far as
/// the search went.
fn search(leaf: &[u8], pool: &[Vec<u8>], anchors: &[Vec<u8>]) -> (ChainStatus, Vec<Vec<u8>>) {
    let mut path = vec![leaf.to_vec()];
    let parsed = |d: &[u8]| Certificate::from_der(d).map_err(|e| e.to_string());
    let mut current = leaf.to_vec();
    let mut current_cert = match parsed(leaf) {
        Ok(c) => c,
        Err(e) => return (ChainStatus::Malformed(e), path),
    };
    for _ in 0..MAX_PATH {
        if anchors.contains(&current) {
            return (ChainStatus::Trusted, path);
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
            let status = unsupported.map_or(ChainStatus::Untrusted, ChainStatus::Unsupported);
            return (status, path);
        };
        path.push(der.clone());
        if anchors.contains(&der) {
            return (ChainStatus::Trusted, path);
        }
        current = der;
        current_cert = cert;
    }
    (ChainStatus::Untrusted, path)
}
