//! The browsers' managed policy that lets public sites reach the local signer.
//!
//! Since Chrome 147 a public site needs the person's permission before it may open a WebSocket
//! to `127.0.0.1` (Local Network Access), unless an admin lists the site in
//! `LocalNetworkAccessAllowedForUrls`. This module writes, removes and shows that policy for
//! Google Chrome, Chromium and Microsoft Edge, and nothing else:
//!
//! * **Linux**: one file of ours per browser, `qoltanba.json` in its managed-policy directory
//!   (`/etc/opt/chrome/policies/managed`, `/etc/chromium/policies/managed`,
//!   `/etc/opt/edge/policies/managed`), holding only that policy. Other files there are the
//!   admin's: they are read (a second file setting the same policy is reported as a conflict,
//!   since Chrome does not merge lists across files) and never written.
//! * **Windows**: the browsers' policy keys under `HKLM\SOFTWARE\Policies` (a list policy is a
//!   subkey of values `1`, `2`, …). The values Qoltanba added are also recorded under
//!   `HKLM\SOFTWARE\Qoltanba\BrowserPolicy`, so that `clear` (the MSI's uninstall) removes
//!   exactly those and leaves the admin's own entries.
//!
//! Site patterns are Chrome's URL patterns (`https://*.egov.kz`, `https://egov.kz:443`,
//! `[*.]egov.kz`); they are checked for shape, not rewritten.

use std::path::{Path, PathBuf};

/// The policy's name.
pub const POLICY: &str = "LocalNetworkAccessAllowedForUrls";

/// Our file's name in each managed-policy directory (Linux).
pub const FILE_NAME: &str = "qoltanba.json";

/// A browser whose policy is managed.
#[derive(Debug, Clone, Copy)]
pub struct Browser {
    /// Its name for people.
    pub name: &'static str,
    /// Linux: the managed-policy directory.
    pub linux_dir: &'static str,
    /// Windows: the policy key under `HKLM\SOFTWARE\Policies`.
    pub windows_key: &'static str,
}

/// Chrome, Chromium, Edge.
pub const BROWSERS: &[Browser] = &[
    Browser {
        name: "Google Chrome",
        linux_dir: "/etc/opt/chrome/policies/managed",
        windows_key: r"Google\Chrome",
    },
    Browser {
        name: "Chromium",
        linux_dir: "/etc/chromium/policies/managed",
        windows_key: "Chromium",
    },
    Browser {
        name: "Microsoft Edge",
        linux_dir: "/etc/opt/edge/policies/managed",
        windows_key: r"Microsoft\Edge",
    },
];

/// Why the policy could not be changed or read.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum PolicyError {
    /// A site pattern Chrome would not accept.
    #[error(
        "{0:?} is not a site pattern (examples: https://*.egov.kz, https://egov.kz:443, [*.]egov.kz)"
    )]
    BadPattern(String),
    /// Writing needs administrator rights.
    #[error(
        "{0}: permission denied (browser policies are machine-wide: run as root / administrator)"
    )]
    Denied(String),
    /// Another I/O or registry failure.
    #[error("{0}")]
    Io(String),
}

