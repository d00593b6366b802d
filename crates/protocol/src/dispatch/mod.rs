//! The dispatcher: one text frame in, at most one text frame out (PROTOCOL.md §8). One file per
//! NCALayer module; admission and key selection here. Handlers return result bodies or a
//! [`Failure`]; every reply's envelope is [`crate::wire`]'s.

mod applet;
mod basics;
mod common_utils;
mod output;
mod revocation;
mod select;
mod stamp;

use std::sync::{Arc, Mutex};

use qoltanba_keys::{KeyFiles, KeyProvider, SigningKey};
use serde_json::Value;

use crate::calls::{Accessory, Call, Incoming, parse_frame};
use crate::origin::{OriginPolicy, OriginStore, Verdict};
use crate::prompter::{CallContext, Cancel, KeyRequest, Origin, OriginDecision, Panel, Prompter};
use crate::wire::{self, Failure};
use crate::{Limits, TokenStorages};

pub use revocation::{RevocationCheck, WhenUnchecked};
pub use select::MAX_ATTEMPTS;
pub use stamp::Tsa;

/// The greeting sent on connect, byte for byte (PROTOCOL.md §1.3).
pub const GREETING: &str = r#"{"result":{"version":"1.4"}}"#;
/// The heartbeat text, echoed as it is.
pub const HEARTBEAT: &str = "--heartbeat--";
/// The UI language when neither the request nor the connection chose one.
pub const DEFAULT_LOCALE: &str = "kk";

/// What the dispatcher needs besides its ports.
#[derive(Debug, Clone, Default)]
pub struct Settings {
    /// Trust anchors for key filters and verification (DER).
    pub trust_anchors: Vec<Vec<u8>>,
    /// Admin origin rules.
    pub origins: OriginPolicy,
    /// Bounds on the work a page can demand.
    pub limits: Limits,
}

/// One page's connection: its origin and its locale (`changeLocale` changes this connection
/// only).
#[derive(Debug)]
pub struct Connection {
    origin: Origin,
    locale: Mutex<Option<String>>,
}

impl Connection {
    /// A connection from a page with this `Origin` header (`None`: no header).
    pub fn new(origin_header: Option<&str>) -> Self {
        Self {
            origin: Origin::from_header(origin_header),
            locale: Mutex::new(None),
        }
    }

    /// Who is connected.
    pub fn origin(&self) -> &Origin {
        &self.origin
    }

    /// The connection's locale (`changeLocale`), else the default.
    pub fn locale(&self) -> String {
        self.locale
            .lock()
            .ok()
            .and_then(|l| l.clone())
            .unwrap_or_else(|| DEFAULT_LOCALE.to_owned())
    }

    /// True once the page chose a locale (`changeLocale`).
    pub fn has_locale(&self) -> bool {
        self.locale.lock().is_ok_and(|l| l.is_some())
    }

    fn set_locale(&self, locale: &str) {
        if let Ok(mut l) = self.locale.lock() {
            *l = Some(locale.to_owned());
        }
    }
}

/// What happened, for the local log and history: never a secret, never document content.
pub trait Journal: Send + Sync {
    /// A call failed ([`Failure::kind`] for a record, its `Display` and `Debug` for the local
    /// log only).
    fn failed(&self, ctx: &CallContext, method: &str, failure: &Failure);
    /// A call produced signatures with the key of `details`.
    fn signed(
        &self,
        _ctx: &CallContext,
        _method: &str,
        _format: &str,
        _sizes: &[usize],
        _details: &qoltanba_pki::CertificateDetails,
    ) {
    }
}

/// Turns frames into replies.
pub struct Dispatcher {
    prompter: Arc<dyn Prompter>,
    providers: Vec<Arc<dyn KeyProvider>>,
    files: Option<Arc<KeyFiles>>,
    tokens: Option<Arc<dyn TokenStorages>>,
    store: Arc<dyn OriginStore>,
    journal: Option<Arc<dyn Journal>>,
    tsa: Option<Arc<dyn Tsa>>,
    revocation: Option<(Arc<dyn RevocationCheck>, WhenUnchecked)>,
    settings: Settings,
}

impl Dispatcher {
    /// A dispatcher with its prompter, approval store and settings, and no key source yet.
    pub fn new(
        prompter: Arc<dyn Prompter>,
        store: Arc<dyn OriginStore>,
        settings: Settings,
    ) -> Self {
        Self {
            prompter,
            providers: Vec::new(),
            files: None,
            tokens: None,
            store,
            journal: None,
            tsa: None,
            revocation: None,
            settings,
        }
    }

    /// Adds the key-file provider (remembered files, and files picked in a prompt).
    #[must_use]
    pub fn with_key_files(mut self, files: Arc<KeyFiles>) -> Self {
        self.providers.push(files.clone());
        self.files = Some(files);
        self
    }

    /// Adds a key provider (tokens, an OS store).
    #[must_use]
    pub fn with_provider(mut self, provider: Arc<dyn KeyProvider>) -> Self {
        self.providers.push(provider);
        self
    }

    /// Adds the token directory that `getActiveTokens` reports.
    #[must_use]
    pub fn with_tokens(mut self, tokens: Arc<dyn TokenStorages>) -> Self {
        self.tokens = Some(tokens);
        self
    }

    /// Adds a journal (local log, history).
    #[must_use]
    pub fn with_journal(mut self, journal: Arc<dyn Journal>) -> Self {
        self.journal = Some(journal);
        self
    }

