use qoltanba_keys::KeyError;

/// OS-store failures, for people. No password ever appears in them.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum OsStoreError {
    /// A thumbprint that is not 40 hex digits.
    #[error("{0:?} is not a certificate thumbprint (40 hex digits, the certificate's SHA-1)")]
    BadThumbprint(String),
    /// No key in the store has this thumbprint.
    #[error("no key in the OS certificate store has the thumbprint {0}")]
    UnknownThumbprint(String),
    /// The store could not be opened or read.
    #[error("cannot read the OS certificate store ({store}): {reason}")]
    Unavailable {
        /// Which store.
        store: &'static str,
        /// Why.
        reason: String,
    },
    /// The store is locked and the password given does not open it.
    #[error("the {0} password is wrong")]
    WrongPassword(&'static str),
    /// The key exists but refuses to sign.
    #[error("the OS store's key refuses to sign: {0}")]
    Refused(String),
}

impl From<OsStoreError> for KeyError {
    fn from(e: OsStoreError) -> Self {
        match e {
            OsStoreError::WrongPassword(_) => Self::WrongPassword,
            OsStoreError::UnknownThumbprint(t) => Self::NotFound(format!("OS store key {t}")),
            other => Self::Token(Box::new(other)),
        }
    }
}
