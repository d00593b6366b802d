//! `qoltanba-desktop`: the tray app. It starts the same engine as `qoltanba serve`
//! ([`qoltanba_server::engine::Engine`]) and implements its prompter with windows; it has no
//! signing logic of its own. Options are `serve`'s (`--listen`, `--tls`, `--trust-anchor`,
//! `--policy`, `--data-dir`); it prints the same `LISTENING …` line.
#![forbid(unsafe_code)]
#![cfg_attr(all(windows, not(debug_assertions)), windows_subsystem = "windows")]

mod failure;
mod instance;
mod panels;
mod prompter;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

use clap::Parser;
use qoltanba_server::engine::{Engine, EngineConfig, PromptLimits};
use tauri::menu::{Menu, MenuItem, PredefinedMenuItem};
use tauri::tray::TrayIconBuilder;
use tauri::{AppHandle, Manager, RunEvent, WebviewWindow, WindowEvent};

use crate::panels::{Panels, show_main};
use crate::prompter::{Answer, WindowPrompter, call_of};
use qoltanba_protocol::view::PromptView;

/// Qoltanba — the signing client for Kazakhstan's e-government, as a tray app.
#[derive(Debug, Parser)]
#[command(name = "qoltanba-desktop", version, about)]
struct Args {
    /// Address to listen on.
    #[arg(long, default_value = "127.0.0.1:13579")]
    listen: SocketAddr,
    /// `local-ca`: wss with the per-install certificate; `off`: plain ws (tests).
    #[arg(long, default_value = "local-ca", value_parser = ["local-ca", "off"])]
    tls: String,
    /// Extra trust anchors (PEM/DER); repeatable.
    #[arg(long, value_name = "PEM")]
    trust_anchor: Vec<PathBuf>,
    /// Data directory (default $XDG_DATA_HOME/qoltanba).
    #[arg(long, value_name = "DIR")]
    data_dir: Option<PathBuf>,
    /// Admin policy file (default /etc/qoltanba/policy.toml when present).
    #[arg(long, value_name = "FILE")]
    policy: Option<PathBuf>,
    /// Timestamp authority URL for CAdES-T (default: the policy file's `[tsa]`, else NCA's).
    #[arg(long, value_name = "URL")]
    tsa: Option<String>,
    /// The NSS database offered as the OS store (default: the policy's, else ~/.pki/nssdb).
    #[arg(long, value_name = "DIR")]
    nss_db: Option<PathBuf>,
    /// Start in the tray without showing the main window (the autostart entry uses this).
    #[arg(long)]
    minimized: bool,
}

/// The revocation state of one offer in the calling window (OCSP/CRL over the network, off the
/// main thread).
#[tauri::command]
async fn revocation_state(
    window: WebviewWindow,
    prompts: tauri::State<'_, Arc<WindowPrompter>>,
    id: String,
) -> failure::CommandResult<Option<qoltanba_pki::revocation::RevocationState>> {
    let Some(call) = call_of(window.label()) else {
        return Ok(None);
    };
    let prompts = prompts.inner().clone();
    tauri::async_runtime::spawn_blocking(move || prompts.revocation_state(call, &id))
        .await
        .map_err(failure::CommandError::of(failure::Code::Internal))
}

/// What the window of the calling webview shows.
#[tauri::command]
#[allow(clippy::needless_pass_by_value)] // Tauri passes command arguments by value
fn call_state(
    window: WebviewWindow,
    prompts: tauri::State<'_, Arc<WindowPrompter>>,
) -> Option<PromptView> {
    prompts.view(call_of(window.label())?)
}

/// The person's answer from the calling window.
#[tauri::command]
#[allow(clippy::needless_pass_by_value)] // Tauri passes command arguments by value
fn call_answer(
    window: WebviewWindow,
    prompts: tauri::State<'_, Arc<WindowPrompter>>,
    answer: Answer,
) {
    if let Some(id) = call_of(window.label()) {
        prompts.answer(id, answer);
    }
}

