//! Each bad input gives a clear message and exit code 2, never a panic.

use super::{fx, qoltanba, s, stderr};

fn info(path: &std::path::Path, pw: Option<&str>) -> (Option<i32>, String) {
    let o = qoltanba(
        &["keys", "info", s(path), "--password-env", "QOLTANBA_PW"],
        pw,
    );
    (o.status.code(), stderr(&o))
}

#[test]
fn bad_key_files_give_clear_errors() {
    let f = fx();
    let dir = tempfile::tempdir().unwrap();
    let good = std::fs::read(&f.key_file).unwrap();
    let cases: Vec<(&str, Vec<u8>, &str)> = vec![
        (
            "truncated.p12",
            good[..good.len() / 2].to_vec(),
            "not a PKCS#12 key container",
        ),
        (
            "random.p12",
            (0..3000u32)
                .map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8)
                .collect(),
            "not a PKCS#12",
        ),
        ("cert.pem", f.leaf.cert_pem().into_bytes(), "PEM text file"),
        ("empty.p12", Vec::new(), "empty"),
        (
            "cert.cer",
            f.leaf.cert_der.clone(),
            "certificate, not a key container",
        ),
    ];
    for (name, bytes, want) in cases {
        let p = dir.path().join(name);
        std::fs::write(&p, bytes).unwrap();
        let (code, err) = info(&p, Some("Тест-123"));
        assert_eq!(code, Some(2), "{name}: {err}");
        assert!(err.contains(want), "{name}: {err}");
        assert!(!err.contains("panicked"), "{name}: {err}");
    }
    // A container with a certificate and no key.
    let contents = qoltanba_testkit::p12::Contents {
        pkcs8: None,
        ..qoltanba_testkit::p12::Contents::of(&f.leaf)
    };
    let bytes = qoltanba_testkit::p12::write(
        &contents,
        "Тест-123",
        qoltanba_testkit::p12::Protection::NcaLegacy,
        qoltanba_testkit::p12::Encoding::NcaBer,
    );
    let p = dir.path().join("nokey.p12");
    std::fs::write(&p, bytes).unwrap();
    let (code, err) = info(&p, Some("Тест-123"));
    assert_eq!(code, Some(2));
    assert!(err.contains("holds no private key"), "{err}");
}

#[test]
fn wrong_or_missing_password() {
    let f = fx();
    let (code, err) = info(&f.key_file, Some("wrong"));
    assert_eq!(code, Some(2));
    assert!(err.contains("wrong password"), "{err}");
    assert!(
        !err.contains("wrong\n") && !err.contains("Тест-123"),
        "no secret echoed: {err}"
    );
    let (code, err) = info(&f.key_file, None);
    assert_eq!(code, Some(2));
    assert!(err.contains("QOLTANBA_PW is not set"), "{err}");
    // No --password-env and no terminal: a clear message rather than a hang.
    let o = qoltanba(&["keys", "info", s(&f.key_file)], None);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("no password"), "{}", stderr(&o));
    // Missing file.
    let (code, err) = info(std::path::Path::new("/nonexistent/k.p12"), Some("x"));
    assert_eq!(code, Some(2));
    assert!(err.contains("cannot"), "{err}");
}

#[test]
fn bad_signatures_give_clear_errors() {
    let dir = tempfile::tempdir().unwrap();
    for (name, bytes) in [
        ("e.p7s", &b""[..]),
        ("b64.p7s", b"@@@ not base64 @@@"),
        ("asn.p7s", b"\x30\x03\x02\x01\x01"),
    ] {
        let p = dir.path().join(name);
        std::fs::write(&p, bytes).unwrap();
        let o = qoltanba(&["verify", "cms", s(&p)], None);
        assert_eq!(o.status.code(), Some(2), "{name}");
        assert!(!stderr(&o).contains("panicked"), "{}", stderr(&o));
    }
}
