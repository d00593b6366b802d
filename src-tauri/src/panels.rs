//! The main window's panels — status and recent activity, site permissions, history,
//! settings, about — as commands over the engine's stores. Nothing here signs: it reads and
//! edits what the engine keeps (`origins.json`, `history.jsonl`, `settings.toml`) and runs the
//! trust install for this user.

use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use qoltanba_local::history::{Entry, History};
use qoltanba_local::origins::FileOriginStore;
use qoltanba_local::paths::DEFAULT_POLICY;
use qoltanba_local::settings::SettingsFile;
use qoltanba_server::engine::Engine;
use serde::Serialize;
use tauri::{AppHandle, Emitter, Manager, WebviewUrl, WebviewWindowBuilder};
use tauri_plugin_autostart::ManagerExt as _;
use tauri_plugin_dialog::DialogExt as _;

use crate::failure::{Code, CommandError, CommandResult};

/// The languages of the interface.
pub(crate) const LANGUAGES: [&str; 3] = ["kk", "ru", "en"];

/// The engine's state, for the main window and the tray.
#[derive(Debug, Clone, Default, Serialize)]
pub(crate) struct StatusView {
    /// `ws://…` or `wss://…` once listening.
    pub listening: Option<String>,
    /// Why it is not (the port is taken by …).
    pub error: Option<String>,
    /// The UI language.
    pub locale: String,
    /// The newest history entries.
    pub recent: Vec<Entry>,
}

/// A PKCS#11 module the engine uses, and where it came from.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct ModuleView {
    storage: String,
    module: String,
    /// `admin` (the policy file), `user` (settings.toml) or `found` (known places, p11-kit).
    source: &'static str,
    present: bool,
}

/// Everything the panels read, taken from the engine before it starts serving.
pub(crate) struct Panels {
    pub status: Mutex<StatusView>,
    origins: Arc<FileOriginStore>,
    history: Arc<History>,
    pub settings: SettingsFile,
    data_dir: PathBuf,
    config_dir: PathBuf,
    policy_allow: Vec<String>,
    policy_deny: Vec<String>,
    admin_modules: Vec<(String, PathBuf)>,
    modules: Vec<(String, PathBuf)>,
    tls: bool,
}

impl Panels {
    pub(crate) fn of(engine: &Engine) -> Self {
        let locale = engine
            .settings
            .load()
            .language
            .filter(|l| LANGUAGES.contains(&l.as_str()))
            .unwrap_or_else(|| "kk".to_owned());
        Self {
            status: Mutex::new(StatusView {
                locale,
                ..StatusView::default()
            }),
            origins: engine.origins.clone(),
            history: engine.history.clone(),
            settings: engine.settings.clone(),
            data_dir: engine.data_dir.clone(),
            config_dir: engine.config_dir.clone(),
            policy_allow: engine.policy.origins.allow.clone(),
            policy_deny: engine.policy.origins.deny.clone(),
            admin_modules: engine
                .policy
                .tokens
                .iter()
                .map(|m| (m.storage.clone(), m.module.clone()))
                .collect(),
            modules: engine
                .tokens
                .modules()
                .iter()
                .map(|m| (m.storage.clone(), m.module.clone()))
                .collect(),
            tls: engine.options.tls.is_some(),
        }
    }

    /// The interface language the person chose (default `kk`).
    pub(crate) fn locale(&self) -> String {
        self.status
            .lock()
            .map_or_else(|_| "kk".into(), |s| s.locale.clone())
    }

    /// The status with the newest history entries.
    pub(crate) fn status(&self) -> StatusView {
        let mut s = self.status.lock().map(|s| s.clone()).unwrap_or_default();
        s.recent = self.history.list().into_iter().take(5).collect();
        s
    }

    /// Calls `f` whenever the history changes.
    pub(crate) fn on_history(&self, f: impl Fn() + Send + Sync + 'static) {
        self.history.observe(f);
    }

    /// The default certificate (a candidate id), if the person chose one.
    pub(crate) fn default_key(&self) -> Option<String> {
        self.settings.load().default_key
    }
}

/// Sites: the person's decisions and the admin's rules.
#[derive(Debug, Serialize)]
pub(crate) struct SitesView {
    allowed: Vec<String>,
    refused: Vec<String>,
    admin_allow: Vec<String>,
    admin_deny: Vec<String>,
}

