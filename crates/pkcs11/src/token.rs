//! Tokens: listing, login, signing.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use cryptoki::context::{CInitializeArgs, CInitializeFlags, Pkcs11};
use cryptoki::error::{Error as CkError, RvError};
use cryptoki::mechanism::Mechanism;
use cryptoki::object::{Attribute, AttributeType, ObjectClass, ObjectHandle};
use cryptoki::session::{Session, UserType};
use cryptoki::slot::Slot;
use qoltanba_keys::{
    Candidate, KeyError, KeyProvider, KnownCertificate, Listing, Location, Secret, SecretKind,
    SignatureAlgorithm, SigningKey, Tries,
};
use qoltanba_pki::{CertificateDetails, KeyAlgorithm};

use crate::modules::ModuleConfig;

/// Token failures, for people. No PIN ever appears in them. A wrong or locked PIN and a token
/// pulled out are the [`KeyError`]s every key source reports (`Key`), not words of their own.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum TokenError {
    /// The module could not be loaded or initialised.
    #[error("cannot load the token library {0}: {1}")]
    Module(PathBuf, #[source] CkError),
    /// No token with that label is present.
    #[error("the token {0:?} is not connected")]
    NotPresent(String),
    /// A wrong PIN (with the tries left), a locked PIN, or the token removed during the
    /// operation: [`KeyError::WrongPin`], [`KeyError::PinLocked`], [`KeyError::TokenRemoved`].
    #[error(transparent)]
    Key(KeyError),
    /// No key for the certificate.
    #[error("the token holds no private key for this certificate")]
    NoKey,
    /// Another PKCS#11 failure.
    #[error("token error: {0}")]
    Cryptoki(#[source] CkError),
    /// The token's answer makes no sense here (an unreadable certificate, a poisoned lock).
    #[error("token error: {0}")]
    Other(&'static str),
}

/// A cryptoki failure as a token failure.
pub fn map_err(e: CkError) -> TokenError {
    match e {
        CkError::Pkcs11(RvError::PinIncorrect, _) => TokenError::Key(KeyError::WrongPin {
            tries_left: None,
            few: false,
        }),
        CkError::Pkcs11(RvError::PinLocked, _) => TokenError::Key(KeyError::PinLocked),
        CkError::Pkcs11(
            RvError::DeviceRemoved
            | RvError::TokenNotPresent
            | RvError::SessionHandleInvalid
            | RvError::SessionClosed
            | RvError::DeviceError,
            _,
        ) => TokenError::Key(KeyError::TokenRemoved),
        other => TokenError::Cryptoki(other),
    }
}

/// PIN state flags read before asking (PKCS#11 `CKF_USER_PIN_*`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub struct PinState {
    /// A wrong PIN was entered since the last good one.
    pub count_low: bool,
    /// The next wrong PIN locks the token.
    pub final_try: bool,
    /// The PIN is locked.
    pub locked: bool,
}

/// A certificate on a token.
#[derive(Debug, Clone, serde::Serialize)]
pub struct CertOnToken {
    /// `CKA_ID`, hex.
    pub id: String,
    /// `CKA_LABEL`.
    pub label: String,
    /// DER.
    #[serde(skip)]
    pub der: Vec<u8>,
    /// Details.
    pub details: Option<CertificateDetails>,
}

/// One token as listed.
#[derive(Debug, Clone, serde::Serialize)]
pub struct TokenInfo {
    /// NCALayer storage name of its module.
    pub storage: String,
    /// Module path.
    pub module: PathBuf,
    /// Slot id.
    pub slot: u64,
    /// Token label.
    pub label: String,
    /// Token serial.
    pub serial: String,
    /// Manufacturer.
    pub manufacturer: String,
    /// Model.
    pub model: String,
    /// PIN flags.
    pub pin: PinState,
    /// Certificates readable without login.
    pub certificates: Vec<CertOnToken>,
}

/// Loaded modules, initialised once each (a module is process-global state).
#[derive(Default)]
pub struct TokenDirectory {
    modules: Vec<ModuleConfig>,
    loaded: Mutex<HashMap<PathBuf, Pkcs11>>,
}

impl std::fmt::Debug for TokenDirectory {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TokenDirectory")
            .field("modules", &self.modules)
            .finish_non_exhaustive()
    }
}

