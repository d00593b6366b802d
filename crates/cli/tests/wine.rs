//! The Windows build of `qoltanba` (x86_64-pc-windows-gnu, mingw) run under Wine: `--version`
//! (and the desktop app's),
//! signing with a key file, the CurrentUser `MY` store (a PKCS#12 imported with
//! `PFXImportCertStore`, listed, signed with through CryptoAPI), and `serve` answering the real
//! js-client. Every signature is checked by openssl on the Linux side.
//!
//! `scripts/test.sh` builds the Windows executables first (`scripts/package.sh msi`: the
//! desktop app's release build; then `scripts/cross.sh windows`: the CLI with the test-only
//! unattended prompter and `pfx_import`, release builds on the MSI's dependencies); run alone, this test skips when they are missing (and fails
//! under CI).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
#![allow(clippy::many_single_char_names)] // o(utput), r(esult), v(alue), k/c (key, cert)

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};

use qoltanba_testkit::nss::openssl_thumbprint;
use qoltanba_testkit::openssl;
use qoltanba_testkit::p12;
use qoltanba_testkit::pki::{LeafSpec, TestPki, Usage};

fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// The Windows executables, when built.
fn windows_build() -> Option<PathBuf> {
    // The target directory in use (`CARGO_TARGET_TMPDIR` is its `tmp`).
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR"))
        .parent()
        .expect("the target directory")
        .join("x86_64-pc-windows-gnu");
    let built = [
        "release/qoltanba.exe",
        "release/examples/pfx_import.exe",
        "release/qoltanba-desktop.exe",
        "release/WebView2Loader.dll",
    ];
    if built.iter().all(|f| dir.join(f).is_file()) {
        return Some(dir);
    }
    assert!(
        std::env::var_os("CI").is_none(),
        "the Windows build is missing: scripts/cross.sh windows, scripts/package.sh msi"
    );
    eprintln!("skipped: no Windows build (scripts/cross.sh windows, scripts/package.sh msi)");
    None
}

/// A Wine prefix of its own with the executables and the `bcryptprimitives.dll` shim beside
/// them; the wineserver is stopped when it is dropped.
struct Wine {
    dir: tempfile::TempDir,
    wine: PathBuf,
}

impl Wine {
    fn new(build: &Path) -> Self {
        let dir = tempfile::tempdir().unwrap();
        for (from, to) in [
            (build.join("release/qoltanba.exe"), "qoltanba.exe"),
            (
                build.join("release/examples/pfx_import.exe"),
                "pfx_import.exe",
            ),
            (
                build.join("release/qoltanba-desktop.exe"),
                "qoltanba-desktop.exe",
            ),
            (
                build.join("release/WebView2Loader.dll"),
                "WebView2Loader.dll",
            ),
        ] {
            std::fs::copy(from, dir.path().join(to)).unwrap();
        }
        let out = Command::new("x86_64-w64-mingw32-gcc")
            .args(["-O2", "-shared", "-o"])
            .arg(dir.path().join("bcryptprimitives.dll"))
            .arg(workspace().join("scripts/wine/bcryptprimitives.c"))
            .arg("-ladvapi32")
            .output()
            .expect("mingw (apt gcc-mingw-w64-x86-64)");
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let wine = ["/usr/lib/wine/wine64", "/usr/bin/wine64", "/usr/bin/wine"]
            .iter()
            .map(PathBuf::from)
            .find(|p| p.is_file())
            .expect("wine (apt wine wine64)");
        Self { dir, wine }
    }

    fn command(&self, exe: &str) -> Command {
        let mut c = Command::new(&self.wine);
        c.arg(self.dir.path().join(exe))
            .current_dir(self.dir.path())
            .env("WINEPREFIX", self.dir.path().join("prefix"))
            .env("WINEDEBUG", "-all")
            .env("WINEDLLOVERRIDES", "mscoree,mshtml=")
            .env_remove("DISPLAY");
        c
    }

