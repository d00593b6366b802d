//! GOST in the formats: Kalkan's public GOST samples verify; signatures made with the NCA GOST
//! test keys verify and have the samples' exact structure (OIDs, attributes, URIs, sizes).
//! (No independent GOST verifier with the Kazakh conventions exists to run here; the
//! known-answer tests against NCA's own signatures stand in for one.)

use std::path::Path;

use qoltanba_keys::{Secret, SigningKey, SoftwareKey, pkcs12};
use qoltanba_pki::chain::ChainStatus;
use qoltanba_sign::cms::{self, CmsOptions, DetachedContent, VerifyOptions};
use qoltanba_sign::input;
use qoltanba_sign::xml::{self, XmlSignOptions, XmlVerifyOptions};
use qoltanba_testkit::shared_vectors;

fn anchors(dir: &Path, file: &str) -> Vec<Vec<u8>> {
    input::decode_certificates(&std::fs::read(dir.join("ca-test").join(file)).unwrap()).unwrap()
}

fn key(dir: &Path, file: &str, pw: &str) -> SoftwareKey {
    pkcs12::open_file(&dir.join("p12-test").join(file), &Secret::new(pw.into()))
        .unwrap()
        .keys
        .remove(0)
}

#[test]
fn kalkan_gost_samples_verify() {
    let Some(dir) = shared_vectors() else { return };
    // GOST 34.310-2004 attached CMS and enveloped XML, legal entity.
    let cms_text =
        std::fs::read(dir.join("signed/GOSTKNCA_13a3741b52d7bf860aab199b56fad1f4652e357b.cms"))
            .unwrap();
    let der = input::decode_binary(&cms_text).unwrap();
    let opts = VerifyOptions {
        trust_anchors: anchors(&dir, "nca_gost_test.crt"),
        now: None,
        ..Default::default()
    };
    let rep = cms::verify(&der, DetachedContent::None, &opts).unwrap();
    assert!(rep.valid, "{rep:?}");
    assert_eq!(
        rep.signers[0].chain.as_ref().unwrap().status,
        ChainStatus::Trusted
    );
    assert_eq!(
        rep.signers[0].certificate.as_ref().unwrap().bin.as_deref(),
        Some("123456789021")
    );
    let mut bad = der.clone();
    let n = bad.len();
    bad[n - 3] ^= 1;
    assert!(
        !cms::verify(&bad, DetachedContent::None, &opts)
            .unwrap()
            .valid
    );

    let xml_text = std::fs::read_to_string(
        dir.join("signed/GOSTKNCA_13a3741b52d7bf860aab199b56fad1f4652e357b.xml"),
    )
    .unwrap();
    let xopts = XmlVerifyOptions {
        trust_anchors: anchors(&dir, "nca_gost_test.crt"),
        ..XmlVerifyOptions::default()
    };
    let rep = xml::verify(&xml_text, &xopts).unwrap();
    assert!(rep.valid, "{rep:?}");
    assert!(
        !xml::verify(&xml_text.replacen("NCANode", "NCANodf", 1), &xopts)
            .unwrap()
            .valid
    );

    // GOST R 34.10-2015 512-bit: enveloped XML and CAdES-T (the timestamp is an unsigned
    // attribute; the signature itself is checked).
    let x2015 = std::fs::read_to_string(dir.join("signed/mitwork_gost2015_enveloped.xml")).unwrap();
    let xopts = XmlVerifyOptions {
        trust_anchors: anchors(&dir, "nca_gost2015_test.cer"),
        ..XmlVerifyOptions::default()
    };
    let rep = xml::verify(&x2015, &xopts).unwrap();
    assert!(rep.valid, "{rep:?}");
    assert_eq!(
        rep.signatures[0].chain.as_ref().unwrap().status,
        ChainStatus::Trusted
    );
    let c2015 = input::decode_binary(
        &std::fs::read(dir.join("signed/mitwork_gost2015_cades_t.cms.b64")).unwrap(),
    )
    .unwrap();
    let opts = VerifyOptions {
        trust_anchors: anchors(&dir, "nca_gost2015_test.cer"),
        now: None,
        ..Default::default()
    };
    let rep = cms::verify(&c2015, DetachedContent::None, &opts).unwrap();
    assert!(rep.valid, "{rep:?}");
    // Its signatureTimeStampToken (NCA's test TSA, GOST 2004): time, policy, the TSA, and a
    // token that verifies over this signer's signature value.
    let ts = rep.signers[0]
        .timestamp
        .as_ref()
        .expect("the sample's timestamp");
    eprintln!("mitwork CAdES-T timestamp: {ts:?}");
    assert!(ts.valid, "{ts:?}");
    assert!(ts.time.is_some() && ts.policy.is_some(), "{ts:?}");
}

