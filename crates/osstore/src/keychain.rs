//! macOS: the identities (certificate + private key) of the user's keychains, through
//! `security-framework` (safe wrappers over Security.framework: no `unsafe` here).
//!
//! Listing reads the identities' certificates only; a key is used when the person chose it,
//! and Security.framework itself asks for the keychain password (or Touch ID, or a smart
//! card's PIN through CryptoTokenKit) when its access control wants one.

use qoltanba_keys::{KeyError, Secret, SecretKind, SignatureAlgorithm, SigningKey};
use qoltanba_pki::{CertificateDetails, KeyAlgorithm};
use security_framework::identity::SecIdentity;
use security_framework::item::{ItemClass, ItemSearchOptions, Limit, Reference, SearchResult};
use security_framework::key::Algorithm;

use crate::{Backend, Backing, OsKey, OsStoreError, known, thumbprint};

const STORE: &str = "Keychain";

fn unavailable(reason: impl std::fmt::Display) -> OsStoreError {
    OsStoreError::Unavailable {
        store: STORE,
        reason: reason.to_string(),
    }
}

/// Every identity of the keychain search list, with its certificate's DER.
fn identities() -> Result<Vec<(SecIdentity, Vec<u8>)>, OsStoreError> {
    let found = match ItemSearchOptions::new()
        .class(ItemClass::identity())
        .load_refs(true)
        .limit(Limit::All)
        .search()
    {
        Ok(r) => r,
        // errSecItemNotFound: no identity at all.
        Err(e) if e.code() == -25300 => return Ok(Vec::new()),
        Err(e) => return Err(unavailable(e)),
    };
    let mut out = Vec::new();
    for r in found {
        if let SearchResult::Ref(Reference::Identity(id)) = r
            && let Ok(cert) = id.certificate()
        {
            out.push((id, cert.to_der()));
        }
    }
    Ok(out)
}

/// The user's keychains.
pub(crate) struct Keychain;

impl Backend for Keychain {
    fn store(&self) -> &'static str {
        STORE
    }

    fn list(&self) -> Result<Vec<OsKey>, OsStoreError> {
        let mut keys = Vec::new();
        for (_, der) in identities()? {
            let tp = thumbprint(&der);
            let Some(certificate) = known(der) else {
                continue;
            };
            keys.push(OsKey {
                store: STORE,
                thumbprint: tp,
                certificate,
                secret: SecretKind::None,
                backing: Backing::Software,
                provider: None,
            });
        }
        Ok(keys)
    }

    fn open(&self, key: &OsKey, _secret: &Secret) -> Result<Box<dyn SigningKey>, KeyError> {
        let (identity, _) = identities()?
            .into_iter()
            .find(|(_, der)| thumbprint(der) == key.thumbprint)
            .ok_or_else(|| KeyError::NotFound(format!("{STORE} {}", key.thumbprint)))?;
        Ok(Box::new(KeychainKey {
            alias: key.thumbprint.clone(),
            certificate: key.certificate.der.clone(),
            details: key.certificate.details.clone(),
            identity,
        }))
    }
}

/// A keychain identity chosen for signing; Security.framework signs.
struct KeychainKey {
    alias: String,
    certificate: Vec<u8>,
    details: CertificateDetails,
    identity: SecIdentity,
}

impl SigningKey for KeychainKey {
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
        if !matches!(self.details.key_algorithm, KeyAlgorithm::Rsa { .. }) {
            return Err(KeyError::UnsupportedKeyAlgorithm(format!(
                "{} in the Keychain",
                self.details.key_algorithm.label()
            )));
        }
        let algorithm = match alg {
            SignatureAlgorithm::RsaPkcs1Sha256 => Algorithm::RSASignatureMessagePKCS1v15SHA256,
            SignatureAlgorithm::RsaPkcs1Sha384 => Algorithm::RSASignatureMessagePKCS1v15SHA384,
            SignatureAlgorithm::RsaPkcs1Sha512 => Algorithm::RSASignatureMessagePKCS1v15SHA512,
            _ => return Err(KeyError::AlgorithmMismatch("a GOST algorithm")),
        };
        let key = self
            .identity
            .private_key()
            .map_err(|e| KeyError::from(OsStoreError::Refused(e.to_string())))?;
        key.create_signature(algorithm, message)
            .map_err(|e| KeyError::from(OsStoreError::Refused(e.to_string())))
    }
}
