//! The person's local record of what was signed (`<data_dir>/history.jsonl`, one JSON object
//! per line): when, which site, which method and format, how many documents of which sizes,
//! which certificate (name, ИИН, БИН, serial) and the result. Never document content, never a
//! secret. Bounded: the newest [`KEEP`] entries are kept; viewable and clearable.

use std::collections::VecDeque;
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use qoltanba_pki::CertificateDetails;
use qoltanba_protocol::{CallContext, Failure, Journal};
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

/// Entries kept.
pub const KEEP: usize = 500;
/// Longest site or method name recorded (both come from the page).
const MAX_TEXT: usize = 200;
/// A history file larger than this is not read back (it was not written by us).
const MAX_FILE: u64 = 4 << 20;

/// The certificate a call used.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UsedCertificate {
    /// ФИО or the subject's CN.
    pub name: String,
    /// ИИН.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub iin: String,
    /// БИН.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub bin: String,
    /// Serial number, hex.
    pub serial: String,
}

/// One call.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Entry {
    /// When it ended (RFC 3339, UTC).
    pub time: String,
    /// The site (or `(no origin)`).
    pub origin: String,
    /// The protocol method.
    pub method: String,
    /// `cms`, `xml`, `raw`; empty when the call failed before it was known.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub format: String,
    /// The documents' sizes in bytes.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub sizes: Vec<usize>,
    /// The key's certificate, when one signed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub certificate: Option<UsedCertificate>,
    /// `signed`, or the failure's kind ([`Failure::kind`]: `cancelled`, `wrong_password`…).
    pub result: String,
}

/// Called after each change (a desktop refreshes its tray menu).
type Observer = Box<dyn Fn() + Send + Sync>;

/// The history file.
pub struct History {
    path: PathBuf,
    entries: Mutex<VecDeque<Entry>>,
    /// Lines in the file (it is rewritten with the kept entries when it has twice as many).
    lines: Mutex<usize>,
    observer: Mutex<Option<Observer>>,
}

impl std::fmt::Debug for History {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("History")
            .field("path", &self.path)
            .finish_non_exhaustive()
    }
}

fn short(s: &str) -> String {
    if s.chars().count() <= MAX_TEXT {
        return s.to_owned();
    }
    let mut t: String = s.chars().take(MAX_TEXT).collect();
    t.push('…');
    t
}

fn now() -> String {
    OffsetDateTime::now_utc()
        .replace_nanosecond(0)
        .ok()
        .and_then(|t| t.format(&Rfc3339).ok())
        .unwrap_or_default()
}

impl History {
    /// Reads `<data_dir>/history.jsonl` (missing, oversized or damaged lines: skipped).
    pub fn open(data_dir: &Path) -> Self {
        let path = data_dir.join("history.jsonl");
        let text = std::fs::metadata(&path)
            .ok()
            .filter(|m| m.len() <= MAX_FILE)
            .and_then(|_| std::fs::read_to_string(&path).ok())
            .unwrap_or_default();
        let lines = text.lines().count();
        let mut entries: VecDeque<Entry> = text
            .lines()
            .filter_map(|l| serde_json::from_str(l).ok())
            .collect();
        while entries.len() > KEEP {
            entries.pop_front();
        }
        Self {
            path,
            entries: Mutex::new(entries),
            lines: Mutex::new(lines),
            observer: Mutex::new(None),
        }
    }

    /// Calls `f` after every new entry and after [`History::clear`].
    pub fn observe(&self, f: impl Fn() + Send + Sync + 'static) {
        if let Ok(mut o) = self.observer.lock() {
            *o = Some(Box::new(f));
        }
    }

    fn changed(&self) {
        if let Ok(o) = self.observer.lock()
            && let Some(f) = o.as_ref()
        {
            f();
        }
    }

    /// The entries, newest first.
    pub fn list(&self) -> Vec<Entry> {
        self.entries
            .lock()
            .map(|e| e.iter().rev().cloned().collect())
            .unwrap_or_default()
    }

    /// Forgets everything.
    pub fn clear(&self) -> std::io::Result<()> {
        if let Ok(mut e) = self.entries.lock() {
            e.clear();
        }
        if let Ok(mut l) = self.lines.lock() {
            *l = 0;
        }
        let r = match std::fs::remove_file(&self.path) {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(e),
            _ => Ok(()),
        };
        self.changed();
        r
    }

