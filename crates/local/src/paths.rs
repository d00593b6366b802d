//! Where Qoltanba keeps things for the person and where the admin's policy is, through the
//! `directories` crate (the platform's own rules: XDG on Linux, known folders on Windows, the
//! Library on macOS).

use std::path::{Path, PathBuf};

/// Where the admin policy is looked for when none is given.
#[cfg(windows)]
pub const DEFAULT_POLICY: &str = r"C:\ProgramData\Qoltanba\policy.toml";
/// Where the admin policy is looked for when none is given.
#[cfg(not(windows))]
pub const DEFAULT_POLICY: &str = "/etc/qoltanba/policy.toml";

/// No home directory to keep the person's data in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("no home directory; give a data directory")]
pub struct NoHome;

/// The person's home directory.
pub fn home() -> Result<PathBuf, NoHome> {
    directories::BaseDirs::new()
        .map(|d| d.home_dir().to_owned())
        .ok_or(NoHome)
}

/// The application's folder name on this platform.
const APP: &str = if cfg!(any(windows, target_os = "macos")) {
    "Qoltanba"
} else {
    "qoltanba"
};

/// The data directory: `given`, else the platform's: Linux `$XDG_DATA_HOME/qoltanba`
/// (`~/.local/share/qoltanba`), Windows `%LOCALAPPDATA%\Qoltanba`, macOS
/// `~/Library/Application Support/Qoltanba`.
pub fn data_dir(given: Option<&Path>) -> Result<PathBuf, NoHome> {
    if let Some(d) = given {
        return Ok(d.to_owned());
    }
    let base = directories::BaseDirs::new().ok_or(NoHome)?;
    Ok(base.data_local_dir().join(APP))
}

/// The settings directory: `given`, else the data dir when one was given (one self-contained
/// directory), else the platform's: Linux `$XDG_CONFIG_HOME/qoltanba` (`~/.config/qoltanba`),
/// Windows `%APPDATA%\Qoltanba`, macOS `~/Library/Application Support/Qoltanba`.
pub fn config_dir(given: Option<&Path>, data_given: Option<&Path>) -> Result<PathBuf, NoHome> {
    if let Some(c) = given.or(data_given) {
        return Ok(c.to_owned());
    }
    let base = directories::BaseDirs::new().ok_or(NoHome)?;
    Ok(base.config_dir().join(APP))
}

/// `~/x` as the person's home joined with `x`; anything else as it is.
pub fn expand_home(p: &Path) -> PathBuf {
    match (p.strip_prefix("~"), home()) {
        (Ok(rest), Ok(h)) => h.join(rest),
        _ => p.to_owned(),
    }
}

#[cfg(all(test, target_os = "linux"))]
mod tests {
    use super::*;

    #[test]
    fn a_given_directory_wins_and_the_config_follows_the_data() {
        let d = Path::new("/x/data");
        assert_eq!(data_dir(Some(d)).unwrap(), d);
        assert_eq!(config_dir(None, Some(d)).unwrap(), d);
        let c = Path::new("/x/conf");
        assert_eq!(config_dir(Some(c), Some(d)).unwrap(), c);
    }

    #[test]
    fn linux_places_follow_xdg() {
        // The process's own environment (set by whoever runs the tests): the same rule as
        // XDG's, ~/.local/share and ~/.config without the variables.
        let home = home().unwrap();
        let expect = |var: &str, fallback: &str| {
            std::env::var_os(var)
                .map(PathBuf::from)
                .filter(|p| p.is_absolute())
                .unwrap_or_else(|| home.join(fallback))
                .join("qoltanba")
        };
        assert_eq!(
            data_dir(None).unwrap(),
            expect("XDG_DATA_HOME", ".local/share")
        );
        assert_eq!(
            config_dir(None, None).unwrap(),
            expect("XDG_CONFIG_HOME", ".config")
        );
        assert_eq!(expand_home(Path::new("~/a/b")), home.join("a/b"));
        assert_eq!(expand_home(Path::new("/a/~")), Path::new("/a/~"));
    }
}
