//! `qoltanba serve`, `qoltanba trust …` and `qoltanba origins …`: wiring the libraries to the
//! server edge.
#![allow(clippy::print_stdout)]

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;

use anyhow::{Context, Result, anyhow, bail};
use qoltanba_local::origins::FileOriginStore;
use qoltanba_local::policy::load_policy;
use qoltanba_local::{paths, trust};
use qoltanba_protocol::Prompter;
use qoltanba_server::engine::{Engine, EngineConfig, PromptLimits};
use qoltanba_server::tls;

/// Arguments of `serve`.
pub(crate) struct Serve {
    pub(crate) listen: SocketAddr,
    pub(crate) tls: bool,
    pub(crate) trust_anchors: Vec<PathBuf>,
    #[cfg(feature = "unattended")]
    pub(crate) unattended: Option<PathBuf>,
    pub(crate) data_dir: Option<PathBuf>,
    pub(crate) policy: Option<PathBuf>,
    pub(crate) max_message: usize,
    pub(crate) tsa: Option<String>,
    pub(crate) ocsp: Option<String>,
    pub(crate) nss_db: Option<PathBuf>,
}

/// The data directory: `--data-dir`, else `$XDG_DATA_HOME/qoltanba`, else
/// `~/.local/share/qoltanba`.
pub(crate) fn data_dir(given: Option<&Path>) -> Result<PathBuf> {
    Ok(paths::data_dir(given)?)
}

/// The prompter: the terminal one, or in test builds the unattended one when `--unattended`
/// is given. Only the terminal one is limited per origin (the unattended one asks nobody).
/// The terminal prompter is returned again by its type, to be given the trust anchors once the
/// engine has them (each offer shows its chain state).
type Prompting = (
    Arc<dyn Prompter>,
    Option<PromptLimits>,
    Option<Arc<crate::terminal::TerminalPrompter>>,
);

fn prompter(a: &Serve) -> Result<Prompting> {
    #[cfg(feature = "unattended")]
    if let Some(path) = &a.unattended {
        eprintln!(
            "qoltanba: WARNING: UNATTENDED TEST MODE — every prompt is answered from {}",
            path.display()
        );
        eprintln!("qoltanba: WARNING: this build must never be installed for real users");
        return Ok((
            Arc::new(crate::unattended::UnattendedPrompter::load(path)?),
            None,
            None,
        ));
    }
    let _ = a;
    let terminal = Arc::new(crate::terminal::TerminalPrompter::new());
    Ok((
        terminal.clone(),
        Some(PromptLimits::default()),
        Some(terminal),
    ))
}

/// Runs the server until Ctrl-C.
pub(crate) fn serve(a: &Serve) -> Result<ExitCode> {
    let (prompter, prompt_limits, terminal) = prompter(a)?;
    let config = EngineConfig {
        listen: a.listen,
        tls: a.tls,
        trust_anchors: a.trust_anchors.clone(),
        data_dir: a.data_dir.clone(),
        policy: a.policy.clone(),
        max_message: a.max_message,
        prompt_limits,
        tsa_url: a.tsa.clone(),
        ocsp_url: a.ocsp.clone(),
        nss_db: a.nss_db.clone(),
        ..EngineConfig::default()
    };
    let engine = Engine::build(&config, prompter)?;
    if let Some(t) = terminal {
        t.set_anchors(engine.dispatcher.settings().trust_anchors.clone());
    }
    for n in &engine.notices {
        eprintln!("qoltanba: {n}");
    }
    let runtime = Engine::runtime()?;
    runtime.block_on(async move {
        let listener = engine.bind().await?;
        let local = listener.local_addr()?;
        let scheme = engine.scheme();
        // A machine-readable line for scripts and tests (the port may have been 0).
        println!("LISTENING {scheme}://{local}");
        eprintln!("qoltanba: serving the NCALayer protocol on {scheme}://{local} (Ctrl-C to stop)");
        let (tx, rx) = tokio::sync::watch::channel(false);
        tokio::spawn(async move {
            let _ = tokio::signal::ctrl_c().await;
            let _ = tx.send(true);
        });
        engine.run(listener, rx).await?;
        Ok(ExitCode::SUCCESS)
    })
}

fn home() -> Result<PathBuf> {
    Ok(paths::home()?)
}

/// `qoltanba trust install|remove|status|update`.
pub(crate) fn trust_cmd(
    action: &str,
    data_dir: Option<&Path>,
    system: bool,
    from: Option<&Path>,
    base_url: Option<&str>,
) -> Result<ExitCode> {
    let data = data_dir_or(data_dir)?;
    match action {
        "install" => {
            let (_, renewed) = tls::ensure(&data)?;
            if renewed {
                println!("made a new local certificate");
            }
            for line in trust::install(&tls::TlsPaths::in_dir(&data).ca, &home()?, system)
                .map_err(|e| anyhow!(e))?
            {
                println!("{line}");
            }
        }
        "remove" => {
            for line in trust::remove(&home()?, system).map_err(|e| anyhow!(e))? {
                println!("{line}");
            }
        }
        "status" => {
            let st = trust::status(&home()?);
            for (db, ok) in &st {
                println!(
                    "{}: {}",
                    db.display(),
                    if *ok { "trusted" } else { "not trusted" }
                );
            }
            if !st.iter().any(|(_, ok)| *ok) {
                return Ok(ExitCode::from(1));
            }
        }
        "update" => {
            let dest = data.join("anchors");
            std::fs::create_dir_all(&dest)?;
            let found = match from {
                Some(dir) => certificates_in(dir)?,
                None => download_pinned(base_url),
            };
            let mut n = 0;
            for (source, der) in found {
                match qoltanba_pki::anchors::pinned(&der) {
                    Some(pin) => {
                        std::fs::write(dest.join(pin.name), &der)?;
                        println!("{}: matches the pinned fingerprint", pin.name);
                        n += 1;
                    }
                    None => {
                        println!("{source}: not an NCA certificate known to this version, skipped");
                    }
                }
            }
            if n == 0 {
                return Ok(ExitCode::from(1));
            }
        }
        other => bail!("unknown trust action {other}"),
    }
    Ok(ExitCode::SUCCESS)
}

