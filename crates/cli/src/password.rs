//! Getting the key password: from a named environment variable, or from the terminal without
//! echo. Never from the command line (it would show in `ps` and shell history).

use anyhow::{Context, Result, bail};
use qoltanba_keys::Secret;

/// Reads the password.
pub(crate) fn read(env_var: Option<&str>) -> Result<Secret> {
    read_named(env_var, "Password: ")
}

/// Reads a password or PIN, asking with `prompt` on the terminal when no variable is named.
pub(crate) fn read_named(env_var: Option<&str>, prompt: &str) -> Result<Secret> {
    if let Some(var) = env_var {
        return match std::env::var(var) {
            Ok(v) => Ok(Secret::new(v)),
            Err(std::env::VarError::NotPresent) => {
                bail!("the environment variable {var} is not set")
            }
            Err(std::env::VarError::NotUnicode(_)) => {
                bail!("the environment variable {var} is not valid text")
            }
        };
    }
    if !std::io::IsTerminal::is_terminal(&std::io::stdin()) {
        bail!(
            "no password: use --password-env VAR (--pin-env VAR for tokens), or run in a terminal to be asked"
        );
    }
    let p = rpassword::prompt_password(prompt).context("cannot read the password")?;
    Ok(Secret::new(p))
}
