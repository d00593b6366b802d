//! Integration tests of the signature formats. Every signature made here is checked by
//! `openssl cms -verify` against the generated test CA; our verifier is checked on signatures
//! made by OpenSSL and by Kalkan (the shared NCA sample).
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::cast_possible_truncation
)]

mod common;
mod cosign;
mod gost;
mod make_cms;
mod timestamp;
mod verify_cms;
mod xml;
