//! macOS: the identities (certificate + private key) of the user's keychains, through
//! `security-framework` (safe wrappers over Security.framework: no `unsafe` here).
//!
//! Listing reads the identities' certificates only; a key is used when the person chose it,
//! and Security.framework itself asks for the keychain password (or Touch ID, or a smart
//! card's PIN through CryptoTokenKit) when its access control wants one.

use std::sync::Arc;

use qoltanba_keys::{
    KeyError, KnownCertificate, Secret, SecretKind, SignatureAlgorithm, SigningKey,
};
use security_framework::identity::SecIdentity;
use security_framework::item::{ItemClass, ItemSearchOptions, Limit, Reference, SearchResult};
use security_framework::key::Algorithm;

use crate::{Backend, Backing, OsKey, OsStoreError, StoreKey, StoreSigner, known, thumbprint};

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

    fn open(
        &self,
        thumbprint: &str,
        certificate: Arc<KnownCertificate>,
        _secret: &Secret,
    ) -> Result<Box<dyn SigningKey>, KeyError> {
        let (identity, _) = identities()?
            .into_iter()
            .find(|(_, der)| crate::thumbprint(der) == thumbprint)
            .ok_or_else(|| KeyError::NotFound(format!("{STORE} {thumbprint}")))?;
        Ok(Box::new(StoreKey {
            alias: thumbprint.to_owned(),
            certificate,
            store: STORE,
            signer: identity,
        }))
    }
}

/// Security.framework hashes and signs with the identity's key.
impl StoreSigner for SecIdentity {
    fn sign_rsa(&self, alg: SignatureAlgorithm, message: &[u8]) -> Result<Vec<u8>, KeyError> {
        let algorithm = match alg {
            SignatureAlgorithm::RsaPkcs1Sha256 => Algorithm::RSASignatureMessagePKCS1v15SHA256,
            SignatureAlgorithm::RsaPkcs1Sha384 => Algorithm::RSASignatureMessagePKCS1v15SHA384,
            SignatureAlgorithm::RsaPkcs1Sha512 => Algorithm::RSASignatureMessagePKCS1v15SHA512,
            _ => return Err(KeyError::AlgorithmMismatch("a GOST algorithm")),
        };
        let refused =
            |e: &dyn std::fmt::Display| KeyError::from(OsStoreError::Refused(e.to_string()));
        let key = self.private_key().map_err(|e| refused(&e))?;
        key.create_signature(algorithm, message)
            .map_err(|e| refused(&e))
    }
}
