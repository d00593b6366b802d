//! The person's remembered site decisions, in `<data_dir>/origins.json` (revocable with
//! `qoltanba origins revoke` and the desktop app's Sites).

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use qoltanba_protocol::OriginStore;

/// The person's decisions kept in a JSON file: `{"allowed": [...], "refused": [...]}` (an older
/// file holding a plain array lists allowed origins).
#[derive(Debug)]
pub struct FileOriginStore {
    path: PathBuf,
    sets: Mutex<Decisions>,
}

#[derive(Debug, Default, serde::Serialize, serde::Deserialize)]
struct Decisions {
    #[serde(default)]
    allowed: BTreeSet<String>,
    #[serde(default)]
    refused: BTreeSet<String>,
}

impl FileOriginStore {
    /// Loads `<data_dir>/origins.json` (missing or unreadable: empty).
    pub fn open(data_dir: &Path) -> Self {
        let path = data_dir.join("origins.json");
        let bytes = std::fs::read(&path).unwrap_or_default();
        let sets = serde_json::from_slice::<Decisions>(&bytes)
            .or_else(|_| {
                serde_json::from_slice::<BTreeSet<String>>(&bytes).map(|allowed| Decisions {
                    allowed,
                    refused: BTreeSet::new(),
                })
            })
            .unwrap_or_default();
        Self {
            path,
            sets: Mutex::new(sets),
        }
    }

    /// The origins the person allowed always.
    pub fn list(&self) -> Vec<String> {
        self.sets
            .lock()
            .map(|s| s.allowed.iter().cloned().collect())
            .unwrap_or_default()
    }

    /// The origins the person refused always.
    pub fn list_refused(&self) -> Vec<String> {
        self.sets
            .lock()
            .map(|s| s.refused.iter().cloned().collect())
            .unwrap_or_default()
    }

    /// Forgets the person's decision on an origin (allowed or refused); true if there was one.
    pub fn revoke(&self, origin: &str) -> std::io::Result<bool> {
        let removed = self.sets.lock().is_ok_and(|mut s| {
            let a = s.allowed.remove(origin);
            let r = s.refused.remove(origin);
            a || r
        });
        self.save()?;
        Ok(removed)
    }

    fn save(&self) -> std::io::Result<()> {
        let bytes = self
            .sets
            .lock()
            .map(|s| serde_json::to_vec_pretty(&*s).unwrap_or_default())
            .unwrap_or_default();
        crate::files::write_atomically(&self.path, &bytes)
    }

    fn change(&self, f: impl FnOnce(&mut Decisions)) {
        if let Ok(mut s) = self.sets.lock() {
            f(&mut s);
        }
        // Best effort: a decision that cannot be saved is asked again next time.
        let _ = self.save();
    }
}

impl OriginStore for FileOriginStore {
    fn is_remembered(&self, origin: &str) -> bool {
        self.sets.lock().is_ok_and(|s| s.allowed.contains(origin))
    }

    fn remember(&self, origin: &str) {
        self.change(|s| {
            s.refused.remove(origin);
            s.allowed.insert(origin.to_owned());
        });
    }

    fn is_refused(&self, origin: &str) -> bool {
        self.sets.lock().is_ok_and(|s| s.refused.contains(origin))
    }

    fn remember_refusal(&self, origin: &str) {
        self.change(|s| {
            s.allowed.remove(origin);
            s.refused.insert(origin.to_owned());
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decisions_persist_and_an_old_plain_list_reads_as_allowed() {
        let dir = tempfile::tempdir().expect("tempdir");
        std::fs::write(dir.path().join("origins.json"), r#"["https://egov.kz"]"#).expect("write");
        let s = FileOriginStore::open(dir.path());
        assert!(s.is_remembered("https://egov.kz"));
        s.remember_refusal("https://evil.example");
        s.remember_refusal("https://egov.kz");
        let again = FileOriginStore::open(dir.path());
        assert!(again.list().is_empty());
        assert_eq!(
            again.list_refused(),
            ["https://egov.kz", "https://evil.example"]
        );
        assert!(again.revoke("https://evil.example").expect("revoke"));
        assert!(!FileOriginStore::open(dir.path()).is_refused("https://evil.example"));
    }
}
