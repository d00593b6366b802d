//! Keys in the operating system's certificate store, behind the same [`KeyProvider`] trait as
//! key files and tokens.
//!
//! | platform | store | how |
//! |---|---|---|
//! | Linux | the user's NSS database (`sql:$HOME/.pki/nssdb`, Chromium's; any other NSS database, a Firefox profile's included, by configuration) | NSS's own PKCS#11 module `libsoftokn3` through `cryptoki`, initialised read-only with its configuration string; signing inside NSS |
//! | Windows | CurrentUser `MY` | CryptoAPI lists the certificates with a private key; NCrypt signs (the legacy CSP where that is all a key has); a hardware key's provider shows its own PIN dialog |
//! | macOS | the login Keychain's identities | Security.framework (`security-framework`): `SecIdentity`, `SecKeyCreateSignature` |
//!
//! Only the store's public side is read to list the keys (no password is asked, nothing is
//! unlocked); a key is opened only when the person chose it, and the private key never leaves
//! the store. Each candidate is named by its certificate's SHA-1 thumbprint in hex, as Windows
//! shows it.
//!
//! **Storage name.** A software key in an OS store is the same kind of key as a key file, so it
//! is offered as [`STORAGE_PKCS12`] (where a page allows `PKCS12`, and wherever a page allows
//! every storage); a hardware-backed key (a smart-card provider on Windows) under the storage of
//! its token kind when the provider is known, else as [`STORAGE_OS`], which only a page that
//! allows every storage sees.
//!
//! FFI is the reason this crate exists apart from the others: `unsafe` is allowed only in its
//! `sys` modules (NSS's initialisation arguments, the Windows APIs, none for macOS, where
//! `security-framework` wraps it).

mod error;
#[cfg(target_os = "macos")]
mod keychain;
#[cfg(target_os = "linux")]
mod nss;
#[cfg(windows)]
mod windows;

use std::path::PathBuf;
use std::sync::Arc;

pub use error::OsStoreError;
use qoltanba_keys::{
    Candidate, KeyError, KeyProvider, KnownCertificate, Listing, Location, STORAGE_PKCS12, Secret,
    SecretKind, SigningKey, Tries,
};

/// The storage shown for OS-store keys in listings (`qoltanba keys list`), and the storage a
/// hardware-backed OS-store key of an unknown kind is offered under.
pub const STORAGE_OS: &str = "OS";

/// The candidate id prefix of OS-store keys.
const PREFIX: &str = "os:";

/// Which stores to read.
#[derive(Debug, Clone)]
pub struct OsStoreConfig {
    /// Read the OS store at all (admins may turn it off).
    pub enabled: bool,
    /// Linux: the NSS database directory (default `$HOME/.pki/nssdb`).
    pub nss_db: Option<PathBuf>,
}

impl Default for OsStoreConfig {
    fn default() -> Self {
        Self {
            enabled: true,
            nss_db: None,
        }
    }
}

/// A key in an OS store, as its backend lists it.
#[derive(Debug, Clone)]
pub struct OsKey {
    /// The store (`NSS`, `Windows MY`, `Keychain`).
    pub store: &'static str,
    /// SHA-1 of the certificate, upper-case hex.
    pub thumbprint: String,
    /// The certificate.
    pub certificate: Arc<KnownCertificate>,
    /// What opens it (`Password`: an NSS database with a password).
    pub secret: SecretKind,
    /// Where the private key lives.
    pub backing: Backing,
    /// The provider that holds the key (Windows CSP/KSP name), for people.
    pub provider: Option<String>,
}

impl OsKey {
    /// The NCALayer storage it is offered under (see the crate docs).
    pub fn storage(&self) -> &'static str {
        match self.backing {
            Backing::Software => STORAGE_PKCS12,
            Backing::Hardware(Some(token)) => token,
            Backing::Hardware(None) => STORAGE_OS,
        }
    }
}

/// Where an OS-store key's private key lives.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backing {
    /// In software (the store's own key files).
    Software,
    /// On a smart card or token: the NCALayer storage of its kind, when the provider is known.
    Hardware(Option<&'static str>),
}

/// The SHA-1 thumbprint of a certificate, upper-case hex (as Windows shows it).
pub fn thumbprint(der: &[u8]) -> String {
    use sha1::Digest as _;
    hex::encode_upper(sha1::Sha1::digest(der))
}

