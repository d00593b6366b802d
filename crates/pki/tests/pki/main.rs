//! Certificate details and chain checks on real NCA certificates (shared vectors) and on the
//! generated test PKI.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use qoltanba_pki::chain::{self, ChainStatus};
use qoltanba_pki::{CertificateDetails, KeyAlgorithm, KeyKind, Role, ValidityStatus};
use qoltanba_testkit::pki::{LeafSpec, Lifetime, TestPki, Usage, roles};
use qoltanba_testkit::shared_vectors;

mod status;

fn shared_cert(rel: &str) -> Option<Vec<u8>> {
    let dir = shared_vectors()?;
    let bytes = std::fs::read(dir.join(rel)).unwrap();
    Some(if bytes.starts_with(b"-----") {
        let text = String::from_utf8(bytes).unwrap();
        let b64: String = text.lines().filter(|l| !l.starts_with("-----")).collect();
        base64::Engine::decode(&base64::engine::general_purpose::STANDARD, b64).unwrap()
    } else {
        bytes
    })
}

#[test]
fn ceo_gost_certificate() {
    let Some(der) = shared_cert("leaf-test/ceo_valid_sign_2004_gost.cer") else {
        return;
    };
    let d = CertificateDetails::from_der(&der).unwrap();
    assert_eq!(d.iin.as_deref(), Some("123456789011"));
    assert_eq!(d.bin.as_deref(), Some("123456789021"));
    assert_eq!(d.key_algorithm, KeyAlgorithm::Gost2004);
    assert_eq!(d.key_kind, KeyKind::Sign);
    assert!(d.roles.contains(&Role::Ceo) && d.roles.contains(&Role::LegalEntity));
    assert_eq!(d.issuer_cn.as_deref(), Some("ҰКО 3.0 (GOST TEST)"));
}

#[test]
fn rsa_auth_and_sign_certificates() {
    let Some(auth) = shared_cert("leaf-test/individual_valid_sign_2004_rsa_auth.cer") else {
        return;
    };
    let sign = shared_cert("leaf-test/individual_valid_sign_2004_rsa.cer").unwrap();
    let a = CertificateDetails::from_der(&auth).unwrap();
    let s = CertificateDetails::from_der(&sign).unwrap();
    assert_eq!(a.key_kind, KeyKind::Auth);
    assert_eq!(s.key_kind, KeyKind::Sign);
    assert_eq!(a.key_algorithm, KeyAlgorithm::Rsa { bits: 2048 });
    assert_eq!(s.roles, vec![Role::Individual]);
    assert!(a.key_kind.can_authenticate() && !a.key_kind.can_sign());
}

#[test]
fn gost2015_certificate_is_auth_and_sign() {
    let Some(der) = shared_cert("leaf-test/gokalkan_gost2015_individual_sign.cer") else {
        return;
    };
    let d = CertificateDetails::from_der(&der).unwrap();
    assert_eq!(d.key_algorithm, KeyAlgorithm::Gost2015_512);
    assert_eq!(d.key_kind, KeyKind::Both);
}

#[test]
fn production_ca_chain_links_structurally_rsa() {
    // The 2022 RSA intermediate chains to the 2020 RSA root (RDN orders differ by generation;
    // names are compared structurally).
    let Some(root) = shared_cert("ca-prod/root_rsa_2020.cer") else {
        return;
    };
    let nca = shared_cert("ca-prod/nca_rsa_2022.cer").unwrap();
    let at = time::macros::datetime!(2026-01-01 0:00 UTC);
    let r = chain::check(&nca, &[], std::slice::from_ref(&root), at);
    assert_eq!(r.status, ChainStatus::Trusted, "{r:?}");
    assert_eq!(r.validity, ValidityStatus::Valid);
    // GOST 2015-512: the 2022 intermediate chains to the 2022 root.
    let groot = shared_cert("ca-prod/root_gost_2022.pem").unwrap();
    let gnca = shared_cert("ca-prod/nca_gost_2022.pem").unwrap();
    let r = chain::check(&gnca, &[], std::slice::from_ref(&groot), at);
    assert_eq!(r.status, ChainStatus::Trusted, "{r:?}");
}

