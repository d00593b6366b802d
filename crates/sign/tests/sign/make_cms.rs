//! Signatures made by `qoltanba-sign`, verified by OpenSSL (independent) and by the ESS check.

use der::{Decode, Encode};
use qoltanba_keys::SigningKey;
use qoltanba_sign::DigestAlgorithm;
use qoltanba_sign::cms::{self, CmsOptions, DetachedContent, VerifyOptions};
use qoltanba_testkit::openssl;

use crate::common::{fixture, write};

const CONTENT: &[u8] = "Қолтаңба: тест құжаты / тестовый документ\n".as_bytes();

#[test]
fn detached_verifies_in_openssl_and_fails_on_other_content() {
    let f = fixture();
    let key = f.key();
    let sig = cms::sign_detached(&key, CONTENT, &CmsOptions::default()).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let sig_path = write(dir.path(), "d.p7s", &sig);
    let content = write(dir.path(), "content.txt", CONTENT);
    let r = openssl::cms_verify(&sig_path, Some(&content), &f.ca_file());
    assert!(r.ok, "{}", r.output);
    let mut other = CONTENT.to_vec();
    other[0] ^= 1;
    let other = write(dir.path(), "other.txt", &other);
    assert!(!openssl::cms_verify(&sig_path, Some(&other), &f.ca_file()).ok);
}

#[test]
fn attached_verifies_in_openssl_and_carries_the_content() {
    let f = fixture();
    let sig = cms::sign_attached(&f.key(), CONTENT, &CmsOptions::default()).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let sig_path = write(dir.path(), "a.p7s", &sig);
    let r = openssl::cms_verify(&sig_path, None, &f.ca_file());
    assert!(r.ok, "{}", r.output);
    assert_eq!(
        cms::attached_content(&sig).unwrap().as_deref(),
        Some(CONTENT)
    );
}

#[test]
fn hash_only_verifies_over_the_original_content() {
    let f = fixture();
    let key = f.key();
    let digest = DigestAlgorithm::Sha256.digest(CONTENT);
    let sig = cms::sign_digest(&key, &digest, &CmsOptions::default())
        .unwrap()
        .to_detached_der()
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let sig_path = write(dir.path(), "h.p7s", &sig);
    let content = write(dir.path(), "content.txt", CONTENT);
    let r = openssl::cms_verify(&sig_path, Some(&content), &f.ca_file());
    assert!(r.ok, "{}", r.output);
    // A digest of the wrong length is refused, not signed.
    let err = cms::sign_digest(&key, &digest[..31], &CmsOptions::default()).unwrap_err();
    assert!(err.to_string().contains("32 bytes"), "{err}");
}

#[test]
fn streamed_attached_equals_in_memory_and_verifies() {
    let f = fixture();
    let key = f.key();
    let content: Vec<u8> = (0..300_000u32).map(|i| (i % 251) as u8).collect();
    let digest = DigestAlgorithm::Sha256.digest(&content);
    let signed = cms::sign_digest(&key, &digest, &CmsOptions::default()).unwrap();
    let mut streamed = Vec::new();
    signed
        .write_attached(&mut streamed, &mut content.as_slice(), content.len() as u64)
        .unwrap();
    assert_eq!(streamed, signed.to_attached_der(&content).unwrap());
    let dir = tempfile::tempdir().unwrap();
    let p = write(dir.path(), "s.p7s", &streamed);
    let r = openssl::cms_verify(&p, None, &f.ca_file());
    assert!(r.ok, "{}", r.output);
    // A source shorter than announced is an error, not a silently short signature.
    let mut out = Vec::new();
    let err = signed.write_attached(&mut out, &mut &content[..10], content.len() as u64);
    assert!(err.is_err());
}