/// Normalises a thumbprint typed by a person: hex in any case, spaces and colons allowed.
pub fn parse_thumbprint(text: &str) -> Result<String, OsStoreError> {
    let clean: String = text
        .chars()
        .filter(|c| !matches!(c, ' ' | ':' | '\u{200e}'))
        .collect::<String>()
        .to_ascii_uppercase();
    if clean.len() == 40 && clean.bytes().all(|b| b.is_ascii_hexdigit()) {
        Ok(clean)
    } else {
        Err(OsStoreError::BadThumbprint(text.chars().take(64).collect()))
    }
}

/// One platform store.
trait Backend: Send + Sync {
    /// The store's name (`OsKey::store`).
    fn store(&self) -> &'static str;
    /// The keys with a certificate and a private key, read without unlocking anything.
    fn list(&self) -> Result<Vec<OsKey>, OsStoreError>;
    /// Opens the key of the certificate with this thumbprint (found again: it may have gone
    /// since it was listed) with `secret` (ignored when it needs none).
    fn open(
        &self,
        thumbprint: &str,
        certificate: Arc<KnownCertificate>,
        secret: &Secret,
    ) -> Result<Box<dyn SigningKey>, KeyError>;
}

/// The OS certificate stores of this platform, as a key provider.
pub struct OsStore {
    backends: Vec<Box<dyn Backend>>,
}

impl std::fmt::Debug for OsStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OsStore")
            .field("backends", &self.backends.len())
            .finish()
    }
}

impl OsStore {
    /// The stores of this platform (none when `config.enabled` is false).
    pub fn new(config: &OsStoreConfig) -> Self {
        let mut backends: Vec<Box<dyn Backend>> = Vec::new();
        if config.enabled {
            #[cfg(target_os = "linux")]
            if let Some(dir) = config.nss_db.clone().or_else(nss::default_db) {
                backends.push(Box::new(nss::NssStore::new(dir)));
            }
            #[cfg(windows)]
            backends.push(Box::new(windows::MyStore));
            #[cfg(target_os = "macos")]
            backends.push(Box::new(keychain::Keychain));
        }
        Self { backends }
    }

    /// Every key of every store, and the problems of the stores that could not be read.
    pub fn keys(&self) -> (Vec<OsKey>, Vec<OsStoreError>) {
        let (mut keys, mut problems) = (Vec::new(), Vec::new());
        for b in &self.backends {
            match b.list() {
                Ok(k) => keys.extend(k),
                Err(e) => problems.push(e),
            }
        }
        (keys, problems)
    }

    /// The candidate of the key with this thumbprint (hex, any case).
    pub fn find(&self, thumbprint: &str) -> Result<Candidate, OsStoreError> {
        let wanted = parse_thumbprint(thumbprint)?;
        let (keys, problems) = self.keys();
        keys.into_iter()
            .find(|k| k.thumbprint == wanted)
            .map(|k| candidate(&k))
            .ok_or_else(|| match problems.into_iter().next() {
                Some(p) => p,
                None => OsStoreError::UnknownThumbprint(wanted),
            })
    }
}

fn candidate(k: &OsKey) -> Candidate {
    Candidate {
        id: format!("{PREFIX}{}:{}", k.store, k.thumbprint),
        storage: k.storage().to_owned(),
        location: Location::OsStore {
            store: k.store.to_owned(),
            id: k.thumbprint.clone(),
        },
        certificate: Some(k.certificate.clone()),
        secret: k.secret,
        tries: Tries::default(),
    }
}

impl KeyProvider for OsStore {
    fn name(&self) -> &'static str {
        "OS store"
    }

    fn candidates(&self) -> Listing {
        let (keys, problems) = self.keys();
        Listing {
            candidates: keys.iter().map(candidate).collect(),
            problems: problems.iter().map(ToString::to_string).collect(),
        }
    }

    fn open(
        &self,
        candidate: &Candidate,
        secret: &Secret,
    ) -> Result<Box<dyn SigningKey>, KeyError> {
        let Location::OsStore { store, id } = &candidate.location else {
            return Err(KeyError::NotFound(candidate.location.describe()));
        };
        let (Some(b), Some(certificate)) = (
            self.backends.iter().find(|b| b.store() == store.as_str()),
            candidate.certificate.clone(),
        ) else {
            return Err(KeyError::NotFound(candidate.location.describe()));
        };
        b.open(id, certificate, secret)
    }
}

