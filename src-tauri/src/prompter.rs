//! The window prompter: each call that needs the person opens one window (label `call-<id>`),
//! brought to the front, which reads what to show through the `call_state` command and answers
//! through `call_answer`. The engine's thread waits for the answer, for the window to be
//! closed, or for the page to go away (the window then closes). It only asks: the engine opens
//! the keys and tells it why a secret was refused, which the window shows while staying open.

use std::collections::HashMap;
use std::sync::mpsc::{self, Receiver, RecvTimeoutError, Sender};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use qoltanba_keys::{KeyError, Location, Secret, SecretKind};
use qoltanba_pki::{CertificateDetails, KeyKind, Role};
use qoltanba_protocol::{
    AfterRefusal, CallContext, Choice, KeyRequest, Mismatch, Offer, OriginDecision, PromptError,
    Prompter, Purpose, Refusal,
};
use serde::{Deserialize, Serialize};
use tauri::{AppHandle, Emitter, Manager, WebviewUrl, WebviewWindowBuilder};

/// What a prompt window shows. Everything a page sent is here as plain data; the UI puts it
/// into the page as text only.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct View {
    /// Changes whenever the view does (the window re-renders then).
    version: u64,
    /// `origin` (may this site use the service?) or `sign` (choose a key).
    kind: &'static str,
    /// The page's origin as sent; empty for a local program that sent none.
    origin: String,
    /// The call's language (`kk`, `ru`, `en`).
    locale: String,
    /// The protocol method.
    method: String,
    /// What is asked.
    purpose: PurposeView,
    /// The keys, usable or disabled with their reason.
    offers: Vec<OfferView>,
    /// The site accepts key files (a file may be opened).
    allows_files: bool,
    /// Why the last choice was refused.
    error: Option<ErrorView>,
    /// How many choices were refused so far: the window, busy since it sent an answer, takes
    /// input again when this changes (or the call ends).
    refusals: u32,
    /// The site's logo: a PNG the engine decoded and checked, base64 (shown as an image).
    logo: Option<String>,
}

#[derive(Debug, Clone, Serialize, Default)]
#[allow(clippy::struct_excessive_bools)] // flat data for the UI
struct PurposeView {
    read_certificate: bool,
    format: String,
    documents: Vec<String>,
    sizes: Vec<usize>,
    attached: bool,
    hash_only: bool,
    timestamped: bool,
}

#[derive(Debug, Clone, Serialize)]
#[allow(clippy::struct_excessive_bools)] // flat data for the UI
struct OfferView {
    id: String,
    storage: String,
    /// `file`, `token` or `os`.
    source: &'static str,
    /// A file's name, a token's label.
    place: String,
    /// `password`, `pin` or `none`.
    secret: &'static str,
    few_tries: bool,
    final_try: bool,
    locked: bool,
    usable: bool,
    /// A stable code for the UI's translation (`auth_wanted`, `iin`, `expired`…).
    reason: Option<&'static str>,
    /// The person's default certificate (chosen first).
    is_default: bool,
    details: Option<DetailsView>,
}

#[derive(Debug, Clone, Serialize)]
struct DetailsView {
    full_name: String,
    iin: String,
    bin: String,
    organization: String,
    email: String,
    roles: Vec<String>,
    /// `auth`, `sign`, `both`, `unknown`.
    kind: &'static str,
    not_before: String,
    not_after: String,
    issuer: String,
    serial: String,
    algorithm: String,
    /// `trusted`, `untrusted`, `not_checked` (no trust anchors), `unsupported`.
    chain: &'static str,
    /// Every field of the certificate model, for the details view: (translation key, value).
    fields: Vec<(&'static str, String)>,
}

#[derive(Debug, Clone, Serialize)]
struct ErrorView {
    /// `wrong_password`, `wrong_pin`, `pin_locked`, `token_removed`, `not_found`,
    /// `does_not_fit`, `other`.
    code: &'static str,
    tries_left: Option<u32>,
    /// English detail for the cases without a translation.
    detail: String,
}

/// The person's answer, as the UI sends it.
#[derive(Debug, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub(crate) enum Answer {
    /// To the origin question: `always`, `once` or `deny`.
    Origin { decision: String },
    /// One of the offers with its secret.
    Choose { id: String, secret: String },
    /// A key file by path with its password.
    File { path: String, secret: String },
    /// Cancel, Escape, the window's close button.
    Cancel,
    /// List the keys again (the window polls while it is open; tokens come and go).
    Refresh,
}

