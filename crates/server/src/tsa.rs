//! The timestamp authority over HTTP (RFC 3161 §3.4: POST `application/timestamp-query`),
//! the engine's implementation of the protocol's [`Tsa`] port. Defaults are NCA's production
//! TSA; the admin policy (`[tsa]`) or `--tsa` change them. Every exchange has a time limit and
//! a size limit on the answer.

use qoltanba_protocol::Tsa;

/// NCA's production TSA (KZ-PKI.md §6.1).
pub const NCA_TSA: &str = "http://tsp.pki.gov.kz:80/";
/// The policy NCA's production TSA stamps with — RSA signatures (KZ-PKI.md §6.1) and GOST ones
/// (the production GOST-2004 CAdES-T sample, §8.3).
pub const NCA_POLICY: &str = "1.2.398.3.3.2.6.2";
/// Largest answer read (a token with its certificates is a few KiB).
const MAX_ANSWER: u64 = 1 << 20;

/// `[tsa]` in the policy file, and the engine's TSA settings.
#[derive(Debug, Clone, PartialEq, Eq, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TsaConfig {
    /// The TSA's URL (`http://…`).
    #[serde(default = "default_url")]
    pub url: String,
    /// The policy asked for with RSA keys (absent: the TSA's default).
    #[serde(default = "default_rsa_policy")]
    pub rsa_policy: Option<String>,
    /// The policy asked for with GOST keys (absent: the TSA's default).
    #[serde(default = "default_rsa_policy")]
    pub gost_policy: Option<String>,
    /// Seconds to wait for the TSA.
    #[serde(default = "default_timeout")]
    pub timeout_secs: u64,
}

fn default_url() -> String {
    NCA_TSA.to_owned()
}

#[allow(clippy::unnecessary_wraps)] // serde default for an Option field
fn default_rsa_policy() -> Option<String> {
    Some(NCA_POLICY.to_owned())
}

const fn default_timeout() -> u64 {
    15
}

impl Default for TsaConfig {
    fn default() -> Self {
        Self {
            url: default_url(),
            rsa_policy: default_rsa_policy(),
            gost_policy: default_rsa_policy(),
            timeout_secs: default_timeout(),
        }
    }
}

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