/// What signs for an opened Windows or Keychain key: the store's own handle, given the message
/// and an RSA algorithm (the stores hold no Kazakh GOST keys).
#[cfg(any(windows, target_os = "macos"))]
trait StoreSigner: Send + Sync {
    fn sign_rsa(
        &self,
        alg: qoltanba_keys::SignatureAlgorithm,
        message: &[u8],
    ) -> Result<Vec<u8>, KeyError>;
}

/// An opened key of the Windows store or the Keychain: its certificate, and the store's
/// handle, which signs (the private key stays in the store).
#[cfg(any(windows, target_os = "macos"))]
struct StoreKey<S> {
    alias: String,
    certificate: Arc<KnownCertificate>,
    /// The store's name, for errors.
    store: &'static str,
    signer: S,
}

#[cfg(any(windows, target_os = "macos"))]
impl<S: StoreSigner> SigningKey for StoreKey<S> {
    fn alias(&self) -> &str {
        &self.alias
    }
    fn certificate_der(&self) -> &[u8] {
        &self.certificate.der
    }
    fn chain_der(&self) -> &[Vec<u8>] {
        &[]
    }
    fn details(&self) -> &qoltanba_pki::CertificateDetails {
        &self.certificate.details
    }

    fn sign(
        &self,
        alg: qoltanba_keys::SignatureAlgorithm,
        message: &[u8],
    ) -> Result<Vec<u8>, KeyError> {
        let key = &self.certificate.details.key_algorithm;
        if !matches!(key, qoltanba_pki::KeyAlgorithm::Rsa { .. }) {
            return Err(KeyError::UnsupportedKeyAlgorithm(format!(
                "{} in the {}",
                key.label(),
                self.store
            )));
        }
        self.signer.sign_rsa(alg, message)
    }
}

/// A certificate read from a store, when its details can be read (others are skipped: a
/// store holds many certificates that are no concern of a Kazakh signer).
#[cfg_attr(
    not(any(target_os = "linux", windows, target_os = "macos")),
    allow(dead_code)
)]
fn known(der: Vec<u8>) -> Option<Arc<KnownCertificate>> {
    KnownCertificate::from_der(der, Vec::new()).map(Arc::new)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn thumbprints_are_read_in_any_case_with_separators() {
        let t = "a9 4a 8f e5 cc b1 9b a6 1c 4c 08 73 d3 91 e9 87 98 2f bb d3";
        assert_eq!(
            parse_thumbprint(t).ok().as_deref(),
            Some("A94A8FE5CCB19BA61C4C0873D391E987982FBBD3")
        );
        assert!(matches!(
            parse_thumbprint("a94a8fe5"),
            Err(OsStoreError::BadThumbprint(_))
        ));
        assert!(matches!(
            parse_thumbprint("zz4a8fe5ccb19ba61c4c0873d391e987982fbbd3"),
            Err(OsStoreError::BadThumbprint(_))
        ));
    }

    #[test]
    fn thumbprint_is_sha1_of_the_der() {
        // SHA-1("abc"), FIPS 180 test vector.
        assert_eq!(
            thumbprint(b"abc"),
            "A9993E364706816ABA3E25717850C26C9CD0D89D"
        );
    }

    #[test]
    fn storage_follows_the_kind_of_key() {
        use qoltanba_testkit::pki::{LeafSpec, TestPki, Usage};
        let der = TestPki::new()
            .issue(&LeafSpec::individual(Usage::Sign))
            .cert_der;
        let mut k = OsKey {
            store: "test",
            thumbprint: thumbprint(&der),
            certificate: known(der).expect("cert"),
            secret: SecretKind::None,
            backing: Backing::Software,
            provider: None,
        };
        assert_eq!(k.storage(), STORAGE_PKCS12);
        k.backing = Backing::Hardware(Some("AKKaztokenStore"));
        assert_eq!(k.storage(), "AKKaztokenStore");
        k.backing = Backing::Hardware(None);
        assert_eq!(k.storage(), STORAGE_OS);
    }
}
