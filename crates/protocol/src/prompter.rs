//! The one way the protocol talks to a person, and it only asks: may this site use the signing
//! service; which of these keys (with the reasons the others do not fit) and its secret; why
//! that secret was refused. It never opens a key file or logs in to a token: the engine does,
//! and tells it what happened. Desktop windows, the terminal and the test-only unattended
//! prompter implement it. Calls block (the server runs them on blocking threads); each carries
//! a [`CallContext`] with the page's origin, its connection's locale and a [`Cancel`] signal
//! that fires when the page goes away.

use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Condvar, Mutex};
use std::time::Duration;

use qoltanba_keys::{Candidate, KeyError, Secret};
use qoltanba_pki::CertificateDetails;

use crate::filter::{KeyFilter, Mismatch};

/// Why a call was abandoned.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CancelReason {
    /// The page's connection closed (or the server is stopping).
    PageLeft,
    /// The request's time budget ran out.
    TimedOut,
}

/// Fires when the page that made a call goes away (its connection closed), its time runs out,
/// or the server stops. Cheap to clone; every clone sees the same signal.
#[derive(Debug, Clone, Default)]
pub struct Cancel(Arc<(Mutex<Option<CancelReason>>, Condvar)>);

impl Cancel {
    /// A signal that has not fired.
    pub fn new() -> Self {
        Self::default()
    }

    /// Fires the signal because the page left (idempotent; the first reason stays).
    pub fn cancel(&self) {
        self.fire(CancelReason::PageLeft);
    }

    /// Fires the signal with `reason` and wakes everyone waiting on it.
    pub fn fire(&self, reason: CancelReason) {
        let (lock, cv) = &*self.0;
        if let Ok(mut c) = lock.lock() {
            c.get_or_insert(reason);
        }
        cv.notify_all();
    }

    /// Why it fired, if it did.
    pub fn reason(&self) -> Option<CancelReason> {
        self.0.0.lock().map_or(Some(CancelReason::PageLeft), |c| *c)
    }

    /// True once fired.
    pub fn is_cancelled(&self) -> bool {
        self.reason().is_some()
    }

    /// Waits up to `timeout`; true when the signal fired (at once, if it had already).
    pub fn wait(&self, timeout: Duration) -> bool {
        let (lock, cv) = &*self.0;
        let Ok(guard) = lock.lock() else { return true };
        cv.wait_timeout_while(guard, timeout, |c| c.is_none())
            .map_or(true, |(c, _)| c.is_some())
    }
}

/// The Origin a page's connection came with.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Origin {
    /// No `Origin` header: a local program (Node, a native app), not a web page.
    Absent,
    /// The header as sent: `https://egov.kz`, or `null` — an opaque origin (a sandboxed frame,
    /// a `file:` page), which is an origin of its own and never the same as [`Origin::Absent`].
    Header(String),
}

/// The key under which approvals of [`Origin::Absent`] are remembered and which admin
/// patterns name it; no browser sends it as an `Origin` header.
pub const NO_ORIGIN: &str = "(no origin)";

impl Origin {
    /// From the header value (`None` or empty: absent).
    pub fn from_header(h: Option<&str>) -> Self {
        match h.map(str::trim) {
            None | Some("") => Self::Absent,
            Some(o) => Self::Header(o.to_owned()),
        }
    }

    /// The text approvals are remembered under and policies match.
    pub fn as_key(&self) -> &str {
        match self {
            Self::Absent => NO_ORIGIN,
            Self::Header(h) => h,
        }
    }
}

impl std::fmt::Display for Origin {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_key())
    }
}

/// What every prompter call knows about the call it belongs to.
#[derive(Debug, Clone)]
pub struct CallContext {
    /// Unique per call in this process (a desktop keeps one window per call).
    pub id: u64,
    /// Who asks.
    pub origin: Origin,
    /// The UI language for this call: the request's own `locale`, else the connection's
    /// (`changeLocale`), else `kk`.
    pub locale: String,
    /// True when the page chose `locale` (its request's `locale`, `changeLocale`); false when
    /// it is the default, which a desktop may replace with the person's own language.
    pub locale_from_page: bool,
    /// Fires when the page goes away: close the prompt and return [`PromptError::Cancelled`].
    pub cancel: Cancel,
}

static NEXT_CALL: AtomicU64 = AtomicU64::new(1);

impl CallContext {
    /// A context with a fresh id.
    pub fn new(origin: Origin, locale: String, cancel: Cancel) -> Self {
        Self {
            id: NEXT_CALL.fetch_add(1, Ordering::Relaxed),
            origin,
            locale,
            locale_from_page: false,
            cancel,
        }
    }
}

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
        /// Each document's size in bytes (of the hash, for hash-only requests).
        sizes: Vec<usize>,
        /// Attached CMS.
        attached: bool,
        /// The data is a precomputed hash.
        hash_only: bool,
        /// A timestamp from the TSA is added (CAdES-T).
        timestamped: bool,
    },
}

/// A request for a key, as shown to the person.
#[derive(Debug, Clone)]
pub struct KeyRequest<'a> {
    /// The protocol method, for the prompt's title.
    pub method: &'a str,
    /// What it is for.
    pub purpose: Purpose,
    /// Which keys qualify.
    pub filter: &'a KeyFilter,
    /// Storages the site allows (`PKCS12`, `AKKaztokenStore`…); empty = any.
    pub storages: &'a [String],
    /// The site's logo (a checked PNG), when it sent one.
    pub logo: Option<&'a [u8]>,
}

impl KeyRequest<'_> {
    /// True when the site allows this storage.
    pub fn allows(&self, storage: &str) -> bool {
        self.storages.is_empty() || self.storages.iter().any(|s| s == storage)
    }
}