fn pin_state(p: &Pkcs11, slot: Slot) -> Result<PinState, TokenError> {
    let t = p.get_token_info(slot).map_err(map_err)?;
    Ok(PinState {
        count_low: t.user_pin_count_low(),
        final_try: t.user_pin_final_try(),
        locked: t.user_pin_locked(),
    })
}

/// The certificates `session` can see (all of them, when logged in).
pub fn certificates(session: &Session) -> Result<Vec<CertOnToken>, TokenError> {
    let handles = session
        .find_objects(&[Attribute::Class(ObjectClass::CERTIFICATE)])
        .map_err(map_err)?;
    let mut out = Vec::new();
    for h in handles {
        let attrs = session
            .get_attributes(
                h,
                &[
                    AttributeType::Value,
                    AttributeType::Id,
                    AttributeType::Label,
                ],
            )
            .map_err(map_err)?;
        let (mut der, mut id, mut label) = (Vec::new(), Vec::new(), String::new());
        for a in attrs {
            match a {
                Attribute::Value(v) => der = v,
                Attribute::Id(v) => id = v,
                Attribute::Label(v) => label = String::from_utf8_lossy(&v).into_owned(),
                _ => {}
            }
        }
        let details = CertificateDetails::from_der(&der).ok();
        out.push(CertOnToken {
            id: hex::encode(&id),
            label,
            der,
            details,
        });
    }
    Ok(out)
}

impl TokenDirectory {
    /// A directory over these modules (see [`crate::discover`]).
    pub fn new(modules: Vec<ModuleConfig>) -> Self {
        Self {
            modules,
            loaded: Mutex::default(),
        }
    }

    /// The configured modules.
    pub fn modules(&self) -> &[ModuleConfig] {
        &self.modules
    }

    fn module(&self, path: &Path) -> Result<Pkcs11, TokenError> {
        let mut loaded = self
            .loaded
            .lock()
            .map_err(|_| TokenError::Other("the token directory's lock is poisoned"))?;
        if let Some(p) = loaded.get(path) {
            return Ok(p.clone());
        }
        let p = Pkcs11::new(path).map_err(|e| TokenError::Module(path.to_owned(), e))?;
        p.initialize(CInitializeArgs::new(CInitializeFlags::OS_LOCKING_OK))
            .map_err(|e| TokenError::Module(path.to_owned(), e))?;
        loaded.insert(path.to_owned(), p.clone());
        Ok(p)
    }

    /// Every token present now, with its certificates; modules that fail are returned as
    /// errors beside the tokens of the others (never fatal).
    pub fn list(&self) -> (Vec<TokenInfo>, Vec<TokenError>) {
        let (mut tokens, mut errors) = (Vec::new(), Vec::new());
        for m in &self.modules {
            match self.list_module(m) {
                Ok(t) => tokens.extend(t),
                Err(e) => errors.push(e),
            }
        }
        (tokens, errors)
    }

    fn list_module(&self, m: &ModuleConfig) -> Result<Vec<TokenInfo>, TokenError> {
        let p = self.module(&m.module)?;
        let mut out = Vec::new();
        for slot in p.get_slots_with_initialized_token().map_err(map_err)? {
            let t = p.get_token_info(slot).map_err(map_err)?;
            let certs = p
                .open_ro_session(slot)
                .map_err(map_err)
                .and_then(|s| certificates(&s))?;
            out.push(TokenInfo {
                storage: m.storage.clone(),
                module: m.module.clone(),
                slot: slot.id(),
                label: t.label().trim().to_owned(),
                serial: t.serial_number().trim().to_owned(),
                manufacturer: t.manufacturer_id().trim().to_owned(),
                model: t.model().trim().to_owned(),
                pin: pin_state(&p, slot)?,
                certificates: certs,
            });
        }
        Ok(out)
    }

    /// Storage names that have a token present (commonUtils `getActiveTokens`).
    pub fn active_storages(&self) -> Vec<String> {
        let mut s: Vec<String> = self.list().0.into_iter().map(|t| t.storage).collect();
        s.sort();
        s.dedup();
        s
    }

