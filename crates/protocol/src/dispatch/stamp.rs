//! CAdES-T: a timestamp for a signer's signature value from the configured TSA. The request
//! and the checks of the answer are `qoltanba_sign::cms::tsp`'s; the [`Tsa`] port carries the
//! bytes (HTTP at the edge). A page that asked for a timestamp never gets a signature without
//! one: any failure here fails the call.

use qoltanba_sign::cms::tsp;

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

impl Dispatcher {
    /// Adds a timestamp to signer `only` of `cms`, or to every signer that has none.
    pub(super) fn stamp(&self, cms: &[u8], only: Option<usize>) -> Result<Vec<u8>, Failure> {
        let tsa = self.tsa.as_ref().ok_or(Failure::NoTsa)?;
        let which = only.map_or(tsp::Signers::Unstamped, tsp::Signers::Only);
        tsp::timestamp_signers(
            cms,
            which,
            self.settings.limits.cms.max_signers,
            &|gost| tsa.policy(gost),
            &|gost, q| tsa.exchange(gost, q),
            &self.settings.trust_anchors,
        )
        .map_err(Failure::from)
    }
}
