//! Sources of keys behind one trait: a provider lists [`Candidate`]s (a certificate, where the
//! key lives, what secret opens it and how many tries are left) without asking anyone anything,
//! and opens one candidate with a [`Secret`] into a [`SigningKey`]. Key files, PKCS#11 tokens
//! and the OS stores implement it; the protocol's engine gathers, filters and offers the
//! candidates, and the prompter only asks the person which one and for its secret.

use std::path::PathBuf;
use std::sync::Arc;

use qoltanba_pki::CertificateDetails;

use crate::{KeyError, Secret, SigningKey};

/// What opens a candidate.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SecretKind {
    /// A key file's password.
    Password,
    /// A token's (or a protected OS store's) PIN.
    Pin,
    /// Nothing (an OS store that asks by itself, or a key already open).
    None,
}

/// What a token says about its PIN before it is tried (PKCS#11 `CKF_USER_PIN_*`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Tries {
    /// A wrong PIN was entered since the last good one.
    pub few: bool,
    /// The next wrong PIN locks the token.
    pub final_try: bool,
    /// Locked: never tried.
    pub locked: bool,
}

/// Where a candidate's key lives.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Location {
    /// A PKCS#12 file.
    File(PathBuf),
    /// A certificate on a PKCS#11 token.
    Token {
        /// The PKCS#11 library.
        module: PathBuf,
        /// The token's label.
        label: String,
        /// The token's serial number.
        serial: String,
        /// `CKA_ID` of the certificate and its key, hex.
        cert_id: String,
    },
    /// A key in the operating system's certificate store.
    OsStore {
        /// Which store (`NSS`, `Windows MY`, `Keychain`).
        store: String,
        /// The store's own id of the key (a thumbprint).
        id: String,
    },
}

impl Location {
    /// A short text for people and logs (a path, `token "label"`, a store name).
    pub fn describe(&self) -> String {
        match self {
            Self::File(p) => p.display().to_string(),
            Self::Token { label, .. } => format!("token \"{label}\""),
            Self::OsStore { store, id } => format!("{store} {id}"),
        }
    }
}

/// A certificate as known before its key is opened.
#[derive(Debug, Clone)]
pub struct KnownCertificate {
    /// DER.
    pub der: Vec<u8>,
    /// Its details.
    pub details: CertificateDetails,
    /// Other certificates that came with it (DER).
    pub chain: Vec<Vec<u8>>,
}

impl KnownCertificate {
    /// Parses a certificate; `None` when it cannot be read.
    pub fn from_der(der: Vec<u8>, chain: Vec<Vec<u8>>) -> Option<Self> {
        let details = CertificateDetails::from_der(&der).ok()?;
        Some(Self {
            der,
            details,
            chain,
        })
    }
}

/// A key a provider can open.
#[derive(Debug, Clone)]
pub struct Candidate {
    /// Unique among the candidates of all providers in one listing (the provider's prefix and
    /// its own id), stable across listings while the key stays where it is.
    pub id: String,
    /// The NCALayer storage name (`PKCS12`, `AKKaztokenStore`…).
    pub storage: String,
    /// Where the key lives.
    pub location: Location,
    /// The certificate, when it can be read without the secret (tokens, OS stores, key files
    /// opened before). `None` for a key file whose certificate is not known yet.
    pub certificate: Option<Arc<KnownCertificate>>,
    /// What opens it.
    pub secret: SecretKind,
    /// PIN state (tokens).
    pub tries: Tries,
}

/// What a provider found: candidates, and the problems of the parts that failed (a token
/// library that does not load), which are reported and never fatal.
#[derive(Debug, Default)]
pub struct Listing {
    /// The keys found.
    pub candidates: Vec<Candidate>,
    /// Human-readable problems (no secrets).
    pub problems: Vec<String>,
}

/// A source of keys.
pub trait KeyProvider: Send + Sync {
    /// A short name for logs (`key files`, `tokens`).
    fn name(&self) -> &'static str;

    /// The keys this provider can offer now. Never asks anyone anything; cheap enough to call
    /// at every request (tokens plugged in or pulled out are seen).
    fn candidates(&self) -> Listing;

    /// Whether this provider can ever offer a key under `storage`. A provider that cannot is
    /// not listed for a request that allows only such storages (listing tokens takes a round
    /// trip to every PKCS#11 module).
    fn may_offer(&self, storage: &str) -> bool {
        let _ = storage;
        true
    }

    /// Opens one of this provider's candidates with its secret (ignored when it needs none).
    fn open(&self, candidate: &Candidate, secret: &Secret)
    -> Result<Box<dyn SigningKey>, KeyError>;
}
