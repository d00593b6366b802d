//! The terminal prompter of `qoltanba serve`: asks on the controlling terminal (`/dev/tty`)
//! whether a site may sign, which key (a connected token, a key file opened before, or the path
//! of another), its password or PIN (no echo), and whether to sign. It only asks: the engine
//! opens the keys and says why a secret was refused. What it prints is the protocol crate's
//! [`PromptView`], the desktop window's view: the purpose, and each key with its certificate's
//! fields, why it cannot be used, and its chain state.
//!
//! One call at a time holds the terminal. A question is read on a helper thread so that a page
//! that goes away closes it at once; the line the person types next is then taken as "Enter to
//! continue". A password being typed cannot be interrupted (no echo-less read is cancellable
//! here): when the page left meanwhile, the engine discards it unused.

use std::io::{BufRead, Write};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError};
use std::sync::{Condvar, Mutex, OnceLock};
use std::time::Duration;

use qoltanba_keys::Secret;
use qoltanba_pki::CertificateDetails;
use qoltanba_protocol::view::{
    ChainState, DetailsView, Kind, OfferView, PromptView, Reason, SecretView, Source,
};
use qoltanba_protocol::{
    AfterRefusal, CallContext, Choice, KeyRequest, Offer, OriginDecision, PromptError, Prompter,
    Refusal,
};

/// Asks on the terminal.
#[derive(Debug, Default)]
pub(crate) struct TerminalPrompter {
    /// The call that holds the terminal.
    owner: Mutex<Option<u64>>,
    freed: Condvar,
    /// A question's reader still waiting for a line after its call was abandoned.
    pending: Mutex<Option<Receiver<String>>>,
    /// The call whose header was printed last.
    shown: Mutex<Option<u64>>,
    /// Trust anchors, for each offer's chain state (set once the engine has them).
    anchors: OnceLock<Vec<Vec<u8>>>,
}

enum Answer {
    Line(String),
    Gone,
}

fn tty_writer() -> Result<std::fs::File, PromptError> {
    std::fs::OpenOptions::new()
        .write(true)
        .open("/dev/tty")
        .map_err(|_| PromptError::Unavailable("no terminal".into()))
}

fn spawn_reader() -> Result<Receiver<String>, PromptError> {
    let r = std::fs::File::open("/dev/tty")
        .map_err(|_| PromptError::Unavailable("no terminal".into()))?;
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let mut line = String::new();
        if std::io::BufReader::new(r).read_line(&mut line).is_ok() {
            let _ = tx.send(line.trim().to_owned());
        }
    });
    Ok(rx)
}

fn say(w: &mut std::fs::File, text: &str) {
    let _ = writeln!(w, "{text}");
}

impl TerminalPrompter {
    pub(crate) fn new() -> Self {
        Self::default()
    }

    /// The trust anchors each offer's chain is checked against.
    pub(crate) fn set_anchors(&self, anchors: Vec<Vec<u8>>) {
        let _ = self.anchors.set(anchors);
    }

    /// Holds the terminal for `ctx`'s call (until [`Prompter::done`]), waiting for another
    /// call to finish; gives up when `ctx`'s page goes away.
    fn hold(&self, ctx: &CallContext) -> Result<(), PromptError> {
        let mut owner = self
            .owner
            .lock()
            .map_err(|_| PromptError::Unavailable("busy".into()))?;
        loop {
            match *owner {
                None => {
                    *owner = Some(ctx.id);
                    return Ok(());
                }
                Some(id) if id == ctx.id => return Ok(()),
                Some(_) if ctx.cancel.is_cancelled() => return Err(PromptError::Cancelled),
                Some(_) => {
                    owner = self
                        .freed
                        .wait_timeout(owner, Duration::from_millis(100))
                        .map_err(|_| PromptError::Unavailable("busy".into()))?
                        .0;
                }
            }
        }
    }

    /// A reader for the next line: the abandoned question's, when nothing was typed since.
    fn reader(&self) -> Result<Receiver<String>, PromptError> {
        if let Some(rx) = self.pending.lock().ok().and_then(|mut p| p.take()) {
            // Otherwise a line was typed before this question: stale, dropped.
            if let Err(mpsc::TryRecvError::Empty) = rx.try_recv() {
                return Ok(rx);
            }
        }
        spawn_reader()
    }