fn data_dir_or(d: Option<&Path>) -> Result<PathBuf> {
    data_dir(d)
}

/// `qoltanba origins list|revoke ORIGIN`.
pub(crate) fn origins_cmd(
    action: &str,
    origin: Option<&str>,
    data_dir: Option<&Path>,
) -> Result<ExitCode> {
    let store = FileOriginStore::open(&data_dir_or(data_dir)?);
    match (action, origin) {
        ("list", _) => {
            for o in store.list() {
                println!("{o}");
            }
        }
        ("revoke", Some(o)) => {
            if !store.revoke(o)? {
                println!("{o} was not allowed");
                return Ok(ExitCode::from(1));
            }
            println!("{o}: revoked");
        }
        _ => bail!("usage: qoltanba origins list | revoke ORIGIN"),
    }
    Ok(ExitCode::SUCCESS)
}

/// `qoltanba tokens list`.
pub(crate) fn tokens_list(
    modules: &[PathBuf],
    policy_path: Option<&Path>,
    json: bool,
) -> Result<ExitCode> {
    let mut configured: Vec<qoltanba_pkcs11::ModuleConfig> = modules
        .iter()
        .map(|m| qoltanba_pkcs11::ModuleConfig {
            storage: "PKCS11".into(),
            module: m.clone(),
        })
        .collect();
    configured.extend(policy_tokens(policy_path)?);
    let dir = qoltanba_pkcs11::TokenDirectory::new(qoltanba_pkcs11::discover(&configured));
    let (tokens, errors) = dir.list();
    if json {
        let v = serde_json::json!({
            "tokens": tokens,
            "errors": errors.iter().map(ToString::to_string).collect::<Vec<_>>(),
        });
        println!("{}", serde_json::to_string_pretty(&v)?);
    } else {
        for t in &tokens {
            println!(
                "{} [{}] {} {} serial {} (slot {}, {})",
                t.storage,
                t.label,
                t.manufacturer,
                t.model,
                t.serial,
                t.slot,
                t.module.display()
            );
            if t.pin.locked {
                println!("  PIN LOCKED");
            } else if t.pin.final_try {
                println!("  one PIN try left");
            } else if t.pin.count_low {
                println!("  a wrong PIN was entered before");
            }
            for c in &t.certificates {
                let d = c.details.as_ref();
                println!(
                    "  cert {} {} IIN {} {}",
                    c.id,
                    d.and_then(|d| d.full_name.clone()).unwrap_or_default(),
                    d.and_then(|d| d.iin.clone()).unwrap_or_default(),
                    d.map(|d| d.key_algorithm.label()).unwrap_or_default()
                );
            }
        }
        for e in &errors {
            eprintln!("qoltanba: {e}");
        }
        if tokens.is_empty() {
            println!("no tokens");
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// `[[tokens]]` of the policy file.
pub(crate) fn policy_tokens(path: Option<&Path>) -> Result<Vec<qoltanba_pkcs11::ModuleConfig>> {
    Ok(load_policy(path)?.tokens)
}

/// Every certificate in the files of `dir`, with the file it came from.
fn certificates_in(dir: &Path) -> Result<Vec<(String, Vec<u8>)>> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir)
        .with_context(|| format!("cannot read {}", dir.display()))?
        .flatten()
    {
        let Ok(bytes) = std::fs::read(e.path()) else {
            continue;
        };
        for der in qoltanba_sign::input::decode_certificates(&bytes).unwrap_or_default() {
            out.push((e.path().display().to_string(), der));
        }
    }
    Ok(out)
}

/// Downloads every pinned NCA certificate from its official address (or from `base_url` + the
/// file name, for a mirror). A failed download is reported and the others go on.
fn download_pinned(base_url: Option<&str>) -> Vec<(String, Vec<u8>)> {
    let _ = rustls::crypto::aws_lc_rs::default_provider().install_default();
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .timeout_global(Some(std::time::Duration::from_secs(30)))
        .build()
        .into();
    let mut out = Vec::new();
    for pin in qoltanba_pki::anchors::NCA_PINS {
        let url = match base_url {
            Some(b) => format!("{}/{}", b.trim_end_matches('/'), pin.name),
            None => pin.url.to_owned(),
        };
        let body = agent
            .get(&url)
            .call()
            .map_err(|e| e.to_string())
            .and_then(|mut r| {
                r.body_mut()
                    .with_config()
                    .limit(1 << 20)
                    .read_to_vec()
                    .map_err(|e| e.to_string())
            });
        match body {
            Ok(bytes) => match qoltanba_sign::input::decode_certificates(&bytes) {
                Ok(certs) => out.extend(certs.into_iter().map(|c| (url.clone(), c))),
                Err(_) => eprintln!("qoltanba: {url}: not a certificate"),
            },
            Err(e) => eprintln!("qoltanba: cannot download {url}: {e}"),
        }
    }
    out
}
