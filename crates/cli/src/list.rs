//! `qoltanba keys list`: every key the engine can offer, from the same sources the server
//! uses (remembered key files, tokens, the OS store); `qoltanba admin browser-policy`.
#![allow(clippy::print_stdout)] // printing is this module's job

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::Result;
use qoltanba_keys::{Candidate, KeyProvider, Location, SecretKind};
use qoltanba_local::policy::load_policy;
use qoltanba_osstore::{OsStore, STORAGE_OS, thumbprint};
use qoltanba_pki::KeyKind;
use qoltanba_server::engine::{self, EngineConfig, KeySources};
use serde_json::{Value, json};
use time::format_description::well_known::Rfc3339;

/// Where to look.
pub(crate) struct Sources {
    pub(crate) modules: Vec<PathBuf>,
    pub(crate) policy: Option<PathBuf>,
    pub(crate) data_dir: Option<PathBuf>,
    pub(crate) nss_db: Option<PathBuf>,
}

/// The OS store as the admin policy (and `--nss-db`) say.
pub(crate) fn os_store(nss_db: Option<&Path>) -> Result<OsStore> {
    let policy = load_policy(None)?;
    let config = EngineConfig {
        nss_db: nss_db.map(Path::to_path_buf),
        ..EngineConfig::default()
    };
    Ok(OsStore::new(&engine::os_store_config(&config, &policy)))
}

/// The storage shown for a candidate: `OS` for the OS store, else the one it is offered as.
fn shown_storage(c: &Candidate) -> &str {
    match c.location {
        Location::OsStore { .. } => STORAGE_OS,
        _ => &c.storage,
    }
}

fn kind(k: KeyKind) -> &'static str {
    match k {
        KeyKind::Auth => "AUTH",
        KeyKind::Sign => "SIGN",
        KeyKind::Both => "AUTH+SIGN",
        KeyKind::Unknown => "unknown",
    }
}

fn entry(c: &Candidate) -> Value {
    let now = time::OffsetDateTime::now_utc();
    let cert = c.certificate.as_ref();
    let d = cert.map(|k| &k.details);
    let time = |t: time::OffsetDateTime| t.format(&Rfc3339).unwrap_or_default();
    json!({
        "storage": shown_storage(c),
        "offered_as": c.storage,
        "location": c.location.describe(),
        "thumbprint": cert.map(|k| thumbprint(&k.der)),
        "name": d.and_then(|d| d.full_name.clone().or_else(|| d.subject_cn.clone())),
        "iin": d.and_then(|d| d.iin.clone()),
        "bin": d.and_then(|d| d.bin.clone()),
        "organization": d.and_then(|d| d.organization.clone()),
        "usage": d.map(|d| kind(d.key_kind)),
        "key_algorithm": d.map(|d| d.key_algorithm.label()),
        "not_before": d.map(|d| time(d.not_before)),
        "not_after": d.map(|d| time(d.not_after)),
        "validity": d.map(|d| d.validity_at(now)),
        "serial": d.map(|d| d.serial.clone()),
        "secret": match c.secret {
            SecretKind::Password => "password",
            SecretKind::Pin => "pin",
            SecretKind::None => "none",
        },
        "locked": c.tries.locked,
    })
}

/// `qoltanba keys list`.
pub(crate) fn keys_list(s: &Sources, json_out: bool) -> Result<ExitCode> {
    let mut policy = load_policy(s.policy.as_deref())?;
    policy
        .tokens
        .extend(s.modules.iter().map(|m| qoltanba_pkcs11::ModuleConfig {
            storage: "PKCS11".into(),
            module: m.clone(),
        }));
    let config = EngineConfig {
        data_dir: s.data_dir.clone(),
        policy: s.policy.clone(),
        nss_db: s.nss_db.clone(),
        ..EngineConfig::default()
    };
    let sources = KeySources::new(&config, &policy)?;
    let providers: [&dyn KeyProvider; 3] = [
        sources.key_files.as_ref(),
        sources.tokens.as_ref(),
        sources.os_store.as_ref(),
    ];
    let (mut keys, mut problems) = (Vec::new(), Vec::new());
    for p in providers {
        let listing = p.candidates();
        keys.extend(listing.candidates);
        problems.extend(
            listing
                .problems
                .into_iter()
                .map(|e| format!("{}: {e}", p.name())),
        );
    }
    let entries: Vec<Value> = keys.iter().map(entry).collect();
    if json_out {
        let v = json!({ "keys": entries, "problems": problems });
        println!("{}", serde_json::to_string_pretty(&v)?);
    } else {
        if entries.is_empty() {
            println!(
                "no keys found (key files are listed once opened here; tokens when connected)"
            );
        }
        for e in &entries {
            let text = |k: &str| e[k].as_str().unwrap_or("—").to_owned();
            println!(
                "{:<8} {}  {}",
                text("storage"),
                text("thumbprint"),
                text("location")
            );
            println!("         {}", text("name"));
            let ids = if e["bin"].is_null() {
                format!("IIN {}", text("iin"))
            } else {
                format!("IIN {}, BIN {}", text("iin"), text("bin"))
            };
            println!(
                "         {ids} · {} · {} · valid {} … {} ({})",
                text("usage"),
                text("key_algorithm"),
                text("not_before"),
                text("not_after"),
                e["validity"].as_str().unwrap_or("unknown"),
            );
        }
        for p in &problems {
            eprintln!("qoltanba: {p}");
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// `qoltanba admin browser-policy allow|remove|clear|show`.
pub(crate) fn browser_policy(
    action: &str,
    sites: &[String],
    root: Option<&Path>,
    json_out: bool,
) -> Result<ExitCode> {
    use qoltanba_local::browser_policy::{POLICY, PolicyStore};
    let store = root.map_or_else(PolicyStore::default, PolicyStore::new);
    if matches!(action, "allow" | "remove") && sites.is_empty() {
        anyhow::bail!(
            "name the sites, e.g. qoltanba admin browser-policy {action} https://*.egov.kz"
        );
    }
    if matches!(action, "clear" | "show") && !sites.is_empty() {
        anyhow::bail!("`{action}` takes no sites");
    }
    let state = match action {
        "allow" => store.allow(sites)?,
        "remove" => store.remove(sites)?,
        "clear" => store.clear()?,
        _ => store.show()?,
    };
    if json_out {
        println!(
            "{}",
            serde_json::to_string_pretty(&json!({ "policy": POLICY, "browsers": state }))?
        );
        return Ok(ExitCode::SUCCESS);
    }
    for b in &state {
        println!("{}: {}", b.browser, b.location);
        if b.sites.is_empty() {
            println!("  {POLICY}: nothing set by Qoltanba");
        }
        for s in &b.sites {
            println!("  allows {s}");
        }
        for o in &b.others {
            println!("  also set elsewhere: {o} (Chrome does not merge lists from two sources)");
        }
    }
    Ok(ExitCode::SUCCESS)
}