/// Settings as shown.
#[derive(Debug, Serialize)]
pub(crate) struct SettingsView {
    language: String,
    autostart: Option<bool>,
    data_dir: String,
    config_dir: String,
    settings_file: String,
    policy_file: Option<String>,
    modules: Vec<ModuleView>,
    user_modules: Vec<ModuleView>,
    /// Each NSS database and whether it trusts the local CA (empty without TLS).
    trust: Vec<(String, bool)>,
    tls: bool,
    default_key: Option<String>,
    version: &'static str,
}

type Panel<'a> = tauri::State<'a, Arc<Panels>>;

fn home() -> Option<PathBuf> {
    qoltanba_local::paths::home().ok()
}

fn user_modules(settings: &SettingsFile) -> Vec<(String, PathBuf)> {
    settings
        .load()
        .tokens
        .into_iter()
        .map(|m| (m.storage, m.module))
        .collect()
}

fn module_view(storage: &str, module: &std::path::Path, source: &'static str) -> ModuleView {
    ModuleView {
        storage: storage.to_owned(),
        module: module.display().to_string(),
        source,
        present: module.is_file(),
    }
}

/// The status window's content.
#[tauri::command]
#[allow(clippy::needless_pass_by_value)] // Tauri passes command arguments by value
pub(crate) fn app_status(panels: Panel<'_>) -> StatusView {
    panels.status()
}

/// Site permissions.
#[tauri::command]
#[allow(clippy::needless_pass_by_value)]
pub(crate) fn sites(panels: Panel<'_>) -> SitesView {
    SitesView {
        allowed: panels.origins.list(),
        refused: panels.origins.list_refused(),
        admin_allow: panels.policy_allow.clone(),
        admin_deny: panels.policy_deny.clone(),
    }
}

/// Forgets the person's decision on a site.
#[tauri::command]
#[allow(clippy::needless_pass_by_value)]
pub(crate) fn site_revoke(panels: Panel<'_>, origin: String) -> CommandResult<bool> {
    Ok(panels.origins.revoke(&origin)?)
}

/// The history, newest first.
#[tauri::command]
#[allow(clippy::needless_pass_by_value)]
pub(crate) fn history(panels: Panel<'_>) -> Vec<Entry> {
    panels.history.list()
}

/// Clears the history.
#[tauri::command]
#[allow(clippy::needless_pass_by_value)]
pub(crate) fn history_clear(panels: Panel<'_>) -> CommandResult<()> {
    Ok(panels.history.clear()?)
}

/// The settings.
#[tauri::command]
#[allow(clippy::needless_pass_by_value)]
pub(crate) fn settings(app: AppHandle, panels: Panel<'_>) -> SettingsView {
    let user = user_modules(&panels.settings);
    let modules = panels
        .modules
        .iter()
        .map(|(s, m)| {
            let source = if panels.admin_modules.iter().any(|(_, a)| a == m) {
                "admin"
            } else if user.iter().any(|(_, u)| u == m) {
                "user"
            } else {
                "found"
            };
            module_view(s, m, source)
        })
        .collect();
    let trust = match (panels.tls, home()) {
        (true, Some(h)) => qoltanba_local::trust::status(&h)
            .into_iter()
            .map(|(db, ok)| (db.display().to_string(), ok))
            .collect(),
        _ => Vec::new(),
    };
    SettingsView {
        language: panels.locale(),
        autostart: autostart_enabled(&app).ok(),
        data_dir: panels.data_dir.display().to_string(),
        config_dir: panels.config_dir.display().to_string(),
        settings_file: panels.settings.path().display().to_string(),
        policy_file: std::path::Path::new(DEFAULT_POLICY)
            .is_file()
            .then(|| DEFAULT_POLICY.to_owned()),
        modules,
        user_modules: user
            .iter()
            .map(|(s, m)| module_view(s, m, "user"))
            .collect(),
        trust,
        tls: panels.tls,
        default_key: panels
            .default_key()
            .map(|id| panels.settings.load().default_key_label.unwrap_or(id)),
        version: env!("CARGO_PKG_VERSION"),
    }
}

