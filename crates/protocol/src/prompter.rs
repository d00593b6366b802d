//! The one way the protocol talks to a person: choose a key, unlock it, approve what a site
//! asks. Desktop windows, the terminal and the test-only unattended prompter implement it.
//! Calls block (the server runs them on blocking threads).

use qoltanba_keys::SigningKey;

use crate::filter::KeyFilter;

/// What the key is wanted for, shown to the person.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Purpose {
    /// The site wants to read the certificate (getKeyInfo).
    ReadCertificate,
    /// The site wants signatures.
    Sign {
        /// `cms`, `xml` or `raw`.
        format: &'static str,
        /// One short human summary per document (size, first characters of XML…).
        documents: Vec<String>,
        /// Attached CMS.
        attached: bool,
        /// The data is a precomputed hash.
        hash_only: bool,
        /// A timestamp was asked for but none will be added (no TSA configured yet).
        timestamp_unavailable: bool,
    },
}

/// A request for a key.
#[derive(Debug, Clone)]
pub struct KeyRequest<'a> {
    /// The page's origin (`https://egov.kz`), or `None` when the client sent none.
    pub origin: Option<&'a str>,
    /// The protocol method, for the prompt's title.
    pub method: &'a str,
    /// What it is for.
    pub purpose: Purpose,
    /// Which keys qualify.
    pub filter: &'a KeyFilter,
    /// Storages the site allows (`PKCS12`, `AKKaztokenStore`…); empty = any.
    pub storages: &'a [String],
    /// UI language asked by the site (`kk`, `ru`, `en`).
    pub locale: &'a str,
}

/// Why no key came back.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum PromptError {
    /// The person refused or closed the window.
    #[error("cancelled by the user")]
    Cancelled,
    /// No available key satisfies the filter.
    #[error("no key satisfies the request")]
    NoMatchingKey,
    /// Too many prompts from this origin in a short time.
    #[error("too many requests from this site; try again later")]
    RateLimited,
    /// The site is not allowed (admin policy or the person said no).
    #[error("this site is not allowed to use the signing service")]
    OriginDenied,
    /// Prompting is impossible here (no terminal, no display).
    #[error("cannot ask the user: {0}")]
    Unavailable(String),
    /// The key's store failed (wrong PIN with tries left, token removed, PIN locked…).
    #[error("{0}")]
    Store(String),
}

/// The person's decision about a site never seen before.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OriginDecision {
    /// Allow, and remember.
    AllowAlways,
    /// Allow this once.
    AllowOnce,
    /// Refuse.
    Deny,
}

/// Asks a person.
pub trait Prompter: Send + Sync {
    /// Chooses, unlocks and returns a key for the request, after showing the site and what it
    /// asks. The person approves by choosing.
    fn pick_key(&self, request: &KeyRequest<'_>) -> Result<Box<dyn SigningKey>, PromptError>;

    /// Asks whether a site seen for the first time may use the signing service.
    fn approve_origin(&self, origin: &str) -> OriginDecision;
}

/// What the server knows about connected tokens (commonUtils `getActiveTokens`).
pub trait TokenStorages: Send + Sync {
    /// NCALayer storage names that have a token present now.
    fn active_storages(&self) -> Vec<String>;
}
