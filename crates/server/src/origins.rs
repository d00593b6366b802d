//! The person's remembered origin approvals, in `<data_dir>/origins.json` (revocable with
//! `qoltanba origins revoke`), and the admin policy file.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use qoltanba_protocol::{OriginPolicy, OriginStore};

/// Approvals kept in a JSON file (a sorted array of origins).
#[derive(Debug)]
pub struct FileOriginStore {
    path: PathBuf,
    set: Mutex<BTreeSet<String>>,
}

impl FileOriginStore {
    /// Loads `<data_dir>/origins.json` (missing or unreadable: empty).
    pub fn open(data_dir: &Path) -> Self {
        let path = data_dir.join("origins.json");
        let set = std::fs::read(&path)
            .ok()
            .and_then(|b| serde_json::from_slice::<BTreeSet<String>>(&b).ok())
            .unwrap_or_default();
        Self {
            path,
            set: Mutex::new(set),
        }
    }

    /// The remembered origins.
    pub fn list(&self) -> Vec<String> {
        self.set
            .lock()
            .map(|s| s.iter().cloned().collect())
            .unwrap_or_default()
    }

    /// Forgets an origin; true if it was remembered.
    pub fn revoke(&self, origin: &str) -> std::io::Result<bool> {
        let removed = self.set.lock().is_ok_and(|mut s| s.remove(origin));
        self.save()?;
        Ok(removed)
    }

    fn save(&self) -> std::io::Result<()> {
        crate::engine::write_atomically(
            &self.path,
            &serde_json::to_vec_pretty(&self.list()).unwrap_or_default(),
        )
    }
}

impl OriginStore for FileOriginStore {
    fn is_remembered(&self, origin: &str) -> bool {
        self.set.lock().is_ok_and(|s| s.contains(origin))
    }

    fn remember(&self, origin: &str) {
        if let Ok(mut s) = self.set.lock() {
            s.insert(origin.to_owned());
        }
        // Best effort: an approval that cannot be saved is asked again next time.
        let _ = self.save();
    }
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
    pub fn load(path: &Path) -> Result<Self, String> {
        let text = std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
        toml::from_str(&text).map_err(|e| format!("{}: {e}", path.display()))
    }

    /// The origin part as the protocol's policy.
    pub fn origin_policy(&self) -> OriginPolicy {
        OriginPolicy {
            allow: self.origins.allow.clone(),
            deny: self.origins.deny.clone(),
        }
    }
}