/// The tray's menu: the engine's state, the last signatures, the windows, quit.
fn tray_menu(app: &AppHandle, panels: &Panels) -> tauri::Result<Menu<tauri::Wry>> {
    let st = panels.status();
    let tr = Tray::for_locale(&st.locale);
    let state = match (&st.listening, &st.error) {
        (Some(url), _) => format!("{} {url}", tr.t("tray.listening")),
        (None, Some(e)) => format!("{} {e}", tr.t("tray.error")),
        (None, None) => tr.t("tray.starting"),
    };
    let state = MenuItem::with_id(app, "state", state, false, None::<&str>)?;
    let mut items: Vec<Box<dyn tauri::menu::IsMenuItem<tauri::Wry>>> = vec![Box::new(state)];
    items.push(Box::new(PredefinedMenuItem::separator(app)?));
    if st.recent.is_empty() {
        items.push(Box::new(MenuItem::with_id(
            app,
            "none",
            tr.t("tray.no_activity"),
            false,
            None::<&str>,
        )?));
    }
    for (i, e) in st.recent.iter().take(3).enumerate() {
        let who = e.certificate.as_ref().map_or("", |c| c.name.as_str());
        let line = format!(
            "{} · {} · {} {who}",
            e.time.replace('T', " ").trim_end_matches('Z'),
            e.origin,
            e.result
        );
        items.push(Box::new(MenuItem::with_id(
            app,
            format!("recent-{i}"),
            line,
            true,
            None::<&str>,
        )?));
    }
    items.push(Box::new(PredefinedMenuItem::separator(app)?));
    for (id, text) in [
        ("status", tr.t("tray.open")),
        ("sites", tr.t("tray.sites")),
        ("history", tr.t("tray.history")),
        ("settings", tr.t("tray.settings")),
    ] {
        items.push(Box::new(MenuItem::with_id(
            app,
            id,
            text,
            true,
            None::<&str>,
        )?));
    }
    items.push(Box::new(PredefinedMenuItem::separator(app)?));
    items.push(Box::new(MenuItem::with_id(
        app,
        "quit",
        tr.t("tray.quit"),
        true,
        None::<&str>,
    )?));
    let refs: Vec<&dyn tauri::menu::IsMenuItem<tauri::Wry>> =
        items.iter().map(AsRef::as_ref).collect();
    Menu::with_items(app, &refs)
}

/// The tray's words. The menu is native, outside the webview, so the shell reads the same
/// translation files as the windows (`ui/i18n`, compiled in; the `tray.*` keys).
struct Tray(serde_json::Map<String, serde_json::Value>);

impl Tray {
    fn for_locale(locale: &str) -> Self {
        let file = match locale {
            "ru" => include_str!("../../ui/i18n/ru.json"),
            "en" => include_str!("../../ui/i18n/en.json"),
            _ => include_str!("../../ui/i18n/kk.json"),
        };
        // The files are checked by the i18n test; a broken one shows the keys.
        Self(serde_json::from_str(file).unwrap_or_default())
    }

    /// The word for `key` (the key itself when it is missing).
    fn t(&self, key: &str) -> String {
        self.0
            .get(key)
            .and_then(serde_json::Value::as_str)
            .unwrap_or(key)
            .to_owned()
    }
}

/// Rebuilds the tray menu (after the state, the history or the language changed).
pub(crate) fn refresh_tray(app: &AppHandle) {
    let panels = app.state::<Arc<Panels>>();
    if let (Some(tray), Ok(menu)) = (app.tray_by_id("qoltanba"), tray_menu(app, &panels)) {
        let _ = tray.set_menu(Some(menu));
        let st = panels.status();
        let tip = st.listening.map_or_else(
            || format!("Qoltanba — {}", st.error.unwrap_or_default()),
            |u| format!("Qoltanba — {u}"),
        );
        let _ = tray.set_tooltip(Some(tip));
    }
}

/// The tray icon and its menu. With no tray host the app still runs.
fn tray(app: &tauri::App, panels: &Panels) -> tauri::Result<()> {
    let menu = tray_menu(app.handle(), panels)?;
    let mut tray = TrayIconBuilder::with_id("qoltanba")
        .tooltip("Qoltanba")
        .menu(&menu)
        .on_menu_event(|app, e| match e.id().as_ref() {
            "quit" => app.exit(0),
            id @ ("sites" | "history" | "settings" | "status") => show_main(app, id),
            id if id.starts_with("recent-") => show_main(app, "history"),
            _ => {}
        });
    if let Some(icon) = app.default_window_icon() {
        tray = tray.icon(icon.clone());
    }
    if let Err(e) = tray.build(app) {
        eprintln!("qoltanba-desktop: no tray icon ({e}); still serving");
    }
    Ok(())
}

fn has_display() -> bool {
    if !cfg!(target_os = "linux") {
        return true;
    }
    ["DISPLAY", "WAYLAND_DISPLAY"]
        .iter()
        .any(|v| std::env::var_os(v).is_some_and(|x| !x.is_empty()))
}