/// Sets the interface language (kk, ru, en); every open window follows.
#[tauri::command]
#[allow(clippy::needless_pass_by_value)]
pub(crate) fn set_language(
    app: AppHandle,
    panels: Panel<'_>,
    language: String,
) -> CommandResult<()> {
    if !LANGUAGES.contains(&language.as_str()) {
        return Err(CommandError::new(Code::Language, language));
    }
    panels
        .settings
        .update(|s| s.language = Some(language.clone()))?;
    if let Ok(mut s) = panels.status.lock() {
        s.locale = language;
    }
    let _ = app.emit("language-changed", ());
    crate::refresh_tray(&app);
    Ok(())
}

/// The autostart entry the deb package installs for every user (XDG). A user's own entry of
/// the same name in `~/.config/autostart` overrides it, `Hidden=true` turning it off.
const SYSTEM_AUTOSTART: &str = "/etc/xdg/autostart/Qoltanba.desktop";

/// The user's override of the system autostart entry.
fn user_autostart() -> Option<PathBuf> {
    let config = std::env::var_os("XDG_CONFIG_HOME")
        .filter(|x| !x.is_empty())
        .map(PathBuf::from)
        .or_else(|| home().map(|h| h.join(".config")))?;
    Some(config.join("autostart/Qoltanba.desktop"))
}

/// Whether the app starts at login: the package's system entry unless the user hid it, else
/// the user's own entry.
fn autostart_enabled(app: &AppHandle) -> CommandResult<bool> {
    if cfg!(target_os = "linux") && std::path::Path::new(SYSTEM_AUTOSTART).is_file() {
        let hidden = user_autostart()
            .and_then(|p| std::fs::read_to_string(p).ok())
            .is_some_and(|t| t.lines().any(|l| l.trim() == "Hidden=true"));
        return Ok(!hidden);
    }
    app.autolaunch()
        .is_enabled()
        .map_err(CommandError::of(Code::Autostart))
}

/// Starts the app at login, or stops doing so. With the package's system entry in place,
/// turning it off writes the user's `Hidden=true` override and turning it on removes it.
#[tauri::command]
#[allow(clippy::needless_pass_by_value)]
pub(crate) fn set_autostart(app: AppHandle, enabled: bool) -> CommandResult<bool> {
    if cfg!(target_os = "linux") && std::path::Path::new(SYSTEM_AUTOSTART).is_file() {
        let path = user_autostart().ok_or_else(|| CommandError::new(Code::NoHome, ""))?;
        if enabled {
            match std::fs::remove_file(&path) {
                Ok(()) => {}
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                Err(e) => return Err(e.into()),
            }
        } else {
            if let Some(dir) = path.parent() {
                std::fs::create_dir_all(dir)?;
            }
            std::fs::write(
                &path,
                "[Desktop Entry]\nType=Application\nName=Qoltanba\nHidden=true\n",
            )?;
        }
        return autostart_enabled(&app);
    }
    let l = app.autolaunch();
    let r = if enabled { l.enable() } else { l.disable() };
    r.map_err(CommandError::of(Code::Autostart))?;
    autostart_enabled(&app)
}

/// Puts the local CA into this user's browser trust stores.
#[tauri::command]
#[allow(clippy::needless_pass_by_value)]
pub(crate) fn trust_install(panels: Panel<'_>) -> CommandResult<Vec<String>> {
    let home = home().ok_or_else(|| CommandError::new(Code::NoHome, ""))?;
    let ca = qoltanba_server::tls::TlsPaths::in_dir(&panels.data_dir).ca;
    qoltanba_local::trust::install(&ca, &home, false).map_err(CommandError::of(Code::Trust))
}

/// Adds a PKCS#11 library for a storage (used from the next start).
#[tauri::command]
#[allow(clippy::needless_pass_by_value)]
pub(crate) fn module_add(panels: Panel<'_>, storage: String, module: String) -> CommandResult<()> {
    let storage = storage.trim();
    let module = module.trim();
    if storage.is_empty() || module.is_empty() {
        return Err(CommandError::new(Code::ModuleFields, ""));
    }
    if !std::path::Path::new(module).is_file() {
        return Err(CommandError::new(Code::ModuleMissing, module));
    }
    let mut list = user_modules(&panels.settings);
    list.retain(|(_, m)| m != std::path::Path::new(module));
    list.push((storage.to_owned(), PathBuf::from(module)));
    save_modules(&panels.settings, &list)
}

