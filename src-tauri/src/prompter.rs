//! The window prompter: each call that needs the person opens one window (label `call-<id>`),
//! brought to the front, which reads what to show through the `call_state` command and answers
//! through `call_answer`. The engine's thread waits for the answer, for the window to be
//! closed, or for the page to go away (the window then closes). It only asks: the engine opens
//! the keys and tells it why a secret was refused, which the window shows while staying open.
//! What the window shows is the protocol crate's [`PromptView`], the terminal's too.

use std::collections::HashMap;
use std::sync::mpsc::{self, Receiver, RecvTimeoutError, Sender};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use qoltanba_keys::Secret;
use qoltanba_protocol::view::{ErrorView, PromptView};
use qoltanba_protocol::{
    AfterRefusal, CallContext, Choice, KeyRequest, Offer, OriginDecision, PromptError, Prompter,
    Refusal,
};
use serde::Deserialize;
use tauri::{AppHandle, Emitter, Manager, WebviewUrl, WebviewWindowBuilder};

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
    view: Option<PromptView>,
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
    pub(crate) fn view(&self, id: u64) -> Option<PromptView> {
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
        view: &PromptView,
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
                Some(old) if old.same_as(&view) => old.version,
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
}

impl Prompter for WindowPrompter {
    fn approve_origin(&self, ctx: &CallContext) -> OriginDecision {
        match self.ask(ctx, &PromptView::origin(ctx, &self.locale(ctx)), None) {
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
        let anchors = self.anchors.lock().map(|a| a.clone()).unwrap_or_default();
        let default = self.panels().and_then(|p| p.default_key());
        let mut view = PromptView::sign(
            ctx,
            &self.locale(ctx),
            request,
            offers,
            &anchors,
            default.as_deref(),
        );
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
            v.error = Some(ErrorView::of(why));
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

/// The call a window belongs to, from its label.
pub(crate) fn call_of(window_label: &str) -> Option<u64> {
    window_label.strip_prefix("call-")?.parse().ok()
}
