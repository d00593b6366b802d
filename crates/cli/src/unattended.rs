//! TEST ONLY — compiled with the `unattended` cargo feature, never in release packages.
//!
//! A prompter that answers every prompt from a TOML file, for end-to-end tests:
//! ```toml
//! approve = true            # false: every request is answered as a user cancel
//! delay_ms = 0              # how long "the person" takes to answer (tests of concurrency)
//! [[keys]]
//! file = "/abs/path/RSA256_….p12"
//! password = "…"
//! ```
//! It picks, in listed order, the first key that satisfies the request. The file holds
//! passwords, so it is refused when other users can read it.

use std::path::Path;
use std::sync::Arc;

use anyhow::{Context, Result, bail};
use qoltanba_keys::{KeyError, Secret, SignatureAlgorithm, SigningKey, SoftwareKey, pkcs12};
use qoltanba_pki::CertificateDetails;
use qoltanba_protocol::{KeyRequest, OriginDecision, PromptError, Prompter};

#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct File {
    approve: bool,
    #[serde(default)]
    delay_ms: u64,
    #[serde(default)]
    keys: Vec<KeyEntry>,
    #[serde(default)]
    tokens: Vec<toml::Value>,
}

#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct KeyEntry {
    file: std::path::PathBuf,
    password: String,
}

/// A key shared between requests (opened once at start).
struct Shared(Arc<SoftwareKey>);

impl SigningKey for Shared {
    fn alias(&self) -> &str {
        self.0.alias()
    }
    fn certificate_der(&self) -> &[u8] {
        self.0.certificate_der()
    }
    fn chain_der(&self) -> &[Vec<u8>] {
        self.0.chain_der()
    }
    fn details(&self) -> &CertificateDetails {
        self.0.details()
    }
    fn sign(&self, alg: SignatureAlgorithm, message: &[u8]) -> Result<Vec<u8>, KeyError> {
        self.0.sign(alg, message)
    }
}

/// Answers prompts from the file.
pub(crate) struct UnattendedPrompter {
    approve: bool,
    delay: std::time::Duration,
    keys: Vec<Arc<SoftwareKey>>,
    anchors: Vec<Vec<u8>>,
}

impl UnattendedPrompter {
    /// Loads the file and opens every key in it.
    pub(crate) fn load(path: &Path, anchors: Vec<Vec<u8>>) -> Result<Self> {
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(path)
                .with_context(|| format!("cannot read {}", path.display()))?
                .permissions()
                .mode();
            if mode & 0o077 != 0 {
                bail!(
                    "{} holds passwords and is readable by others (chmod 600 it)",
                    path.display()
                );
            }
        }
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("cannot read {}", path.display()))?;
        let file: File = toml::from_str(&text).with_context(|| format!("{}", path.display()))?;
        if !file.tokens.is_empty() {
            eprintln!(
                "qoltanba: [[tokens]] in the unattended file are ignored until PKCS#11 support lands"
            );
        }
        let mut keys = Vec::new();
        for k in file.keys {
            let mut c = pkcs12::open_file(&k.file, &Secret::new(k.password))
                .with_context(|| format!("cannot open {}", k.file.display()))?;
            keys.push(Arc::new(c.keys.remove(0)));
        }
        Ok(Self {
            approve: file.approve,
            delay: std::time::Duration::from_millis(file.delay_ms),
            keys,
            anchors,
        })
    }
}

impl Prompter for UnattendedPrompter {
    fn pick_key(&self, req: &KeyRequest<'_>) -> Result<Box<dyn SigningKey>, PromptError> {
        std::thread::sleep(self.delay);
        if !self.approve {
            return Err(PromptError::Cancelled);
        }
        if !req.storages.is_empty() && !req.storages.iter().any(|s| s == "PKCS12") {
            return Err(PromptError::NoMatchingKey);
        }
        let now = time::OffsetDateTime::now_utc();
        self.keys
            .iter()
            .find(|k| req.filter.check(k.as_ref(), &self.anchors, now).is_ok())
            .map(|k| Box::new(Shared(k.clone())) as Box<dyn SigningKey>)
            .ok_or(PromptError::NoMatchingKey)
    }

    fn approve_origin(&self, _origin: &str) -> OriginDecision {
        // Approvals are the person's to remember; the test prompter never stores one.
        OriginDecision::AllowOnce
    }
}
