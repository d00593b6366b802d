//! The timestamp authority over HTTP (RFC 3161 §3.4: POST `application/timestamp-query`),
//! the engine's implementation of the protocol's [`Tsa`] port. Defaults are NCA's production
//! TSA; the admin policy (`[tsa]`) or `--tsa` change them. Every exchange has a time limit and
//! a size limit on the answer.

pub use qoltanba_local::policy::{NCA_POLICY, NCA_TSA, TsaConfig};
use qoltanba_protocol::Tsa;

/// Largest answer read (a token with its certificates is a few KiB).
const MAX_ANSWER: u64 = 1 << 20;

/// A TSA reached over HTTP.
pub struct HttpTsa {
    config: TsaConfig,
    agent: ureq::Agent,
}

impl HttpTsa {
    /// A client for `config`.
    pub fn new(config: TsaConfig) -> Self {
        let agent = crate::fetch::agent(config.timeout_secs);
        Self { config, agent }
    }
}

impl Tsa for HttpTsa {
    fn policy(&self, gost: bool) -> Option<String> {
        if gost {
            self.config.gost_policy.clone()
        } else {
            self.config.rsa_policy.clone()
        }
    }

    fn exchange(&self, _gost: bool, query: &[u8]) -> Result<Vec<u8>, String> {
        let url = &self.config.url;
        let resp = self
            .agent
            .post(url)
            .header("Content-Type", "application/timestamp-query")
            .send(query)
            .map_err(|e| format!("the timestamp authority {url} cannot be reached: {e}"))?;
        crate::fetch::body(resp, url, MAX_ANSWER)
            .map_err(|e| format!("the timestamp authority {e}"))
    }
}
