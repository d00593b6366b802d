//! Keys on PKCS#11 tokens behind the [`SigningKey`] trait: module discovery, token listing,
//! PIN login with the token's PIN flags, and signing on the token (the private key never leaves
//! it). All FFI stays inside `cryptoki`; this crate has no `unsafe`.
//!
//! A `cryptoki::session::Session` is `Send` but not `Sync`, so each token key keeps its session
//! behind a mutex: one operation at a time per session.
#![forbid(unsafe_code)]

mod modules;
mod token;

pub use modules::{
    KNOWN_MODULES, KnownModule, ModuleConfig, P11KIT_REGISTRY, discover, p11kit_modules,
};
pub use token::{
    CertOnToken, PinState, TokenDirectory, TokenError, TokenInfo, TokenKey, certificates,
    has_key_pair, login, map_err,
};

/// Re-exported so callers name the trait they get.
pub use qoltanba_keys::SigningKey;
