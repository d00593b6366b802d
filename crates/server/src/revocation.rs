//! Revocation checks over HTTP, the engine's implementation of the protocol's
//! [`RevocationCheck`] port: OCSP first (the certificate's AIA responder, or the admin's
//! override), then the CRLs its distribution points name; answers are cached until their
//! nextUpdate. Each fetch has a time limit and a size limit. The parsing and checking is
//! `qoltanba_pki::revocation`'s.

use std::collections::HashMap;
use std::sync::Mutex;

pub use qoltanba_local::policy::RevocationConfig;
use qoltanba_pki::revocation::{
    Answer, RevocationState, crl_status, crl_urls, ocsp_request, ocsp_status, ocsp_urls,
};
use qoltanba_protocol::RevocationCheck;
use time::OffsetDateTime;

/// Largest OCSP response or CRL read (NCA's delta CRLs are small, full ones a few MB).
const MAX_FETCH: u64 = 32 << 20;
/// How long an answer without nextUpdate is kept.
const DEFAULT_KEEP: time::Duration = time::Duration::minutes(5);

/// OCSP and CRLs over HTTP, with a cache.
pub struct HttpRevocation {
    config: RevocationConfig,
    agent: ureq::Agent,
    cache: Mutex<HashMap<Vec<u8>, (RevocationState, OffsetDateTime)>>,
}

impl HttpRevocation {
    /// A checker for `config`.
    pub fn new(config: RevocationConfig) -> Self {
        let agent = crate::fetch::agent(config.timeout_secs);
        Self {
            config,
            agent,
            cache: Mutex::default(),
        }
    }

    fn ocsp(&self, url: &str, leaf: &[u8], issuer: &[u8]) -> Result<Answer, String> {
        // The OS's generator (see `qoltanba_sign::cms::tsp`: no DRBG start-up for a nonce).
        let mut nonce = [0u8; 16];
        getrandom::fill(&mut nonce).map_err(|_| "no randomness".to_owned())?;
        let req = ocsp_request(leaf, issuer, &nonce).map_err(|e| e.to_string())?;
        let resp = self
            .agent
            .post(url)
            .header("Content-Type", "application/ocsp-request")
            .send(&req[..])
            .map_err(|e| format!("{url} cannot be reached: {e}"))?;
        let body = crate::fetch::body(resp, url, MAX_FETCH)?;
        ocsp_status(&body, leaf, issuer, Some(&nonce), OffsetDateTime::now_utc())
            .map_err(|e| format!("{url}: {e}"))
    }

    fn crl(&self, url: &str, leaf: &[u8], issuer: &[u8]) -> Result<Answer, String> {
        let resp = self
            .agent
            .get(url)
            .call()
            .map_err(|e| format!("{url} cannot be reached: {e}"))?;
        let body = crate::fetch::body(resp, url, MAX_FETCH)?;
        crl_status(&body, leaf, issuer, OffsetDateTime::now_utc())
            .map_err(|e| format!("{url}: {e}"))
    }
}

fn sha256(d: &[u8]) -> Vec<u8> {
    aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, d)
        .as_ref()
        .to_vec()
}

impl RevocationCheck for HttpRevocation {
    fn check(&self, leaf: &[u8], pool: &[Vec<u8>]) -> RevocationState {
        let now = OffsetDateTime::now_utc();
        let key = sha256(leaf);
        if let Ok(c) = self.cache.lock()
            && let Some((state, until)) = c.get(&key)
            && *until > now
        {
            return state.clone();
        }
        let mut ocsp: Vec<String> = self.config.ocsp_url.iter().cloned().collect();
        if ocsp.is_empty() {
            ocsp = ocsp_urls(leaf);
        }
        let crls = crl_urls(leaf);
        if ocsp.is_empty() && crls.is_empty() {
            return RevocationState::NothingToCheck;
        }
        let Some(issuer) = pool
            .iter()
            .find(|c| qoltanba_pki::verify::verify_certificate_signature(leaf, c).is_ok())
        else {
            return RevocationState::Unchecked {
                why: "the issuer's certificate is not at hand".into(),
            };
        };
        let mut errors = Vec::new();
        let answer = ocsp
            .iter()
            .map(|u| self.ocsp(u, leaf, issuer))
            .chain(crls.iter().map(|u| self.crl(u, leaf, issuer)))
            .find_map(|r| r.map_err(|e| errors.push(e)).ok());
        let Some(a) = answer else {
            return RevocationState::Unchecked {
                why: errors.join("; "),
            };
        };
        let state = RevocationState::from_answer(&a);
        let until = a.next_update.unwrap_or(now + DEFAULT_KEEP);
        if let Ok(mut c) = self.cache.lock() {
            // Bounded: a person has a handful of certificates.
            if c.len() > 256 {
                c.clear();
            }
            c.insert(key, (state.clone(), until));
        }
        state
    }
}