    fn run(&self, args: &[&str], env: &[(&str, &str)]) -> Output {
        let mut c = self.command("qoltanba.exe");
        c.args(args);
        for (k, v) in env {
            c.env(k, v);
        }
        c.output().unwrap()
    }

    /// `qoltanba.exe keys list --json`, parsed.
    fn keys_list(&self) -> serde_json::Value {
        let o = self.run(&["keys", "list", "--json"], &[]);
        serde_json::from_slice(&o.stdout).unwrap_or_else(|_| panic!("{}", stderr(&o)))
    }

    fn file(&self, name: &str, bytes: &[u8]) -> PathBuf {
        let p = self.dir.path().join(name);
        std::fs::write(&p, bytes).unwrap();
        p
    }
}

impl Drop for Wine {
    fn drop(&mut self) {
        let server = self.wine.with_file_name("wineserver");
        let _ = Command::new(server)
            .arg("-k")
            .env("WINEPREFIX", self.dir.path().join("prefix"))
            .status();
    }
}

/// A Linux path as Wine's `Z:` drive sees it.
fn win(p: &Path) -> String {
    format!("Z:{}", p.display()).replace('/', "\\")
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

struct Serve(Child);

impl Drop for Serve {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[test]
#[allow(clippy::too_many_lines)] // one Wine prefix, set up once, every step in order
fn the_windows_cli_under_wine() {
    let Some(build) = windows_build() else { return };
    let wine = Wine::new(&build);
    let pki = TestPki::new();
    let ca = wine.file("ca.pem", pki.ca_bundle_pem().as_bytes());
    let input = wine.file("in.txt", "Қолтаңба under Wine\n".as_bytes());

    // --version (the first run also makes the prefix).
    let o = wine.run(&["--version"], &[]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(String::from_utf8_lossy(&o.stdout).starts_with("qoltanba "));
    // The desktop app's Windows build starts (no WebView2 under Wine: only its arguments).
    let o = wine
        .command("qoltanba-desktop.exe")
        .arg("--version")
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(String::from_utf8_lossy(&o.stdout).starts_with("qoltanba-desktop "));

    // A key file in NCA's layout.
    let file_leaf = pki.issue(&LeafSpec::individual(Usage::Auth));
    let key = p12::write_nca_file(&file_leaf, "Qwerty12", wine.dir.path());
    let sig = wine.dir.path().join("file.p7s");
    let (key_w, input_w, sig_w) = (win(&key), win(&input), win(&sig));
    let sign_with_file = [
        "sign",
        "cms",
        "--key",
        &key_w,
        "--password-env",
        "QPW",
        &input_w,
        "-o",
        &sig_w,
    ];
    let o = wine.run(&sign_with_file, &[("QPW", "Qwerty12")]);
    assert!(o.status.success(), "{}", stderr(&o));
    let r = openssl::cms_verify(&sig, Some(&input), &ca);
    assert!(r.ok, "openssl: {}", r.output);
    let o = wine.run(&sign_with_file, &[("QPW", "nope")]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("wrong password"), "{}", stderr(&o));

    // The store is empty in a new prefix: nothing listed, no problem.
    let v = wine.keys_list();
    assert_eq!(v["keys"], serde_json::json!([]), "{v}");

    // A key imported into CurrentUser MY (as double-clicking a .pfx does).
    let os_leaf = pki.issue(&LeafSpec::individual(Usage::Sign));
    let (k, c, pfx) = (
        wine.file("k.pem", os_leaf.key_pem().as_bytes()),
        wine.file("c.pem", os_leaf.cert_pem().as_bytes()),
        wine.dir.path().join("os.pfx"),
    );
    let r = openssl::pkcs12_export(&k, &c, "pfx-1", &pfx, false);
    assert!(r.ok, "{}", r.output);
    std::fs::remove_file(&k).unwrap();
    let o = wine
        .command("pfx_import.exe")
        .args([&win(&pfx), "pfx-1"])
        .output()
        .unwrap();
    assert!(o.status.success(), "pfx_import: {}", stderr(&o));
    let thumb = openssl_thumbprint(&os_leaf.cert_pem());
    let v = wine.keys_list();
    let keys = v["keys"].as_array().unwrap();
    assert_eq!(keys.len(), 1, "{v}");
    assert_eq!(keys[0]["storage"], "OS");
    assert_eq!(keys[0]["offered_as"], "PKCS12");
    assert_eq!(keys[0]["thumbprint"], thumb.as_str());
    assert_eq!(keys[0]["usage"], "SIGN");
    assert_eq!(keys[0]["iin"], "123456789011");
    assert!(
        keys[0]["location"]
            .as_str()
            .unwrap()
            .starts_with("Windows MY")
    );

    // Signed through CryptoAPI with the store's key (lower-case thumbprint accepted).
    let os_sig = wine.dir.path().join("os.p7s");
    let o = wine.run(
        &[
            "sign",
            "cms",
            "--os-key",
            &thumb.to_ascii_lowercase(),
            &win(&input),
            "-o",
            &win(&os_sig),
        ],
        &[],
    );
    assert!(o.status.success(), "{}", stderr(&o));
    let r = openssl::cms_verify(&os_sig, Some(&input), &ca);
    assert!(r.ok, "openssl: {}", r.output);
    let der = std::fs::read(&os_sig).unwrap();
    assert!(
        der.windows(os_leaf.cert_der.len())
            .any(|w| w == os_leaf.cert_der)
    );
    let prefix = if thumb.starts_with("00") { "FF" } else { "00" };
    let unknown = format!("{prefix}{}", &thumb[2..]);
    let o = wine.run(
        &[
            "sign",
            "cms",
            "--os-key",
            &unknown,
            &win(&input),
            "-o",
            &win(&os_sig),
        ],
        &[],
    );
    assert_eq!(o.status.code(), Some(2));
    assert!(
        stderr(&o).contains("no key in the OS certificate store"),
        "{}",
        stderr(&o)
    );

    // serve, answering the real js-client: the OS store key for PKCS12 (the client asks for a
    // timestamp: a test TSA, `openssl ts -reply`, on the Linux side).
    let tsa = qoltanba_testkit::tsa::TestTsa::start(&pki);
    let unattended = wine.file(
        "unattended.toml",
        format!("approve = true\n[[os_keys]]\nthumbprint = {thumb:?}\n").as_bytes(),
    );
    let mut child = wine
        .command("qoltanba.exe")
        .args([
            "serve",
            "--listen",
            "127.0.0.1:0",
            "--tls",
            "off",
            "--unattended",
            &win(&unattended),
        ])
        .args([
            "--trust-anchor",
            &win(&ca),
            "--data-dir",
            &win(&wine.dir.path().join("data")),
            "--tsa",
            &tsa.url,
        ])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let url = qoltanba_testkit::listening_url(&mut child);
    let _serve = Serve(child);
    let js = workspace().join("tests/e2e/js-client");
    let out = Command::new("node")
        .current_dir(&js)
        .args([
            "run.mjs",
            "--url",
            &url,
            "--mode",
            "token",
            "--storage",
            "PKCS12",
        ])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let r: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(r["connect"]["ok"], "1.4", "{r}");
    for name in ["basicsToken", "cadesToken"] {
        let text = r[name]["ok"]
            .as_str()
            .unwrap_or_else(|| panic!("{name}: {}", r[name]));
        let der = qoltanba_sign::input::decode_binary(text.as_bytes()).unwrap();
        let p = wine.file(&format!("{name}.p7s"), &der);
        let v = openssl::cms_verify(&p, None, &ca);
        assert!(v.ok, "{name}: openssl: {}", v.output);
        assert!(
            der.windows(os_leaf.cert_der.len())
                .any(|w| w == os_leaf.cert_der)
        );
    }
}
