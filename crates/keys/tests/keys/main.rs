//! Integration tests of the key sources: the real NCA key files, generated containers in the
//! NCA layout and OpenSSL's layouts, and bad input.

mod nca_files;
mod generated;