    /// Asks and waits for a line, or for `ctx`'s page to go away.
    fn ask(
        &self,
        ctx: &CallContext,
        w: &mut std::fs::File,
        question: &str,
    ) -> Result<Answer, PromptError> {
        let rx = self.reader()?;
        write!(w, "{question}").map_err(|e| PromptError::Unavailable(e.to_string()))?;
        w.flush()
            .map_err(|e| PromptError::Unavailable(e.to_string()))?;
        loop {
            match rx.recv_timeout(Duration::from_millis(100)) {
                Ok(line) => return Ok(Answer::Line(line)),
                Err(RecvTimeoutError::Disconnected) => {
                    return Err(PromptError::Unavailable("the terminal closed".into()));
                }
                Err(RecvTimeoutError::Timeout) if ctx.cancel.is_cancelled() => {
                    say(w, "");
                    say(
                        w,
                        &format!("The page {} went away; its request is closed.", ctx.origin),
                    );
                    if let Ok(mut p) = self.pending.lock() {
                        *p = Some(rx);
                    }
                    return Ok(Answer::Gone);
                }
                Err(RecvTimeoutError::Timeout) => {}
            }
        }
    }

    /// Asks for a line; a page that left is a cancel.
    fn line(
        &self,
        ctx: &CallContext,
        w: &mut std::fs::File,
        question: &str,
    ) -> Result<String, PromptError> {
        match self.ask(ctx, w, question)? {
            Answer::Line(l) => Ok(l),
            Answer::Gone => Err(PromptError::Cancelled),
        }
    }

    /// A secret without echo. Waits first for an abandoned question's Enter, so that the two
    /// never read the terminal at once.
    fn secret(
        &self,
        ctx: &CallContext,
        w: &mut std::fs::File,
        question: &str,
    ) -> Result<Secret, PromptError> {
        if let Some(rx) = self.pending.lock().ok().and_then(|mut p| p.take())
            && matches!(rx.try_recv(), Err(mpsc::TryRecvError::Empty))
        {
            say(w, "Press Enter to continue.");
            let _ = rx.recv();
        }
        let _ = ctx;
        rpassword::prompt_password(question)
            .map(Secret::new)
            .map_err(|e| PromptError::Unavailable(e.to_string()))
    }

    fn header(&self, ctx: &CallContext, view: &PromptView, w: &mut std::fs::File) {
        if let Ok(mut shown) = self.shown.lock() {
            if *shown == Some(ctx.id) {
                return;
            }
            *shown = Some(ctx.id);
        }
        say(w, &format!("\n=== {} asks ({})", ctx.origin, view.method));
        let p = &view.purpose;
        if p.read_certificate {
            say(w, "    to read your certificate");
            return;
        }
        say(
            w,
            &format!(
                "    to sign {} document(s) as {}{}{}",
                p.documents.len(),
                p.format,
                if p.attached { " (attached)" } else { "" },
                if p.hash_only { " (a hash only)" } else { "" }
            ),
        );
        for (d, n) in p.documents.iter().zip(&p.sizes).take(5) {
            if d.is_empty() {
                say(w, &format!("    - {n} bytes"));
            } else {
                say(w, &format!("    - {n} bytes: {d}"));
            }
        }
        if p.timestamped {
            say(w, "    a timestamp from the timestamp authority is added");
        }
    }
}

fn describe(d: &DetailsView) -> String {
    let kind = match d.kind {
        Kind::Auth => "authentication",
        Kind::Sign => "signing",
        Kind::Both => "authentication and signing",
        Kind::Unknown => "use not stated",
    };
    format!(
        "{} IIN {} {} ({kind}), valid to {}",
        d.full_name, d.iin, d.organization, d.not_after
    )
}

/// One offer as a line: where it is, its certificate, its chain, why it cannot be used.
fn offer_line(o: &OfferView) -> String {
    let mut line = o.location.clone();
    if let Some(d) = &o.details {
        line.push(' ');
        line.push_str(&describe(d));
        line.push_str(match d.chain {
            ChainState::Trusted => ", chain trusted",
            ChainState::Untrusted => ", chain NOT trusted",
            ChainState::NotChecked => ", chain not checked (no trust anchors)",
            ChainState::Unsupported => ", chain cannot be checked here",
        });
    }
    if let Some(r) = o.reason {
        line.push_str(" — cannot be used: ");
        line.push_str(reason_text(r));
    }
    line
}

fn reason_text(r: Reason) -> &'static str {
    match r {
        Reason::AuthWanted => "the site wants an authentication key",
        Reason::SignWanted => "the site wants a signing key",
        Reason::Role => "the certificate lacks a role the site wants",
        Reason::Iin => "the site wants another IIN",
        Reason::Bin => "the site wants another BIN",
        Reason::Serial => "the site wants another certificate",
        Reason::KeyType => "not the kind of key asked for",
        Reason::Expired => "the certificate has expired",
        Reason::NotYetValid => "the certificate is not valid yet",
        Reason::Chain => "not issued under the chain the site wants",
        Reason::Storage => "a storage the site does not allow",
    }
}

