use qoltanba_pki::ber::BerError;

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
    /// A token failed while signing (removed, locked…).
    #[error("{0}")]
    Token(String),
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
