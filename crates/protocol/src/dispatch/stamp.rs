//! CAdES-T: a timestamp for a signer's signature value from the configured TSA. The request
//! and the checks of the answer are `qoltanba_sign::cms::tsp`'s; the [`Tsa`] port carries the
//! bytes (HTTP at the edge). A page that asked for a timestamp never gets a signature without
//! one: any failure here fails the call.

use qoltanba_sign::cms::tsp::{self, TimestampRequest};

use super::Dispatcher;
use crate::wire::Failure;

/// Carries timestamp queries to a timestamp authority.
pub trait Tsa: Send + Sync {
    /// The policy to ask for, for keys of the GOST family or not (`None`: the TSA's default).
    fn policy(&self, gost: bool) -> Option<String>;
    /// Sends a query (`application/timestamp-query`) and returns the answer's body; the error
    /// says why nothing usable came back (unreachable, timed out, HTTP status).
    fn exchange(&self, gost: bool, query: &[u8]) -> Result<Vec<u8>, String>;
}

fn failed(e: impl std::fmt::Display) -> Failure {
    Failure::Timestamp(e.to_string())
}

impl Dispatcher {
    /// Adds a timestamp to signer `only` of `cms`, or to every signer that has none.
    pub(super) fn stamp(&self, cms: &[u8], only: Option<usize>) -> Result<Vec<u8>, Failure> {
        let tsa = self
            .tsa
            .as_ref()
            .ok_or_else(|| failed("no timestamp authority is configured"))?;
        let values =
            tsp::signature_values(cms).map_err(|e| Failure::BadInput(format!("the CMS: {e}")))?;
        let max = self.settings.limits.cms.max_signers;
        if values.len() > max {
            return Err(Failure::BadInput(format!(
                "the CMS has {} signers (at most {max})",
                values.len()
            )));
        }
        let mut out = cms.to_vec();
        for (i, v) in values.iter().enumerate() {
            if only.is_some_and(|o| o != i) || (only.is_none() && v.timestamped) {
                continue;
            }
            let gost = !matches!(
                v.digest,
                qoltanba_sign::DigestAlgorithm::Sha1
                    | qoltanba_sign::DigestAlgorithm::Sha256
                    | qoltanba_sign::DigestAlgorithm::Sha384
                    | qoltanba_sign::DigestAlgorithm::Sha512
            );
            // The imprint is SHA-256 for every key family: NCA's production TSA stamps GOST
            // signatures over a SHA-256 imprint too (the public production CAdES-T sample of
            // KZ-PKI.md §8.3: GOST-2004 signer, policy 1.2.398.3.3.2.6.2, SHA-256 imprint).
            let req = TimestampRequest::new(
                &v.value,
                qoltanba_sign::DigestAlgorithm::Sha256,
                tsa.policy(gost).as_deref(),
            )
            .map_err(failed)?;
            let answer = tsa.exchange(gost, &req.der).map_err(failed)?;
            let t = req
                .check(&answer, &self.settings.trust_anchors)
                .map_err(failed)?;
            out = tsp::add_timestamp(&out, i, &t.token).map_err(failed)?;
        }
        Ok(out)
    }
}
