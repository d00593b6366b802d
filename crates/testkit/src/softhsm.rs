//! SoftHSM2 tokens for tests: a private config and token directory per instance, tokens made
//! with `softhsm2-util`, keys and certificates written with OpenSC's `pkcs11-tool`.

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::pki::Issued;

/// A SoftHSM2 instance with its own token directory.
pub struct SoftHsm {
    _dir: tempfile::TempDir,
    /// The `SOFTHSM2_CONF` file to put in the environment of every process using it.
    pub conf: PathBuf,
    /// The module library.
    pub module: PathBuf,
}

fn run(cmd: &mut Command) -> String {
    let out = cmd.output().expect("run (apt softhsm2 opensc)");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(out.status.success(), "{cmd:?} failed: {text}");
    text
}

impl SoftHsm {
    /// A fresh, empty SoftHSM2.
    pub fn new() -> Self {
        let dir = tempfile::tempdir().expect("tmp");
        let tokens = dir.path().join("tokens");
        std::fs::create_dir_all(&tokens).expect("tokens dir");
        let conf = dir.path().join("softhsm2.conf");
        std::fs::write(
            &conf,
            format!(
                "directories.tokendir = {}\nobjectstore.backend = file\nlog.level = ERROR\nslots.removable = false\n",
                tokens.display()
            ),
        )
        .expect("conf");
        let module = std::env::var_os("SOFTHSM2_MODULE").map_or_else(
            || {
                [
                    "/usr/lib/softhsm/libsofthsm2.so",
                    "/usr/lib/x86_64-linux-gnu/softhsm/libsofthsm2.so",
                ]
                .iter()
                .map(PathBuf::from)
                .find(|p| p.is_file())
                .expect("libsofthsm2.so not found: run ./scripts/setup.sh")
            },
            PathBuf::from,
        );
        Self {
            _dir: dir,
            conf,
            module,
        }
    }

    fn cmd(&self, program: &str) -> Command {
        let mut c = Command::new(program);
        c.env("SOFTHSM2_CONF", &self.conf);
        c
    }

    /// Initialises a token.
    pub fn init_token(&self, label: &str, pin: &str) {
        run(self.cmd("softhsm2-util").args([
            "--init-token",
            "--free",
            "--label",
            label,
            "--so-pin",
            "87654321",
            "--pin",
            pin,
        ]));
    }

    /// Writes an issued key and certificate to the token under `CKA_ID` = `id` (hex).
    pub fn import(&self, label: &str, pin: &str, issued: &Issued, id: &str) {
        let tmp = tempfile::tempdir().expect("tmp");
        let key = tmp.path().join("key.der");
        let cert = tmp.path().join("cert.der");
        std::fs::write(&key, &*issued.pkcs8_der).expect("key");
        std::fs::write(&cert, &issued.cert_der).expect("cert");
        let module = self.module.to_str().expect("path").to_owned();
        for (file, kind) in [(&key, "privkey"), (&cert, "cert")] {
            run(self.cmd("pkcs11-tool").args([
                "--module",
                &module,
                "--token-label",
                label,
                "--login",
                "--pin",
                pin,
                "--write-object",
                file.to_str().expect("path"),
                "--type",
                kind,
                "--id",
                id,
                "--label",
                &format!("qoltanba-{id}"),
            ]));
        }
    }

    /// Deletes a token (as if it were pulled out).
    pub fn delete_token(&self, label: &str) {
        run(self
            .cmd("softhsm2-util")
            .args(["--delete-token", "--token", label]));
    }

    /// `pkcs11-tool` signing on the token (for comparisons in benchmarks).
    pub fn pkcs11_tool_sign(&self, label: &str, pin: &str, id: &str, input: &Path, output: &Path) {
        let module = self.module.to_str().expect("path").to_owned();
        run(self.cmd("pkcs11-tool").args([
            "--module",
            &module,
            "--token-label",
            label,
            "--login",
            "--pin",
            pin,
            "--sign",
            "--mechanism",
            "SHA256-RSA-PKCS",
            "--id",
            id,
            "-i",
            input.to_str().expect("path"),
            "-o",
            output.to_str().expect("path"),
        ]));
    }
}

impl Default for SoftHsm {
    fn default() -> Self {
        Self::new()
    }
}