#[allow(clippy::print_stdout)] // the machine-readable LISTENING line
#[allow(clippy::exit, clippy::disallowed_methods)] // inside tauri::generate_context!
#[allow(clippy::too_many_lines)] // the app's wiring, in order
fn main() -> ExitCode {
    let args = Args::parse();
    if !has_display() {
        eprintln!(
            "qoltanba-desktop needs a desktop session (neither DISPLAY nor WAYLAND_DISPLAY is set); \
             `qoltanba serve` serves the same signing API without one"
        );
        return ExitCode::from(2);
    }
    // One app per data directory: a second launch shows the first one's window.
    let data_dir = match qoltanba_local::paths::data_dir(args.data_dir.as_deref()) {
        Ok(d) => d,
        Err(e) => {
            eprintln!("qoltanba-desktop: {e}");
            return ExitCode::from(2);
        }
    };
    if instance::focus_running(&data_dir) == instance::Found::Focused {
        eprintln!(
            "qoltanba-desktop: Qoltanba is already running for {}; its window was brought to the front",
            data_dir.display()
        );
        return ExitCode::SUCCESS;
    }
    let config = EngineConfig {
        listen: args.listen,
        tls: args.tls == "local-ca",
        trust_anchors: args.trust_anchor,
        data_dir: args.data_dir,
        policy: args.policy,
        prompt_limits: Some(PromptLimits::default()),
        tsa_url: args.tsa,
        nss_db: args.nss_db,
        ..EngineConfig::default()
    };
    let prompts = WindowPrompter::new();
    let engine = match Engine::build(&config, prompts.clone()) {
        Ok(e) => e,
        Err(e) => {
            eprintln!("qoltanba-desktop: {e}");
            return ExitCode::from(2);
        }
    };
    for n in &engine.notices {
        eprintln!("qoltanba-desktop: {n}");
    }
    let panels = Arc::new(Panels::of(&engine));
    prompts.configure(
        engine.dispatcher.settings().trust_anchors.clone(),
        panels.clone(),
        engine
            .revocation
            .clone()
            .map(|r| r as Arc<dyn qoltanba_protocol::RevocationCheck>),
    );
    let minimized = args.minimized;
    let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
    let app_prompts = prompts.clone();
    let app_panels = panels.clone();
    let instance_dir = data_dir.clone();
    let built = tauri::Builder::default()
        .plugin(
            tauri_plugin_autostart::Builder::new()
                .app_name("Qoltanba")
                .arg("--minimized")
                .build(),
        )
        .plugin(tauri_plugin_dialog::init())
        .manage(prompts)
        .manage(panels)
        .invoke_handler(tauri::generate_handler![
            call_state,
            call_answer,
            revocation_state,
            panels::app_status,
            panels::hide_main,
            panels::sites,
            panels::site_revoke,
            panels::history,
            panels::history_clear,
            panels::settings,
            panels::set_language,
            panels::set_autostart,
            panels::trust_install,
            panels::module_add,
            panels::module_remove,
            panels::set_default_key,
            panels::pick_key_file,
        ])
        .setup(move |app| {
            app_prompts.attach(app.handle().clone());
            tray(app, &app_panels)?;
            let handle = app.handle().clone();
            app_panels.on_history(move || {
                let h = handle.clone();
                let _ = handle.run_on_main_thread(move || refresh_tray(&h));
            });
            // Started minimized (autostart) there is no webview until a site asks.
            if !minimized {
                show_main(app.handle(), "status");
            }
            let handle = app.handle().clone();
            if let Err(e) = instance::listen(&instance_dir, move || {
                let h = handle.clone();
                let _ = handle.run_on_main_thread(move || show_main(&h, "status"));
            }) {
                eprintln!("qoltanba-desktop: a second launch cannot find this one ({e})");
            }
            let panels = app_panels.clone();
            let handle = app.handle().clone();
            // The server gets its own runtime (one async worker; requests on its blocking
            // pool), apart from the window's.
            let serve = async move {
                match engine.bind().await {
                    Ok(listener) => {
                        let scheme = engine.scheme();
                        let local = listener
                            .local_addr()
                            .map_or_else(|_| String::from("?"), |a| a.to_string());
                        println!("LISTENING {scheme}://{local}");
                        if let Ok(mut s) = panels.status.lock() {
                            s.listening = Some(format!("{scheme}://{local}"));
                        }
                        refresh_tray(&handle);
                        if let Err(e) = engine.run(listener, stop_rx).await {
                            eprintln!("qoltanba-desktop: the server stopped: {e}");
                            if let Ok(mut s) = panels.status.lock() {
                                s.listening = None;
                                s.error = Some(e.to_string());
                            }
                            refresh_tray(&handle);
                        }
                    }
                    Err(e) => {
                        eprintln!("qoltanba-desktop: {e}");
                        if let Ok(mut s) = panels.status.lock() {
                            s.error = Some(e.to_string());
                        }
                        refresh_tray(&handle);
                    }
                }
            };
            std::thread::Builder::new()
                .name("qoltanba-server".into())
                .spawn(move || match Engine::runtime() {
                    Ok(rt) => rt.block_on(serve),
                    Err(e) => eprintln!("qoltanba-desktop: the server cannot start: {e}"),
                })?;
            Ok(())
        })
        .on_window_event(|window, event| {
            if let WindowEvent::CloseRequested { api, .. } = event {
                if let Some(id) = call_of(window.label()) {
                    // Closing a prompt window is a cancel.
                    let prompts = window.state::<Arc<WindowPrompter>>();
                    prompts.answer(id, Answer::Cancel);
                } else if window.label() == "main" {
                    // The main window hides; the app stays in the tray.
                    api.prevent_close();
                    let _ = window.hide();
                }
            }
        })
        .build(tauri::generate_context!());
    let app = match built {
        Ok(a) => a,
        Err(e) => {
            eprintln!("qoltanba-desktop: cannot start the desktop app: {e}");
            return ExitCode::from(2);
        }
    };
    app.run(move |_app, event| match event {
        // A tray app keeps running when its last window closes; Quit exits with a code.
        RunEvent::ExitRequested { api, code, .. } if code.is_none() => api.prevent_exit(),
        RunEvent::Exit => {
            let _ = stop_tx.send(true);
            instance::remove(&data_dir);
        }
        _ => {}
    });
    ExitCode::SUCCESS
}
