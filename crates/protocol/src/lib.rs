//! The NCALayer wire protocol as plain request → reply (PROTOCOL.md): frames parsed once into
//! typed calls, key filters, origin rules, the [`Prompter`] port through which a person is only
//! asked, key selection over the [`qoltanba_keys::KeyProvider`]s, and the [`Dispatcher`]; every
//! failure stays typed ([`Failure`]) until [`wire::reply`] shapes it for its module.
//!
//! No sockets, no UI, no async runtime: the server calls [`Dispatcher::handle`] on a blocking
//! thread, with the page's [`Connection`] and a [`Cancel`] signal for the call.
#![forbid(unsafe_code)]

pub mod basics;
pub mod calls;
mod dispatch;
pub mod filter;
pub mod logo;
pub mod origin;
mod prompter;
pub mod view;
pub mod wire;

pub use dispatch::{
    Connection, DEFAULT_LOCALE, Dispatcher, GREETING, HEARTBEAT, Journal, MAX_ATTEMPTS,
    RevocationCheck, Settings, Tsa, WhenUnchecked,
};
pub use filter::{ChainRule, KeyFilter, Mismatch};
pub use origin::{MemoryOriginStore, OriginPolicy, OriginStore, RateLimited};
pub use prompter::{
    AfterRefusal, CallContext, Cancel, CancelReason, Choice, KeyRequest, NO_ORIGIN, Offer, Origin,
    OriginDecision, Panel, PromptError, Prompter, Purpose, Refusal, TokenStorages,
};
pub use wire::Failure;

/// Bounds on the work a page can demand of verification.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Limits {
    /// CMS verification.
    pub cms: qoltanba_sign::cms::CmsLimits,
    /// XMLDSig verification.
    pub xml: qoltanba_sign::xml::XmlLimits,
}
