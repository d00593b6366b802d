//! The terminal prompter of `qoltanba serve`: asks on the controlling terminal (`/dev/tty`)
//! which key file to use, its password (no echo), and whether to sign. One prompt at a time.

use std::io::{BufRead, Write};
use std::sync::Mutex;

use qoltanba_keys::{KeyError, Secret, SigningKey, pkcs12};
use qoltanba_protocol::{KeyRequest, OriginDecision, PromptError, Prompter, Purpose};

/// Asks on the terminal.
#[derive(Debug)]
pub(crate) struct TerminalPrompter {
    lock: Mutex<()>,
    tokens: std::sync::Arc<qoltanba_pkcs11::TokenDirectory>,
}

impl TerminalPrompter {
    pub(crate) fn new(tokens: std::sync::Arc<qoltanba_pkcs11::TokenDirectory>) -> Self {
        Self {
            lock: Mutex::new(()),
            tokens,
        }
    }

    /// Offers a connected token of an allowed kind; `None` when there is none or the person
    /// prefers a file.
    fn token_key(
        &self,
        req: &KeyRequest<'_>,
        w: &mut std::fs::File,
        r: &mut impl BufRead,
    ) -> Result<Option<Box<dyn SigningKey>>, PromptError> {
        let allowed = |s: &str| req.storages.is_empty() || req.storages.iter().any(|a| a == s);
        let (tokens, _) = self.tokens.list();
        let Some(t) = tokens
            .into_iter()
            .find(|t| allowed(&t.storage) && !t.certificates.is_empty())
        else {
            return Ok(None);
        };
        let yes = ask(
            w,
            r,
            &format!("Use the token {} ({})? [Y/n] ", t.label, t.storage),
        )?;
        if yes.eq_ignore_ascii_case("n") {
            return Ok(None);
        }
        if t.pin.locked {
            let _ = writeln!(w, "The token's PIN is locked.");
            return Err(PromptError::Store("the token's PIN is locked".into()));
        }
        if t.pin.final_try {
            let _ = writeln!(w, "Careful: one PIN try left before the token locks.");
        } else if t.pin.count_low {
            let _ = writeln!(
                w,
                "Careful: a wrong PIN was entered before; few tries left."
            );
        }
        let pin = rpassword::prompt_password("PIN: ")
            .map(Secret::new)
            .map_err(|e| PromptError::Unavailable(e.to_string()))?;
        let key = self
            .tokens
            .open_key(&t.module, &t.label, None, &pin)
            .map_err(|e| PromptError::Store(e.to_string()))?;
        Ok(Some(Box::new(key)))
    }
}

fn tty() -> Result<(std::fs::File, std::io::BufReader<std::fs::File>), PromptError> {
    let open = || {
        std::fs::OpenOptions::new()
            .read(true)
            .write(true)
            .open("/dev/tty")
    };
    let w = open().map_err(|_| PromptError::Unavailable("no terminal".into()))?;
    let r = open().map_err(|_| PromptError::Unavailable("no terminal".into()))?;
    Ok((w, std::io::BufReader::new(r)))
}

fn ask(w: &mut std::fs::File, r: &mut impl BufRead, question: &str) -> Result<String, PromptError> {
    write!(w, "{question}").map_err(|e| PromptError::Unavailable(e.to_string()))?;
    w.flush()
        .map_err(|e| PromptError::Unavailable(e.to_string()))?;
    let mut line = String::new();
    r.read_line(&mut line)
        .map_err(|e| PromptError::Unavailable(e.to_string()))?;
    Ok(line.trim().to_owned())
}

impl Prompter for TerminalPrompter {
    fn pick_key(&self, req: &KeyRequest<'_>) -> Result<Box<dyn SigningKey>, PromptError> {
        let _one_at_a_time = self
            .lock
            .lock()
            .map_err(|_| PromptError::Unavailable("busy".into()))?;
        let (mut w, mut r) = tty()?;
        let origin = req.origin.unwrap_or("(no origin: a local program)");
        let _ = writeln!(w, "\n=== {origin} asks ({})", req.method);
        match &req.purpose {
            Purpose::ReadCertificate => {
                let _ = writeln!(w, "    to read your certificate");
            }
            Purpose::Sign {
                format,
                documents,
                attached,
                hash_only,
                timestamp_unavailable,
            } => {
                let _ = writeln!(
                    w,
                    "    to sign {} document(s) as {format}{}{}",
                    documents.len(),
                    if *attached { " (attached)" } else { "" },
                    if *hash_only { " (a hash only)" } else { "" }
                );
                for d in documents.iter().take(5) {
                    let _ = writeln!(w, "    - {d}");
                }
                if *timestamp_unavailable {
                    let _ = writeln!(w, "    note: a timestamp was asked for; none will be added");
                }
            }
        }
        if let Some(k) = self.token_key(req, &mut w, &mut r)? {
            return Ok(k);
        }
        for _ in 0..3 {
            let path = ask(&mut w, &mut r, "Key file (.p12), empty to refuse: ")?;
            if path.is_empty() {
                return Err(PromptError::Cancelled);
            }
            let password = rpassword::prompt_password("Password: ")
                .map(Secret::new)
                .map_err(|e| PromptError::Unavailable(e.to_string()))?;
            let mut contents = match pkcs12::open_file(std::path::Path::new(&path), &password) {
                Ok(c) => c,
                Err(KeyError::WrongPassword) => {
                    let _ = writeln!(w, "Wrong password.");
                    continue;
                }
                Err(e) => {
                    let _ = writeln!(w, "Cannot open the key: {e}");
                    continue;
                }
            };
            let key = contents.keys.remove(0);
            let d = key.details();
            let _ = writeln!(
                w,
                "Key: {} IIN {} {} ({:?}), valid to {}",
                d.full_name.clone().unwrap_or_default(),
                d.iin.clone().unwrap_or_default(),
                d.organization.clone().unwrap_or_default(),
                d.key_kind,
                d.not_after
            );
            if let Err(m) = req.filter.check_details(d, time::OffsetDateTime::now_utc()) {
                let _ = writeln!(w, "This key does not meet the site's request: {m:?}");
                continue;
            }
            let yes = ask(&mut w, &mut r, "Sign / share with this key? [y/N] ")?;
            return if yes.eq_ignore_ascii_case("y") {
                Ok(Box::new(key))
            } else {
                Err(PromptError::Cancelled)
            };
        }
        Err(PromptError::Cancelled)
    }

    fn approve_origin(&self, origin: &str) -> OriginDecision {
        let Ok(_one) = self.lock.lock() else {
            return OriginDecision::Deny;
        };
        let Ok((mut w, mut r)) = tty() else {
            return OriginDecision::Deny;
        };
        let _ = writeln!(
            w,
            "\n=== {origin} wants to use your electronic signature (ЭЦП) for the first time."
        );
        match ask(&mut w, &mut r, "Allow? [a]lways / [o]nce / [N]o: ").as_deref() {
            Ok("a" | "A") => OriginDecision::AllowAlways,
            Ok("o" | "O") => OriginDecision::AllowOnce,
            _ => OriginDecision::Deny,
        }
    }
}
