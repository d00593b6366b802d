//! `qoltanba tokens list` and `qoltanba sign cms --token-*` on a SoftHSM2 token.

use std::process::Command;

use qoltanba_testkit::openssl;
use qoltanba_testkit::pki::{LeafSpec, TestPki, Usage};
use qoltanba_testkit::softhsm::SoftHsm;

use super::s;

#[test]
fn list_and_sign_on_a_token() {
    let pki = TestPki::new();
    let leaf = pki.issue(&LeafSpec::individual(Usage::Sign));
    let hsm = SoftHsm::new();
    hsm.init_token("qtoken", "4321");
    hsm.import("qtoken", "4321", &leaf, "0a0b");
    let dir = tempfile::tempdir().unwrap();
    let run = |args: &[&str], pin: Option<&str>| {
        let mut c = Command::new(env!("CARGO_BIN_EXE_qoltanba"));
        c.args(args)
            .env("SOFTHSM2_CONF", &hsm.conf)
            .env_remove("QPIN");
        if let Some(p) = pin {
            c.env("QPIN", p);
        }
        c.output().unwrap()
    };
    let module = hsm.module.to_str().unwrap();
    let o = run(&["tokens", "list", "--module", module, "--json"], None);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let t = &v["tokens"][0];
    assert_eq!(t["label"], "qtoken");
    assert_eq!(t["pin"]["locked"], false);
    assert_eq!(t["certificates"][0]["id"], "0a0b");
    assert_eq!(t["certificates"][0]["details"]["iin"], "123456789011");

    // A module that does not load is reported, not fatal.
    let o = run(
        &[
            "tokens",
            "list",
            "--module",
            "/nonexistent/libnope.so",
            "--module",
            module,
        ],
        None,
    );
    assert!(o.status.success());
    assert!(String::from_utf8_lossy(&o.stderr).contains("cannot load the token library"));
    assert!(String::from_utf8_lossy(&o.stdout).contains("[qtoken]"));

    let input = dir.path().join("in.txt");
    std::fs::write(&input, "token signature").unwrap();
    let out = dir.path().join("o.p7s");
    let sign = |pin: &str| {
        run(
            &[
                "sign",
                "cms",
                "--token-module",
                module,
                "--token-label",
                "qtoken",
                "--pin-env",
                "QPIN",
                s(&input),
                "-o",
                s(&out),
            ],
            Some(pin),
        )
    };
    let o = sign("4321");
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let ca = dir.path().join("ca.pem");
    std::fs::write(&ca, pki.ca_bundle_pem()).unwrap();
    let r = openssl::cms_verify(&out, Some(&input), &ca);
    assert!(r.ok, "{}", r.output);
    let o = sign("9999");
    assert_eq!(o.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&o.stderr).contains("wrong PIN"),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    let o = run(
        &[
            "sign",
            "cms",
            "--token-module",
            module,
            "--token-label",
            "absent",
            "--pin-env",
            "QPIN",
            s(&input),
            "-o",
            s(&out),
        ],
        Some("4321"),
    );
    assert!(
        String::from_utf8_lossy(&o.stderr).contains("is not connected"),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
}
