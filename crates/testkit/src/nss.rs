//! NSS databases for tests, made and filled with NSS's own tools (`certutil`, `pk12util`
//! from apt `libnss3-tools`), as a person's browser would have them.

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::openssl;
use crate::pki::Issued;

/// A fresh NSS database (`cert9.db`, `key4.db`) in its own directory.
pub struct NssDb {
    dir: tempfile::TempDir,
    /// The database directory (give it as `--nss-db`, or put it at `$HOME/.pki/nssdb`).
    pub path: PathBuf,
    password_file: PathBuf,
}

fn run(cmd: &mut Command) -> String {
    let out = cmd.output().expect("run (apt libnss3-tools)");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(out.status.success(), "{cmd:?} failed: {text}");
    text
}

impl NssDb {
    /// A new database at `<tmp>/.pki/nssdb` (so the temporary directory can serve as `HOME`),
    /// with this password (`None`: an empty one, as Chromium makes it).
    pub fn new(password: Option<&str>) -> Self {
        let dir = tempfile::tempdir().expect("tmp");
        let path = dir.path().join(".pki/nssdb");
        std::fs::create_dir_all(&path).expect("db dir");
        let password_file = dir.path().join("db-password");
        std::fs::write(&password_file, password.unwrap_or_default()).expect("pw");
        let db = format!("sql:{}", path.display());
        match password {
            None => run(Command::new("certutil").args(["-N", "-d", &db, "--empty-password"])),
            Some(_) => run(Command::new("certutil").args([
                "-N",
                "-d",
                &db,
                "-f",
                password_file.to_str().expect("path"),
            ])),
        };
        Self {
            dir,
            path,
            password_file,
        }
    }

    /// The directory above `.pki/nssdb` (a `HOME` whose default database is this one).
    pub fn home(&self) -> &Path {
        self.dir.path()
    }

    /// Imports the key and certificate of `issued` with `pk12util`, from a PKCS#12 that
    /// `openssl pkcs12 -export` makes (NSS refuses NCA's own file layout, as it does in a
    /// browser: people re-export first).
    pub fn import(&self, issued: &Issued) {
        let dir = self.dir.path();
        let (key, cert, p12) = (dir.join("k.pem"), dir.join("c.pem"), dir.join("i.p12"));
        std::fs::write(&key, issued.key_pem().as_bytes()).expect("key");
        std::fs::write(&cert, issued.cert_pem()).expect("cert");
        let r = openssl::pkcs12_export(&key, &cert, "import-1", &p12, false);
        assert!(r.ok, "openssl pkcs12 -export: {}", r.output);
        let _ = std::fs::remove_file(&key);
        run(Command::new("pk12util").args([
            "-i",
            p12.to_str().expect("path"),
            "-d",
            &format!("sql:{}", self.path.display()),
            "-W",
            "import-1",
            "-k",
            self.password_file.to_str().expect("path"),
        ]));
    }

    /// Adds a certificate without its key (a CA, or someone else's certificate).
    pub fn add_certificate(&self, nickname: &str, cert_pem: &str, trust: &str) {
        let file = self.dir.path().join(format!("{nickname}.pem"));
        std::fs::write(&file, cert_pem).expect("cert");
        run(Command::new("certutil").args([
            "-A",
            "-d",
            &format!("sql:{}", self.path.display()),
            "-n",
            nickname,
            "-t",
            trust,
            "-a",
            "-i",
            file.to_str().expect("path"),
            "-f",
            self.password_file.to_str().expect("path"),
        ]));
    }
}

/// The SHA-1 thumbprint `openssl x509 -fingerprint -sha1` gives, as upper-case hex without
/// colons (an independent check of the thumbprints the signer shows).
pub fn openssl_thumbprint(cert_pem: &str) -> String {
    let dir = tempfile::tempdir().expect("tmp");
    let f = dir.path().join("c.pem");
    std::fs::write(&f, cert_pem).expect("cert");
    let out = run(Command::new("openssl").args([
        "x509",
        "-noout",
        "-fingerprint",
        "-sha1",
        "-in",
        f.to_str().expect("path"),
    ]));
    out.trim()
        .rsplit('=')
        .next()
        .unwrap_or_default()
        .replace(':', "")
        .to_ascii_uppercase()
}
