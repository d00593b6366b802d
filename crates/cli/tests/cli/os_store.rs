//! The OS store on Linux: a person's NSS database, made and filled with NSS's own `certutil`
//! and `pk12util`; `keys list` shows the key as an OS-store key with openssl's SHA-1
//! thumbprint, `sign cms --os-key` signs inside NSS and openssl verifies; a database with a
//! password asks for it.

use std::path::Path;
use std::process::{Command, Output};

use qoltanba_testkit::nss::{NssDb, openssl_thumbprint};
use qoltanba_testkit::openssl;
use qoltanba_testkit::pki::{LeafSpec, TestPki, Usage, roles};

use super::{json_of, s, stderr};

/// The CLI with `HOME` at `home` (its default database is `home/.pki/nssdb`) and no settings of
/// the machine's user.
fn run(home: &Path, args: &[&str], password: Option<&str>) -> Output {
    let mut c = Command::new(env!("CARGO_BIN_EXE_qoltanba"));
    c.args(args)
        .env("HOME", home)
        .env("XDG_DATA_HOME", home.join("data"))
        .env("XDG_CONFIG_HOME", home.join("config"))
        .env_remove("QPW");
    if let Some(p) = password {
        c.env("QPW", p);
    }
    c.output().unwrap()
}

/// A thumbprint that is not `t` (a fixed "00" prefix would equal it once in 256 runs).
fn another_thumbprint(t: &str) -> String {
    let prefix = if t.starts_with("00") { "FF" } else { "00" };
    format!("{prefix}{}", &t[2..])
}

#[test]
fn an_nss_key_is_listed_and_signs_and_openssl_verifies() {
    let pki = TestPki::new();
    let leaf = pki.issue(&LeafSpec::legal_entity(Usage::Sign, roles::CEO));
    let db = NssDb::new(None);
    db.import(&leaf);
    // A CA certificate without a key is not a key.
    db.add_certificate("test-root", &pki.root.cert_pem(), "C,,");
    let home = db.home();
    let v = json_of(&run(home, &["keys", "list", "--json"], None));
    let keys = v["keys"].as_array().unwrap();
    assert_eq!(keys.len(), 1, "{v}");
    let k = &keys[0];
    let expected = openssl_thumbprint(&leaf.cert_pem());
    assert_eq!(k["storage"], "OS", "{k}");
    assert_eq!(k["offered_as"], "PKCS12");
    assert_eq!(k["thumbprint"], expected.as_str());
    assert_eq!(k["iin"], "123456789011");
    assert_eq!(k["bin"], "123456789021");
    assert_eq!(k["usage"], "SIGN");
    assert_eq!(k["validity"], "valid");
    assert_eq!(k["secret"], "none");
    assert_eq!(v["problems"], serde_json::json!([]));

    // The text listing too.
    let o = run(home, &["keys", "list"], None);
    let text = String::from_utf8_lossy(&o.stdout);
    assert!(text.contains(&expected) && text.contains("OS "), "{text}");

    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("in.txt");
    std::fs::write(&input, "signed inside NSS\n").unwrap();
    let ca = dir.path().join("ca.pem");
    std::fs::write(&ca, pki.ca_bundle_pem()).unwrap();
    for (i, (thumb, attached)) in [
        (expected.to_ascii_lowercase(), false),
        (expected.clone(), true),
    ]
    .iter()
    .enumerate()
    {
        let out = dir.path().join(format!("sig{i}.p7s"));
        let mut args = vec!["sign", "cms", "--os-key", thumb, s(&input), "-o", s(&out)];
        if *attached {
            args.push("--attached");
        }
        let o = run(home, &args, None);
        assert!(o.status.success(), "{}", stderr(&o));
        let r = openssl::cms_verify(&out, (!attached).then_some(input.as_path()), &ca);
        assert!(r.ok, "openssl: {}", r.output);
        let der = std::fs::read(&out).unwrap();
        assert!(der.windows(leaf.cert_der.len()).any(|w| w == leaf.cert_der));
    }

    // --nss-db names the database explicitly (HOME elsewhere).
    let elsewhere = tempfile::tempdir().unwrap();
    let out = dir.path().join("explicit.p7s");
    let o = run(
        elsewhere.path(),
        &[
            "sign",
            "cms",
            "--os-key",
            &expected,
            "--nss-db",
            s(&db.path),
            s(&input),
            "-o",
            s(&out),
        ],
        None,
    );
    assert!(o.status.success(), "{}", stderr(&o));

    // Unknown and malformed thumbprints: clear errors, exit 2.
    let unknown = another_thumbprint(&expected);
    let o = run(
        home,
        &[
            "sign",
            "cms",
            "--os-key",
            &unknown,
            s(&input),
            "-o",
            s(&out),
        ],
        None,
    );
    assert_eq!(o.status.code(), Some(2));
    assert!(
        stderr(&o).contains("no key in the OS certificate store"),
        "{}",
        stderr(&o)
    );
    let o = run(
        home,
        &["sign", "cms", "--os-key", "12ab", s(&input), "-o", s(&out)],
        None,
    );
    assert_eq!(o.status.code(), Some(2));
    assert!(
        stderr(&o).contains("not a certificate thumbprint"),
        "{}",
        stderr(&o)
    );

    // No database at all: nothing listed, no problem reported.
    let v = json_of(&run(elsewhere.path(), &["keys", "list", "--json"], None));
    assert_eq!(v["keys"], serde_json::json!([]), "{v}");
    assert_eq!(v["problems"], serde_json::json!([]), "{v}");
}

