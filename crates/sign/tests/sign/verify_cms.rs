//! Verification of CMS made by others: OpenSSL, and Kalkan (the shared NCA RSA sample).

use qoltanba_pki::ValidityStatus;
use qoltanba_pki::chain::ChainStatus;
use qoltanba_sign::cms::{self, DetachedContent, VerifyOptions};
use qoltanba_sign::input;
use qoltanba_testkit::{openssl, shared_vectors};

use crate::common::{fixture, write};

#[test]
fn openssl_made_cms_verifies_and_tampering_is_caught() {
    let f = fixture();
    let dir = tempfile::tempdir().unwrap();
    let content = write(dir.path(), "in.bin", b"document made elsewhere");
    let cert = write(dir.path(), "cert.pem", f.leaf.cert_pem().as_bytes());
    let key = write(dir.path(), "key.pem", f.leaf.key_pem().as_bytes());
    let opts = VerifyOptions {
        trust_anchors: f.anchors(),
        now: None,
        ..Default::default()
    };

    for attached in [false, true] {
        let out = dir.path().join(format!("o-{attached}.p7s"));
        let r = openssl::cms_sign(&content, &cert, &key, &out, attached);
        assert!(r.ok, "{}", r.output);
        let sig = std::fs::read(&out).unwrap();
        let data = b"document made elsewhere";
        let detached = if attached {
            DetachedContent::None
        } else {
            DetachedContent::Bytes(data)
        };
        let rep = cms::verify(&sig, detached, &opts).unwrap();
        assert!(rep.valid, "{rep:?}");
        let chain = rep.signers[0].chain.as_ref().unwrap();
        assert_eq!(chain.status, ChainStatus::Trusted);
        assert_eq!(chain.validity, ValidityStatus::Valid);
        // leaf → the NCA intermediate, which is itself one of the anchors given.
        assert_eq!(chain.path.len(), 2, "{:?}", chain.path);

        // One byte of the content changed.
        let mut other = data.to_vec();
        other[3] ^= 1;
        let rep = if attached {
            let pos = sig.windows(data.len()).position(|w| w == data).unwrap();
            let mut bad = sig.clone();
            bad[pos + 3] ^= 1;
            cms::verify(&bad, DetachedContent::None, &opts).unwrap()
        } else {
            cms::verify(&sig, DetachedContent::Bytes(&other), &opts).unwrap()
        };
        assert!(!rep.valid);
        assert!(!rep.signers[0].digest_matches);

        // One byte of the signature value changed (the last bytes of the DER are signature).
        let mut bad = sig.clone();
        let n = bad.len();
        bad[n - 5] ^= 1;
        let data_ref: &[u8] = data;
        let detached = if attached {
            DetachedContent::None
        } else {
            DetachedContent::Bytes(data_ref)
        };
        let rep = cms::verify(&bad, detached, &opts).unwrap();
        assert!(!rep.valid);
        assert!(!rep.signers[0].signature_matches);
    }
}

#[test]
fn untrusted_and_expired_are_reported_apart_from_the_math() {
    let f = fixture();
    let other_pki = qoltanba_testkit::pki::TestPki::new();
    let sig = cms::sign_attached(&f.key(), b"x", &cms::CmsOptions::default()).unwrap();
    let rep = cms::verify(
        &sig,
        DetachedContent::None,
        &VerifyOptions {
            trust_anchors: vec![other_pki.root.cert_der.clone()],
            now: None,
            ..Default::default()
        },
    )
    .unwrap();
    assert!(rep.valid, "math stays valid");
    assert_eq!(
        rep.signers[0].chain.as_ref().unwrap().status,
        ChainStatus::Untrusted
    );

    let rep = cms::verify(&sig, DetachedContent::None, &VerifyOptions::default()).unwrap();
    assert_eq!(
        rep.signers[0].chain.as_ref().unwrap().status,
        ChainStatus::NotChecked
    );
}

#[test]
fn detached_without_content_is_a_clear_error() {
    let f = fixture();
    let sig = cms::sign_detached(&f.key(), b"x", &cms::CmsOptions::default()).unwrap();
    let err = cms::verify(&sig, DetachedContent::None, &VerifyOptions::default()).unwrap_err();
    assert!(err.to_string().contains("content is needed"), "{err}");
}