    /// Logs in to the token `label` of `module` with `pin` and returns the key for the
    /// certificate `cert_id` (hex `CKA_ID`; `None`: the first certificate with a key). The PIN
    /// flags are read first: a locked token is never tried.
    pub fn open_key(
        &self,
        module: &Path,
        label: &str,
        cert_id: Option<&str>,
        pin: &Secret,
    ) -> Result<TokenKey, TokenError> {
        let p = self.module(module)?;
        let slot = p
            .get_slots_with_initialized_token()
            .map_err(map_err)?
            .into_iter()
            .find(|s| {
                p.get_token_info(*s)
                    .is_ok_and(|t| t.label().trim() == label)
            })
            .ok_or_else(|| TokenError::NotPresent(label.to_owned()))?;
        let session = p.open_ro_session(slot).map_err(map_err)?;
        login(&p, slot, &session, pin)?;
        let cert = certificates(&session)?
            .into_iter()
            .find(|c| cert_id.is_none_or(|id| c.id.eq_ignore_ascii_case(id)))
            .ok_or(TokenError::NoKey)?;
        TokenKey::new(session, cert, &format!("{label}/"))
    }
}

/// Logs `session` in as the user with `pin`, after reading the PIN flags (a locked token is
/// never tried); a wrong PIN comes back with what the token then says about the tries left. A
/// login left over from an earlier use (PKCS#11 login is per application) is ended first, so
/// the PIN given here is always the one checked.
pub fn login(p: &Pkcs11, slot: Slot, session: &Session, pin: &Secret) -> Result<(), TokenError> {
    let before = pin_state(p, slot)?;
    if before.locked {
        return Err(TokenError::Key(KeyError::PinLocked));
    }
    let secret = cryptoki::types::AuthPin::from(pin.expose().to_owned());
    let mut result = session.login(UserType::User, Some(&secret));
    if matches!(
        result,
        Err(CkError::Pkcs11(RvError::UserAlreadyLoggedIn, _))
    ) {
        session.logout().map_err(map_err)?;
        result = session.login(UserType::User, Some(&secret));
    }
    match result {
        Ok(()) => Ok(()),
        Err(e) => Err(match map_err(e) {
            TokenError::Key(KeyError::WrongPin { .. }) => {
                let after = pin_state(p, slot).unwrap_or(before);
                TokenError::Key(if after.locked {
                    KeyError::PinLocked
                } else {
                    KeyError::WrongPin {
                        tries_left: after.final_try.then_some(1),
                        few: after.count_low,
                    }
                })
            }
            other => other,
        }),
    }
}

/// Whether the token holds a key pair for the certificate `id` (`CKA_ID`, raw) that can be
/// seen without logging in: the private key itself, or its public half (NSS keeps one beside
/// every private key, which stays hidden until login when the database has a password).
pub fn has_key_pair(session: &Session, id: &[u8]) -> Result<bool, TokenError> {
    for class in [ObjectClass::PRIVATE_KEY, ObjectClass::PUBLIC_KEY] {
        let found = session
            .find_objects(&[Attribute::Class(class), Attribute::Id(id.to_vec())])
            .map_err(map_err)?;
        if !found.is_empty() {
            return Ok(true);
        }
    }
    Ok(false)
}

/// A key on a token, logged in. Signing happens on the token.
pub struct TokenKey {
    alias: String,
    certificate: Vec<u8>,
    details: CertificateDetails,
    session: Arc<Mutex<Session>>,
    key: ObjectHandle,
}

impl std::fmt::Debug for TokenKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TokenKey")
            .field("alias", &self.alias)
            .finish_non_exhaustive()
    }
}

impl TokenKey {
    /// The key of `cert` in a (logged-in) `session`; the alias is `alias_prefix` and the
    /// certificate's id. The session is logged out when the key is dropped.
    pub fn new(
        session: Session,
        cert: CertOnToken,
        alias_prefix: &str,
    ) -> Result<Self, TokenError> {
        let id = hex::decode(&cert.id).unwrap_or_default();
        let key = session
            .find_objects(&[
                Attribute::Class(ObjectClass::PRIVATE_KEY),
                Attribute::Id(id),
            ])
            .map_err(map_err)?
            .into_iter()
            .next()
            .ok_or(TokenError::NoKey)?;
        let details = cert
            .details
            .ok_or_else(|| TokenError::Other("unreadable certificate"))?;
        Ok(Self {
            alias: format!("{alias_prefix}{}", cert.id),
            certificate: cert.der,
            details,
            session: Arc::new(Mutex::new(session)),
            key,
        })
    }
}

