//! Putting the local CA into the user's trust stores: the NSS databases of Chromium
//! (`~/.pki/nssdb`) and Firefox profiles, through `certutil` (Debian: `libnss3-tools`), and with
//! root the system store (`update-ca-certificates`). Nothing but the CA certificate is installed;
//! its private key no longer exists (see `qoltanba_server::tls`).

use std::path::{Path, PathBuf};
use std::process::Command;

/// The nickname the CA has in NSS databases.
pub const NICKNAME: &str = "Qoltanba local CA";
/// Where the system store copy goes (Debian).
pub const SYSTEM_CERT: &str = "/usr/local/share/ca-certificates/qoltanba-local-ca.crt";

/// The NSS databases of the user whose home is `home`: Chromium's (created if missing) and every
/// Firefox profile's.
pub fn nss_databases(home: &Path) -> Vec<PathBuf> {
    let mut dbs = vec![home.join(".pki/nssdb")];
    for base in [
        home.join(".mozilla/firefox"),
        home.join("snap/firefox/common/.mozilla/firefox"),
    ] {
        if let Ok(entries) = std::fs::read_dir(base) {
            for e in entries.flatten() {
                if e.path().join("cert9.db").is_file() {
                    dbs.push(e.path());
                }
            }
        }
    }
    dbs
}

fn certutil(args: &[&str]) -> Result<String, String> {
    let out = Command::new("certutil")
        .args(args)
        .output()
        .map_err(|e| format!("cannot run certutil (install libnss3-tools): {e}"))?;
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    if out.status.success() {
        Ok(text)
    } else {
        Err(text.trim().to_owned())
    }
}

fn db_arg(db: &Path) -> String {
    format!("sql:{}", db.display())
}

/// Installs `ca_pem` into every NSS database (and the system store when `system`). Returns a
/// line per store.
pub fn install(ca_pem: &Path, home: &Path, system: bool) -> Result<Vec<String>, String> {
    let mut done = Vec::new();
    for db in nss_databases(home) {
        if !db.join("cert9.db").is_file() {
            std::fs::create_dir_all(&db).map_err(|e| format!("{}: {e}", db.display()))?;
            certutil(&["-N", "-d", &db_arg(&db), "--empty-password"])?;
        }
        // Replace an older Qoltanba CA (renewal) rather than piling them up.
        let _ = certutil(&["-D", "-d", &db_arg(&db), "-n", NICKNAME]);
        let ca = ca_pem.to_string_lossy();
        certutil(&[
            "-A",
            "-d",
            &db_arg(&db),
            "-n",
            NICKNAME,
            "-t",
            "C,,",
            "-i",
            &ca,
        ])?;
        done.push(format!("installed in {}", db.display()));
    }
    if system {
        std::fs::copy(ca_pem, SYSTEM_CERT).map_err(|e| format!("{SYSTEM_CERT}: {e}"))?;
        let st = Command::new("update-ca-certificates")
            .status()
            .map_err(|e| e.to_string())?;
        if !st.success() {
            return Err("update-ca-certificates failed".into());
        }
        done.push(format!("installed in the system store ({SYSTEM_CERT})"));
    }
    Ok(done)
}

/// Removes the CA from every NSS database (and the system store when `system`).
pub fn remove(home: &Path, system: bool) -> Result<Vec<String>, String> {
    let mut done = Vec::new();
    for db in nss_databases(home) {
        if db.join("cert9.db").is_file()
            && certutil(&["-D", "-d", &db_arg(&db), "-n", NICKNAME]).is_ok()
        {
            done.push(format!("removed from {}", db.display()));
        }
    }
    if system && Path::new(SYSTEM_CERT).exists() {
        std::fs::remove_file(SYSTEM_CERT).map_err(|e| format!("{SYSTEM_CERT}: {e}"))?;
        let _ = Command::new("update-ca-certificates")
            .arg("--fresh")
            .status();
        done.push("removed from the system store".into());
    }
    Ok(done)
}

/// For each NSS database: whether it trusts the CA.
pub fn status(home: &Path) -> Vec<(PathBuf, bool)> {
    nss_databases(home)
        .into_iter()
        .map(|db| {
            let ok = db.join("cert9.db").is_file()
                && certutil(&["-L", "-d", &db_arg(&db), "-n", NICKNAME]).is_ok();
            (db, ok)
        })
        .collect()
}
