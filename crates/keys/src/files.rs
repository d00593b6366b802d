//! Key files as a [`KeyProvider`]: the PKCS#12 files the person opened before (remembered by
//! path, with their public certificate so they can be shown and filtered before the password
//! is typed; never a password), and files newly picked in a prompt.
//!
//! **Open keys.** Opening a file costs far more than signing with it (the PKCS#12 key
//! derivations, 3DES, and AWS-LC's check of the RSA key and its blinding set-up: about 1.5 ms
//! against 0.3 ms for the signature). A key opened here stays open in this process for
//! [`KEEP_OPEN`] after its last use, so that a portal signing several things in a row does not
//! pay that each time. The password is still asked for and checked every time: the entry holds
//! a salted SHA-256 of the password it was opened with and of the file's bytes, and only the
//! same password for the same unchanged file gets the open key. Anything else opens the file
//! again, so a wrong password is refused by PKCS#12 itself, as before. Nothing is written
//! anywhere; an entry's key is freed (AWS-LC cleanses RSA keys, GOST scalars are zeroized) when
//! it expires, when the file is forgotten, or at exit. The verifier gives nothing that the open
//! key and the file do not: both are in the same memory.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use aws_lc_rs::rand::{SecureRandom, SystemRandom};
use sha2::{Digest, Sha256};
use zeroize::Zeroizing;

use crate::provider::{Candidate, KeyProvider, KnownCertificate, Listing, Location, SecretKind};
use crate::{KeyError, Secret, SigningKey, SoftwareKey, pkcs12};

/// NCALayer's storage name for key files.
pub const STORAGE_PKCS12: &str = "PKCS12";

/// The candidate id prefix of key files.
const PREFIX: &str = "file:";

/// Most remembered files (oldest forgotten first).
pub const MAX_REMEMBERED: usize = 32;

/// How long an opened key stays open after its last use.
pub const KEEP_OPEN: Duration = Duration::from_mins(1);

/// Most keys kept open at once.
const MAX_OPEN: usize = 4;

/// A key kept open: for the file with these bytes, opened with the password whose salted hash
/// is `verifier`.
struct OpenKey {
    path: PathBuf,
    file_digest: [u8; 32],
    salt: [u8; 16],
    verifier: Zeroizing<[u8; 32]>,
    key: Arc<SoftwareKey>,
    last_used: Instant,
}

fn verifier(salt: &[u8; 16], secret: &Secret) -> Zeroizing<[u8; 32]> {
    let mut h = Sha256::new();
    h.update(salt);
    h.update(secret.expose().as_bytes());
    Zeroizing::new(h.finalize().into())
}

/// A key file the person opened before.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RememberedFile {
    /// Where it is.
    pub path: PathBuf,
    /// Its certificate (DER), public; `None` when not known.
    pub certificate: Option<Vec<u8>>,
}

/// Where the list of remembered files is kept between runs (a settings file at the edge).
pub trait FileMemory: Send + Sync {
    /// The remembered files, most recent first.
    fn load(&self) -> Vec<RememberedFile>;
    /// Saves the list (best effort: a list that cannot be saved is only forgotten).
    fn save(&self, files: &[RememberedFile]);
}

/// A [`FileMemory`] that forgets at exit.
#[derive(Debug, Default)]
pub struct NoMemory;

impl FileMemory for NoMemory {
    fn load(&self) -> Vec<RememberedFile> {
        Vec::new()
    }
    fn save(&self, _: &[RememberedFile]) {}
}

/// The key-file provider.
pub struct KeyFiles {
    memory: Arc<dyn FileMemory>,
    files: Mutex<Vec<(PathBuf, Option<Arc<KnownCertificate>>)>>,
    open: Mutex<Vec<OpenKey>>,
}

impl std::fmt::Debug for KeyFiles {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("KeyFiles").finish_non_exhaustive()
    }
}