    /// Adds an entry (best effort on disk: a record that cannot be written is only in memory).
    pub fn record(&self, entry: Entry) {
        self.append(entry);
        self.changed();
    }

    fn append(&self, entry: Entry) {
        let line = serde_json::to_string(&entry).unwrap_or_default() + "\n";
        let Ok(mut entries) = self.entries.lock() else {
            return;
        };
        entries.push_back(entry);
        while entries.len() > KEEP {
            entries.pop_front();
        }
        let Ok(mut lines) = self.lines.lock() else {
            return;
        };
        if *lines >= 2 * KEEP {
            let mut text = String::new();
            for e in entries.iter() {
                text.push_str(&serde_json::to_string(e).unwrap_or_default());
                text.push('\n');
            }
            if crate::files::write_atomically(&self.path, text.as_bytes()).is_ok() {
                *lines = entries.len();
            }
            return;
        }
        if let Some(dir) = self.path.parent() {
            let _ = std::fs::create_dir_all(dir);
        }
        let written = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&self.path)
            .and_then(|mut f| f.write_all(line.as_bytes()));
        if written.is_ok() {
            *lines += 1;
        }
    }
}

/// The engine's journal: failures' detail to standard error (never to the page), and every
/// signing call's outcome to the [`History`].
#[derive(Debug)]
pub struct HistoryJournal {
    /// Where outcomes go.
    pub history: std::sync::Arc<History>,
}

impl Journal for HistoryJournal {
    fn failed(&self, ctx: &CallContext, method: &str, failure: &Failure) {
        eprintln!("qoltanba: {} {method}: {failure} ({failure:?})", ctx.origin);
        self.history.record(Entry {
            time: now(),
            origin: short(ctx.origin.as_key()),
            method: short(method),
            format: String::new(),
            sizes: Vec::new(),
            certificate: None,
            result: failure.kind().to_owned(),
        });
    }

    fn signed(
        &self,
        ctx: &CallContext,
        method: &str,
        format: &str,
        sizes: &[usize],
        details: &CertificateDetails,
    ) {
        self.history.record(Entry {
            time: now(),
            origin: short(ctx.origin.as_key()),
            method: short(method),
            format: format.to_owned(),
            sizes: sizes.to_vec(),
            certificate: Some(UsedCertificate {
                name: details
                    .full_name
                    .clone()
                    .or_else(|| details.subject_cn.clone())
                    .unwrap_or_default(),
                iin: details.iin.clone().unwrap_or_default(),
                bin: details.bin.clone().unwrap_or_default(),
                serial: details.serial.to_lowercase(),
            }),
            result: "signed".to_owned(),
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(i: usize) -> Entry {
        Entry {
            time: now(),
            origin: format!("https://{i}.kz"),
            method: "basics.sign".into(),
            format: "cms".into(),
            sizes: vec![i],
            certificate: None,
            result: "signed".into(),
        }
    }

    #[test]
    fn entries_survive_a_restart_newest_first_and_clear_removes_the_file() {
        let dir = tempfile::tempdir().expect("tempdir");
        let h = History::open(dir.path());
        h.record(entry(1));
        h.record(entry(2));
        let again = History::open(dir.path());
        let list = again.list();
        assert_eq!(list.len(), 2);
        assert_eq!(list[0].origin, "https://2.kz");
        again.clear().expect("clear");
        assert!(!dir.path().join("history.jsonl").exists());
        assert!(History::open(dir.path()).list().is_empty());
    }

    #[test]
    fn the_file_stays_bounded_and_damaged_lines_are_skipped() {
        let dir = tempfile::tempdir().expect("tempdir");
        std::fs::write(dir.path().join("history.jsonl"), "not json\n{\"x\":1}\n").expect("write");
        let h = History::open(dir.path());
        assert!(h.list().is_empty());
        for i in 0..(3 * KEEP) {
            h.record(entry(i));
        }
        let text = std::fs::read_to_string(dir.path().join("history.jsonl")).expect("read");
        assert!(
            text.lines().count() <= 2 * KEEP,
            "{} lines",
            text.lines().count()
        );
        let list = History::open(dir.path()).list();
        assert_eq!(list.len(), KEEP);
        assert_eq!(list[0].sizes, vec![3 * KEEP - 1]);
    }

    #[test]
    fn page_text_is_cut_short() {
        assert_eq!(short(&"a".repeat(5000)).chars().count(), MAX_TEXT + 1);
    }
}
