//! CAdES-T against a real TSA (`openssl ts -reply` over HTTP): the request over the signature
//! value, the answer checked, the token added; `openssl cms -verify` accepts the result and
//! `openssl ts -verify` the token. Bad answers are refused.

use qoltanba_sign::DigestAlgorithm;
use qoltanba_sign::cms::tsp::{self, TimestampRequest, TspError};
use qoltanba_sign::cms::{self, CmsOptions};
use qoltanba_testkit::openssl;
use qoltanba_testkit::tsa::{self, Mode, TestTsa};

use crate::common::fixture;

#[test]
fn a_timestamp_from_a_real_tsa_is_checked_added_and_verifies_with_openssl() {
    let f = fixture();
    let key = f.key();
    let tsa = TestTsa::start(&f.pki);
    let cms = cms::sign_attached(&key, b"hello", &CmsOptions::default()).unwrap();
    let sigs = tsp::signature_values(&cms).unwrap();
    assert_eq!(sigs.len(), 1);
    let (value, digest) = (&sigs[0].value, &sigs[0].digest);
    assert_eq!(*digest, DigestAlgorithm::Sha256);
    assert!(!sigs[0].timestamped);
    let req = TimestampRequest::new(value, *digest, Some(tsa::POLICY)).unwrap();
    let answer = tsa::post(&tsa.url, &req.der);
    let ts = req.check(&answer, &f.anchors()).unwrap();
    assert_eq!(ts.policy, tsa::POLICY);
    assert!((ts.time - time::OffsetDateTime::now_utc()).abs() < time::Duration::minutes(5));
    let stamped = tsp::add_timestamp(&cms, 0, &ts.token).unwrap();
    assert!(tsp::signature_values(&stamped).unwrap()[0].timestamped);

    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("t.p7s");
    std::fs::write(&p, &stamped).unwrap();
    let v = openssl::cms_verify(&p, None, &f.ca_file());
    assert!(v.ok, "{}", v.output);
    let (tok, data) = (dir.path().join("tok.der"), dir.path().join("sig.bin"));
    std::fs::write(&tok, &ts.token).unwrap();
    std::fs::write(&data, value).unwrap();
    let v = openssl::ts_verify(&tok, &data, &f.ca_file());
    assert!(v.ok, "{}", v.output);
    // openssl sees the attribute where CAdES puts it.
    let shown = std::process::Command::new("openssl")
        .args(["cms", "-cmsout", "-print", "-inform", "DER", "-in"])
        .arg(&p)
        .output()
        .unwrap();
    assert!(
        String::from_utf8_lossy(&shown.stdout).contains("id-smime-aa-timeStampToken"),
        "no timestamp attribute"
    );
    // Everything but the SignerInfo stays byte for byte: the content is still there.
    assert_eq!(cms::attached_content(&stamped).unwrap().unwrap(), b"hello");
    // A second timestamp goes next to the first.
    let again = tsp::add_timestamp(&stamped, 0, &ts.token).unwrap();
    std::fs::write(&p, &again).unwrap();
    assert!(openssl::cms_verify(&p, None, &f.ca_file()).ok);
}

#[test]
fn bad_answers_are_refused() {
    let f = fixture();
    let key = f.key();
    let tsa = TestTsa::start(&f.pki);
    let cms = cms::sign_detached(&key, b"x", &CmsOptions::default()).unwrap();
    let sv = tsp::signature_values(&cms).unwrap().remove(0);
    let (value, digest) = (sv.value, sv.digest);
    let req = TimestampRequest::new(&value, digest, None).unwrap();
    // An answer for another request (other imprint, other nonce).
    let other = TimestampRequest::new(b"something else", digest, None).unwrap();
    let answer = tsa::post(&tsa.url, &other.der);
    assert!(matches!(
        req.check(&answer, &f.anchors()),
        Err(TspError::BadResponse(_))
    ));
    // The same imprint but another nonce: a replayed answer.
    let replay = TimestampRequest::new(&value, digest, None).unwrap();
    let answer = tsa::post(&tsa.url, &replay.der);
    let e = req.check(&answer, &f.anchors()).unwrap_err();
    assert!(e.to_string().contains("nonce"), "{e}");
    // A TSA certificate from another PKI.
    let stranger = qoltanba_testkit::pki::TestPki::new();
    let answer = tsa::post(&tsa.url, &req.der);
    let anchors = vec![stranger.root.cert_der.clone()];
    assert!(req.check(&answer, &anchors).is_err());
    // A policy the TSA does not serve.
    let odd = TimestampRequest::new(&value, digest, Some("1.2.3.4")).unwrap();
    let answer = tsa::post(&tsa.url, &odd.der);
    assert!(matches!(
        odd.check(&answer, &f.anchors()),
        Err(TspError::Refused(_))
    ));
    // Garbage.
    tsa.set_mode(Mode::Garbage);
    let answer = tsa::post(&tsa.url, &req.der);
    assert!(matches!(
        req.check(&answer, &f.anchors()),
        Err(TspError::BadResponse(_))
    ));
}

/// NCA's public TSP samples (NCANode's test resources): the response is granted, its token
/// and the bare token verify as CMS and say when and under which policy.
#[test]
fn the_public_tsp_samples_parse_and_verify() {
    let Some(dir) = qoltanba_testkit::shared_vectors() else {
        return;
    };
    let dir = dir.join("ocsp-tsp-crl");
    for name in ["tsp_token.bin", "tsp_response.bin"] {
        let bytes = std::fs::read(dir.join(name)).unwrap();
        // The response wraps the token after its status.
        let token = if name == "tsp_response.bin" {
            let der = qoltanba_pki::ber::to_der(&bytes).unwrap();
            let resp = qoltanba_pki::ber::Tlv::parse_exact(&der).unwrap();
            let parts = resp.children().unwrap();
            assert_eq!(parts.len(), 2, "status and token");
            parts[1].raw.to_vec()
        } else {
            bytes
        };
        let info = tsp::read_info(&token).unwrap();
        eprintln!(
            "{name}: {} policy {} imprint {}",
            info.time, info.policy, info.imprint_algorithm
        );
        assert!(
            info.policy.starts_with("1.2.398.3.3.2.6."),
            "{}",
            info.policy
        );
        let rep = cms::verify(
            &token,
            cms::DetachedContent::None,
            &cms::VerifyOptions::default(),
        )
        .unwrap();
        assert!(rep.valid, "{name}: {rep:?}");
        let cert = rep.signers[0].certificate.as_ref().unwrap();
        assert!(
            cert.ext_key_usage
                .iter()
                .any(|e| e == tsp::EKU_TIME_STAMPING)
        );
    }
}