/// How often an open signing window lists the keys again (tokens plugged in or pulled out).
const REFRESH: Duration = Duration::from_secs(2);

struct Slot {
    view: Option<View>,
    /// Each offer's certificate and the chain that came with it (for the revocation state).
    certs: HashMap<String, (Vec<u8>, Vec<Vec<u8>>)>,
    answers: Sender<Answer>,
    inbox: Option<Receiver<Answer>>,
}

/// Prompts as windows.
pub(crate) struct WindowPrompter {
    app: Mutex<Option<AppHandle>>,
    calls: Mutex<HashMap<u64, Slot>>,
    /// Trust anchors, to show each certificate's chain state.
    anchors: Mutex<Arc<Vec<Vec<u8>>>>,
    /// The main window's panels (the person's language, the default certificate).
    panels: Mutex<Option<Arc<crate::panels::Panels>>>,
    /// The engine's revocation checker.
    revocation: Mutex<Option<Arc<dyn qoltanba_protocol::RevocationCheck>>>,
}

fn label(id: u64) -> String {
    format!("call-{id}")
}

fn lang(locale: &str) -> qoltanba_pki::Lang {
    match locale {
        "ru" => qoltanba_pki::Lang::Ru,
        "en" => qoltanba_pki::Lang::En,
        _ => qoltanba_pki::Lang::Kk,
    }
}

fn date(t: time::OffsetDateTime) -> String {
    format!("{:02}.{:02}.{}", t.day(), u8::from(t.month()), t.year())
}

fn opt(v: Option<&String>) -> String {
    v.cloned().unwrap_or_default()
}

/// Every field, in the order the details view shows them; empty ones are left out.
fn fields(d: &CertificateDetails, locale: &str) -> Vec<(&'static str, String)> {
    let dt = |t: time::OffsetDateTime| {
        format!(
            "{} {:02}:{:02}:{:02} UTC",
            date(t),
            t.hour(),
            t.minute(),
            t.second()
        )
    };
    let all = [
        ("field.full_name", opt(d.full_name.as_ref())),
        ("field.surname", opt(d.surname.as_ref())),
        ("field.given_name", opt(d.given_name.as_ref())),
        ("field.patronymic", opt(d.patronymic.as_ref())),
        ("cert.iin", opt(d.iin.as_ref())),
        ("cert.bin", opt(d.bin.as_ref())),
        ("field.organization", opt(d.organization.as_ref())),
        ("field.email", opt(d.email.as_ref())),
        ("field.country", opt(d.country.as_ref())),
        ("field.locality", opt(d.locality.as_ref())),
        ("field.state", opt(d.state.as_ref())),
        ("field.subject_cn", opt(d.subject_cn.as_ref())),
        ("field.subject_dn", d.subject_dn.clone()),
        ("field.issuer_dn", d.issuer_dn.clone()),
        ("field.serial", d.serial.to_lowercase()),
        ("field.not_before", dt(d.not_before)),
        ("field.not_after", dt(d.not_after)),
        ("field.algorithm", d.key_algorithm.label()),
        ("field.key_usage", d.key_usage.join(", ")),
        ("field.ext_key_usage", d.ext_key_usage.join(", ")),
        (
            "field.roles",
            d.roles
                .iter()
                .map(|r| r.name(lang(locale)).to_owned())
                .chain(d.unknown_roles.iter().cloned())
                .collect::<Vec<_>>()
                .join(", "),
        ),
        ("field.policies", d.policies.join(", ")),
        ("field.subject_key_id", opt(d.subject_key_id.as_ref())),
        ("field.authority_key_id", opt(d.authority_key_id.as_ref())),
        ("field.sha256", d.sha256_fingerprint.clone()),
    ];
    all.into_iter().filter(|(_, v)| !v.is_empty()).collect()
}

