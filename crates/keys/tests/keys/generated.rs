//! Containers made by the test kit in NCA's layout and by OpenSSL, checked both ways: our
//! reader opens what OpenSSL writes, and OpenSSL opens what the test kit writes (so the writer
//! that feeds the other tests is itself checked by an independent implementation).

use qoltanba_keys::{KeyError, Secret, SignatureAlgorithm, SigningKey, pkcs12};
use qoltanba_pki::{KeyAlgorithm, KeyKind, Role};
use qoltanba_testkit::openssl;
use qoltanba_testkit::p12::{self, Contents, Encoding, Protection};
use qoltanba_testkit::pki::{LeafSpec, TestPki, Usage, roles};

fn pw(s: &str) -> Secret {
    Secret::new(s.into())
}

fn pki() -> &'static TestPki {
    static PKI: std::sync::OnceLock<TestPki> = std::sync::OnceLock::new();
    PKI.get_or_init(TestPki::new)
}

#[test]
fn nca_layout_opens_in_both_encodings_and_in_openssl() {
    let dir = tempfile::tempdir().unwrap();
    let leaf = pki().issue(&LeafSpec::individual(Usage::Auth));
    for enc in [Encoding::Der, Encoding::NcaBer] {
        let bytes = p12::write(&Contents::of(&leaf), "Qwerty12", Protection::NcaLegacy, enc);
        let c = pkcs12::open(&bytes, &pw("Qwerty12")).unwrap();
        assert_eq!(c.keys.len(), 1);
        let k = &c.keys[0];
        assert_eq!(k.alias(), leaf.ski_hex);
        assert_eq!(k.certificate_der(), leaf.cert_der.as_slice());
        assert_eq!(k.details().key_kind, KeyKind::Auth);
        assert_eq!(k.details().iin.as_deref(), Some("123456789011"));
        assert_eq!(k.details().key_algorithm, KeyAlgorithm::Rsa { bits: 2048 });

        let path = dir.path().join(format!("{enc:?}.p12"));
        std::fs::write(&path, &bytes).unwrap();
        let r = openssl::pkcs12_info(&path, "Qwerty12", true);
        assert!(
            r.ok,
            "openssl could not open our {enc:?} NCA-layout file: {}",
            r.output
        );
        assert!(
            r.output.contains("pbeWithSHA1And40BitRC2-CBC"),
            "{}",
            r.output
        );
        assert!(
            r.output.contains("pbeWithSHA1And3-KeyTripleDES-CBC"),
            "{}",
            r.output
        );
        assert!(
            r.output.contains("MAC: sha1, Iteration 1024"),
            "{}",
            r.output
        );
        assert!(!openssl::pkcs12_info(&path, "wrong", true).ok);
    }
}

#[test]
fn nca_file_name_and_role_details() {
    let dir = tempfile::tempdir().unwrap();
    let leaf = pki().issue(&LeafSpec::legal_entity(Usage::Sign, roles::CEO));
    let path = p12::write_nca_file(&leaf, "Qwerty12", dir.path());
    let name = path.file_name().unwrap().to_str().unwrap();
    assert_eq!(name, format!("RSA256_{}.p12", leaf.ski_hex));
    let c = pkcs12::open_file(&path, &pw("Qwerty12")).unwrap();
    let d = c.keys[0].details();
    assert_eq!(d.roles, vec![Role::LegalEntity, Role::Ceo]);
    assert_eq!(d.bin.as_deref(), Some("123456789021"));
    assert_eq!(d.organization.as_deref(), Some("АО \"ТЕСТ\""));
    assert_eq!(d.email.as_deref(), Some("test@example.kz"));
    assert_eq!(d.key_kind, KeyKind::Sign);
    assert_eq!(d.policies, vec!["1.2.398.3.3.2.1".to_owned()]);
}

#[test]
fn modern_pbes2_container_opens_and_signs() {
    let leaf = pki().issue(&LeafSpec::individual(Usage::Sign));
    let bytes = p12::write(
        &Contents::of(&leaf),
        "пароль-Ә",
        Protection::ModernPbes2,
        Encoding::Der,
    );
    let c = pkcs12::open(&bytes, &pw("пароль-Ә")).unwrap();
    let sig = c.keys[0]
        .sign(SignatureAlgorithm::RsaPkcs1Sha256, b"hello")
        .unwrap();
    // The same key signing outside the code under test gives the same (deterministic) bytes.
    assert_eq!(sig, leaf.sign_sha256(b"hello"));
    assert!(matches!(
        pkcs12::open(&bytes, &pw("пароль")),
        Err(KeyError::WrongPassword)
    ));
}