    /// Adds the timestamp authority (CAdES-T).
    #[must_use]
    pub fn with_tsa(mut self, tsa: Arc<dyn Tsa>) -> Self {
        self.tsa = Some(tsa);
        self
    }

    /// Checks revocation before signing; `when` decides for certificates that could not be
    /// checked.
    #[must_use]
    pub fn with_revocation(mut self, check: Arc<dyn RevocationCheck>, when: WhenUnchecked) -> Self {
        self.revocation = Some((check, when));
        self
    }

    /// The settings in force.
    pub fn settings(&self) -> &Settings {
        &self.settings
    }

    /// Handles one text frame from `conn`; `cancel` fires when the page goes away or the
    /// request's time is up. `None`: send nothing (keep-alive `{}`).
    pub fn handle(&self, frame: &str, conn: &Connection, cancel: &Cancel) -> Option<String> {
        let call = match parse_frame(frame) {
            Incoming::Heartbeat => return Some(HEARTBEAT.to_owned()),
            Incoming::KeepAlive => return None,
            Incoming::Invalid(f) => return Some(wire::unrouted(&f)),
            Incoming::Call(c) => c,
        };
        let ctx = |locale: Option<&str>| {
            let mut c = CallContext::new(
                conn.origin().clone(),
                locale.map_or_else(|| conn.locale(), str::to_owned),
                cancel.clone(),
            );
            c.locale_from_page = locale.is_some() || conn.has_locale();
            c
        };
        let reply: Value = match call {
            Call::UnknownModule(_) => wire::module_not_found(),
            Call::CommonUtils { method, args, uuid } => {
                let mut r = self.common_utils(&ctx(None), conn, &method, args.as_ref());
                if let (Some(u), Value::Object(o)) = (uuid, &mut r) {
                    o.insert("uuid".into(), u);
                }
                r
            }
            Call::Basics { method, args } => self.basics(&method, args.as_ref(), &ctx),
            Call::Applet { method, args } => self.applet(&ctx(None), conn, &method, &args),
            Call::Accessory(call) => {
                // A site the person or admin allowed may open the settings or about window;
                // others get the same reply with nothing shown (no window is opened for a
                // site never admitted).
                let panel = match call {
                    Accessory::ShowSettings => Some(Panel::Settings),
                    Accessory::ShowBundleManager => Some(Panel::About),
                    _ => None,
                };
                if let Some(p) = panel
                    && self.is_admitted(conn.origin())
                {
                    self.prompter.show(p);
                }
                wire::accessory(call)
            }
        };
        Some(reply.to_string())
    }

    /// True when the site may use the service without being asked (admin policy or an
    /// approval remembered).
    fn is_admitted(&self, origin: &Origin) -> bool {
        let origin = origin.as_key();
        match self.settings.origins.verdict(origin) {
            Verdict::Denied => false,
            Verdict::Allowed => true,
            Verdict::Ask => self.store.is_remembered(origin),
        }
    }

    /// Admin policy, remembered approvals, then the person.
    fn admit(&self, ctx: &CallContext) -> Result<(), Failure> {
        let origin = ctx.origin.as_key();
        match self.settings.origins.verdict(origin) {
            Verdict::Denied => Err(Failure::OriginDenied),
            Verdict::Allowed => Ok(()),
            Verdict::Ask if self.store.is_remembered(origin) => Ok(()),
            Verdict::Ask if self.store.is_refused(origin) => Err(Failure::OriginDenied),
            Verdict::Ask => {
                let decision = self.prompter.approve_origin(ctx);
                if ctx.cancel.is_cancelled() {
                    return Err(select::cancelled(ctx));
                }
                match decision {
                    OriginDecision::AllowAlways => {
                        self.store.remember(origin);
                        Ok(())
                    }
                    OriginDecision::AllowOnce => Ok(()),
                    OriginDecision::Deny => Err(Failure::OriginDenied),
                    OriginDecision::DenyAlways => {
                        self.store.remember_refusal(origin);
                        Err(Failure::OriginDenied)
                    }
                }
            }
        }
    }

    /// Admits the site, then has the person choose a key among the candidates of the allowed
    /// providers; the engine opens it. The prompter hears `done` whatever the outcome.
    fn key(
        &self,
        ctx: &CallContext,
        request: &KeyRequest<'_>,
    ) -> Result<Box<dyn SigningKey>, Failure> {
        let r = self.admit(ctx).and_then(|()| {
            select::choose(
                &select::Sources {
                    providers: &self.providers,
                    files: self.files.as_deref(),
                    anchors: &self.settings.trust_anchors,
                },
                self.prompter.as_ref(),
                ctx,
                request,
            )
        });
        self.prompter.done(ctx);
        // A page that left gets no signature.
        if r.is_ok() && ctx.cancel.is_cancelled() {
            return Err(select::cancelled(ctx));
        }
        let key = r?;
        self.check_revocation(key.as_ref(), request.filter)?;
        Ok(key)
    }

    fn log_failure(&self, ctx: &CallContext, method: &str, f: &Failure) {
        if let Some(j) = &self.journal {
            j.failed(ctx, method, f);
        }
    }

    fn log_signed(
        &self,
        ctx: &CallContext,
        method: &str,
        format: &str,
        sizes: &[usize],
        key: &dyn SigningKey,
    ) {
        if let Some(j) = &self.journal {
            j.signed(ctx, method, format, sizes, key.details());
        }
    }
}
