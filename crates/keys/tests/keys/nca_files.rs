//! The NCA test key files from `../shared/kz-pki-vectors/p12-test` (skipped when absent).

use qoltanba_keys::{KeyError, Secret, SigningKey, pkcs12};
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

#[test]
fn gost_keys_are_recognised_but_not_signed_with_yet() {
    let Some(dir) = shared_vectors() else { return };
    let path = dir.join("p12-test/GOSTKNCA_13a3741b52d7bf860aab199b56fad1f4652e357b.p12");
    let c = pkcs12::open_file(&path, &Secret::new("Qwerty12".into())).unwrap();
    let k = &c.keys[0];
    let alg = k.default_signature_algorithm().unwrap();
    assert!(matches!(
        k.sign(alg, b"x"),
        Err(KeyError::UnsupportedKeyAlgorithm(_))
    ));
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
