//! `settings.toml`: what the person chose, as one typed struct ([`Settings`]). Keys this
//! version does not know are kept as they were. A file that does not parse is never
//! overwritten: it reads as the defaults (and [`SettingsFile::read`] says why, with the line),
//! and every change is refused until the file is fixed or moved aside. Never a password.

use std::path::{Path, PathBuf};
use std::sync::Mutex;

use qoltanba_keys::{FileMemory, RememberedFile};
pub use qoltanba_pkcs11::ModuleConfig;
use serde::{Deserialize, Serialize};

use crate::files::write_atomically;

/// The person's settings.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Settings {
    /// Key files the person opened, offered again in the next prompt.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub key_files: Vec<PathBuf>,
    /// The interface language (`kk`, `ru`, `en`); a page's own locale still wins for its window.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub language: Option<String>,
    /// The default certificate (a candidate id), chosen first next time.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub default_key: Option<String>,
    /// The default certificate as its card showed it (holder and ИИН), for the Settings view.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub default_key_label: Option<String>,
    /// The folder the file chooser opened a key file from last.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_folder: Option<PathBuf>,
    /// PKCS#11 libraries the person added (`[[tokens]] storage = "…" module = "…"`), used
    /// besides the admin's and the ones found in known places.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tokens: Vec<ModuleConfig>,
    /// Keys this version does not know, written back as they were.
    #[serde(flatten)]
    pub other: toml::Table,
}

/// Why the settings could not be read or changed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SettingsError {
    /// The file exists but could not be read.
    #[error("{}: {source}", path.display())]
    Read {
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// The file is not valid TOML or has a value of the wrong type (the message names the
    /// line). Nothing is written to it until it is fixed or moved aside.
    #[error("{}: {source}", path.display())]
    Invalid {
        /// The file.
        path: PathBuf,
        /// Why, with the line and column.
        source: Box<toml::de::Error>,
    },
    /// The new settings could not be written.
    #[error("{}: {source}", path.display())]
    Write {
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
}

/// One change at a time within the process (the engine remembers key files while the
/// window's Settings change the language).
static CHANGES: Mutex<()> = Mutex::new(());

/// `<config_dir>/settings.toml`.
#[derive(Debug, Clone)]
pub struct SettingsFile {
    path: PathBuf,
}

impl SettingsFile {
    /// `<config_dir>/settings.toml`.
    pub fn new(config_dir: &Path) -> Self {
        Self {
            path: config_dir.join("settings.toml"),
        }
    }

    /// Where it is.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The settings; a missing file is the defaults.
    pub fn read(&self) -> Result<Settings, SettingsError> {
        let text = match std::fs::read_to_string(&self.path) {
            Ok(t) => t,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Settings::default()),
            Err(source) => {
                return Err(SettingsError::Read {
                    path: self.path.clone(),
                    source,
                });
            }
        };
        toml::from_str(&text).map_err(|e| SettingsError::Invalid {
            path: self.path.clone(),
            source: Box::new(e),
        })
    }

    /// The settings, or the defaults when the file cannot be read ([`Self::read`] says why).
    pub fn load(&self) -> Settings {
        self.read().unwrap_or_default()
    }

    /// Changes the settings: reads them, lets `change` edit them, writes them back (through a
    /// temporary file), keeping what this version does not know. A file that cannot be read
    /// or does not parse is left as it is and the change is refused.
    pub fn update(&self, change: impl FnOnce(&mut Settings)) -> Result<(), SettingsError> {
        let _one = CHANGES
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let mut settings = self.read()?;
        change(&mut settings);
        let text = toml::to_string(&settings).map_err(|e| SettingsError::Write {
            path: self.path.clone(),
            source: std::io::Error::other(e),
        })?;
        write_atomically(&self.path, text.as_bytes()).map_err(|source| SettingsError::Write {
            path: self.path.clone(),
            source,
        })
    }
}

/// Remembered key files: their paths in `settings.toml` (`key_files`, the list a person can
/// read and edit), their public certificates in `<data_dir>/key-files.json` (a cache, so that
/// names can be shown before a password is typed). Never a password.
#[derive(Debug)]
pub struct SettingsFileMemory {
    settings: SettingsFile,
    cache: PathBuf,
}

impl SettingsFileMemory {
    /// Over `<config_dir>/settings.toml` and `<data_dir>/key-files.json`.
    pub fn new(config_dir: &Path, data_dir: &Path) -> Self {
        Self {
            settings: SettingsFile::new(config_dir),
            cache: data_dir.join("key-files.json"),
        }
    }
}

#[derive(Serialize, Deserialize)]
struct CachedCert {
    path: PathBuf,
    /// DER, hex.
    certificate: String,
}

