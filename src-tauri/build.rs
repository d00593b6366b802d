//! Tauri's build step: embeds the configuration, capabilities and the bundled UI, and declares
//! the app's commands so that each window's capability grants only the ones it uses
//! (`capabilities/prompt.json`, `capabilities/main.json`).
fn main() {
    let commands = &[
        "call_state",
        "call_answer",
        "revocation_state",
        "set_default_key",
        "pick_key_file",
        "app_status",
        "hide_main",
        "sites",
        "site_revoke",
        "history",
        "history_clear",
        "settings",
        "set_language",
        "set_autostart",
        "trust_install",
        "module_add",
        "module_remove",
    ];
    let attributes = tauri_build::Attributes::new()
        .app_manifest(tauri_build::AppManifest::new().commands(commands));
    if let Err(e) = tauri_build::try_build(attributes) {
        // A build script reports through cargo's protocol; failing the build is the point.
        #[allow(clippy::panic)]
        {
            panic!("tauri build step failed: {e:#}");
        }
    }
}
