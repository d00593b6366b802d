//! Certificates in the Kazakh NCA profile: [`CertificateDetails`] (full name, ИИН, БИН, roles,
//! AUTH/SIGN), role OIDs with names in kk/ru/en, structural name comparison, and a BER→DER
//! normaliser for the BER that NCA tools write.
//!
//! No I/O, no sockets, no UI.
#![forbid(unsafe_code)]

pub mod anchors;
pub mod ber;
pub mod chain;
mod details;
pub mod name;
pub mod oid;
pub mod revocation;
mod role;
pub mod verify;

pub use details::{CertError, CertificateDetails, KeyAlgorithm, KeyKind, ValidityStatus};
pub use role::{Lang, Role};
