//! `qoltanba-desktop`: the tray app. It starts the same engine as `qoltanba serve`
//! ([`qoltanba_server::engine::Engine`]) and implements its prompter with windows; it has no
//! signing logic of its own. Options are `serve`'s (`--listen`, `--tls`, `--trust-anchor`,
//! `--policy`, `--data-dir`); it prints the same `LISTENING …` line.
#![forbid(unsafe_code)]
#![cfg_attr(all(windows, not(debug_assertions)), windows_subsystem = "windows")]

mod prompter;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::{Arc, Mutex};

use clap::Parser;
use qoltanba_server::engine::{Engine, EngineConfig, PromptLimits};
use tauri::menu::{Menu, MenuItem};
use tauri::tray::TrayIconBuilder;
use tauri::{Manager, RunEvent, WebviewWindow, WindowEvent};

use crate::prompter::{Answer, View, WindowPrompter, call_of};

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
    /// Start in the tray without showing the main window (the autostart entry uses this).
    #[arg(long)]
    minimized: bool,
}

/// The engine's state, for the main window and the tray.
#[derive(Debug, Clone, Default)]
struct Status(Arc<Mutex<StatusView>>);

/// What the main window shows.
#[derive(Debug, Clone, Default, serde::Serialize)]
struct StatusView {
    /// `ws://…` or `wss://…` once listening.
    listening: Option<String>,
    /// Why it is not (the port is taken by …).
    error: Option<String>,
    /// The UI language.
    locale: String,
}

/// The engine's state.
#[tauri::command]
#[allow(clippy::needless_pass_by_value)] // Tauri passes command arguments by value
fn app_status(status: tauri::State<'_, Status>) -> StatusView {
    status.0.lock().map(|s| s.clone()).unwrap_or_default()
}

/// Hides the main window (the app stays in the tray).
#[tauri::command]
#[allow(clippy::needless_pass_by_value)] // Tauri passes command arguments by value
fn hide_main(window: WebviewWindow) {
    let _ = window.hide();
}

/// What the window of the calling webview shows.
#[tauri::command]
#[allow(clippy::needless_pass_by_value)] // Tauri passes command arguments by value
fn call_state(
    window: WebviewWindow,
    prompts: tauri::State<'_, Arc<WindowPrompter>>,
) -> Option<View> {
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

/// The tray icon and its menu. With no tray host the app still runs.
fn tray(app: &tauri::App) -> tauri::Result<()> {
    let quit = MenuItem::with_id(app, "quit", "Quit Qoltanba", true, None::<&str>)?;
    let menu = Menu::with_items(app, &[&quit])?;
    let mut tray = TrayIconBuilder::with_id("qoltanba")
        .tooltip("Qoltanba")
        .menu(&menu)
        .on_menu_event(|app, e| {
            if e.id() == "quit" {
                app.exit(0);
            }
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
    let config = EngineConfig {
        listen: args.listen,
        tls: args.tls == "local-ca",
        trust_anchors: args.trust_anchor,
        data_dir: args.data_dir,
        policy: args.policy,
        prompt_limits: Some(PromptLimits::default()),
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
    let status = Status::default();
    let minimized = args.minimized;
    let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
    let app_prompts = prompts.clone();
    let engine_status = status.clone();
    let built = tauri::Builder::default()
        .manage(prompts)
        .manage(status.clone())
        .invoke_handler(tauri::generate_handler![
            call_state,
            call_answer,
            app_status,
            hide_main
        ])
        .setup(move |app| {
            app_prompts.attach(app.handle().clone());
            tray(app)?;
            // Started minimized (autostart) there is no webview until a site asks.
            if !minimized {
                tauri::WebviewWindowBuilder::new(
                    app,
                    "main",
                    tauri::WebviewUrl::App("status.html".into()),
                )
                .title("Qoltanba")
                .inner_size(480.0, 260.0)
                .build()?;
            }
            let status = engine_status.clone();
            tauri::async_runtime::spawn(async move {
                match engine.bind().await {
                    Ok(listener) => {
                        let scheme = engine.scheme();
                        let local = listener
                            .local_addr()
                            .map_or_else(|_| String::from("?"), |a| a.to_string());
                        println!("LISTENING {scheme}://{local}");
                        if let Ok(mut s) = status.0.lock() {
                            s.listening = Some(format!("{scheme}://{local}"));
                        }
                        if let Err(e) = engine.run(listener, stop_rx).await {
                            eprintln!("qoltanba-desktop: the server stopped: {e}");
                        }
                    }
                    Err(e) => {
                        eprintln!("qoltanba-desktop: {e}");
                        if let Ok(mut s) = status.0.lock() {
                            s.error = Some(e.to_string());
                        }
                    }
                }
            });
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
        }
        _ => {}
    });
    let _ = status;
    ExitCode::SUCCESS
}
