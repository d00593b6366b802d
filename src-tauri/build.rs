//! Tauri's build step: embeds the configuration, capabilities and the bundled UI.
fn main() {
    tauri_build::build();
}
