//! Signature formats on top of the [`SigningKey`](qoltanba_keys::SigningKey) trait: CMS /
//! CAdES-BES (attached, detached, hash-only), enveloped XMLDSig, and verification of both made
//! by anyone.
//!
//! Formats never know where a key lives: a file key and a token key go through the same code.
//! No I/O beyond the `Read`/`Write` the caller hands in; no sockets, no UI.
#![forbid(unsafe_code)]

pub mod cms;
mod digest_alg;
pub mod input;
pub mod xml;

pub use digest_alg::DigestAlgorithm;

/// The running hasher behind [`DigestAlgorithm::hasher`].
pub mod digest_hasher {
    pub use crate::digest_alg::Hasher;
}

/// Why a signature could not be made or read. Carries no secrets.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SignError {
    /// The key failed (wrong algorithm, token error…).
    #[error(transparent)]
    Key(#[from] qoltanba_keys::KeyError),
    /// The signature would take more work than a verification may (too many signers…).
    #[error("refused: the signature has {0}")]
    TooMuchWork(String),
    /// The input is not a CMS / PKCS#7 structure.
    #[error("not a CMS signature: {0}")]
    NotCms(String),
    /// The input is not valid base64 / PEM.
    #[error("invalid base64 or PEM input")]
    BadEncoding,
    /// A detached signature was given without its content, or content of the wrong size.
    #[error("{0}")]
    Content(String),
    /// A hash of the wrong length for the algorithm.
    #[error("the hash must be {expected} bytes, got {got}")]
    HashLength {
        /// Bytes the digest algorithm produces.
        expected: usize,
        /// Bytes given.
        got: usize,
    },
    /// Something this program does not implement.
    #[error("unsupported: {0}")]
    Unsupported(String),
    /// Encoding failed (an internal limit such as the 256 MiB DER length of `der`).
    #[error("encoding failed: {0}")]
    Encoding(String),
    /// Reading or writing the content failed.
    #[error("I/O error: {0}")]
    Io(#[from] std::io::Error),
}

impl From<der::Error> for SignError {
    fn from(e: der::Error) -> Self {
        Self::Encoding(e.to_string())
    }
}