impl Drop for TokenKey {
    /// Ends the login: the next use asks for the PIN again (best effort; a pulled-out token has
    /// ended it already).
    fn drop(&mut self) {
        if let Ok(s) = self.session.lock() {
            let _ = s.logout();
        }
    }
}

impl SigningKey for TokenKey {
    fn alias(&self) -> &str {
        &self.alias
    }
    fn certificate_der(&self) -> &[u8] {
        &self.certificate
    }
    fn chain_der(&self) -> &[Vec<u8>] {
        &[]
    }
    fn details(&self) -> &CertificateDetails {
        &self.details
    }

    fn sign(&self, alg: SignatureAlgorithm, message: &[u8]) -> Result<Vec<u8>, KeyError> {
        let mechanism = match (alg, &self.details.key_algorithm) {
            (SignatureAlgorithm::RsaPkcs1Sha256, KeyAlgorithm::Rsa { .. }) => {
                Mechanism::Sha256RsaPkcs
            }
            (SignatureAlgorithm::RsaPkcs1Sha384, KeyAlgorithm::Rsa { .. }) => {
                Mechanism::Sha384RsaPkcs
            }
            (SignatureAlgorithm::RsaPkcs1Sha512, KeyAlgorithm::Rsa { .. }) => {
                Mechanism::Sha512RsaPkcs
            }
            (_, other) => {
                return Err(KeyError::UnsupportedKeyAlgorithm(format!(
                    "{} on a token",
                    other.label()
                )));
            }
        };
        let session = self.session.lock().map_err(|_| KeyError::SigningFailed)?;
        session
            .sign(&mechanism, self.key, message)
            .map_err(|e| KeyError::from(map_err(e)))
    }
}

impl From<TokenError> for KeyError {
    fn from(e: TokenError) -> Self {
        match e {
            TokenError::Key(k) => k,
            TokenError::NotPresent(label) => Self::NotFound(format!("token \"{label}\"")),
            TokenError::NoKey => Self::NoPrivateKey,
            other => Self::Token(Box::new(other)),
        }
    }
}

/// The candidate id prefix of token keys.
const PREFIX: &str = "token:";

impl KeyProvider for TokenDirectory {
    fn name(&self) -> &'static str {
        "tokens"
    }

    /// Tokens are offered under their kinds' storages, never as key files.
    fn may_offer(&self, storage: &str) -> bool {
        storage != qoltanba_keys::STORAGE_PKCS12
    }

    /// Every certificate on every connected token, listed without login.
    fn candidates(&self) -> Listing {
        let (tokens, errors) = self.list();
        let mut candidates = Vec::new();
        for t in tokens {
            for c in t.certificates {
                let Some(details) = c.details else { continue };
                candidates.push(Candidate {
                    id: format!("{PREFIX}{}|{}|{}", t.module.display(), t.label, c.id),
                    storage: t.storage.clone(),
                    location: Location::Token {
                        module: t.module.clone(),
                        label: t.label.clone(),
                        serial: t.serial.clone(),
                        cert_id: c.id,
                    },
                    certificate: Some(Arc::new(KnownCertificate {
                        der: c.der,
                        details,
                        chain: Vec::new(),
                    })),
                    secret: SecretKind::Pin,
                    tries: Tries {
                        few: t.pin.count_low,
                        final_try: t.pin.final_try,
                        locked: t.pin.locked,
                    },
                });
            }
        }
        Listing {
            candidates,
            problems: errors.iter().map(ToString::to_string).collect(),
        }
    }

    fn open(
        &self,
        candidate: &Candidate,
        secret: &Secret,
    ) -> Result<Box<dyn SigningKey>, KeyError> {
        let Location::Token {
            module,
            label,
            cert_id,
            ..
        } = &candidate.location
        else {
            return Err(KeyError::NotFound(candidate.location.describe()));
        };
        Ok(Box::new(self.open_key(
            module,
            label,
            Some(cert_id),
            secret,
        )?))
    }
}
