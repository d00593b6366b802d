//! `qoltanba cert status` against a real OCSP responder and CRL: good, revoked (with the
//! reason), the CRL answering when the responder is down, a clear "could not be checked"
//! with both down — each with its exit code — and a certificate that names neither.

use qoltanba_testkit::pki::{LeafSpec, TestPki, Usage};
use qoltanba_testkit::revocation::Revocation;

use super::{qoltanba, s, stderr};

#[test]
fn cert_status_says_good_revoked_or_could_not_check() {
    let pki = TestPki::new();
    let mut rev = Revocation::reserve();
    let spec =
        LeafSpec::individual(Usage::Sign).with_revocation(Some(&rev.ocsp_url), Some(&rev.crl_url));
    let good = pki.issue(&spec);
    let bad = pki.issue(&spec);
    let plain = pki.issue(&LeafSpec::individual(Usage::Sign));
    rev.start(&pki, &[(&good, false), (&bad, true)]);
    let dir = tempfile::tempdir().unwrap();
    let ca = dir.path().join("ca.pem");
    std::fs::write(&ca, pki.ca_bundle_pem()).unwrap();
    let file = |name: &str, pem: String| {
        let p = dir.path().join(name);
        std::fs::write(&p, pem).unwrap();
        p
    };
    let (good_pem, bad_pem, plain_pem) = (
        file("good.pem", good.cert_pem()),
        file("bad.pem", bad.cert_pem()),
        file("plain.pem", plain.cert_pem()),
    );
    let status = |f: &std::path::Path| {
        let o = qoltanba(&["cert", "status", s(f), "--trust", s(&ca)], None);
        (
            o.status.code(),
            String::from_utf8_lossy(&o.stdout).into_owned(),
            stderr(&o),
        )
    };
    let (code, out, err) = status(&good_pem);
    assert_eq!(code, Some(0), "{out}{err}");
    assert!(out.contains("not revoked (ocsp)"), "{out}");
    let (code, out, _) = status(&bad_pem);
    assert_eq!(code, Some(3), "{out}");
    assert!(
        out.contains("revoked on") && out.contains("keyCompromise"),
        "{out}"
    );
    let o = qoltanba(
        &["cert", "status", s(&bad_pem), "--trust", s(&ca), "--json"],
        None,
    );
    let json: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(json["state"], "revoked");
    assert_eq!(json["reason"], "keyCompromise");
    let (code, out, _) = status(&plain_pem);
    assert_eq!(code, Some(0), "{out}");
    assert!(out.contains("nothing to check"), "{out}");
    rev.stop_ocsp();
    let (code, out, _) = status(&bad_pem);
    assert_eq!(code, Some(3), "{out}");
    assert!(out.contains("(crl)"), "the CRL did not answer: {out}");
    rev.stop_crl();
    let started = std::time::Instant::now();
    let (code, out, _) = status(&good_pem);
    assert_eq!(code, Some(5), "{out}");
    assert!(out.contains("could not be checked"), "{out}");
    assert!(started.elapsed() < std::time::Duration::from_secs(25));
}