/// A candidate key as offered to the person: usable, or disabled with its reason.
#[derive(Debug, Clone)]
pub struct Offer {
    /// The key.
    pub candidate: Candidate,
    /// `Err`: shown disabled with this reason. A key file whose certificate is not known yet
    /// is `Ok` and checked once opened.
    pub fit: Result<(), Mismatch>,
}

impl Offer {
    /// True when it can be chosen.
    pub fn usable(&self) -> bool {
        self.fit.is_ok() && !self.candidate.tries.locked
    }
}

/// The person's choice.
#[derive(Debug)]
pub enum Choice {
    /// One of the offers (by its candidate id) with its secret.
    Offer {
        /// [`Candidate::id`].
        id: String,
        /// Password or PIN (empty when the key needs none).
        secret: Secret,
    },
    /// List the keys again and ask again (a token was plugged in or pulled out, a window
    /// polls): not an attempt, nothing is opened.
    Refresh,
    /// A key file picked now (a file chooser, a typed path).
    File {
        /// The file.
        path: PathBuf,
        /// Its password.
        secret: Secret,
    },
}

/// Why the engine did not accept a choice; shown to the person, who may try again.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Refusal {
    /// The key store refused the secret or failed (wrong password, wrong PIN with tries left,
    /// PIN locked, token removed, a damaged file…).
    #[error(transparent)]
    Key(#[from] KeyError),
    /// The key opened but does not meet the site's request.
    #[error("this key does not meet the site's request: {0}")]
    Mismatch(Mismatch),
    /// The choice names no offer of this request.
    #[error("that key is not among the offered ones")]
    UnknownChoice,
}

/// What the prompter wants after a refusal.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AfterRefusal {
    /// Show the reason and ask again (the window stays open).
    AskAgain,
    /// Stop; the page gets the refusal as its error.
    GiveUp,
}

/// Why no choice came back.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum PromptError {
    /// The person refused or closed the window, or the page went away.
    #[error("cancelled by the user")]
    Cancelled,
    /// Too many prompts from this origin in a short time.
    #[error("too many requests from this site; try again later")]
    RateLimited,
    /// None of the offered keys fits, and the prompter has no other (unattended).
    #[error("no key satisfies the request")]
    NoMatchingKey,
    /// Prompting is impossible here (no terminal, no display).
    #[error("cannot ask the user: {0}")]
    Unavailable(String),
}

/// The person's decision about a site never seen before.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OriginDecision {
    /// Allow, and remember.
    AllowAlways,
    /// Allow this once.
    AllowOnce,
    /// Refuse this time.
    Deny,
    /// Refuse, and remember (the site's calls are refused without asking until the person
    /// revokes it).
    DenyAlways,
}

/// A window of the app that a page may ask to see (accessory `showSettings`,
/// `showBundleManager`); showing it answers no question.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Panel {
    /// The settings.
    Settings,
    /// What is built in (NCALayer's bundle manager; Qoltanba has no bundles).
    About,
}

/// Asks a person. Only asks: the engine lists, filters and opens the keys.
pub trait Prompter: Send + Sync {
    /// May `ctx.origin`, seen for the first time, use the signing service?
    fn approve_origin(&self, ctx: &CallContext) -> OriginDecision;

    /// Shows the site, what it asks and the offers (disabled ones with their reasons) and
    /// returns the person's choice and its secret. Called again, with fresh offers, after
    /// [`Prompter::refused`] answered [`AfterRefusal::AskAgain`].
    fn choose_key(
        &self,
        ctx: &CallContext,
        request: &KeyRequest<'_>,
        offers: &[Offer],
    ) -> Result<Choice, PromptError>;

    /// Tells why the last choice was refused.
    fn refused(&self, ctx: &CallContext, request: &KeyRequest<'_>, why: &Refusal) -> AfterRefusal;

    /// The chosen key opened and fits; a prompter that showed no details before (a new file)
    /// may show them and ask once more. Default: yes.
    fn confirm(
        &self,
        _ctx: &CallContext,
        _request: &KeyRequest<'_>,
        _details: &CertificateDetails,
    ) -> bool {
        true
    }

    /// The call is over (signed, refused or abandoned): close whatever is still shown.
    fn done(&self, _ctx: &CallContext) {}

    /// Shows one of the app's own windows; false when there is none (terminal, tests).
    fn show(&self, _panel: Panel) -> bool {
        false
    }
}

/// What the server knows about connected tokens (commonUtils `getActiveTokens`).
pub trait TokenStorages: Send + Sync {
    /// NCALayer storage names that have a token present now.
    fn active_storages(&self) -> Vec<String>;
}

impl<P: Prompter + ?Sized> Prompter for Arc<P> {
    fn approve_origin(&self, ctx: &CallContext) -> OriginDecision {
        (**self).approve_origin(ctx)
    }
    fn choose_key(
        &self,
        ctx: &CallContext,
        request: &KeyRequest<'_>,
        offers: &[Offer],
    ) -> Result<Choice, PromptError> {
        (**self).choose_key(ctx, request, offers)
    }
    fn refused(&self, ctx: &CallContext, request: &KeyRequest<'_>, why: &Refusal) -> AfterRefusal {
        (**self).refused(ctx, request, why)
    }
    fn confirm(
        &self,
        ctx: &CallContext,
        request: &KeyRequest<'_>,
        details: &CertificateDetails,
    ) -> bool {
        (**self).confirm(ctx, request, details)
    }
    fn done(&self, ctx: &CallContext) {
        (**self).done(ctx);
    }
    fn show(&self, panel: Panel) -> bool {
        (**self).show(panel)
    }
}