#[test]
fn our_gost_signatures_have_the_samples_shape_and_verify() {
    let Some(dir) = shared_vectors() else { return };
    for (file, pw, digest_oid, sig_oid, sig_len, ca) in [
        (
            "GOSTKNCA_13a3741b52d7bf860aab199b56fad1f4652e357b.p12",
            "Qwerty12",
            "1.2.398.3.10.1.3.1",
            "1.2.398.3.10.1.1.1.2",
            64,
            "nca_gost_test.crt",
        ),
        (
            "GOST512_8ff06211dc82beb00253ffa000f1de84abef454f.p12",
            "Aa123456",
            "1.2.398.3.10.1.3.3",
            "1.2.398.3.10.1.1.2.3.2",
            128,
            "nca_gost2015_test.cer",
        ),
    ] {
        let k = key(&dir, file, pw);
        // The test certificates have expired: verify "at" their validity.
        let then = k.details().not_before + time::Duration::days(30);
        let opts = VerifyOptions {
            trust_anchors: anchors(&dir, ca),
            now: Some(then),
            ..Default::default()
        };
        let copts = CmsOptions {
            signing_time: Some(then),
            ..CmsOptions::default()
        };
        for (attached, one_pass) in [(true, false), (true, true), (false, false)] {
            let content = "Қолтаңба GOST".as_bytes();
            let der = if one_pass {
                let mut out = Vec::new();
                cms::sign_attached_streaming(
                    &k,
                    &mut &content[..],
                    content.len() as u64,
                    &mut out,
                    &copts,
                )
                .unwrap();
                out
            } else if attached {
                cms::sign_attached(&k, content, &copts).unwrap()
            } else {
                cms::sign_detached(&k, content, &copts).unwrap()
            };
            let detached = if attached {
                DetachedContent::None
            } else {
                DetachedContent::Bytes(content)
            };
            let rep = cms::verify(&der, detached, &opts).unwrap();
            assert!(rep.valid, "{file}: {rep:?}");
            assert_eq!(rep.signers[0].digest_algorithm, digest_oid);
            assert_eq!(
                rep.signers[0].chain.as_ref().unwrap().status,
                ChainStatus::Trusted,
                "{file}"
            );
            let ci = ::cms::content_info::ContentInfo::from_der_for_test(&der);
            let si = ci.signer_infos.0.get(0).unwrap();
            assert_eq!(si.digest_alg.oid.to_string(), digest_oid);
            assert_eq!(si.signature_algorithm.oid.to_string(), sig_oid);
            assert_eq!(si.signature.as_bytes().len(), sig_len);
            // Content changed: invalid.
            if !attached {
                assert!(
                    !cms::verify(&der, DetachedContent::Bytes(b"other"), &opts)
                        .unwrap()
                        .valid
                );
            }
        }
        let signed = xml::sign(&k, "<doc><a>Өтініш</a></doc>", &XmlSignOptions::default()).unwrap();
        let xopts = XmlVerifyOptions {
            trust_anchors: anchors(&dir, ca),
            now: Some(then),
            id_attr: None,
            ..Default::default()
        };
        let rep = xml::verify(&signed, &xopts).unwrap();
        assert!(rep.valid, "{file}: {rep:?}\n{signed}");
        let method = if sig_len == 64 {
            "http://www.w3.org/2001/04/xmldsig-more#gost34310-gost34311"
        } else {
            "urn:ietf:params:xml:ns:pkigovkz:xmlsec:algorithms:gostr34102015-gostr34112015-512"
        };
        assert!(signed.contains(method), "{signed}");
        assert!(
            !xml::verify(&signed.replace("Өтініш", "Өтiніш"), &xopts)
                .unwrap()
                .valid
        );
    }
}

