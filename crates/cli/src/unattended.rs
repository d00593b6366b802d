//! TEST ONLY — compiled with the `unattended` cargo feature, never in release packages.
//!
//! A prompter that answers every prompt from a TOML file, for end-to-end tests:
//! ```toml
//! approve = true            # false: every request is answered as a user cancel
//! delay_ms = 0              # how long "the person" takes to answer (tests of concurrency)
//! [[keys]]
//! file = "/abs/path/RSA256_….p12"
//! password = "…"
//! [[os_keys]]               # a key in the OS certificate store, by certificate thumbprint
//! thumbprint = "F8CA…"      # SHA-1 hex, any case
//! password = "…"            # optional: the store's password (an NSS database with one)
//! [[tokens]]                # a PKCS#11 module whose tokens serve the storages mapped to it
//! module = "/usr/lib/softhsm/libsofthsm2.so"
//! pin = "…"
//! ```
//! It only answers, as a person would: among the engine's offers it picks, in listed order,
//! the first `[[keys]]` file that fits (a file not offered yet is "picked in the file chooser"
//! with its password), then the first `[[os_keys]]` key offered that fits, then the first
//! certificate that fits on a token of a `[[tokens]]` module, with its PIN. The engine opens the keys; a refused secret ends the request with
//! that error, a key that does not fit makes it look further. The file holds passwords, so it
//! is refused when other users can read it.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use qoltanba_keys::{Location, STORAGE_PKCS12, Secret};
use qoltanba_protocol::{
    AfterRefusal, CallContext, Choice, KeyRequest, Offer, OriginDecision, PromptError, Prompter,
    Refusal,
};

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
    #[serde(default)]
    os_keys: Vec<OsKeyEntry>,
}

#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct OsKeyEntry {
    thumbprint: String,
    #[serde(default)]
    password: String,
}

#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct TokenEntry {
    module: PathBuf,
    pin: String,
}

#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct KeyEntry {
    file: PathBuf,
    password: String,
}

/// Answers prompts from the file.
pub(crate) struct UnattendedPrompter {
    approve: bool,
    delay: std::time::Duration,
    keys: Vec<(PathBuf, Secret)>,
    tokens: Vec<(PathBuf, Secret)>,
    os_keys: Vec<(String, Secret)>,
}

fn same_file(a: &Path, b: &Path) -> bool {
    let canon = |p: &Path| std::fs::canonicalize(p).unwrap_or_else(|_| p.to_owned());
    canon(a) == canon(b)
}

impl UnattendedPrompter {
    /// Loads the file.
    pub(crate) fn load(path: &Path) -> Result<Self> {
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
        for k in &file.keys {
            if !k.file.is_file() {
                bail!("cannot open {}: no such file", k.file.display());
            }
        }
        Ok(Self {
            approve: file.approve,
            delay: std::time::Duration::from_millis(file.delay_ms),
            keys: file
                .keys
                .into_iter()
                .map(|k| (k.file, Secret::new(k.password)))
                .collect(),
            tokens: file
                .tokens
                .into_iter()
                .map(|t| (t.module, Secret::new(t.pin)))
                .collect(),
            os_keys: file
                .os_keys
                .into_iter()
                .map(|k| (k.thumbprint, Secret::new(k.password)))
                .collect(),
        })
    }
}

fn copy(s: &Secret) -> Secret {
    Secret::new(s.expose().to_owned())
}

impl Prompter for UnattendedPrompter {
    fn approve_origin(&self, _ctx: &CallContext) -> OriginDecision {
        // Approvals are the person's to remember; the test prompter never stores one.
        OriginDecision::AllowOnce
    }

    fn choose_key(
        &self,
        ctx: &CallContext,
        req: &KeyRequest<'_>,
        offers: &[Offer],
    ) -> Result<Choice, PromptError> {
        // "The person" takes this long; a page that leaves meanwhile closes the prompt.
        if ctx.cancel.wait(self.delay) {
            return Err(PromptError::Cancelled);
        }
        if !self.approve {
            return Err(PromptError::Cancelled);
        }
        if req.allows(STORAGE_PKCS12) {
            for (path, password) in &self.keys {
                let offered = offers.iter().find(
                    |o| matches!(&o.candidate.location, Location::File(p) if same_file(p, path)),
                );
                match offered {
                    Some(o) if o.usable() => {
                        return Ok(Choice::Offer {
                            id: o.candidate.id.clone(),
                            secret: copy(password),
                        });
                    }
                    Some(_) => {}
                    None => {
                        return Ok(Choice::File {
                            path: path.clone(),
                            secret: copy(password),
                        });
                    }
                }
            }
        }
        for (thumbprint, password) in &self.os_keys {
            let offered = offers.iter().find(|o| {
                o.usable()
                    && matches!(&o.candidate.location, Location::OsStore { id, .. } if id.eq_ignore_ascii_case(thumbprint))
            });
            if let Some(o) = offered {
                return Ok(Choice::Offer {
                    id: o.candidate.id.clone(),
                    secret: copy(password),
                });
            }
        }
        for (module, pin) in &self.tokens {
            let offered = offers.iter().find(|o| {
                o.usable()
                    && matches!(&o.candidate.location, Location::Token { module: m, .. } if m == module)
            });
            if let Some(o) = offered {
                return Ok(Choice::Offer {
                    id: o.candidate.id.clone(),
                    secret: copy(pin),
                });
            }
        }
        Err(PromptError::NoMatchingKey)
    }

    fn refused(&self, _ctx: &CallContext, _req: &KeyRequest<'_>, why: &Refusal) -> AfterRefusal {
        match why {
            // Look further: the next round offers this key disabled.
            Refusal::Mismatch(_) => AfterRefusal::AskAgain,
            // A wrong password or PIN in the file will not get better.
            _ => AfterRefusal::GiveUp,
        }
    }
}