/// Removes a PKCS#11 library the person added.
#[tauri::command]
#[allow(clippy::needless_pass_by_value)]
pub(crate) fn module_remove(panels: Panel<'_>, module: String) -> CommandResult<()> {
    let mut list = user_modules(&panels.settings);
    list.retain(|(_, m)| m != std::path::Path::new(&module));
    save_modules(&panels.settings, &list)
}

fn save_modules(settings: &SettingsFile, list: &[(String, PathBuf)]) -> CommandResult<()> {
    Ok(settings.update(|s| {
        s.tokens = list
            .iter()
            .map(|(storage, module)| qoltanba_local::settings::ModuleConfig {
                storage: storage.clone(),
                module: module.clone(),
            })
            .collect();
    })?)
}

/// Hides the main window (the app stays in the tray).
#[tauri::command]
#[allow(clippy::needless_pass_by_value)]
pub(crate) fn hide_main(window: tauri::WebviewWindow) {
    let _ = window.hide();
}

/// Opens (or brings to the front) the main window on `tab` (`status`, `sites`, `history`,
/// `settings`, `about`).
pub(crate) fn show_main(app: &AppHandle, tab: &str) {
    if let Some(w) = app.get_webview_window("main") {
        let _ = w.emit("show-tab", tab);
        let _ = w.show();
        let _ = w.unminimize();
        let _ = w.set_focus();
        return;
    }
    let url = WebviewUrl::App(format!("home.html#{tab}").into());
    match WebviewWindowBuilder::new(app, "main", url)
        .title("Qoltanba")
        .inner_size(720.0, 560.0)
        .min_inner_size(480.0, 400.0)
        .build()
    {
        Ok(w) => {
            let _ = w.set_focus();
        }
        Err(e) => eprintln!("qoltanba-desktop: cannot open the main window: {e}"),
    }
}

/// Makes a certificate (a candidate id) the default, chosen first next time; `None` clears it.
#[tauri::command]
#[allow(clippy::needless_pass_by_value)]
pub(crate) fn set_default_key(
    panels: Panel<'_>,
    id: Option<String>,
    label: Option<String>,
) -> CommandResult<()> {
    // The label (holder and ИИН, as the card showed them) is for the settings view only.
    let label = id
        .as_ref()
        .and(label)
        .map(|l| l.chars().take(200).collect::<String>());
    Ok(panels.settings.update(|s| {
        s.default_key_label = label;
        s.default_key = id;
    })?)
}

/// Opens the system's file chooser for a key file, in the folder the person chose from last
/// time (`last_folder` in settings.toml); the path goes back to the window, which sends it
/// with the password. Nothing is read here: the engine opens the file.
#[tauri::command]
pub(crate) async fn pick_key_file(
    window: tauri::WebviewWindow,
    panels: tauri::State<'_, Arc<Panels>>,
    title: String,
) -> CommandResult<Option<String>> {
    // The title comes from the UI's translation files.
    let title: String = title.chars().take(80).collect();
    let start = panels
        .settings
        .load()
        .last_folder
        .filter(|d| d.is_dir())
        .or_else(home);
    let mut dialog = window
        .dialog()
        .file()
        .set_parent(&window)
        .set_title(format!("Qoltanba — {title}"))
        .add_filter("PKCS#12 (.p12, .pfx)", &["p12", "P12", "pfx", "PFX"]);
    if let Some(d) = start {
        dialog = dialog.set_directory(d);
    }
    let (tx, rx) = tokio::sync::oneshot::channel();
    dialog.pick_file(move |f| {
        let _ = tx.send(f);
    });
    let Some(picked) = rx.await.ok().flatten() else {
        return Ok(None);
    };
    let path = picked.into_path().map_err(CommandError::of(Code::Files))?;
    if let Some(dir) = path.parent() {
        let _ = panels
            .settings
            .update(|s| s.last_folder = Some(dir.to_owned()));
    }
    Ok(Some(path.display().to_string()))
}