#[test]
fn generated_profiles_read_back() {
    let pki = TestPki::new();
    for (role, want) in [
        (roles::CEO, Role::Ceo),
        (roles::SIGNER, Role::Signer),
        (roles::FINANCE, Role::FinanceSigner),
        (roles::HR, Role::Hr),
        (roles::EMPLOYEE, Role::Employee),
    ] {
        let leaf = pki.issue(&LeafSpec::legal_entity(Usage::Sign, role));
        let d = CertificateDetails::from_der(&leaf.cert_der).unwrap();
        assert_eq!(d.roles, vec![Role::LegalEntity, want]);
        assert_eq!(d.subject_key_id.as_deref(), Some(leaf.ski_hex.as_str()));
        assert_eq!(
            d.authority_key_id,
            CertificateDetails::from_der(&pki.nca.cert_der)
                .unwrap()
                .subject_key_id
        );
    }
    let now = time::OffsetDateTime::now_utc();
    let anchors = vec![pki.root.cert_der.clone()];
    for (lifetime, want) in [
        (Lifetime::Current, ValidityStatus::Valid),
        (Lifetime::Expired, ValidityStatus::Expired),
        (Lifetime::NotYetValid, ValidityStatus::NotYetValid),
    ] {
        let leaf = pki.issue(&LeafSpec::individual(Usage::Auth).with_lifetime(lifetime));
        let d = CertificateDetails::from_der(&leaf.cert_der).unwrap();
        assert_eq!(d.validity_at(now), want);
        let r = chain::check(
            &leaf.cert_der,
            std::slice::from_ref(&pki.nca.cert_der),
            &anchors,
            now,
        );
        assert_eq!(r.status, ChainStatus::Trusted);
        assert_eq!(r.validity, want);
        assert_eq!(r.path.len(), 3);
        // The search is remembered; the validity is still worked out at each time asked.
        let d_not_before = d.not_before;
        for (at, want) in [
            (
                d_not_before - time::Duration::days(1),
                ValidityStatus::NotYetValid,
            ),
            (
                d.not_after + time::Duration::days(1),
                ValidityStatus::Expired,
            ),
            (now, want),
        ] {
            let again = chain::check(
                &leaf.cert_der,
                std::slice::from_ref(&pki.nca.cert_der),
                &anchors,
                at,
            );
            assert_eq!((again.status, again.validity), (ChainStatus::Trusted, want));
            assert_eq!(again.checked_at, at);
        }
        // Without the intermediate the same leaf does not chain (a different search).
        let alone = chain::check(&leaf.cert_der, &[], &anchors, now);
        assert_eq!(alone.status, ChainStatus::Untrusted);
    }
    // Another PKI's leaf does not chain to this root.
    let other = TestPki::new().issue(&LeafSpec::individual(Usage::Sign));
    let r = chain::check(
        &other.cert_der,
        std::slice::from_ref(&pki.nca.cert_der),
        &anchors,
        now,
    );
    assert_eq!(r.status, ChainStatus::Untrusted);
}

#[test]
fn not_a_certificate() {
    assert!(CertificateDetails::from_der(&[]).is_err());
    assert!(CertificateDetails::from_der(&[0x30, 0x03, 1, 1, 1]).is_err());
}

