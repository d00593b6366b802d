use qoltanba_pki::ber::BerError;

/// What a token says about the PIN tries left, for people (one wording for every error type).
pub fn tries_text(tries_left: Option<u32>, few: bool) -> String {
    match (tries_left, few) {
        (Some(1), _) => "one try left: the next wrong PIN locks the token".to_owned(),
        (Some(n), _) => format!("{n} tries left"),
        (None, true) => "few tries left".to_owned(),
        (None, false) => "the token does not say how many tries are left".to_owned(),
    }
}

/// Why a key could not be opened or used. Carries no secret material.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum KeyError {
    /// The password does not open the container (its MAC does not match).
    #[error("wrong password")]
    WrongPassword,
    /// The file is empty.
    #[error("the file is empty")]
    Empty,
    /// A PEM text file was given where a binary key container was expected.
    #[error("this is a PEM text file, not a binary PKCS#12 key container (.p12)")]
    Pem,
    /// A certificate was given where a key container was expected.
    #[error("this is a certificate, not a key container: it holds no private key")]
    CertificateNotContainer,
    /// The bytes are not a PKCS#12 container.
    #[error("not a PKCS#12 key container")]
    NotPkcs12,
    /// The container is damaged or truncated.
    #[error("the key container is damaged: {0}")]
    Corrupt(String),
    /// The container uses something this program does not implement.
    #[error("unsupported in the key container: {0}")]
    Unsupported(String),
    /// The container holds no private key.
    #[error("the key container holds no private key")]
    NoPrivateKey,
    /// A private key without its certificate.
    #[error("the key container holds a private key without its certificate")]
    NoCertificate,
    /// The key's algorithm cannot sign here (yet).
    #[error("signing with {0} keys is not supported")]
    UnsupportedKeyAlgorithm(String),
    /// A signature algorithm that does not fit the key.
    #[error("the key cannot sign with {0}")]
    AlgorithmMismatch(&'static str),
    /// The key was rejected by the crypto library (damaged key material).
    #[error("the private key is invalid")]
    InvalidKey,
    /// The private-key operation failed.
    #[error("the signing operation failed")]
    SigningFailed,
    /// A wrong PIN, with what the token says about the tries left (`Some(1)`: the next wrong
    /// PIN locks it; `few`: the token says a wrong PIN was entered before).
    #[error("wrong PIN ({})", tries_text(*.tries_left, *.few))]
    WrongPin {
        /// Tries left, when the token says.
        tries_left: Option<u32>,
        /// The token's "count low" flag.
        few: bool,
    },
    /// The token's PIN is locked; it is never tried.
    #[error("the token's PIN is locked; unlock it with the vendor's tool")]
    PinLocked,
    /// The token was pulled out (before or during the operation).
    #[error("the token was removed")]
    TokenRemoved,
    /// The key's store (token library, OS store) failed otherwise: its own error.
    #[error(transparent)]
    Token(Box<dyn std::error::Error + Send + Sync + 'static>),
    /// The chosen key is no longer where it was (a remembered file deleted, a token gone).
    #[error("the key is no longer available: {0}")]
    NotFound(String),
    /// The container could not be read from disk.
    #[error("cannot read the key file: {0}")]
    Io(#[from] std::io::Error),
}

impl From<BerError> for KeyError {
    fn from(e: BerError) -> Self {
        Self::Corrupt(e.to_string())
    }
}

impl From<der::Error> for KeyError {
    fn from(e: der::Error) -> Self {
        Self::Corrupt(e.to_string())
    }
}
