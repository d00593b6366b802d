//! `mkpki`, the test PKI that the fuzz seeds and the package tests are made from: it writes
//! CA certificates that openssl reads and the individual's key files in NCA's naming. (Also
//! what makes `cargo test` build the binary itself, which `scripts/fuzz.sh` and
//! `scripts/package-test.sh` run.)
#![allow(clippy::unwrap_used, clippy::panic)]

use std::path::Path;
use std::process::Command;

fn files(dir: &Path, ext: &str) -> Vec<std::path::PathBuf> {
    std::fs::read_dir(dir)
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|x| x == ext))
        .collect()
}

#[test]
fn mkpki_writes_certificates_openssl_reads_and_key_files() {
    let dir = tempfile::tempdir().unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_mkpki"))
        .arg(dir.path())
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let certs = files(dir.path(), "cer");
    assert!(!certs.is_empty(), "no CA certificate");
    for c in &certs {
        let st = Command::new("openssl")
            .args(["x509", "-inform", "DER", "-noout", "-in"])
            .arg(c)
            .status()
            .unwrap();
        assert!(st.success(), "openssl cannot read {}", c.display());
    }
    let keys = files(&dir.path().join("individual"), "p12");
    assert!(
        keys.iter().any(|k| k
            .file_name()
            .is_some_and(|n| n.to_string_lossy().starts_with("RSA256_"))),
        "{keys:?}"
    );
    for k in &keys {
        let bytes = std::fs::read(k).unwrap();
        assert_eq!(bytes.first(), Some(&0x30), "{} is not DER", k.display());
    }
}