#[test]
fn garbage_is_not_cms() {
    for bad in [&b""[..], b"\x30\x03\x02\x01\x01", b"\x30\x80", &[0x30; 100]] {
        assert!(cms::verify(bad, DetachedContent::None, &VerifyOptions::default()).is_err());
    }
}

#[test]
fn kalkan_rsa_sample_verifies_with_expired_chain() {
    let Some(dir) = shared_vectors() else { return };
    let text =
        std::fs::read(dir.join("signed/RSA256_11c707bd54cbfcccb3815e39c4eb57b1dc7dfea9.cms"))
            .unwrap();
    let sig = input::decode_binary(&text).unwrap();
    let ca = std::fs::read(dir.join("ca-test/nca_rsa_test.crt")).unwrap();
    let anchors = input::decode_certificates(&ca).unwrap();
    let rep = cms::verify(
        &sig,
        DetachedContent::None,
        &VerifyOptions {
            trust_anchors: anchors,
            now: None,
            ..Default::default()
        },
    )
    .unwrap();
    assert!(rep.valid, "{rep:?}");
    assert!(rep.attached);
    let s = &rep.signers[0];
    assert_eq!(
        s.certificate.as_ref().unwrap().iin.as_deref(),
        Some("123456789011")
    );
    let chain = s.chain.as_ref().unwrap();
    assert_eq!(chain.status, ChainStatus::Trusted);
    // Checked at the signing time (2020-09-09), when the certificate was valid.
    assert_eq!(chain.validity, ValidityStatus::Valid);
    assert_eq!(s.signing_time.unwrap().year(), 2020);
    assert_eq!(
        cms::attached_content(&sig).unwrap().as_deref(),
        Some(&b"asdasd"[..])
    );
}

/// A smoke fuzz of the CMS and XML verifiers: mutated inputs end in a report or a typed error,
/// never a panic.
#[test]
fn mutated_signatures_never_panic() {
    let f = fixture();
    let sig = cms::sign_attached(&f.key(), b"fuzz me", &cms::CmsOptions::default()).unwrap();
    let signed_xml = qoltanba_sign::xml::sign(
        &f.key(),
        "<a><b x='1'>т</b></a>",
        &qoltanba_sign::xml::XmlSignOptions::default(),
    )
    .unwrap();
    let mut state: u64 = 0x9e37_79b9_7f4a_7c15;
    let mut next = move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    };
    let opts = VerifyOptions::default();
    for i in 0..2000 {
        let mut m = sig.clone();
        let n = m.len() as u64;
        if i % 2 == 0 {
            let at = usize::try_from(next() % n).unwrap();
            m[at] ^= 1 << (next() % 8);
        } else {
            m.truncate(usize::try_from(next() % n).unwrap());
        }
        let _ = cms::verify(&m, DetachedContent::None, &opts);
        let mut x = signed_xml.clone().into_bytes();
        let at = usize::try_from(next() % x.len() as u64).unwrap();
        x[at] = b"<>&\"'=/ a#"[usize::try_from(next() % 10).unwrap()];
        if let Ok(text) = std::str::from_utf8(&x) {
            let _ =
                qoltanba_sign::xml::verify(text, &qoltanba_sign::xml::XmlVerifyOptions::default());
        }
    }
}

/// A CMS with more signers or certificates than any real one is refused before any digest.
#[test]
fn cms_verification_work_is_bounded() {
    use qoltanba_sign::cms::CmsLimits;
    let key = fixture().key();
    let der = cms::sign_attached(&key, b"content", &cms::CmsOptions::default()).unwrap();
    let opts = VerifyOptions {
        limits: CmsLimits {
            max_signers: 0,
            max_certificates: 32,
        },
        ..Default::default()
    };
    let r = cms::verify(&der, DetachedContent::None, &opts);
    assert!(
        matches!(r, Err(qoltanba_sign::SignError::TooMuchWork(ref w)) if w.contains("signers")),
        "{r:?}"
    );
    let opts = VerifyOptions {
        limits: CmsLimits {
            max_signers: 16,
            max_certificates: 0,
        },
        ..Default::default()
    };
    let r = cms::verify(&der, DetachedContent::None, &opts);
    assert!(
        matches!(r, Err(qoltanba_sign::SignError::TooMuchWork(ref w)) if w.contains("certificates")),
        "{r:?}"
    );
    assert!(
        cms::verify(&der, DetachedContent::None, &VerifyOptions::default())
            .unwrap()
            .valid
    );
}