fn chain_state(k: &qoltanba_keys::KnownCertificate, anchors: &[Vec<u8>]) -> &'static str {
    use qoltanba_pki::chain::{ChainStatus, check};
    match check(&k.der, &k.chain, anchors, time::OffsetDateTime::now_utc()).status {
        ChainStatus::Trusted => "trusted",
        ChainStatus::NotChecked => "not_checked",
        ChainStatus::Untrusted | ChainStatus::Malformed(_) => "untrusted",
        _ => "unsupported",
    }
}

fn details_view(
    k: &qoltanba_keys::KnownCertificate,
    locale: &str,
    anchors: &[Vec<u8>],
) -> DetailsView {
    let d = &k.details;
    DetailsView {
        chain: chain_state(k, anchors),
        fields: fields(d, locale),
        full_name: d
            .full_name
            .clone()
            .or_else(|| d.subject_cn.clone())
            .unwrap_or_default(),
        iin: d.iin.clone().unwrap_or_default(),
        bin: d.bin.clone().unwrap_or_default(),
        organization: d.organization.clone().unwrap_or_default(),
        email: d.email.clone().unwrap_or_default(),
        roles: d
            .roles
            .iter()
            .map(|r: &Role| r.name(lang(locale)).to_owned())
            .collect(),
        kind: match d.key_kind {
            KeyKind::Auth => "auth",
            KeyKind::Sign => "sign",
            KeyKind::Both => "both",
            KeyKind::Unknown => "unknown",
        },
        not_before: date(d.not_before),
        not_after: date(d.not_after),
        issuer: d.issuer_cn.clone().unwrap_or_default(),
        serial: d.serial.to_lowercase(),
        algorithm: d.key_algorithm.label(),
    }
}

fn reason_code(m: &Mismatch) -> &'static str {
    match m {
        Mismatch::Eku(o) if o == qoltanba_pki::oid::EKU_CLIENT_AUTH => "auth_wanted",
        Mismatch::Eku(o) if o == qoltanba_pki::oid::EKU_EMAIL_PROTECTION => "sign_wanted",
        Mismatch::Eku(_) => "role",
        Mismatch::Iin => "iin",
        Mismatch::Bin => "bin",
        Mismatch::Serial => "serial",
        Mismatch::KeyType => "key_type",
        Mismatch::Validity(qoltanba_pki::ValidityStatus::Expired) => "expired",
        Mismatch::Validity(_) => "not_yet_valid",
        Mismatch::Chain(_) => "chain",
        Mismatch::Storage(_) => "storage",
    }
}

fn offer_view(o: &Offer, locale: &str, anchors: &[Vec<u8>], default: Option<&str>) -> OfferView {
    let c = &o.candidate;
    let (source, place) = match &c.location {
        Location::File(p) => (
            "file",
            p.file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default(),
        ),
        Location::Token { label, .. } => ("token", label.clone()),
        Location::OsStore { store, .. } => ("os", store.clone()),
    };
    OfferView {
        id: c.id.clone(),
        storage: c.storage.clone(),
        source,
        place,
        secret: match c.secret {
            SecretKind::Password => "password",
            SecretKind::Pin => "pin",
            SecretKind::None => "none",
        },
        few_tries: c.tries.few,
        final_try: c.tries.final_try,
        locked: c.tries.locked,
        usable: o.usable(),
        reason: o.fit.as_ref().err().map(reason_code),
        is_default: default == Some(c.id.as_str()),
        details: c
            .certificate
            .as_ref()
            .map(|k| details_view(k, locale, anchors)),
    }
}