impl KeyFiles {
    /// A provider over the files `memory` remembers.
    pub fn new(memory: Arc<dyn FileMemory>) -> Self {
        let files = memory
            .load()
            .into_iter()
            .take(MAX_REMEMBERED)
            .map(|f| {
                let cert = f
                    .certificate
                    .and_then(|der| KnownCertificate::from_der(der, Vec::new()))
                    .map(Arc::new);
                (f.path, cert)
            })
            .collect();
        Self {
            memory,
            files: Mutex::new(files),
            open: Mutex::new(Vec::new()),
        }
    }

    /// The remembered paths, most recent first.
    pub fn remembered(&self) -> Vec<PathBuf> {
        self.files
            .lock()
            .map(|f| f.iter().map(|(p, _)| p.clone()).collect())
            .unwrap_or_default()
    }

    /// Opens a file the person picked (new or remembered) and remembers it, most recent first,
    /// with its certificate.
    pub fn open_path(&self, path: &Path, secret: &Secret) -> Result<Box<dyn SigningKey>, KeyError> {
        let bytes = pkcs12::read_file(path)?;
        let file_digest: [u8; 32] = Sha256::digest(&bytes[..]).into();
        if let Some(key) = self.still_open(path, &file_digest, secret) {
            return Ok(Box::new(key));
        }
        let mut contents = pkcs12::open(&bytes, secret)?;
        if contents.keys.is_empty() {
            return Err(KeyError::NoPrivateKey);
        }
        let key = Arc::new(contents.keys.swap_remove(0));
        let cert = KnownCertificate {
            der: key.certificate_der().to_vec(),
            details: key.details().clone(),
            chain: key.chain_der().to_vec(),
        };
        self.remember(path, Some(Arc::new(cert)));
        self.keep_open(path, file_digest, secret, key.clone());
        Ok(Box::new(key))
    }

    /// The key opened earlier from these file bytes with this password, if it is still open.
    fn still_open(
        &self,
        path: &Path,
        file_digest: &[u8; 32],
        secret: &Secret,
    ) -> Option<Arc<SoftwareKey>> {
        let mut open = self.open.lock().ok()?;
        let now = Instant::now();
        open.retain(|k| now.duration_since(k.last_used) < KEEP_OPEN);
        let entry = open.iter_mut().find(|k| {
            k.path == path
                && k.file_digest == *file_digest
                && aws_lc_rs::constant_time::verify_slices_are_equal(
                    &k.verifier[..],
                    &verifier(&k.salt, secret)[..],
                )
                .is_ok()
        })?;
        entry.last_used = now;
        Some(entry.key.clone())
    }

    fn keep_open(
        &self,
        path: &Path,
        file_digest: [u8; 32],
        secret: &Secret,
        key: Arc<SoftwareKey>,
    ) {
        let mut salt = [0u8; 16];
        if SystemRandom::new().fill(&mut salt).is_err() {
            return;
        }
        let Ok(mut open) = self.open.lock() else {
            return;
        };
        open.retain(|k| k.path != path);
        if open.len() >= MAX_OPEN {
            open.sort_by_key(|k| std::cmp::Reverse(k.last_used));
            open.truncate(MAX_OPEN - 1);
        }
        open.push(OpenKey {
            path: path.to_owned(),
            file_digest,
            verifier: verifier(&salt, secret),
            salt,
            key,
            last_used: Instant::now(),
        });
    }

    /// Closes every key kept open (they are freed as soon as no signature uses them).
    pub fn close_all(&self) {
        if let Ok(mut open) = self.open.lock() {
            open.clear();
        }
    }

    /// Forgets a file; true when it was remembered.
    pub fn forget(&self, path: &Path) -> bool {
        if let Ok(mut open) = self.open.lock() {
            open.retain(|k| k.path != path);
        }
        let Ok(mut files) = self.files.lock() else {
            return false;
        };
        let before = files.len();
        files.retain(|(p, _)| p != path);
        let changed = files.len() != before;
        if changed {
            self.memory.save(&snapshot(&files));
        }
        changed
    }

