//! The `qoltanba` binary end to end: real key files, real `openssl` as the verifier.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::cast_possible_truncation
)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::OnceLock;

use qoltanba_testkit::p12;
use qoltanba_testkit::pki::{Issued, LeafSpec, TestPki, Usage, roles};
use qoltanba_testkit::{NCA_P12_FILES, shared_vectors};
use serde_json::Value;

mod bad_input;
mod cert_status;
mod os_store;
mod sign_verify;
mod timestamps;
mod tokens;
mod trust;
mod xml;

struct Fx {
    pki: TestPki,
    leaf: Issued,
    _dir: tempfile::TempDir,
    key_file: PathBuf,
    ca: PathBuf,
}

fn fx() -> &'static Fx {
    static F: OnceLock<Fx> = OnceLock::new();
    F.get_or_init(|| {
        let pki = TestPki::new();
        let leaf = pki.issue(&LeafSpec::legal_entity(Usage::Sign, roles::CEO));
        let dir = tempfile::tempdir().unwrap();
        let key_file = p12::write_nca_file(&leaf, "Тест-123", dir.path());
        let ca = dir.path().join("ca.pem");
        std::fs::write(&ca, pki.ca_bundle_pem()).unwrap();
        Fx {
            pki,
            leaf,
            _dir: dir,
            key_file,
            ca,
        }
    })
}

impl Fx {
    fn pki_root_pem(&self) -> String {
        self.pki.root.cert_pem()
    }
    fn pki_nca_pem(&self) -> String {
        self.pki.nca.cert_pem()
    }
}

fn qoltanba(args: &[&str], password: Option<&str>) -> Output {
    let mut c = Command::new(env!("CARGO_BIN_EXE_qoltanba"));
    c.args(args).env_remove("QOLTANBA_PW");
    if let Some(p) = password {
        c.env("QOLTANBA_PW", p);
    }
    c.output().unwrap()
}

fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

fn json_of(o: &Output) -> Value {
    assert!(o.status.success(), "{}", stderr(o));
    serde_json::from_slice(&o.stdout).unwrap()
}

#[test]
fn keys_info_json_on_the_nca_test_files() {
    let Some(dir) = shared_vectors() else { return };
    for (name, pw) in NCA_P12_FILES {
        let path = dir.join("p12-test").join(name);
        let v = json_of(&qoltanba(
            &[
                "keys",
                "info",
                s(&path),
                "--password-env",
                "QOLTANBA_PW",
                "--json",
            ],
            Some(pw),
        ));
        for field in [
            "iin",
            "bin",
            "subject_cn",
            "surname",
            "given_name",
            "patronymic",
            "organization",
            "email",
            "not_before",
            "not_after",
            "issuer_cn",
            "serial",
            "key_algorithm",
            "key_kind",
            "roles",
        ] {
            assert!(v.get(field).is_some(), "{name}: {field} missing");
        }
        let iin = if name.starts_with("GOST512") {
            "123456789012"
        } else {
            "123456789011"
        };
        assert_eq!(v["iin"], iin, "{name}");
        if name.starts_with("GOSTKNCA") || name.starts_with("AUTH_RSA256_d68") {
            assert_eq!(v["bin"], "123456789021", "{name}");
        } else {
            assert_eq!(v["bin"], Value::Null, "{name}");
        }
        let alg = v["key_algorithm"].as_str().unwrap();
        if name.starts_with("GOST") {
            assert!(alg.starts_with("GOST"), "{name}: {alg}");
        } else {
            assert_eq!(alg, "RSA-2048");
        }
        // RFC 3339 times.
        assert!(
            time::OffsetDateTime::parse(
                v["not_after"].as_str().unwrap(),
                &time::format_description::well_known::Rfc3339
            )
            .is_ok()
        );
    }
}

#[test]
fn keys_info_on_a_generated_ceo_key() {
    let f = fx();
    let v = json_of(&qoltanba(
        &[
            "keys",
            "info",
            s(&f.key_file),
            "--password-env",
            "QOLTANBA_PW",
            "--json",
        ],
        Some("Тест-123"),
    ));
    assert_eq!(v["surname"], "ТЕСТОВ");
    assert_eq!(v["given_name"], "ТЕСТ");
    assert_eq!(v["patronymic"], "ТЕСТОВИЧ");
    assert_eq!(v["organization"], "АО \"ТЕСТ\"");
    assert_eq!(v["email"], "test@example.kz");
    assert_eq!(v["key_kind"], "sign");
    assert_eq!(v["roles"], serde_json::json!(["legal_entity", "ceo"]));
    assert_eq!(v["subject_key_id"], f.leaf.ski_hex.as_str());
    assert_eq!(v["issuer_cn"], "ҰЛТТЫҚ КУӘЛАНДЫРУШЫ ОРТАЛЫҚ (RSA) TEST");
    // Human output too.
    let o = qoltanba(
        &[
            "keys",
            "info",
            s(&f.key_file),
            "--password-env",
            "QOLTANBA_PW",
        ],
        Some("Тест-123"),
    );
    let text = String::from_utf8(o.stdout).unwrap();
    assert!(
        text.contains("ТЕСТОВ ТЕСТ ТЕСТОВИЧ") && text.contains("123456789021"),
        "{text}"
    );
}
