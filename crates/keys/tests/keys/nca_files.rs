//! The NCA test key files from `../shared/kz-pki-vectors/p12-test` (skipped when absent).

use qoltanba_keys::{KeyError, Secret, SignatureAlgorithm, SigningKey, pkcs12};
use qoltanba_pki::verify::verify_signature;
use qoltanba_pki::{KeyAlgorithm, KeyKind, Role};
use qoltanba_testkit::{NCA_P12_FILES, shared_vectors};

#[test]
fn all_nca_test_files_open_with_the_right_details() {
    let Some(dir) = shared_vectors() else { return };
    for (name, password) in NCA_P12_FILES {
        let path = dir.join("p12-test").join(name);
        let contents = pkcs12::open_file(&path, &Secret::new((*password).into()))
            .unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(contents.keys.len(), 1, "{name}");
        let key = &contents.keys[0];
        let d = key.details();
        // NCA's alias is the hex SKI, which is also the file-name suffix.
        let ski = name.rsplit('_').next().unwrap().trim_end_matches(".p12");
        assert_eq!(key.alias(), ski, "{name}");
        assert_eq!(d.subject_key_id.as_deref(), Some(ski), "{name}");
        if name.starts_with("GOST512") {
            assert_eq!(d.key_algorithm, KeyAlgorithm::Gost2015_512);
            assert_eq!(d.iin.as_deref(), Some("123456789012"));
            assert_eq!(d.key_kind, KeyKind::Both);
        } else if name.starts_with("GOSTKNCA") {
            assert_eq!(d.key_algorithm, KeyAlgorithm::Gost2004);
            assert_eq!(d.bin.as_deref(), Some("123456789021"));
            assert!(d.roles.contains(&Role::Ceo), "{:?}", d.roles);
            assert_eq!(d.key_kind, KeyKind::Sign);
        } else {
            assert_eq!(d.key_algorithm, KeyAlgorithm::Rsa { bits: 2048 }, "{name}");
            assert_eq!(d.iin.as_deref(), Some("123456789011"), "{name}");
            let auth = name.starts_with("AUTH");
            assert_eq!(
                d.key_kind,
                if auth { KeyKind::Auth } else { KeyKind::Sign },
                "{name}"
            );
        }
        if name.starts_with("AUTH_RSA256_d68") {
            assert_eq!(d.bin.as_deref(), Some("123456789021"));
            assert!(d.organization.is_some());
        }
        // The GOST512 test certificate really spells the surname with a double T.
        let (surname, first, patronymic) = if name.starts_with("GOST512") {
            ("ТЕСТТОВ", "ТЕСТТ", "ТЕСТТОВИЧ")
        } else {
            ("ТЕСТОВ", "ТЕСТ", "ТЕСТОВИЧ")
        };
        assert_eq!(d.surname.as_deref(), Some(surname), "{name}");
        assert_eq!(d.given_name.as_deref(), Some(first), "{name}");
        assert_eq!(d.patronymic.as_deref(), Some(patronymic), "{name}");
        assert_eq!(d.country.as_deref(), Some("KZ"));
    }
}

/// Both GOST test keys load (d·G equals the certificate's public key, checked on open) and
/// sign; the signature verifies with the certificate's key by the independent-of-the-signer
/// verification path, and a flipped bit does not.
#[test]
fn gost_keys_load_and_sign() {
    let Some(dir) = shared_vectors() else { return };
    for (name, password, alg) in [
        (
            "GOSTKNCA_13a3741b52d7bf860aab199b56fad1f4652e357b.p12",
            "Qwerty12",
            SignatureAlgorithm::Gost2004,
        ),
        (
            "GOST512_8ff06211dc82beb00253ffa000f1de84abef454f.p12",
            "Aa123456",
            SignatureAlgorithm::Gost2015_512,
        ),
    ] {
        let c = pkcs12::open_file(
            &dir.join("p12-test").join(name),
            &Secret::new(password.into()),
        )
        .unwrap();
        let k = &c.keys[0];
        assert_eq!(k.default_signature_algorithm().unwrap(), alg);
        let sig = k.sign(alg, b"signed attributes").unwrap();
        let cert = <x509_cert::Certificate as der::Decode>::from_der(k.certificate_der()).unwrap();
        let spki = der::Encode::to_der(&cert.tbs_certificate.subject_public_key_info).unwrap();
        verify_signature(&spki, alg.oid(), None, b"signed attributes", &sig).unwrap();
        let mut bad = sig.clone();
        bad[0] ^= 1;
        assert!(
            verify_signature(&spki, alg.oid(), None, b"signed attributes", &bad).is_err(),
            "{name}"
        );
        assert!(
            verify_signature(&spki, alg.oid(), None, b"other", &sig).is_err(),
            "{name}"
        );
        // Nonces are fresh: two signatures of the same message differ.
        assert_ne!(k.sign(alg, b"signed attributes").unwrap(), sig);
        // An RSA algorithm asked of a GOST key is refused.
        assert!(matches!(
            k.sign(SignatureAlgorithm::RsaPkcs1Sha256, b"x"),
            Err(KeyError::AlgorithmMismatch(_))
        ));
    }
}

#[test]
fn wrong_password_on_an_nca_file_is_wrong_password() {
    let Some(dir) = shared_vectors() else { return };
    let path = dir.join("p12-test").join(NCA_P12_FILES[0].0);
    let err = pkcs12::open_file(&path, &Secret::new("Qwerty13".into())).unwrap_err();
    assert!(matches!(err, KeyError::WrongPassword), "{err:?}");
}

#[test]
fn truncated_nca_file_is_corrupt_not_a_panic() {
    let Some(dir) = shared_vectors() else { return };
    let bytes = std::fs::read(dir.join("p12-test").join(NCA_P12_FILES[1].0)).unwrap();
    for cut in [1, 10, 100, bytes.len() / 2, bytes.len() - 1] {
        let err = pkcs12::open(&bytes[..cut], &Secret::new("Qwerty12".into())).unwrap_err();
        assert!(
            matches!(err, KeyError::NotPkcs12 | KeyError::Corrupt(_)),
            "cut {cut}: {err:?}"
        );
    }
}