fn error_view(why: &Refusal) -> ErrorView {
    let (code, tries_left) = match why {
        Refusal::Key(KeyError::WrongPassword) => ("wrong_password", None),
        Refusal::Key(KeyError::WrongPin { tries_left, .. }) => ("wrong_pin", *tries_left),
        Refusal::Key(KeyError::PinLocked) => ("pin_locked", None),
        Refusal::Key(KeyError::TokenRemoved) => ("token_removed", None),
        Refusal::Key(KeyError::NotFound(_)) => ("not_found", None),
        Refusal::Mismatch(_) => ("does_not_fit", None),
        _ => ("other", None),
    };
    ErrorView {
        code,
        tries_left,
        detail: why.to_string(),
    }
}

impl WindowPrompter {
    pub(crate) fn new() -> Arc<Self> {
        Arc::new(Self {
            app: Mutex::new(None),
            calls: Mutex::default(),
            anchors: Mutex::default(),
            panels: Mutex::default(),
            revocation: Mutex::default(),
        })
    }

    /// The app, once it runs.
    pub(crate) fn attach(&self, app: AppHandle) {
        if let Ok(mut a) = self.app.lock() {
            *a = Some(app);
        }
    }

    /// What the engine was built with.
    pub(crate) fn configure(
        &self,
        anchors: Vec<Vec<u8>>,
        panels: Arc<crate::panels::Panels>,
        revocation: Option<Arc<dyn qoltanba_protocol::RevocationCheck>>,
    ) {
        if let Ok(mut r) = self.revocation.lock() {
            *r = revocation;
        }
        if let Ok(mut a) = self.anchors.lock() {
            *a = Arc::new(anchors);
        }
        if let Ok(mut p) = self.panels.lock() {
            *p = Some(panels);
        }
    }

    /// The revocation state of offer `offer` of call `id` (fetched now, or from the cache).
    pub(crate) fn revocation_state(
        &self,
        id: u64,
        offer: &str,
    ) -> Option<qoltanba_pki::revocation::RevocationState> {
        let check = self.revocation.lock().ok().and_then(|r| r.clone())?;
        let (leaf, mut pool) = self
            .calls
            .lock()
            .ok()
            .and_then(|c| c.get(&id).and_then(|s| s.certs.get(offer).cloned()))?;
        pool.extend(self.anchors.lock().map(|a| a.to_vec()).unwrap_or_default());
        Some(check.check(&leaf, &pool))
    }

    fn panels(&self) -> Option<Arc<crate::panels::Panels>> {
        self.panels.lock().ok().and_then(|p| p.clone())
    }

    /// The call's language: the page's when it chose one, else the person's.
    fn locale(&self, ctx: &CallContext) -> String {
        match self.panels() {
            Some(p) if !ctx.locale_from_page => p.locale(),
            _ => ctx.locale.clone(),
        }
    }

    fn app(&self) -> Result<AppHandle, PromptError> {
        self.app
            .lock()
            .ok()
            .and_then(|a| a.clone())
            .ok_or_else(|| PromptError::Unavailable("the desktop app is not running yet".into()))
    }

    /// What the window of call `id` shows.
    pub(crate) fn view(&self, id: u64) -> Option<View> {
        self.calls
            .lock()
            .ok()
            .and_then(|c| c.get(&id).and_then(|s| s.view.clone()))
    }

    /// An answer from the window of call `id`.
    pub(crate) fn answer(&self, id: u64, answer: Answer) {
        if let Some(s) = self
            .calls
            .lock()
            .ok()
            .and_then(|c| c.get(&id).map(|s| s.answers.clone()))
        {
            let _ = s.send(answer);
        }
    }

