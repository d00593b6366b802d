//! Integration tests of the key sources: the real NCA key files, generated containers in the
//! NCA layout and OpenSSL's layouts, and bad input.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::cast_possible_truncation
)]

mod generated;
mod hostile;
mod kept_open;
mod nca_files;
