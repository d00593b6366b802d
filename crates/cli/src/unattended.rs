//! TEST ONLY — compiled with the `unattended` cargo feature, never in release packages.
//!
//! A prompter that answers every prompt from a TOML file, for end-to-end tests:
//! ```toml
//! approve = true            # false: every request is answered as a user cancel
//! delay_ms = 0              # how long "the person" takes to answer (tests of concurrency)
//! [[keys]]
//! file = "/abs/path/RSA256_….p12"
//! password = "…"
//! [[tokens]]                # a PKCS#11 module whose tokens serve the storages mapped to it
//! module = "/usr/lib/softhsm/libsofthsm2.so"
//! pin = "…"
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
    tokens: Vec<TokenEntry>,
}

#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct TokenEntry {
    module: std::path::PathBuf,
    pin: String,
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
    tokens: Vec<(std::path::PathBuf, Secret)>,
    directory: Arc<qoltanba_pkcs11::TokenDirectory>,
    approve: bool,
    delay: std::time::Duration,
    keys: Vec<Arc<SoftwareKey>>,
    anchors: Vec<Vec<u8>>,
}

impl UnattendedPrompter {
    /// Loads the file and opens every key in it.
    pub(crate) fn load(
        path: &Path,
        anchors: Vec<Vec<u8>>,
        directory: Arc<qoltanba_pkcs11::TokenDirectory>,
    ) -> Result<Self> {
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
        let tokens = file
            .tokens
            .into_iter()
            .map(|t| (t.module, Secret::new(t.pin)))
            .collect();
        let mut keys = Vec::new();
        for k in file.keys {
            let mut c = pkcs12::open_file(&k.file, &Secret::new(k.password))
                .with_context(|| format!("cannot open {}", k.file.display()))?;
            keys.push(Arc::new(c.keys.remove(0)));
        }
        Ok(Self {
            tokens,
            directory,
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
        let allowed = |s: &str| req.storages.is_empty() || req.storages.iter().any(|a| a == s);
        let now = time::OffsetDateTime::now_utc();
        let file_key = self
            .keys
            .iter()
            .find(|k| req.filter.check(k.as_ref(), &self.anchors, now).is_ok());
        if let Some(k) = file_key.filter(|_| allowed("PKCS12")) {
            return Ok(Box::new(Shared(k.clone())));
        }
        // Tokens are looked up at each request: one plugged in or pulled out since is seen.
        let (present, _) = self.directory.list();
        for (module, pin) in &self.tokens {
            for t in present
                .iter()
                .filter(|t| &t.module == module && allowed(&t.storage))
            {
                for c in &t.certificates {
                    let fits = c
                        .details
                        .as_ref()
                        .is_some_and(|d| req.filter.check_details(d, now).is_ok());
                    if !fits {
                        continue;
                    }
                    let key = self
                        .directory
                        .open_key(module, &t.label, Some(&c.id), pin)
                        .map_err(|e| PromptError::Store(e.to_string()))?;
                    if req.filter.check(&key, &self.anchors, now).is_ok() {
                        return Ok(Box::new(key));
                    }
                }
            }
        }
        if req.storages.iter().any(|s| s != "PKCS12")
            && present.iter().all(|t| !allowed(&t.storage))
        {
            return Err(PromptError::Store(
                "no token of the allowed kinds is connected".into(),
            ));
        }
        Err(PromptError::NoMatchingKey)
    }

    fn approve_origin(&self, _origin: &str) -> OriginDecision {
        // Approvals are the person's to remember; the test prompter never stores one.
        OriginDecision::AllowOnce
    }
}