impl FileMemory for SettingsFileMemory {
    fn load(&self) -> Vec<RememberedFile> {
        let cache: Vec<CachedCert> = std::fs::read(&self.cache)
            .ok()
            .and_then(|b| serde_json::from_slice(&b).ok())
            .unwrap_or_default();
        self.settings
            .load()
            .key_files
            .into_iter()
            .map(|path| {
                let certificate = cache
                    .iter()
                    .find(|c| c.path == path)
                    .and_then(|c| hex::decode(&c.certificate).ok());
                RememberedFile { path, certificate }
            })
            .collect()
    }

    fn save(&self, files: &[RememberedFile]) {
        let cache: Vec<CachedCert> = files
            .iter()
            .filter_map(|f| {
                f.certificate.as_ref().map(|c| CachedCert {
                    path: f.path.clone(),
                    certificate: hex::encode(c),
                })
            })
            .collect();
        // Best effort: a list that cannot be saved (a broken settings file is never
        // overwritten) is only forgotten at exit.
        let _ = self
            .settings
            .update(|s| s.key_files = files.iter().map(|f| f.path.clone()).collect());
        let _ = write_atomically(
            &self.cache,
            &serde_json::to_vec_pretty(&cache).unwrap_or_default(),
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unknown_keys_and_tables_are_kept_across_a_change() {
        let dir = tempfile::tempdir().unwrap();
        let file = SettingsFile::new(dir.path());
        std::fs::write(
            file.path(),
            "language = \"ru\"\nfuture_option = 3\n\n[future_table]\nx = \"y\"\n\n\
             [[tokens]]\nstorage = \"AKKaztokenStore\"\nmodule = \"/usr/lib/libkz.so\"\n",
        )
        .unwrap();
        file.update(|s| s.last_folder = Some(PathBuf::from("/home/a/keys")))
            .unwrap();
        let s = file.read().unwrap();
        assert_eq!(s.language.as_deref(), Some("ru"));
        assert_eq!(s.last_folder, Some(PathBuf::from("/home/a/keys")));
        assert_eq!(s.tokens.len(), 1);
        assert_eq!(s.tokens[0].storage, "AKKaztokenStore");
        assert_eq!(s.other.get("future_option"), Some(&toml::Value::Integer(3)));
        assert_eq!(
            s.other
                .get("future_table")
                .and_then(|t| t.get("x"))
                .and_then(toml::Value::as_str),
            Some("y")
        );
    }

    #[test]
    fn a_broken_file_reads_as_defaults_names_its_line_and_is_never_overwritten() {
        let dir = tempfile::tempdir().unwrap();
        let file = SettingsFile::new(dir.path());
        let broken = "language = \"kk\"\nkey_files = [\"/a.p12\"\nlast_folder = 1\n";
        std::fs::write(file.path(), broken).unwrap();
        let err = file.read().unwrap_err();
        assert!(matches!(err, SettingsError::Invalid { .. }), "{err}");
        assert!(err.to_string().contains("line"), "{err}");
        assert_eq!(file.load(), Settings::default());
        assert!(file.update(|s| s.language = Some("en".into())).is_err());
        // The key-file memory's save goes through the same refusal.
        let memory = SettingsFileMemory::new(dir.path(), dir.path());
        memory.save(&[RememberedFile {
            path: PathBuf::from("/b.p12"),
            certificate: None,
        }]);
        assert_eq!(std::fs::read_to_string(file.path()).unwrap(), broken);
        // A value of the wrong type is refused the same way.
        std::fs::write(file.path(), "language = 7\n").unwrap();
        assert!(file.update(|s| s.default_key = None).is_err());
        assert_eq!(
            std::fs::read_to_string(file.path()).unwrap(),
            "language = 7\n"
        );
    }

    #[test]
    fn a_missing_file_is_the_defaults_and_is_made_by_the_first_change() {
        let dir = tempfile::tempdir().unwrap();
        let file = SettingsFile::new(&dir.path().join("conf"));
        assert_eq!(file.read().unwrap(), Settings::default());
        let memory = SettingsFileMemory::new(&dir.path().join("conf"), dir.path());
        memory.save(&[RememberedFile {
            path: PathBuf::from("/k/RSA256_x.p12"),
            certificate: Some(vec![0x30, 0x00]),
        }]);
        let back = memory.load();
        assert_eq!(back.len(), 1);
        assert_eq!(back[0].path, PathBuf::from("/k/RSA256_x.p12"));
        assert_eq!(back[0].certificate.as_deref(), Some(&[0x30, 0x00][..]));
        assert_eq!(
            file.read().unwrap().key_files,
            [PathBuf::from("/k/RSA256_x.p12")]
        );
    }
}