impl Prompter for TerminalPrompter {
    fn approve_origin(&self, ctx: &CallContext) -> OriginDecision {
        if self.hold(ctx).is_err() {
            return OriginDecision::Deny;
        }
        let Ok(mut w) = tty_writer() else {
            return OriginDecision::Deny;
        };
        say(
            &mut w,
            &format!(
                "\n=== {} wants to use your electronic signature (ЭЦП) for the first time.",
                ctx.origin
            ),
        );
        match self.ask(ctx, &mut w, "Allow? [a]lways / [o]nce / [N]o: ") {
            Ok(Answer::Line(a)) if a.eq_ignore_ascii_case("a") => OriginDecision::AllowAlways,
            Ok(Answer::Line(a)) if a.eq_ignore_ascii_case("o") => OriginDecision::AllowOnce,
            _ => OriginDecision::Deny,
        }
    }

    fn choose_key(
        &self,
        ctx: &CallContext,
        req: &KeyRequest<'_>,
        offers: &[Offer],
    ) -> Result<Choice, PromptError> {
        self.hold(ctx)?;
        let mut w = tty_writer()?;
        let anchors = self.anchors.get().map_or(&[][..], Vec::as_slice);
        let view = PromptView::sign(ctx, &ctx.locale, req, offers, anchors, None);
        self.header(ctx, &view, &mut w);
        // A connected token of an allowed kind first.
        if let Some(o) = view.offers.iter().find(|o| o.source == Source::Token) {
            let answer = self.line(
                ctx,
                &mut w,
                &format!("Use the token {} ({})? [Y/n] ", o.place, o.storage),
            )?;
            if !answer.eq_ignore_ascii_case("n") {
                if let Some(r) = o.reason {
                    say(
                        &mut w,
                        &format!(
                            "This key does not meet the site's request: {}",
                            reason_text(r)
                        ),
                    );
                } else if o.locked {
                    say(&mut w, "The token's PIN is locked.");
                    return Err(PromptError::Cancelled);
                } else {
                    if o.final_try {
                        say(&mut w, "Careful: one PIN try left before the token locks.");
                    } else if o.few_tries {
                        say(
                            &mut w,
                            "Careful: a wrong PIN was entered before; few tries left.",
                        );
                    }
                    let secret = self.secret(ctx, &mut w, "PIN: ")?;
                    return Ok(Choice::Offer {
                        id: o.id.clone(),
                        secret,
                    });
                }
            }
        }
        // Key files opened before and keys in the OS store, by number; or a path.
        let files: Vec<&OfferView> = view
            .offers
            .iter()
            .filter(|o| o.source != Source::Token)
            .collect();
        for (i, o) in files.iter().enumerate() {
            say(&mut w, &format!("  {}) {}", i + 1, offer_line(o)));
        }
        let question = if files.is_empty() {
            "Key file (.p12), empty to refuse: "
        } else {
            "Key file (.p12) or a number above, empty to refuse: "
        };
        let answer = self.line(ctx, &mut w, question)?;
        if answer.is_empty() {
            return Err(PromptError::Cancelled);
        }
        let chosen = answer
            .parse::<usize>()
            .ok()
            .and_then(|n| n.checked_sub(1))
            .and_then(|n| files.get(n));
        let secret = match chosen {
            // An OS store that needs nothing (or asks by itself).
            Some(o) if o.secret == SecretView::None => Secret::new(String::new()),
            _ => self.secret(ctx, &mut w, "Password: ")?,
        };
        Ok(match chosen {
            Some(o) => Choice::Offer {
                id: o.id.clone(),
                secret,
            },
            None => Choice::File {
                path: answer.into(),
                secret,
            },
        })
    }

    fn refused(&self, _ctx: &CallContext, _req: &KeyRequest<'_>, why: &Refusal) -> AfterRefusal {
        if let Ok(mut w) = tty_writer() {
            match why {
                Refusal::Key(qoltanba_keys::KeyError::WrongPassword) => {
                    say(&mut w, "Wrong password.");
                }
                Refusal::Key(e) => say(&mut w, &format!("Cannot open the key: {e}")),
                other => say(&mut w, &format!("{other}")),
            }
        }
        AfterRefusal::AskAgain
    }

    fn confirm(&self, ctx: &CallContext, _req: &KeyRequest<'_>, d: &CertificateDetails) -> bool {
        let Ok(mut w) = tty_writer() else {
            return false;
        };
        let d = DetailsView::of(d, &ctx.locale, ChainState::NotChecked);
        say(&mut w, &format!("Key: {}", describe(&d)));
        matches!(
            self.ask(ctx, &mut w, "Sign / share with this key? [y/N] "),
            Ok(Answer::Line(a)) if a.eq_ignore_ascii_case("y")
        )
    }

    fn done(&self, ctx: &CallContext) {
        if let Ok(mut owner) = self.owner.lock()
            && *owner == Some(ctx.id)
        {
            *owner = None;
            self.freed.notify_all();
        }
    }
}