/// One pass: the content streams into the output and the hasher, the SignerInfo follows. With
/// the same signing time (RSA PKCS#1 v1.5 is deterministic) the bytes equal the two-pass form's,
/// and openssl verifies it (GOST keys: gost.rs).
#[test]
fn one_pass_attached_equals_two_pass_and_verifies() {
    let f = fixture();
    let key = f.key();
    let content: Vec<u8> = (0..3_000_000u32).map(|i| (i % 251) as u8).collect();
    let opts = CmsOptions {
        signing_time: Some(time::OffsetDateTime::now_utc()),
        ..CmsOptions::default()
    };
    assert!(cms::streams_attached(&key));
    let mut one_pass = Vec::new();
    cms::sign_attached_streaming(
        &key,
        &mut content.as_slice(),
        content.len() as u64,
        &mut one_pass,
        &opts,
    )
    .unwrap();
    assert_eq!(one_pass, cms::sign_attached(&key, &content, &opts).unwrap());
    let dir = tempfile::tempdir().unwrap();
    let p = write(dir.path(), "one.p7s", &one_pass);
    let r = openssl::cms_verify(&p, None, &f.ca_file());
    assert!(r.ok, "{}", r.output);
    // Shorter than announced: an error.
    let err = cms::sign_attached_streaming(
        &key,
        &mut &content[..10],
        content.len() as u64,
        &mut Vec::new(),
        &opts,
    );
    assert!(err.is_err());
}

#[test]
fn structure_is_the_kalkan_shape() {
    let f = fixture();
    let key = f.key();
    let sig = cms::sign_attached(&key, CONTENT, &CmsOptions::default()).unwrap();
    let ci = ::cms::content_info::ContentInfo::from_der(&sig).unwrap();
    let sd: ::cms::signed_data::SignedData = ci.content.decode_as().unwrap();
    assert_eq!(sd.version, ::cms::content_info::CmsVersion::V1);
    let si = sd.signer_infos.0.get(0).unwrap();
    assert!(matches!(
        si.sid,
        ::cms::signed_data::SignerIdentifier::IssuerAndSerialNumber(_)
    ));
    assert_eq!(
        si.signature_algorithm.oid.to_string(),
        "1.2.840.113549.1.1.11"
    );
    assert_eq!(si.digest_alg.oid.to_string(), "2.16.840.1.101.3.4.2.1");
    let oids: Vec<String> = si
        .signed_attrs
        .as_ref()
        .unwrap()
        .iter()
        .map(|a| a.oid.to_string())
        .collect();
    for want in [
        "1.2.840.113549.1.9.3",       // contentType
        "1.2.840.113549.1.9.5",       // signingTime
        "1.2.840.113549.1.9.4",       // messageDigest
        "1.2.840.113549.1.9.16.2.47", // signingCertificateV2
    ] {
        assert!(
            oids.contains(&want.to_owned()),
            "{want} missing from {oids:?}"
        );
    }
    let certs = sd.certificates.unwrap();
    let first = certs.0.get(0).unwrap().to_der().unwrap();
    assert!(first.ends_with(&key.certificate_der()[key.certificate_der().len() - 64..]));
}

/// OpenSSL does not check the ESS certificate hash, so this test does: a signature whose
/// signingCertificateV2 names another certificate must not verify.
#[test]
fn ess_signing_certificate_v2_is_checked() {
    let f = fixture();
    let key = f.key();
    let sig = cms::sign_attached(&key, CONTENT, &CmsOptions::default()).unwrap();
    let opts = VerifyOptions {
        trust_anchors: f.anchors(),
        now: None,
        ..Default::default()
    };
    let ok = cms::verify(&sig, DetachedContent::None, &opts).unwrap();
    assert!(ok.valid);
    assert_eq!(ok.signers[0].signing_certificate_matches, Some(true));

    // Swap the signer certificate for another one with the same issuer and serial is not
    // possible with a real CA, so corrupt the ESS hash instead: the SHA-256 of the certificate
    // appears verbatim inside the signed attributes.
    let cert_hash = DigestAlgorithm::Sha256.digest(key.certificate_der());
    let pos = sig
        .windows(32)
        .position(|w| w == cert_hash.as_slice())
        .expect("hash present");
    let mut bad = sig.clone();
    bad[pos] ^= 0xff;
    let r = cms::verify(&bad, DetachedContent::None, &opts).unwrap();
    assert!(!r.valid);
    assert_eq!(r.signers[0].signing_certificate_matches, Some(false));
}