#[test]
fn openssl_written_containers_open() {
    let dir = tempfile::tempdir().unwrap();
    let leaf = pki().issue(&LeafSpec::individual(Usage::Sign));
    let key = dir.path().join("key.pem");
    let cert = dir.path().join("cert.pem");
    std::fs::write(&key, leaf.key_pem().as_bytes()).unwrap();
    std::fs::write(&cert, leaf.cert_pem()).unwrap();
    for legacy in [false, true] {
        let out = dir.path().join(format!("openssl-{legacy}.p12"));
        let r = openssl::pkcs12_export(&key, &cert, "Secret-1", &out, legacy);
        assert!(r.ok, "{}", r.output);
        let c = pkcs12::open_file(&out, &pw("Secret-1")).unwrap();
        assert_eq!(c.keys[0].certificate_der(), leaf.cert_der.as_slice());
        let err = pkcs12::open_file(&out, &pw("Secret-2")).unwrap_err();
        assert!(matches!(err, KeyError::WrongPassword), "{err:?}");
    }
}

#[test]
fn bad_inputs_give_clear_typed_errors() {
    let leaf = pki().issue(&LeafSpec::individual(Usage::Sign));
    let good = p12::write(
        &Contents::of(&leaf),
        "Qwerty12",
        Protection::NcaLegacy,
        Encoding::NcaBer,
    );
    let p = pw("Qwerty12");

    assert!(matches!(pkcs12::open(&[], &p), Err(KeyError::Empty)));
    assert!(matches!(
        pkcs12::open(&good[..good.len() / 3], &p),
        Err(KeyError::NotPkcs12)
    ));
    let mut random = vec![0u8; 4096];
    pseudo_random(&mut random);
    random[0] = 0x30; // even when it looks like a SEQUENCE
    assert!(matches!(
        pkcs12::open(&random, &p),
        Err(KeyError::NotPkcs12 | KeyError::Corrupt(_))
    ));
    assert!(matches!(
        pkcs12::open(leaf.cert_pem().as_bytes(), &p),
        Err(KeyError::Pem)
    ));
    assert!(matches!(
        pkcs12::open(&leaf.cert_der, &p),
        Err(KeyError::CertificateNotContainer)
    ));

    let cert_only = Contents {
        pkcs8: None,
        ..Contents::of(&leaf)
    };
    let bytes = p12::write(&cert_only, "Qwerty12", Protection::NcaLegacy, Encoding::Der);
    assert!(matches!(
        pkcs12::open(&bytes, &p),
        Err(KeyError::NoPrivateKey)
    ));

    // A flipped byte inside the MAC'd content: the MAC no longer matches.
    let mut flipped = good.clone();
    let mid = flipped.len() / 2;
    flipped[mid] ^= 0x01;
    let err = pkcs12::open(&flipped, &p).unwrap_err();
    assert!(
        matches!(err, KeyError::WrongPassword | KeyError::Corrupt(_)),
        "{err:?}"
    );

    // Messages are for people and carry no secrets.
    let msg = KeyError::WrongPassword.to_string();
    assert_eq!(msg, "wrong password");
}

fn pseudo_random(buf: &mut [u8]) {
    // A simple deterministic filler is enough: the content must just not be a container.
    let mut x: u32 = 0x1234_5678;
    for b in buf {
        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
        *b = x.to_le_bytes()[0];
    }
}

/// A smoke fuzz: thousands of mutated NCA-layout containers (bit flips, truncations, inserted
/// bytes) go through the reader; every one ends in `Ok` or a typed error, never a panic or hang.
#[test]
fn mutated_containers_never_panic() {
    let leaf = pki().issue(&LeafSpec::individual(Usage::Sign));
    let good = p12::write(
        &Contents::of(&leaf),
        "x",
        Protection::NcaLegacy,
        Encoding::NcaBer,
    );
    let p = pw("x");
    let mut state: u64 = 0x2545_f491_4f6c_dd1d;
    let mut next = move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    };
    for i in 0..3000 {
        let mut m = good.clone();
        let n = m.len() as u64;
        match i % 3 {
            0 => {
                for _ in 0..=(next() % 4) {
                    let at = usize::try_from(next() % n).unwrap();
                    m[at] ^= 1 << (next() % 8);
                }
            }
            1 => m.truncate(usize::try_from(next() % n).unwrap()),
            _ => {
                let at = usize::try_from(next() % n).unwrap();
                m.insert(at, u8::try_from(next() % 256).unwrap());
            }
        }
        let _ = pkcs12::open(&m, &p);
    }
}
