//! The NCALayer wire protocol as plain request → reply (PROTOCOL.md): frames parsed once into
//! typed calls, key filters, the [`Prompter`] port through which a person is asked, origin rules,
//! and the [`Dispatcher`] that maps every outcome to the reply shape real clients expect.
//!
//! No sockets, no UI, no async runtime: the server calls [`Dispatcher::handle`] on a blocking
//! thread.
#![forbid(unsafe_code)]

pub mod basics;
pub mod calls;
mod dispatch;
pub mod filter;
pub mod origin;
mod prompter;

pub use dispatch::{Dispatcher, GREETING, HEARTBEAT, Settings};
pub use filter::{ChainRule, KeyFilter, Mismatch};
pub use origin::{MemoryOriginStore, OriginPolicy, OriginStore, RateLimited};
pub use prompter::{KeyRequest, OriginDecision, PromptError, Prompter, Purpose, TokenStorages};
