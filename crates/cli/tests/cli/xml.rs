//! `qoltanba sign xml` / `verify xml` end to end, with `xmlsec1` as the independent verifier.

use super::{fx, qoltanba, s, stderr};
use qoltanba_testkit::{shared_vectors, xmlsec};

const PW: Option<&str> = Some("Тест-123");

#[test]
fn sign_xml_verifies_in_xmlsec_and_in_qoltanba() {
    let f = fx();
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("form.xml");
    std::fs::write(&input, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<form><!-- c --><f a=\"&amp;\">Өтініш</f><sig/></form>\n").unwrap();
    let out = dir.path().join("signed.xml");
    let o = qoltanba(
        &[
            "sign",
            "xml",
            "--key",
            s(&f.key_file),
            "--password-env",
            "QOLTANBA_PW",
            "--parent-xpath",
            "/form/sig",
            s(&input),
            "-o",
            s(&out),
        ],
        PW,
    );
    assert!(o.status.success(), "{}", stderr(&o));
    let signed = std::fs::read_to_string(&out).unwrap();
    assert!(signed.starts_with("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<form><!-- c --><f a=\"&amp;\">Өтініш</f><sig><ds:Signature"));

    let root = dir.path().join("root.pem");
    let nca = dir.path().join("nca.pem");
    std::fs::write(&root, f.pki_root_pem()).unwrap();
    std::fs::write(&nca, f.pki_nca_pem()).unwrap();
    let r = xmlsec::verify(&out, &[root.as_path(), nca.as_path()], None);
    assert!(r.ok, "{}", r.output);

    let o = qoltanba(
        &["verify", "xml", s(&out), "--trust", s(&f.ca), "--json"],
        None,
    );
    assert!(o.status.success(), "{}", stderr(&o));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["valid"], true);
    assert_eq!(v["signatures"][0]["chain"]["status"], "trusted");
    assert_eq!(v["signatures"][0]["certificate"]["bin"], "123456789021");

    // One character changed outside the signature, then inside it: exit 1.
    let changed = dir.path().join("changed.xml");
    std::fs::write(&changed, signed.replacen("Өтініш", "Өтінiш", 1)).unwrap();
    assert_eq!(
        qoltanba(&["verify", "xml", s(&changed)], None)
            .status
            .code(),
        Some(1)
    );
    let at = signed.find("<ds:DigestValue>").unwrap() + 17;
    let mut bytes = signed.clone().into_bytes();
    bytes[at] = if bytes[at] == b'x' { b'y' } else { b'x' };
    std::fs::write(&changed, bytes).unwrap();
    assert_eq!(
        qoltanba(&["verify", "xml", s(&changed)], None)
            .status
            .code(),
        Some(1)
    );
}

#[test]
fn verify_xml_accepts_the_kalkan_samples() {
    let Some(shared) = shared_vectors() else {
        return;
    };
    let ca = shared.join("ca-test/nca_rsa_test.crt");
    for name in [
        "RSA256_11c707bd54cbfcccb3815e39c4eb57b1dc7dfea9.xml",
        "AUTH_RSA256_b2c70a9ff7a5dc59de0ccc3c0ddde3437cc1f12d.xml",
    ] {
        let p = shared.join("signed").join(name);
        let o = qoltanba(&["verify", "xml", s(&p), "--trust", s(&ca), "--json"], None);
        assert!(o.status.success(), "{name}: {}", stderr(&o));
        let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
        assert_eq!(v["signatures"][0]["chain"]["status"], "trusted");
        assert_eq!(v["signatures"][0]["chain"]["validity"], "expired");
    }
}

#[test]
fn hostile_and_broken_xml_exit_2_with_a_message() {
    let f = fx();
    let dir = tempfile::tempdir().unwrap();
    for (name, text, want) in [
        (
            "xxe.xml",
            "<?xml version=\"1.0\"?><!DOCTYPE r [<!ENTITY x SYSTEM \"file:///etc/passwd\">]><r>&x;</r>",
            "DTD",
        ),
        ("broken.xml", "<a><b></a>", "malformed XML"),
        ("latin1.xml", "<a>\u{fffd}</a>", ""),
    ] {
        let p = dir.path().join(name);
        if name == "latin1.xml" {
            std::fs::write(&p, b"<a>\xe9</a>").unwrap();
        } else {
            std::fs::write(&p, text).unwrap();
        }
        let o = qoltanba(
            &[
                "sign",
                "xml",
                "--key",
                s(&f.key_file),
                "--password-env",
                "QOLTANBA_PW",
                s(&p),
                "-o",
                s(&dir.path().join("o.xml")),
            ],
            PW,
        );
        assert_eq!(o.status.code(), Some(2), "{name}");
        let err = stderr(&o);
        assert!(
            err.contains(if want.is_empty() { "not UTF-8" } else { want }),
            "{name}: {err}"
        );
        assert!(!dir.path().join("o.xml").exists());
        let o = qoltanba(&["verify", "xml", s(&p)], None);
        assert_eq!(o.status.code(), Some(2), "{name}");
    }
}