/// Known-answer tests from the public vectors (KZ-PKI.md §3.2): real GOST signatures by NCA.
#[test]
fn gost_known_answers_from_real_certificates() {
    use qoltanba_pki::verify::{SigCheckError, verify_certificate_signature};
    let Some(root2004) = shared_cert("ca-prod/root_gost.pem") else {
        return;
    };
    let nca2004 = shared_cert("ca-prod/nca_gost.pem").unwrap();
    let root2015 = shared_cert("ca-prod/root_gost_2022.pem").unwrap();
    let nca2015 = shared_cert("ca-prod/nca_gost_2022.pem").unwrap();
    let test2004 = shared_cert("ca-test/nca_gost_test.crt").unwrap();
    let test2015 = shared_cert("ca-test/nca_gost2015_test.cer").unwrap();
    let ceo2004 = shared_cert("leaf-test/ceo_valid_sign_2004_gost.cer").unwrap();
    let leaf2015 = shared_cert("leaf-test/gokalkan_gost2015_individual_sign.cer").unwrap();
    // Self-signatures of the production roots, their intermediates, the test leaves.
    for (name, cert, issuer) in [
        ("root 2004 self", &root2004, &root2004),
        ("nca 2004", &nca2004, &root2004),
        ("root 2015 self", &root2015, &root2015),
        ("nca 2015", &nca2015, &root2015),
        ("ceo leaf 2004", &ceo2004, &test2004),
        ("individual leaf 2015", &leaf2015, &test2015),
    ] {
        assert_eq!(verify_certificate_signature(cert, issuer), Ok(()), "{name}");
    }
    // One flipped bit in the signed data, the signature or the key fails.
    let mut bad = leaf2015.clone();
    let n = bad.len();
    bad[n - 10] ^= 1; // inside the signature value
    assert_eq!(
        verify_certificate_signature(&bad, &test2015),
        Err(SigCheckError::Mismatch)
    );
    let mut bad = leaf2015.clone();
    bad[200] ^= 1; // inside the TBS
    assert!(verify_certificate_signature(&bad, &test2015).is_err());
    // A wrong issuer (the 2004 test CA) does not verify the 2015 leaf.
    assert!(verify_certificate_signature(&leaf2015, &test2004).is_err());
}

#[test]
fn crls_and_ocsp_responses_verify() {
    use qoltanba_pki::revocation::{verify_crl, verify_ocsp_response};
    let Some(dir) = shared_vectors() else { return };
    let raw = |p: &str| std::fs::read(dir.join(p)).unwrap();
    let gost2004 = shared_cert("ca-test/nca_gost_test.crt").unwrap();
    let gost2015 = shared_cert("ca-test/nca_gost2015_test.cer").unwrap();
    let rsa = shared_cert("ca-test/nca_rsa_test.crt").unwrap();
    assert_eq!(
        verify_crl(&raw("ocsp-tsp-crl/nca_gost_test.crl"), &gost2004),
        Ok(())
    );
    assert_eq!(
        verify_crl(&raw("ocsp-tsp-crl/nca_gost2022_test.crl"), &gost2015),
        Ok(())
    );
    assert_eq!(
        verify_crl(&raw("ocsp-tsp-crl/nca_rsa_test.crl"), &rsa),
        Ok(())
    );
    assert!(verify_crl(&raw("ocsp-tsp-crl/nca_rsa_test.crl"), &gost2004).is_err());
    let mut bad = raw("ocsp-tsp-crl/nca_gost2022_test.crl");
    bad[60] ^= 1;
    assert!(verify_crl(&bad, &gost2015).is_err());
    for f in [
        "ocsp_response_individual_2015.bin",
        "ocsp_response_ceo_2015_revoked.bin",
    ] {
        let responder =
            verify_ocsp_response(&raw(&format!("ocsp-tsp-crl/{f}")), &gost2015).unwrap();
        let d = CertificateDetails::from_der(&responder).unwrap();
        assert_eq!(d.subject_cn.as_deref(), Some("OCSP RESPONDER"), "{f}");
    }
    // The 2018-generation responses: one RSA-signed by a responder of the RSA test CA, one
    // GOST 2004-signed by a responder of the GOST test CA.
    for (f, issuer, other) in [
        ("ocsp_response_individual_sign_2004.bin", &rsa, &gost2004),
        ("ocsp_response_ceo_sign_2004_revoked.bin", &gost2004, &rsa),
    ] {
        let resp = raw(&format!("ocsp-tsp-crl/{f}"));
        verify_ocsp_response(&resp, issuer).unwrap_or_else(|e| panic!("{f}: {e}"));
        assert!(verify_ocsp_response(&resp, other).is_err(), "{f}");
    }
    let mut bad = raw("ocsp-tsp-crl/ocsp_response_individual_2015.bin");
    bad[120] ^= 1;
    assert!(verify_ocsp_response(&bad, &gost2015).is_err());
}