#[test]
fn a_database_with_a_password_asks_for_it() {
    let pki = TestPki::new();
    let leaf = pki.issue(&LeafSpec::individual(Usage::Auth));
    let db = NssDb::new(Some("Бразер-42"));
    db.import(&leaf);
    let home = db.home();
    // Listed without the password (NSS shows the public half of its key pairs).
    let v = json_of(&run(home, &["keys", "list", "--json"], None));
    let k = &v["keys"][0];
    assert_eq!(k["secret"], "password", "{v}");
    assert_eq!(k["usage"], "AUTH");
    let thumb = k["thumbprint"].as_str().unwrap().to_owned();

    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("in.txt");
    std::fs::write(&input, "x").unwrap();
    let out = dir.path().join("sig.p7s");
    let sign = [
        "sign",
        "cms",
        "--os-key",
        &thumb,
        "--password-env",
        "QPW",
        s(&input),
        "-o",
        s(&out),
    ];
    // Not given: asked on the terminal, and there is none here.
    let o = run(
        home,
        &["sign", "cms", "--os-key", &thumb, s(&input), "-o", s(&out)],
        None,
    );
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("no password"), "{}", stderr(&o));
    let o = run(home, &sign, None);
    assert!(stderr(&o).contains("QPW is not set"), "{}", stderr(&o));
    let o = run(home, &sign, Some("Zx-not-it-77"));
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("wrong password"), "{}", stderr(&o));
    assert!(!stderr(&o).contains("Zx-not-it-77"), "{}", stderr(&o));
    let o = run(home, &sign, Some("Бразер-42"));
    assert!(o.status.success(), "{}", stderr(&o));
    let ca = dir.path().join("ca.pem");
    std::fs::write(&ca, pki.ca_bundle_pem()).unwrap();
    let r = openssl::cms_verify(&out, Some(&input), &ca);
    assert!(r.ok, "openssl: {}", r.output);
}

#[test]
fn the_os_store_can_be_turned_off_by_the_admin() {
    let pki = TestPki::new();
    let db = NssDb::new(None);
    db.import(&pki.issue(&LeafSpec::individual(Usage::Sign)));
    let policy = db.home().join("policy.toml");
    std::fs::write(&policy, "[os_store]\nenabled = false\n").unwrap();
    let v = json_of(&run(
        db.home(),
        &["keys", "list", "--json", "--policy", s(&policy)],
        None,
    ));
    assert_eq!(v["keys"], serde_json::json!([]), "{v}");
}