    fn remember(&self, path: &Path, cert: Option<Arc<KnownCertificate>>) {
        let path = std::fs::canonicalize(path).unwrap_or_else(|_| path.to_owned());
        let Ok(mut files) = self.files.lock() else {
            return;
        };
        let unchanged = files.first().is_some_and(|(p, c)| {
            *p == path && c.as_ref().map(|c| &c.der) == cert.as_ref().map(|c| &c.der)
        });
        if unchanged {
            return;
        }
        files.retain(|(p, _)| *p != path);
        files.insert(0, (path, cert));
        files.truncate(MAX_REMEMBERED);
        self.memory.save(&snapshot(&files));
    }
}

fn snapshot(files: &[(PathBuf, Option<Arc<KnownCertificate>>)]) -> Vec<RememberedFile> {
    files
        .iter()
        .map(|(p, c)| RememberedFile {
            path: p.clone(),
            certificate: c.as_ref().map(|c| c.der.clone()),
        })
        .collect()
}

impl KeyProvider for KeyFiles {
    fn name(&self) -> &'static str {
        "key files"
    }

    fn candidates(&self) -> Listing {
        let files = self.files.lock().map(|f| f.clone()).unwrap_or_default();
        Listing {
            candidates: files
                .into_iter()
                // A file deleted or moved since is not offered (it stays remembered: a USB
                // stick may be plugged in again).
                .filter(|(p, _)| p.is_file())
                .map(|(path, certificate)| Candidate {
                    id: format!("{PREFIX}{}", path.display()),
                    storage: STORAGE_PKCS12.to_owned(),
                    location: Location::File(path),
                    certificate,
                    secret: SecretKind::Password,
                    tries: crate::provider::Tries::default(),
                })
                .collect(),
            problems: Vec::new(),
        }
    }

    fn may_offer(&self, storage: &str) -> bool {
        storage == STORAGE_PKCS12
    }

    fn open(
        &self,
        candidate: &Candidate,
        secret: &Secret,
    ) -> Result<Box<dyn SigningKey>, KeyError> {
        let Location::File(path) = &candidate.location else {
            return Err(KeyError::NotFound(candidate.location.describe()));
        };
        if !path.is_file() {
            return Err(KeyError::NotFound(path.display().to_string()));
        }
        self.open_path(path, secret)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Default)]
    struct Mem(Mutex<Vec<RememberedFile>>);
    impl FileMemory for Mem {
        fn load(&self) -> Vec<RememberedFile> {
            self.0.lock().map(|v| v.clone()).unwrap_or_default()
        }
        fn save(&self, files: &[RememberedFile]) {
            if let Ok(mut v) = self.0.lock() {
                *v = files.to_vec();
            }
        }
    }

    #[test]
    fn missing_files_are_not_offered_and_a_wrong_password_is_typed() {
        let dir = std::env::temp_dir().join(format!("qoltanba-files-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap_or_default();
        let present = dir.join("present.p12");
        std::fs::write(&present, b"not a container").unwrap_or_default();
        let mem = Arc::new(Mem::default());
        mem.save(&[
            RememberedFile {
                path: dir.join("gone.p12"),
                certificate: None,
            },
            RememberedFile {
                path: present.clone(),
                certificate: None,
            },
        ]);
        let files = KeyFiles::new(mem);
        let l = files.candidates();
        assert_eq!(l.candidates.len(), 1);
        assert_eq!(l.candidates[0].storage, "PKCS12");
        assert!(l.candidates[0].certificate.is_none());
        let r = files.open(&l.candidates[0], &Secret::new("x".into()));
        assert!(matches!(r, Err(KeyError::NotPkcs12)), "{:?}", r.err());
        assert!(files.forget(&present));
        assert!(files.candidates().candidates.is_empty());
        let _ = std::fs::remove_dir_all(&dir);
    }
}
