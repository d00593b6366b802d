//! Key files kept open between uses (files.rs, "Open keys"): the password is checked every
//! time, a changed file is opened again, and a forgotten file is closed.

use std::sync::Arc;

use qoltanba_keys::files::{KeyFiles, NoMemory};
use qoltanba_keys::{KeyError, Secret, SignatureAlgorithm};
use qoltanba_testkit::p12;
use qoltanba_testkit::pki::{LeafSpec, TestPki, Usage};

fn pw(s: &str) -> Secret {
    Secret::new(s.into())
}

#[test]
fn an_open_key_needs_its_password_each_time_and_follows_the_file() {
    let pki = TestPki::new();
    let dir = tempfile::tempdir().unwrap();
    let first = pki.issue(&LeafSpec::individual(Usage::Sign));
    let path = p12::write_nca_file(&first, "Qwerty12", dir.path());
    let files = KeyFiles::new(Arc::new(NoMemory));

    let k = files.open_path(&path, &pw("Qwerty12")).unwrap();
    assert_eq!(k.certificate_der(), first.cert_der.as_slice());
    // Open again with the same password: the same key signs.
    let again = files.open_path(&path, &pw("Qwerty12")).unwrap();
    let sig = again
        .sign(SignatureAlgorithm::RsaPkcs1Sha256, b"x")
        .unwrap();
    assert_eq!(
        sig,
        k.sign(SignatureAlgorithm::RsaPkcs1Sha256, b"x").unwrap()
    );
    // A wrong password is refused although the key is open.
    for wrong in ["qwerty12", "Qwerty1", "", "Qwerty12 "] {
        let r = files.open_path(&path, &pw(wrong));
        assert!(
            matches!(r, Err(KeyError::WrongPassword)),
            "{wrong:?}: {:?}",
            r.err()
        );
    }
    // And the right one still opens it.
    files.open_path(&path, &pw("Qwerty12")).unwrap();

    // The file replaced by another key (same path, other password): that key, not the open one.
    let second = pki.issue(&LeafSpec::individual(Usage::Sign));
    let sub = dir.path().join("x");
    std::fs::create_dir_all(&sub).unwrap();
    let other = p12::write_nca_file(&second, "Other123", &sub);
    std::fs::copy(&other, &path).unwrap();
    assert!(matches!(
        files.open_path(&path, &pw("Qwerty12")),
        Err(KeyError::WrongPassword)
    ));
    let k2 = files.open_path(&path, &pw("Other123")).unwrap();
    assert_eq!(k2.certificate_der(), second.cert_der.as_slice());

    // Forgotten or gone: not opened from memory.
    files.forget(&path);
    std::fs::remove_file(&path).unwrap();
    assert!(files.open_path(&path, &pw("Other123")).is_err());
}