trait FromDerForTest {
    fn from_der_for_test(der: &[u8]) -> ::cms::signed_data::SignedData;
}

impl FromDerForTest for ::cms::content_info::ContentInfo {
    fn from_der_for_test(der: &[u8]) -> ::cms::signed_data::SignedData {
        use der::Decode;
        let ci = Self::from_der(der).unwrap();
        ci.content.decode_as().unwrap()
    }
}

/// The test PKI issues GOST CAs and leaves (2004 and 2015-512) in NCA's layout; their key files
/// open, the keys sign both formats, and the chains verify.
#[test]
fn generated_gost_pki_round_trip() {
    use qoltanba_testkit::p12;
    use qoltanba_testkit::pki::{Algorithm, LeafSpec, TestPki, Usage, roles};
    for (algorithm, prefix, key_alg) in [
        (
            Algorithm::Gost2004,
            "GOSTKNCA_",
            qoltanba_pki::KeyAlgorithm::Gost2004,
        ),
        (
            Algorithm::Gost2015,
            "GOST512_",
            qoltanba_pki::KeyAlgorithm::Gost2015_512,
        ),
    ] {
        let pki = TestPki::with_algorithm(algorithm);
        // CA certificates verify with the GOST code (self-signature and intermediate).
        assert_eq!(
            qoltanba_pki::verify::verify_certificate_signature(
                &pki.root.cert_der,
                &pki.root.cert_der
            ),
            Ok(())
        );
        assert_eq!(
            qoltanba_pki::verify::verify_certificate_signature(
                &pki.nca.cert_der,
                &pki.root.cert_der
            ),
            Ok(())
        );
        let leaf = pki.issue(&LeafSpec::legal_entity(Usage::Sign, roles::CEO));
        let dir = tempfile::tempdir().unwrap();
        let path = p12::write_nca_file(&leaf, "Qwerty12", dir.path());
        assert!(
            path.file_name()
                .unwrap()
                .to_str()
                .unwrap()
                .starts_with(prefix)
        );
        let k = pkcs12::open_file(&path, &Secret::new("Qwerty12".into()))
            .unwrap()
            .keys
            .remove(0);
        assert_eq!(k.details().key_algorithm, key_alg);
        assert_eq!(k.details().bin.as_deref(), Some("123456789021"));
        let anchors = vec![pki.root.cert_der.clone(), pki.nca.cert_der.clone()];
        let der = cms::sign_attached(&k, b"data", &CmsOptions::default()).unwrap();
        let rep = cms::verify(
            &der,
            DetachedContent::None,
            &VerifyOptions {
                trust_anchors: anchors.clone(),
                now: None,
                ..Default::default()
            },
        )
        .unwrap();
        assert!(rep.valid, "{algorithm:?}: {rep:?}");
        assert_eq!(
            rep.signers[0].chain.as_ref().unwrap().status,
            ChainStatus::Trusted
        );
        let signed = xml::sign(&k, "<a>б</a>", &XmlSignOptions::default()).unwrap();
        let rep = xml::verify(
            &signed,
            &XmlVerifyOptions {
                trust_anchors: anchors,
                ..XmlVerifyOptions::default()
            },
        )
        .unwrap();
        assert!(rep.valid, "{algorithm:?}: {rep:?}");
    }
}
