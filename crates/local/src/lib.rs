//! What Qoltanba keeps on this computer, and what its admin sets there. Synchronous, with no
//! async runtime and no sockets: the server, the desktop app and the command line all read and
//! write these the same way.
//!
//! - [`paths`]: the data and settings directories, the admin policy's place;
//! - [`settings`]: `settings.toml`, typed, with unknown keys kept, and the remembered key files;
//! - [`policy`]: the admin policy file (sites, tokens, TSA, revocation, OS store);
//! - [`history`] and [`origins`]: what was signed, and the person's site decisions;
//! - [`trust`]: the local CA in the user's and the system's trust stores;
//! - [`browser_policy`]: the browsers' managed policy that lets portals reach the signer.
#![forbid(unsafe_code)]

pub mod browser_policy;
pub mod files;
pub mod history;
pub mod origins;
pub mod paths;
pub mod policy;
pub mod settings;
pub mod trust;
