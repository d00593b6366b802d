use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use qoltanba_keys::{Secret, SoftwareKey, pkcs12};
use qoltanba_testkit::p12;
use qoltanba_testkit::pki::{Issued, LeafSpec, TestPki, Usage};

pub(crate) struct Fixture {
    pub(crate) pki: TestPki,
    pub(crate) leaf: Issued,
    pub(crate) dir: tempfile::TempDir,
    key_file: PathBuf,
}

pub(crate) fn fixture() -> &'static Fixture {
    static F: OnceLock<Fixture> = OnceLock::new();
    F.get_or_init(|| {
        let pki = TestPki::new();
        let leaf = pki.issue(&LeafSpec::individual(Usage::Sign));
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("ca.pem"), pki.ca_bundle_pem()).unwrap();
        std::fs::write(dir.path().join("root.pem"), pki.root.cert_pem()).unwrap();
        std::fs::write(dir.path().join("nca.pem"), pki.nca.cert_pem()).unwrap();
        // Written once: tests run in parallel and only read it.
        let key_file = p12::write_nca_file(&leaf, "Qwerty12", dir.path());
        Fixture {
            pki,
            leaf,
            dir,
            key_file,
        }
    })
}

impl Fixture {
    pub(crate) fn ca_file(&self) -> PathBuf {
        self.dir.path().join("ca.pem")
    }

    /// The leaf's key as the product reads it: from an NCA-layout key file.
    pub(crate) fn key(&self) -> SoftwareKey {
        pkcs12::open_file(&self.key_file, &Secret::new("Qwerty12".into()))
            .unwrap()
            .keys
            .remove(0)
    }

    /// Root and intermediate as separate PEM files (xmlsec1 wants one certificate per file).
    pub(crate) fn trusted_pems(&self) -> [PathBuf; 2] {
        [
            self.dir.path().join("root.pem"),
            self.dir.path().join("nca.pem"),
        ]
    }

    pub(crate) fn anchors(&self) -> Vec<Vec<u8>> {
        vec![
            self.pki.root.cert_der.clone(),
            self.pki.nca.cert_der.clone(),
        ]
    }
}

pub(crate) fn write(dir: &Path, name: &str, data: &[u8]) -> PathBuf {
    let p = dir.join(name);
    std::fs::write(&p, data).unwrap();
    p
}
