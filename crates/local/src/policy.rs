//! The admin policy file (`/etc/qoltanba/policy.toml` on Linux,
//! `C:\ProgramData\Qoltanba\policy.toml` on Windows, with the sites an admin set in the
//! registry added): sites allowed and refused, token libraries, the TSA, revocation and the OS
//! store. Parsed once at start; unknown keys are an error, so a misspelt rule is not ignored.

use std::path::{Path, PathBuf};

use qoltanba_protocol::{OriginPolicy, WhenUnchecked};

use crate::paths::DEFAULT_POLICY;

/// Why the admin policy could not be read.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum PolicyError {
    /// The file could not be read.
    #[error("{}: {source}", path.display())]
    Read {
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// The file is not a valid policy (the message names the line).
    #[error("{}: {source}", path.display())]
    Parse {
        /// The file.
        path: PathBuf,
        /// Why, with the line and column.
        source: toml::de::Error,
    },
    /// `[revocation] when_unchecked` is neither `sign` nor `refuse`.
    #[error("[revocation] when_unchecked = {0:?}: use \"sign\" or \"refuse\"")]
    WhenUnchecked(String),
}

/// Reads the admin policy (`path`, else [`DEFAULT_POLICY`] when present, else none).
pub fn load_policy(path: Option<&Path>) -> Result<PolicyFile, PolicyError> {
    let default = Path::new(DEFAULT_POLICY);
    #[allow(unused_mut)] // mutated on Windows only
    let mut policy = match path {
        Some(p) => PolicyFile::load(p)?,
        None if default.is_file() => PolicyFile::load(default)?,
        None => PolicyFile::default(),
    };
    #[cfg(windows)]
    registry_policy(&mut policy);
    Ok(policy)
}

/// Windows: sites an admin set in the registry (`HKLM\SOFTWARE\Policies\Qoltanba`, values
/// `AllowedOrigins` / `DeniedOrigins`, patterns separated by spaces, commas or semicolons; the
/// MSI's `ALLOWEDSITES` property and Group Policy write them), added to the policy file's.
#[cfg(windows)]
fn registry_policy(policy: &mut PolicyFile) {
    let Ok(key) = windows_registry::LOCAL_MACHINE.open(r"SOFTWARE\Policies\Qoltanba") else {
        return;
    };
    let split = |name: &str| -> Vec<String> {
        key.get_string(name)
            .map(|v| {
                v.split([' ', ',', ';'])
                    .filter(|s| !s.is_empty())
                    .map(str::to_owned)
                    .collect()
            })
            .unwrap_or_default()
    };
    policy.origins.allow.extend(split("AllowedOrigins"));
    policy.origins.deny.extend(split("DeniedOrigins"));
}

/// The admin policy file (`/etc/qoltanba/policy.toml` on Linux):
///
/// ```toml
/// [origins]
/// allow = ["https://*.egov.kz"]
/// deny  = ["http://*"]
/// ```
#[derive(Debug, Default, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PolicyFile {
    /// Origin rules.
    #[serde(default)]
    pub origins: OriginRules,
    /// PKCS#11 modules and the NCALayer storage each serves:
    /// `[[tokens]] storage = "AKKaztokenStore"  module = "/usr/lib/…so"`.
    #[serde(default)]
    pub tokens: Vec<qoltanba_pkcs11::ModuleConfig>,
    /// The timestamp authority (`[tsa] url = "http://…"  rsa_policy = "…"  gost_policy = "…"
    /// timeout_secs = 15`); absent: NCA's production TSA.
    #[serde(default)]
    pub tsa: Option<TsaConfig>,
    /// Revocation before signing (`[revocation] enabled = true  ocsp_url = "…"
    /// when_unchecked = "sign" | "refuse"  timeout_secs = 10`).
    #[serde(default)]
    pub revocation: Option<RevocationConfig>,
    /// The OS certificate store (`[os_store] enabled = true  nss_db = "/home/…/.pki/nssdb"`);
    /// absent: read, from the platform's default place.
    #[serde(default)]
    pub os_store: Option<OsStorePolicy>,
}

/// `[os_store]`.
#[derive(Debug, Clone, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OsStorePolicy {
    /// Offer keys from the OS store at all.
    #[serde(default = "yes")]
    pub enabled: bool,
    /// Linux: the NSS database to read instead of `$HOME/.pki/nssdb` (for example a Firefox
    /// profile's directory); `~/` is the user's home.
    #[serde(default)]
    pub nss_db: Option<PathBuf>,
}

const fn yes() -> bool {
    true
}

/// `[origins]`.
#[derive(Debug, Default, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OriginRules {
    /// Allowed without asking.
    #[serde(default)]
    pub allow: Vec<String>,
    /// Refused without asking.
    #[serde(default)]
    pub deny: Vec<String>,
}

impl PolicyFile {
    /// Reads a policy file.
    pub fn load(path: &Path) -> Result<Self, PolicyError> {
        let text = std::fs::read_to_string(path).map_err(|source| PolicyError::Read {
            path: path.to_owned(),
            source,
        })?;
        toml::from_str(&text).map_err(|source| PolicyError::Parse {
            path: path.to_owned(),
            source,
        })
    }

    /// The origin part as the protocol's policy.
    pub fn origin_policy(&self) -> OriginPolicy {
        OriginPolicy {
            allow: self.origins.allow.clone(),
            deny: self.origins.deny.clone(),
        }
    }
}

/// NCA's production TSA (KZ-PKI.md §6.1).
pub const NCA_TSA: &str = "http://tsp.pki.gov.kz:80/";
/// The policy NCA's production TSA stamps with — RSA signatures (KZ-PKI.md §6.1) and GOST ones
/// (the production GOST-2004 CAdES-T sample, §8.3).
pub const NCA_POLICY: &str = "1.2.398.3.3.2.6.2";

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

/// `[revocation]` in the policy file.
#[derive(Debug, Clone, PartialEq, Eq, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RevocationConfig {
    /// Check before signing (default true).
    #[serde(default = "yes")]
    pub enabled: bool,
    /// Ask this OCSP responder instead of the one the certificate names.
    #[serde(default)]
    pub ocsp_url: Option<String>,
    /// `sign` (default) or `refuse` when nothing could be asked or read.
    #[serde(default = "sign")]
    pub when_unchecked: String,
    /// Seconds per fetch.
    #[serde(default = "ten")]
    pub timeout_secs: u64,
}

fn sign() -> String {
    "sign".to_owned()
}
const fn ten() -> u64 {
    10
}

impl Default for RevocationConfig {
    fn default() -> Self {
        Self {
            enabled: true,
            ocsp_url: None,
            when_unchecked: sign(),
            timeout_secs: ten(),
        }
    }
}

impl RevocationConfig {
    /// The policy for certificates that could not be checked.
    pub fn when_unchecked(&self) -> Result<WhenUnchecked, PolicyError> {
        match self.when_unchecked.as_str() {
            "sign" => Ok(WhenUnchecked::Sign),
            "refuse" => Ok(WhenUnchecked::Refuse),
            other => Err(PolicyError::WhenUnchecked(other.to_owned())),
        }
    }
}
