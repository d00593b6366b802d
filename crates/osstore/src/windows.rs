//! Windows: the CurrentUser `MY` store.
//!
//! CryptoAPI lists the certificates that carry a private-key link
//! (`CERT_KEY_PROV_INFO_PROP_ID`), read without opening any key (so listing never shows a PIN
//! dialog). A chosen key is opened with `CryptAcquireCertificatePrivateKey` preferring CNG:
//! NCrypt signs (`NCryptSignHash`, PKCS#1 v1.5); a key that only a legacy CSP holds signs
//! through `CryptSignHash` (in the same container reopened under the AES provider when its own
//! provider cannot hash SHA-256). A smart-card provider shows its own PIN dialog: the engine
//! asks for nothing. All FFI is in [`sys`].

mod sys;

use std::sync::Arc;

use qoltanba_keys::{
    KeyError, KnownCertificate, Secret, SecretKind, SignatureAlgorithm, SigningKey,
};

use crate::{Backend, Backing, OsKey, OsStoreError, StoreKey, StoreSigner, known, thumbprint};

const STORE: &str = "Windows MY";

/// Smart-card and token providers by name, and the NCALayer storage of their kind (`None`:
/// hardware of a kind the table does not know). Any other provider is software.
const HARDWARE_PROVIDERS: &[(&str, Option<&str>)] = &[
    ("JaCarta", Some("AKJaCartaStore")),
    ("Aladdin", Some("AKJaCartaStore")),
    ("eToken", Some("AKEToken72KStore")),
    ("SafeNet", Some("AKEToken72KStore")),
    ("Kaztoken", Some("AKKaztokenStore")),
    ("KazToken", Some("AKKaztokenStore")),
    ("Smart Card", None),
    ("SmartCard", None),
    ("Platform Crypto Provider", None), // TPM
];

fn backing(provider: &str) -> Backing {
    HARDWARE_PROVIDERS
        .iter()
        .find(|(name, _)| provider.contains(name))
        .map_or(Backing::Software, |(_, storage)| {
            Backing::Hardware(*storage)
        })
}

fn unavailable(reason: impl std::fmt::Display) -> OsStoreError {
    OsStoreError::Unavailable {
        store: STORE,
        reason: reason.to_string(),
    }
}

/// CurrentUser `MY`.
pub(crate) struct MyStore;

impl Backend for MyStore {
    fn store(&self) -> &'static str {
        STORE
    }

    fn list(&self) -> Result<Vec<OsKey>, OsStoreError> {
        let mut keys = Vec::new();
        for c in sys::certificates().map_err(unavailable)? {
            let Some(provider) = c.provider else { continue };
            let tp = thumbprint(&c.der);
            let Some(certificate) = known(c.der) else {
                continue;
            };
            keys.push(OsKey {
                store: STORE,
                thumbprint: tp,
                certificate,
                secret: SecretKind::None,
                backing: backing(&provider),
                provider: Some(provider),
            });
        }
        Ok(keys)
    }

    fn open(
        &self,
        thumbprint: &str,
        certificate: Arc<KnownCertificate>,
        _secret: &Secret,
    ) -> Result<Box<dyn SigningKey>, KeyError> {
        let handle = sys::open_key(thumbprint).map_err(|e| match e {
            sys::OpenError::NotFound => KeyError::NotFound(format!("{STORE} {thumbprint}")),
            sys::OpenError::NoKey(why) => KeyError::from(OsStoreError::Refused(format!(
                "no usable private key: {why}"
            ))),
        })?;
        Ok(Box::new(StoreKey {
            alias: thumbprint.to_owned(),
            certificate,
            store: "Windows store",
            signer: handle,
        }))
    }
}

/// The provider signs a digest made here (NCrypt and CryptoAPI sign hashes).
impl StoreSigner for sys::KeyHandle {
    fn sign_rsa(&self, alg: SignatureAlgorithm, message: &[u8]) -> Result<Vec<u8>, KeyError> {
        use sha2::Digest as _;
        let (hash, digest) = match alg {
            SignatureAlgorithm::RsaPkcs1Sha256 => {
                (sys::Hash::Sha256, sha2::Sha256::digest(message).to_vec())
            }
            SignatureAlgorithm::RsaPkcs1Sha384 => {
                (sys::Hash::Sha384, sha2::Sha384::digest(message).to_vec())
            }
            SignatureAlgorithm::RsaPkcs1Sha512 => {
                (sys::Hash::Sha512, sha2::Sha512::digest(message).to_vec())
            }
            _ => return Err(KeyError::AlgorithmMismatch("a GOST algorithm")),
        };
        self.sign(hash, &digest)
            .map_err(|e| KeyError::from(OsStoreError::Refused(e)))
    }
}
