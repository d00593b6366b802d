//! What a Tauri command sends its window when it fails: `{code, message}`. The window shows
//! the text of `command.<code>` from `ui/i18n` in the person's language, with the message (the
//! detail: a path, the system's own words) after it; nothing is matched on English text.

use std::fmt::Display;

/// Why a command failed, as the window can translate it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Code {
    /// `settings.toml` could not be read or written.
    Settings,
    /// A file of ours (history, site decisions, the autostart entry) could not be written.
    Files,
    /// The system refused to start the app at login (or to stop).
    Autostart,
    /// The local CA could not be put into a browser's trust store.
    Trust,
    /// There is no home folder to work in.
    NoHome,
    /// A language the app does not have.
    Language,
    /// A token library without a storage name or path.
    ModuleFields,
    /// A token library path that names no file.
    ModuleMissing,
    /// The command's work failed unexpectedly.
    Internal,
}

impl Code {
    /// The key's last part in `ui/i18n` (`command.<name>`).
    pub(crate) fn name(self) -> &'static str {
        match self {
            Self::Settings => "settings",
            Self::Files => "files",
            Self::Autostart => "autostart",
            Self::Trust => "trust",
            Self::NoHome => "no_home",
            Self::Language => "language",
            Self::ModuleFields => "module_fields",
            Self::ModuleMissing => "module_missing",
            Self::Internal => "internal",
        }
    }
}

/// A command's failure: a code for the window to translate and the detail.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub(crate) struct CommandError {
    code: &'static str,
    message: String,
}

impl CommandError {
    /// A failure of `code` with its detail (`""`: none).
    pub(crate) fn new(code: Code, detail: impl Display) -> Self {
        Self {
            code: code.name(),
            message: detail.to_string(),
        }
    }

    /// `code`'s failure as the result of `e` (for `map_err`).
    pub(crate) fn of<E: Display>(code: Code) -> impl Fn(E) -> Self {
        move |e| Self::new(code, e)
    }
}

impl From<qoltanba_local::settings::SettingsError> for CommandError {
    fn from(e: qoltanba_local::settings::SettingsError) -> Self {
        Self::new(Code::Settings, e)
    }
}

impl From<std::io::Error> for CommandError {
    fn from(e: std::io::Error) -> Self {
        Self::new(Code::Files, e)
    }
}

/// What a command returns.
pub(crate) type CommandResult<T> = Result<T, CommandError>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_failure_goes_to_the_window_as_code_and_message() {
        let e = CommandError::new(Code::ModuleMissing, "/usr/lib/x.so: no such file");
        assert_eq!(
            serde_json::to_value(&e).unwrap(),
            serde_json::json!({"code": "module_missing", "message": "/usr/lib/x.so: no such file"})
        );
        let io: CommandError = std::io::Error::other("disk full").into();
        assert_eq!(io.code, "files");
    }
}