    /// Shows `view` in the call's window (opening it, or telling it to refresh) and waits for
    /// the person, the window closing, or the page going away.
    fn ask(
        &self,
        ctx: &CallContext,
        view: &View,
        refresh: Option<Duration>,
    ) -> Result<Answer, PromptError> {
        let app = self.app()?;
        let inbox = {
            let mut calls = self
                .calls
                .lock()
                .map_err(|_| PromptError::Unavailable("busy".into()))?;
            let slot = calls.entry(ctx.id).or_insert_with(|| {
                let (tx, rx) = mpsc::channel();
                Slot {
                    view: None,
                    certs: HashMap::new(),
                    answers: tx,
                    inbox: Some(rx),
                }
            });
            let mut view = view.clone();
            // The window re-renders only when something it shows changed.
            view.version = match &slot.view {
                None => 1,
                Some(old) if same(old, &view) => old.version,
                Some(old) => old.version + 1,
            };
            slot.view = Some(view);
            slot.inbox
                .take()
                .ok_or_else(|| PromptError::Unavailable("a second question at once".into()))?
        };
        let title = format!(
            "Qoltanba — {}",
            if view.origin.is_empty() {
                "—"
            } else {
                &view.origin
            }
        );
        if let Some(w) = app.get_webview_window(&label(ctx.id)) {
            let _ = w.emit("call-updated", ());
            let _ = w.set_focus();
        } else {
            {
                let w = WebviewWindowBuilder::new(
                    &app,
                    label(ctx.id),
                    WebviewUrl::App("index.html".into()),
                )
                .title(title)
                .inner_size(560.0, 680.0)
                .min_inner_size(420.0, 480.0)
                .center()
                .focused(true)
                .always_on_top(true)
                .build()
                .map_err(|e| PromptError::Unavailable(format!("cannot open a window: {e}")))?;
                let _ = w.set_focus();
            }
        }
        let asked = std::time::Instant::now();
        let result = loop {
            match inbox.recv_timeout(Duration::from_millis(100)) {
                Ok(a) => break Ok(a),
                Err(RecvTimeoutError::Timeout)
                    if refresh.is_some_and(|r| asked.elapsed() >= r)
                        && !ctx.cancel.is_cancelled() =>
                {
                    break Ok(Answer::Refresh);
                }
                Err(RecvTimeoutError::Disconnected) => break Err(PromptError::Cancelled),
                Err(RecvTimeoutError::Timeout) if ctx.cancel.is_cancelled() => {
                    break Err(PromptError::Cancelled);
                }
                Err(RecvTimeoutError::Timeout) => {}
            }
        };
        if let Ok(mut calls) = self.calls.lock()
            && let Some(slot) = calls.get_mut(&ctx.id)
        {
            slot.inbox = Some(inbox);
        }
        result
    }

    fn base_view(&self, ctx: &CallContext, kind: &'static str) -> View {
        View {
            version: 0,
            kind,
            origin: match &ctx.origin {
                qoltanba_protocol::Origin::Absent => String::new(),
                qoltanba_protocol::Origin::Header(h) => h.clone(),
            },
            locale: self.locale(ctx),
            method: String::new(),
            purpose: PurposeView::default(),
            offers: Vec::new(),
            allows_files: false,
            error: None,
            refusals: 0,
            logo: None,
        }
    }
}

impl Prompter for WindowPrompter {
    fn approve_origin(&self, ctx: &CallContext) -> OriginDecision {
        match self.ask(ctx, &self.base_view(ctx, "origin"), None) {
            Ok(Answer::Origin { decision }) => match decision.as_str() {
                "always" => OriginDecision::AllowAlways,
                "once" => OriginDecision::AllowOnce,
                // «Refuse» is remembered (revocable under Sites), so a page cannot nag.
                "deny" => OriginDecision::DenyAlways,
                _ => OriginDecision::Deny,
            },
            _ => OriginDecision::Deny,
        }
    }

