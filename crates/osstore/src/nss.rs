//! Linux: the user's NSS database, through NSS's own PKCS#11 module (`libsoftokn3`).
//!
//! softokn is opened on one database with its configuration string (`configdir='sql:DIR'
//! … flags=readOnly`), which PKCS#11 can carry only in `C_Initialize`'s reserved pointer: the
//! one piece of `unsafe` ([`sys`]). Everything else is the `qoltanba-pkcs11` session code that
//! tokens use. The database's slot is "NSS Certificate DB" (or its FIPS twin); a certificate
//! is offered when the database holds its key pair (NSS keeps the public half visible even
//! when the private keys are behind the database password). A database with a password asks
//! for it as the key's password; NSS itself checks it and signs.
//!
//! softokn is process-global: one process opens one NSS database (a second directory in the
//! same process is refused with a clear error, never mixed up).

mod sys;

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, PoisonError};

use cryptoki::context::Pkcs11;
use cryptoki::session::Session;
use cryptoki::slot::Slot;
use qoltanba_keys::{KeyError, KnownCertificate, Secret, SecretKind, SigningKey};
use qoltanba_pkcs11::{TokenError, TokenKey};

use crate::{Backend, Backing, OsKey, OsStoreError, known, thumbprint};

const STORE: &str = "NSS";

/// Where softokn may be (Debian/Ubuntu multiarch, Fedora/RHEL, older layouts), then the
/// loader's own search.
const SOFTOKN: &[&str] = &[
    "/usr/lib/x86_64-linux-gnu/libsoftokn3.so",
    "/usr/lib/aarch64-linux-gnu/libsoftokn3.so",
    "/usr/lib64/libsoftokn3.so",
    "/usr/lib/libsoftokn3.so",
    "/usr/lib/x86_64-linux-gnu/nss/libsoftokn3.so",
    "/usr/lib64/nss/libsoftokn3.so",
    "libsoftokn3.so",
];

/// Chromium's database: `$HOME/.pki/nssdb`, when it exists.
pub(crate) fn default_db() -> Option<PathBuf> {
    let home = std::env::var_os("HOME").filter(|h| !h.is_empty())?;
    Some(Path::new(&home).join(".pki/nssdb"))
}

/// The one open softokn of this process: the database it was opened on and its context.
static OPEN: Mutex<Option<(PathBuf, Pkcs11)>> = Mutex::new(None);

fn unavailable(reason: impl std::fmt::Display) -> OsStoreError {
    OsStoreError::Unavailable {
        store: STORE,
        reason: reason.to_string(),
    }
}

/// An NSS database directory (`cert9.db`, `key4.db`).
pub(crate) struct NssStore {
    dir: PathBuf,
}

impl NssStore {
    pub(crate) fn new(dir: PathBuf) -> Self {
        Self { dir }
    }

    /// softokn opened on this database; `None` when there is no database (nothing to list).
    fn context(&self) -> Result<Option<Pkcs11>, OsStoreError> {
        if !self.dir.join("cert9.db").is_file() {
            return Ok(None);
        }
        let mut open = OPEN.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some((dir, p)) = open.as_ref() {
            if dir == &self.dir {
                return Ok(Some(p.clone()));
            }
            return Err(unavailable(format!(
                "NSS is already open on {} in this process",
                dir.display()
            )));
        }
        let config = sys::config_string(&self.dir).map_err(unavailable)?;
        let library = SOFTOKN
            .iter()
            .find(|p| !p.starts_with('/') || Path::new(p).is_file())
            .copied()
            .unwrap_or("libsoftokn3.so");
        let p = Pkcs11::new(library).map_err(|e| unavailable(format!("{library}: {e}")))?;
        sys::initialize(&p, config)
            .map_err(|e| unavailable(format!("{}: {e}", self.dir.display())))?;
        *open = Some((self.dir.clone(), p.clone()));
        Ok(Some(p))
    }
}

/// The database's slot ("NSS Certificate DB", or "NSS FIPS 140-2 Certificate DB").
fn db_slot(p: &Pkcs11) -> Result<Slot, OsStoreError> {
    p.get_slots_with_token()
        .map_err(unavailable)?
        .into_iter()
        .find(|s| {
            p.get_token_info(*s)
                .is_ok_and(|t| t.label().contains("Certificate DB"))
        })
        .ok_or_else(|| unavailable("no certificate database slot"))
}

/// Whether the database has a password (then its private keys are behind a login).
fn needs_password(p: &Pkcs11, slot: Slot) -> Result<bool, OsStoreError> {
    let t = p.get_token_info(slot).map_err(unavailable)?;
    Ok(t.login_required() && t.user_pin_initialized())
}

fn list(p: &Pkcs11, slot: Slot, session: &Session) -> Result<Vec<OsKey>, OsStoreError> {
    let secret = if needs_password(p, slot)? {
        SecretKind::Password
    } else {
        SecretKind::None
    };
    let mut keys = Vec::new();
    for c in qoltanba_pkcs11::certificates(session).map_err(unavailable)? {
        let id = hex::decode(&c.id).unwrap_or_default();
        if id.is_empty() || !qoltanba_pkcs11::has_key_pair(session, &id).map_err(unavailable)? {
            continue;
        }
        let tp = thumbprint(&c.der);
        let Some(certificate) = known(c.der) else {
            continue;
        };
        keys.push(OsKey {
            store: STORE,
            thumbprint: tp,
            certificate,
            secret,
            backing: Backing::Software,
            provider: None,
        });
    }
    Ok(keys)
}

impl Backend for NssStore {
    fn store(&self) -> &'static str {
        STORE
    }

    fn list(&self) -> Result<Vec<OsKey>, OsStoreError> {
        let Some(p) = self.context()? else {
            return Ok(Vec::new());
        };
        let slot = db_slot(&p)?;
        let session = p.open_ro_session(slot).map_err(unavailable)?;
        list(&p, slot, &session)
    }

    fn open(
        &self,
        thumbprint: &str,
        _certificate: Arc<KnownCertificate>,
        secret: &Secret,
    ) -> Result<Box<dyn SigningKey>, KeyError> {
        let p = self
            .context()?
            .ok_or_else(|| KeyError::NotFound(format!("NSS database {}", self.dir.display())))?;
        let slot = db_slot(&p)?;
        let session = p
            .open_ro_session(slot)
            .map_err(|e| KeyError::from(unavailable(e)))?;
        if needs_password(&p, slot)? {
            qoltanba_pkcs11::login(&p, slot, &session, secret).map_err(|e| match e {
                TokenError::Key(KeyError::WrongPin { .. }) => KeyError::WrongPassword,
                other => KeyError::from(other),
            })?;
        }
        let cert = qoltanba_pkcs11::certificates(&session)
            .map_err(KeyError::from)?
            .into_iter()
            .find(|c| crate::thumbprint(&c.der) == thumbprint)
            .ok_or_else(|| KeyError::NotFound(format!("NSS key {thumbprint}")))?;
        let key = TokenKey::new(session, cert, "NSS/").map_err(|e| match e {
            TokenError::NoKey => KeyError::NoPrivateKey,
            other => KeyError::from(other),
        })?;
        Ok(Box::new(key))
    }
}
