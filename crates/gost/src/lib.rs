//! Kazakh GOST signatures (KZ-PKI.md §3): GOST 34.310-2004 on the CryptoPro-A curve with the
//! GOST 34.311-95 hash (GOST R 34.11-94, *Test* S-boxes), and GOST R 34.10-2015 512-bit on
//! TC26-512-A with Streebog-512, in NCA's byte layout:
//!
//! | item | layout |
//! |---|---|
//! | signature | `r ‖ s`, each little-endian, 32 or 64 bytes |
//! | public key | `X ‖ Y`, each little-endian, inside an OCTET STRING |
//! | digest → integer `e` | hash bytes read little-endian, `e mod q`, 0 → 1 |
//! | private key (PKCS#8) | 2004: DER INTEGER big-endian; 2015: OCTET STRING little-endian |
//!
//! RFC 4491's Russian layout (`s ‖ r` big-endian) is the byte reversal of this one.
//!
//! The field arithmetic is written for the two primes (`field.rs`: both are `2^n − C`, and both
//! curves have `a = −3`); the few operations mod q use `crypto-bigint`'s Montgomery form. Point
//! arithmetic uses the complete formulas of Renes–Costello–Batina 2016 for `a = −3`
//! (Algorithms 4–6), so no input is an exception. `k·G` with a secret `k` (signing, and `d·G`
//! when a key is opened) reads a fixed-base table of `j·16^i·G`: one mixed addition per signed
//! radix-16 digit, each row read whole through masked selects, so the steps and memory accesses
//! are the same for every scalar. Verification (public inputs only) is variable-time. No I/O.
#![forbid(unsafe_code)]

mod curve;
mod field;

pub use curve::{CurveId, PrivateKey, PublicKey};

use digest::Digest;

/// Why a GOST operation failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum GostError {
    /// A key or signature of the wrong length or out of range.
    #[error("malformed GOST {0}")]
    Malformed(&'static str),
    /// The signature does not verify.
    #[error("the GOST signature does not match")]
    Mismatch,
    /// The random number generator failed.
    #[error("the random number generator failed")]
    Random,
    /// The private key does not match the public key given with it.
    #[error("the GOST private key does not belong to the certificate")]
    KeyMismatch,
}

/// GOST 34.311-95 (= GOST R 34.11-94 with the *Test* parameter set, zero IV).
pub fn hash_34311(message: &[u8]) -> [u8; 32] {
    gost94::Gost94Test::digest(message).into()
}

/// GOST R 34.11-2015 Streebog-512.
pub fn hash_streebog512(message: &[u8]) -> [u8; 64] {
    streebog::Streebog512::digest(message).into()
}

/// GOST R 34.11-2015 Streebog-256.
pub fn hash_streebog256(message: &[u8]) -> [u8; 32] {
    streebog::Streebog256::digest(message).into()
}
