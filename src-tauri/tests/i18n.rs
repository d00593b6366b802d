//! The interface's translation files: kk, ru and en have the same keys, every key the UI and
//! the shell use exists in each, and every result kind the history can record has its words.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

use std::collections::BTreeSet;
use std::path::Path;

use qoltanba_protocol::view::{ChainState, ErrorCode, Reason};

fn root() -> &'static Path {
    Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/.."))
}

fn keys(lang: &str) -> BTreeSet<String> {
    let text = std::fs::read_to_string(root().join(format!("ui/i18n/{lang}.json"))).unwrap();
    let v: serde_json::Value = serde_json::from_str(&text).unwrap();
    let o = v.as_object().unwrap();
    for (k, s) in o {
        assert!(
            s.as_str().is_some_and(|s| !s.trim().is_empty()),
            "{lang}: {k} is empty"
        );
    }
    o.keys().cloned().collect()
}

/// The quoted strings in `text` that follow `prefix` and look like a translation key.
fn quoted_after(text: &str, prefix: &str, quote: char) -> Vec<String> {
    text.match_indices(prefix)
        // A whole word: `t("` but not `text("`.
        .filter(|(i, _)| {
            !text[..*i]
                .chars()
                .next_back()
                .is_some_and(|c| c.is_ascii_alphanumeric() || c == '_')
        })
        .filter_map(|(i, _)| {
            let rest = &text[i + prefix.len()..];
            let end = rest.find(quote)?;
            let k = &rest[..end];
            k.chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '.' || c == '_')
                .then(|| k.to_owned())
        })
        .filter(|k| !k.is_empty() && !k.ends_with('.'))
        .collect()
}

/// The strings a `match` returns (`=> "…"`) in the method of `file` that starts at `signature`.
fn arm_strings(file: &str, signature: &str) -> Vec<String> {
    let text = std::fs::read_to_string(root().join(file)).unwrap();
    let body = &text[text.find(signature).unwrap()..];
    let body = &body[..body.find("\n    }\n").unwrap()];
    quoted_after(body, "=> \"", '"')
}

#[test]
fn every_language_has_every_key() {
    let kk = keys("kk");
    assert_eq!(kk, keys("ru"), "kk and ru differ");
    assert_eq!(kk, keys("en"), "kk and en differ");
    let mut used = Vec::new();
    // The windows' scripts, and the shell's tray menu (`tr.t("tray.…")`).
    for f in [
        "ui/app.js",
        "ui/home.js",
        "ui/common.js",
        "src-tauri/src/main.rs",
    ] {
        let text = std::fs::read_to_string(root().join(f)).unwrap();
        used.extend(quoted_after(&text, "t(\"", '"'));
    }
    for f in ["ui/index.html", "ui/home.html"] {
        let text = std::fs::read_to_string(root().join(f)).unwrap();
        used.extend(quoted_after(&text, "data-t=\"", '"'));
    }
    // Keys the prompt view sends for the UI to translate: field names, reason, error and
    // chain codes.
    let view = std::fs::read_to_string(root().join("crates/protocol/src/view.rs")).unwrap();
    used.extend(
        quoted_after(&view, "(\"field.", '"')
            .into_iter()
            .map(|k| format!("field.{k}")),
    );
    let code = |v: serde_json::Value| v.as_str().unwrap().to_owned();
    for r in Reason::ALL {
        used.push(format!("reason.{}", code(serde_json::to_value(r).unwrap())));
    }
    for e in ErrorCode::ALL {
        used.push(format!("error.{}", code(serde_json::to_value(e).unwrap())));
    }
    for c in ChainState::ALL {
        used.push(format!("chain.{}", code(serde_json::to_value(c).unwrap())));
    }
    // Every failure code a command sends its window (command.<code>).
    let codes = arm_strings("src-tauri/src/failure.rs", "fn name(self)");
    assert!(codes.len() >= 9, "{codes:?}");
    used.extend(codes.into_iter().map(|k| format!("command.{k}")));
    // Every result the history can hold.
    let results = arm_strings("crates/protocol/src/wire.rs", "pub fn kind(&self)");
    assert!(results.len() >= 10, "{results:?}");
    used.extend(results.into_iter().map(|k| format!("result.{k}")));
    used.push("result.signed".into());
    assert!(
        used.len() > 100,
        "the key scan found too little: {}",
        used.len()
    );
    let missing: Vec<_> = used.iter().filter(|k| !kk.contains(*k)).collect();
    assert!(missing.is_empty(), "keys missing from ui/i18n: {missing:?}");
}