    fn choose_key(
        &self,
        ctx: &CallContext,
        request: &KeyRequest<'_>,
        offers: &[Offer],
    ) -> Result<Choice, PromptError> {
        let mut view = self.base_view(ctx, "sign");
        request.method.clone_into(&mut view.method);
        view.purpose = match &request.purpose {
            Purpose::ReadCertificate => PurposeView {
                read_certificate: true,
                ..PurposeView::default()
            },
            Purpose::Sign {
                format,
                documents,
                sizes,
                attached,
                hash_only,
                timestamped,
            } => PurposeView {
                read_certificate: false,
                format: (*format).to_owned(),
                documents: documents.clone(),
                sizes: sizes.clone(),
                attached: *attached,
                hash_only: *hash_only,
                timestamped: *timestamped,
            },
        };
        let anchors = self.anchors.lock().map(|a| a.clone()).unwrap_or_default();
        let default = self.panels().and_then(|p| p.default_key());
        view.offers = offers
            .iter()
            .map(|o| offer_view(o, &view.locale, &anchors, default.as_deref()))
            .collect();
        // The default certificate comes first (still with its password asked).
        view.offers.sort_by_key(|o| !(o.is_default && o.usable));
        let certs: HashMap<String, (Vec<u8>, Vec<Vec<u8>>)> = offers
            .iter()
            .filter_map(|o| {
                let k = o.candidate.certificate.as_ref()?;
                Some((o.candidate.id.clone(), (k.der.clone(), k.chain.clone())))
            })
            .collect();
        if let Ok(mut calls) = self.calls.lock() {
            let (tx, rx) = mpsc::channel();
            calls
                .entry(ctx.id)
                .or_insert_with(|| Slot {
                    view: None,
                    certs: HashMap::new(),
                    answers: tx,
                    inbox: Some(rx),
                })
                .certs = certs;
        }
        view.logo = request.logo.map(|png| {
            use base64::Engine as _;
            base64::engine::general_purpose::STANDARD.encode(png)
        });
        view.allows_files = request.allows(qoltanba_keys::STORAGE_PKCS12);
        // Keep the last refusal on screen until the person tries again.
        if let Some(old) = self.view(ctx.id) {
            view.error = old.error;
            view.refusals = old.refusals;
        }
        match self.ask(ctx, &view, Some(REFRESH))? {
            Answer::Refresh => Ok(Choice::Refresh),
            Answer::Choose { id, secret } => Ok(Choice::Offer {
                id,
                secret: Secret::new(secret),
            }),
            Answer::File { path, secret } => Ok(Choice::File {
                path: path.into(),
                secret: Secret::new(secret),
            }),
            Answer::Origin { .. } | Answer::Cancel => Err(PromptError::Cancelled),
        }
    }

    fn refused(&self, ctx: &CallContext, _request: &KeyRequest<'_>, why: &Refusal) -> AfterRefusal {
        if let Ok(mut calls) = self.calls.lock()
            && let Some(v) = calls.get_mut(&ctx.id).and_then(|s| s.view.as_mut())
        {
            v.error = Some(error_view(why));
            v.refusals += 1;
            v.version += 1;
        }
        // The window stays open and shows why; the person tries again or cancels.
        AfterRefusal::AskAgain
    }

    fn done(&self, ctx: &CallContext) {
        if let Ok(mut calls) = self.calls.lock() {
            calls.remove(&ctx.id);
        }
        if let Ok(app) = self.app()
            && let Some(w) = app.get_webview_window(&label(ctx.id))
        {
            let _ = w.destroy();
        }
    }

    fn show(&self, panel: qoltanba_protocol::Panel) -> bool {
        let Ok(app) = self.app() else { return false };
        let tab = match panel {
            qoltanba_protocol::Panel::Settings => "settings",
            qoltanba_protocol::Panel::About => "about",
        };
        let handle = app.clone();
        // Windows are made on the main thread.
        app.run_on_main_thread(move || crate::panels::show_main(&handle, tab))
            .is_ok()
    }
}

/// True when two views show the same (their versions aside).
fn same(a: &View, b: &View) -> bool {
    let strip = |v: &View| {
        let mut v = serde_json::to_value(v).unwrap_or_default();
        if let Some(o) = v.as_object_mut() {
            o.remove("version");
        }
        v
    };
    strip(a) == strip(b)
}

/// The call a window belongs to, from its label.
pub(crate) fn call_of(window_label: &str) -> Option<u64> {
    window_label.strip_prefix("call-")?.parse().ok()
}