/// Checks a site pattern's shape: `scheme://host[:port][/path]` with `*` only as the leading
/// label of the host, or `[*.]host`, or a bare host; at most 2048 characters, no spaces or
/// quotes.
pub fn check_pattern(p: &str) -> Result<(), PolicyError> {
    let bad = || PolicyError::BadPattern(p.chars().take(100).collect());
    if p.is_empty()
        || p.len() > 2048
        || p.chars().any(|c| {
            c.is_whitespace() || c.is_control() || matches!(c, '"' | '\'' | '\\' | '<' | '>')
        })
    {
        return Err(bad());
    }
    let rest = match p.split_once("://") {
        Some((scheme, rest)) => {
            if scheme != "*"
                && !(scheme
                    .chars()
                    .next()
                    .is_some_and(|c| c.is_ascii_alphabetic())
                    && scheme
                        .chars()
                        .all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.')))
            {
                return Err(bad());
            }
            rest
        }
        None => p.strip_prefix("[*.]").unwrap_or(p),
    };
    let host_port = rest.split('/').next().unwrap_or_default();
    let host = match host_port.rsplit_once(':') {
        Some((h, port)) if !h.ends_with(']') || host_port.starts_with('[') => {
            if port != "*" && port.parse::<u16>().is_err() {
                return Err(bad());
            }
            h
        }
        _ => host_port,
    };
    let host = host.strip_prefix("*.").unwrap_or(host);
    let ok_label = |l: &str| !l.is_empty() && l.chars().all(|c| c.is_alphanumeric() || c == '-');
    let ip6 = host.starts_with('[') && host.ends_with(']');
    if host == "*" || ip6 || host.split('.').all(ok_label) {
        Ok(())
    } else {
        Err(bad())
    }
}

/// What one browser's policy holds now.
#[derive(Debug, Clone, serde::Serialize)]
pub struct BrowserState {
    /// The browser.
    pub browser: &'static str,
    /// Where Qoltanba keeps its part (a file, or a registry key).
    pub location: String,
    /// The sites Qoltanba put there.
    pub sites: Vec<String>,
    /// Other places that set the same policy (files of the admin's; on Windows, entries not
    /// added by Qoltanba).
    pub others: Vec<String>,
}

/// The managed policy store of this machine (Linux files under `root`, `/` normally; the
/// Windows registry).
#[derive(Debug, Clone)]
pub struct PolicyStore {
    root: PathBuf,
}

impl Default for PolicyStore {
    fn default() -> Self {
        Self::new(Path::new("/"))
    }
}

#[cfg(not(windows))]
fn io(path: &Path, e: &std::io::Error) -> PolicyError {
    if e.kind() == std::io::ErrorKind::PermissionDenied {
        PolicyError::Denied(path.display().to_string())
    } else {
        PolicyError::Io(format!("{}: {e}", path.display()))
    }
}

impl PolicyStore {
    /// The store with Linux paths under `root` (tests give a temporary directory).
    pub fn new(root: &Path) -> Self {
        Self {
            root: root.to_owned(),
        }
    }

    fn dir(&self, b: &Browser) -> PathBuf {
        self.root.join(b.linux_dir.trim_start_matches('/'))
    }

    /// Our sites in `b`'s policy.
    #[cfg_attr(windows, allow(clippy::unnecessary_wraps))] // reading files fails; the registry reads as empty
    fn read(&self, b: &Browser) -> Result<Vec<String>, PolicyError> {
        #[cfg(windows)]
        {
            let _ = self;
            Ok(windows::read_ours(b))
        }
        #[cfg(not(windows))]
        {
            let path = self.dir(b).join(FILE_NAME);
            let text = match std::fs::read_to_string(&path) {
                Ok(t) => t,
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
                Err(e) => return Err(io(&path, &e)),
            };
            let v: serde_json::Value = serde_json::from_str(&text)
                .map_err(|e| PolicyError::Io(format!("{}: {e}", path.display())))?;
            Ok(v[POLICY]
                .as_array()
                .map(|a| {
                    a.iter()
                        .filter_map(|s| s.as_str().map(str::to_owned))
                        .collect()
                })
                .unwrap_or_default())
        }
    }

    /// Writes our sites for `b` (none: our part is removed).
    fn write(&self, b: &Browser, sites: &[String]) -> Result<(), PolicyError> {
        #[cfg(windows)]
        {
            let _ = self;
            windows::write_ours(b, sites)
        }
        #[cfg(not(windows))]
        {
            let dir = self.dir(b);
            let path = dir.join(FILE_NAME);
            if sites.is_empty() {
                match std::fs::remove_file(&path) {
                    Ok(()) => {}
                    Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                    Err(e) => return Err(io(&path, &e)),
                }
                // The directories we may have made, when nothing else is in them; the
                // browser's own configuration directory (`/etc/chromium`) is never touched.
                let _ = std::fs::remove_dir(&dir);
                if let Some(policies) = dir.parent() {
                    let _ = std::fs::remove_dir(policies);
                    if b.linux_dir.starts_with("/etc/opt/")
                        && let Some(vendor) = policies.parent()
                    {
                        let _ = std::fs::remove_dir(vendor);
                        if let Some(opt) = vendor.parent() {
                            let _ = std::fs::remove_dir(opt);
                        }
                    }
                }
                return Ok(());
            }
            std::fs::create_dir_all(&dir).map_err(|e| io(&dir, &e))?;
            let text = serde_json::to_string_pretty(&serde_json::json!({ POLICY: sites }))
                .map_err(|e| PolicyError::Io(e.to_string()))?;
            let tmp = dir.join(format!(".{FILE_NAME}.tmp"));
            std::fs::write(&tmp, format!("{text}\n")).map_err(|e| io(&tmp, &e))?;
            std::fs::rename(&tmp, &path).map_err(|e| io(&path, &e))
        }
    }

    /// Adds `sites` to every browser's policy (kept in the order given, without duplicates).
    pub fn allow(&self, sites: &[String]) -> Result<Vec<BrowserState>, PolicyError> {
        for s in sites {
            check_pattern(s)?;
        }
        for b in BROWSERS {
            let mut ours = self.read(b)?;
            for s in sites {
                if !ours.contains(s) {
                    ours.push(s.clone());
                }
            }
            self.write(b, &ours)?;
        }
        self.show()
    }

    /// Removes `sites` from every browser's policy.
    pub fn remove(&self, sites: &[String]) -> Result<Vec<BrowserState>, PolicyError> {
        for b in BROWSERS {
            let mut ours = self.read(b)?;
            ours.retain(|s| !sites.contains(s));
            self.write(b, &ours)?;
        }
        self.show()
    }

    /// Removes every site Qoltanba added (packages' uninstall).
    pub fn clear(&self) -> Result<Vec<BrowserState>, PolicyError> {
        for b in BROWSERS {
            self.write(b, &[])?;
        }
        self.show()
    }

    /// What each browser's policy holds now.
    pub fn show(&self) -> Result<Vec<BrowserState>, PolicyError> {
        BROWSERS
            .iter()
            .map(|b| {
                Ok(BrowserState {
                    browser: b.name,
                    location: self.location(b),
                    sites: self.read(b)?,
                    others: self.others(b),
                })
            })
            .collect()
    }

    fn location(&self, b: &Browser) -> String {
        if cfg!(windows) {
            format!(r"HKLM\SOFTWARE\Policies\{}\{POLICY}", b.windows_key)
        } else {
            self.dir(b).join(FILE_NAME).display().to_string()
        }
    }

    /// Other sources of the same policy.
    fn others(&self, b: &Browser) -> Vec<String> {
        #[cfg(windows)]
        {
            let _ = self;
            windows::others(b)
        }
        #[cfg(not(windows))]
        {
            let mut out = Vec::new();
            let Ok(entries) = std::fs::read_dir(self.dir(b)) else {
                return out;
            };
            for e in entries.flatten() {
                let p = e.path();
                if p.file_name().is_some_and(|n| n == FILE_NAME)
                    || p.extension().is_none_or(|x| x != "json")
                {
                    continue;
                }
                let sets = std::fs::read_to_string(&p)
                    .ok()
                    .and_then(|t| serde_json::from_str::<serde_json::Value>(&t).ok())
                    .is_some_and(|v| v.get(POLICY).is_some());
                if sets {
                    out.push(p.display().to_string());
                }
            }
            out.sort();
            out
        }
    }
}

#[cfg(windows)]
mod windows {
    //! The registry side (through `windows-registry`, Microsoft's safe wrapper).

    use windows_registry::LOCAL_MACHINE;

    use super::{Browser, POLICY, PolicyError};

    /// Where Qoltanba records the values it added, per browser.
    const OURS: &str = r"SOFTWARE\Qoltanba\BrowserPolicy";

    fn list_key(b: &Browser) -> String {
        format!(r"SOFTWARE\Policies\{}\{POLICY}", b.windows_key)
    }

    /// `E_ACCESSDENIED` as an HRESULT.
    const ACCESS_DENIED: i32 = 0x8007_0005_u32.cast_signed();

    fn err(what: &str, e: &windows_result::Error) -> PolicyError {
        if e.code().0 == ACCESS_DENIED {
            PolicyError::Denied(what.to_owned())
        } else {
            PolicyError::Io(format!("{what}: {e}"))
        }
    }

    /// The values of a list key, in order (`1`, `2`, …).
    fn list(path: &str) -> Vec<String> {
        let Ok(k) = LOCAL_MACHINE.open(path) else {
            return Vec::new();
        };
        let mut out = Vec::new();
        for i in 1.. {
            match k.get_string(i.to_string()) {
                Ok(s) => out.push(s),
                Err(_) => break,
            }
        }
        out
    }

    fn write_list(path: &str, items: &[String]) -> Result<(), PolicyError> {
        if items.is_empty() {
            if let Err(e) = LOCAL_MACHINE.remove_tree(path)
                && LOCAL_MACHINE.open(path).is_ok()
            {
                return Err(err(path, &e));
            }
            prune(path);
            return Ok(());
        }
        let k = LOCAL_MACHINE.create(path).map_err(|e| err(path, &e))?;
        let old = list(path);
        for (i, s) in items.iter().enumerate() {
            k.set_string((i + 1).to_string(), s)
                .map_err(|e| err(path, &e))?;
        }
        for i in items.len()..old.len() {
            let _ = k.remove_value((i + 1).to_string());
        }
        Ok(())
    }

    /// Removes the parents of `path` that are left empty (a browser's policy key we made, our
    /// own record), up to `SOFTWARE\\Policies` and `SOFTWARE`, which stay.
    fn prune(path: &str) {
        let mut p = path;
        while let Some((parent, _)) = p.rsplit_once('\\') {
            if parent.eq_ignore_ascii_case("SOFTWARE")
                || parent.eq_ignore_ascii_case(r"SOFTWARE\Policies")
            {
                return;
            }
            let empty = LOCAL_MACHINE.open(parent).is_ok_and(|k| {
                k.keys().is_ok_and(|mut i| i.next().is_none())
                    && k.values().is_ok_and(|mut i| i.next().is_none())
            });
            if !empty || LOCAL_MACHINE.remove_tree(parent).is_err() {
                return;
            }
            p = parent;
        }
    }

    pub(super) fn read_ours(b: &Browser) -> Vec<String> {
        list(&format!(r"{OURS}\{}", b.windows_key))
    }

    pub(super) fn write_ours(b: &Browser, sites: &[String]) -> Result<(), PolicyError> {
        let ours_before = read_ours(b);
        let all = list(&list_key(b));
        // The admin's own entries stay; ours are replaced.
        let mut merged: Vec<String> = all
            .into_iter()
            .filter(|s| !ours_before.contains(s))
            .collect();
        for s in sites {
            if !merged.contains(s) {
                merged.push(s.clone());
            }
        }
        write_list(&list_key(b), &merged)?;
        write_list(&format!(r"{OURS}\{}", b.windows_key), sites)
    }

    pub(super) fn others(b: &Browser) -> Vec<String> {
        let ours = read_ours(b);
        list(&list_key(b))
            .into_iter()
            .filter(|s| !ours.contains(s))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn patterns_are_checked_for_shape() {
        for ok in [
            "https://*.egov.kz",
            "https://egov.kz:443",
            "[*.]egov.kz",
            "egov.kz",
            "http://127.0.0.1:8080",
            "https://portal.gov.kz/path",
            "*://*.kz",
            "https://*",
        ] {
            assert!(check_pattern(ok).is_ok(), "{ok}");
        }
        for bad in [
            "",
            "https://",
            "https://a b.kz",
            "https://egov.kz:99999",
            "https://ev\"il.kz",
            "1https://x.kz",
            "https://*.*.kz",
            "https://a..kz",
        ] {
            assert!(check_pattern(bad).is_err(), "{bad}");
        }
    }

    #[cfg(not(windows))]
    #[test]
    fn allow_remove_and_show_round_trip_in_files_of_our_own() {
        let root = tempfile::tempdir().unwrap();
        let store = PolicyStore::new(root.path());
        // An admin's own file setting the same policy is reported, never written.
        let chromium = root.path().join("etc/chromium/policies/managed");
        std::fs::create_dir_all(&chromium).unwrap();
        let admin = chromium.join("site.json");
        std::fs::write(
            &admin,
            r#"{"LocalNetworkAccessAllowedForUrls": ["https://x.kz"]}"#,
        )
        .unwrap();
        let s = store
            .allow(&[
                "https://*.egov.kz".into(),
                "https://*.gov.kz".into(),
                "https://*.egov.kz".into(),
            ])
            .unwrap();
        assert_eq!(s.len(), 3);
        for b in &s {
            assert_eq!(b.sites, ["https://*.egov.kz", "https://*.gov.kz"], "{b:?}");
        }
        let file = root
            .path()
            .join("etc/opt/chrome/policies/managed/qoltanba.json");
        let v: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(&file).unwrap()).unwrap();
        assert_eq!(
            v,
            serde_json::json!({POLICY: ["https://*.egov.kz", "https://*.gov.kz"]})
        );
        let chromium_state = s.iter().find(|b| b.browser == "Chromium").unwrap();
        assert_eq!(chromium_state.others, [admin.display().to_string()]);
        let s = store.remove(&["https://*.egov.kz".into()]).unwrap();
        assert!(s.iter().all(|b| b.sites == ["https://*.gov.kz"]));
        let s = store.remove(&["https://*.gov.kz".into()]).unwrap();
        assert!(s.iter().all(|b| b.sites.is_empty()));
        // Our files and the directories we made are gone; the admin's file stays.
        assert!(!file.exists());
        assert!(!root.path().join("etc/opt/chrome").exists());
        assert!(!root.path().join("etc/opt").exists());
        assert!(admin.exists());
        assert!(matches!(
            store.allow(&["https://bad host".into()]),
            Err(PolicyError::BadPattern(_))
        ));
    }
}
