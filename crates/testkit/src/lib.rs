//! Test-only support for Qoltanba: a test PKI in the Kazakh NCA profile generated at test time
//! ([`pki`]), key containers written in NCA's PKCS#12 layout ([`p12`]), wrappers around the
//! independent verifiers (`openssl`), and access to the shared public vectors.
//!
//! Not published, never a normal dependency of a product crate.
#![forbid(unsafe_code)]
#![allow(
    clippy::missing_panics_doc,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic
)]

/// NSS databases made with certutil and pk12util.
pub mod nss;
/// Runs the `openssl` command line as an independent verifier.
pub mod openssl;
/// PKCS#12 containers in the NCA and the modern layout.
pub mod p12;
/// The generated test PKI.
pub mod pki;
/// OCSP responder and CRL server (openssl).
pub mod revocation;
/// SoftHSM2 tokens for PKCS#11 tests.
pub mod softhsm;
/// An RFC 3161 timestamp authority (`openssl ts -reply` over HTTP).
pub mod tsa;
/// Runs `xmlsec1` as an independent XMLDSig verifier and signer.
pub mod xmlsec;

use std::path::PathBuf;

/// The shared public vectors (`../shared/kz-pki-vectors` beside the repository), or `None` with
/// a message on stderr, so that tests can skip clearly when it is absent.
pub fn shared_vectors() -> Option<PathBuf> {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/kz-pki-vectors");
    if root.join("MANIFEST.md").is_file() {
        Some(root.canonicalize().unwrap_or(root))
    } else if std::env::var_os("CI").is_some_and(|v| !v.is_empty()) {
        // In CI these vectors are the only external check of the GOST code: never skip there.
        panic!(
            "../shared/kz-pki-vectors is absent (looked at {}) and CI is set: the shared-vector \
             tests must run in CI",
            root.display()
        );
    } else {
        eprintln!(
            "SKIP: ../shared/kz-pki-vectors is absent (looked at {}); shared-vector tests skipped",
            root.display()
        );
        None
    }
}

/// The NCA test key files in the shared vectors with their passwords (MANIFEST.md).
pub const NCA_P12_FILES: &[(&str, &str)] = &[
    (
        "AUTH_RSA256_b2c70a9ff7a5dc59de0ccc3c0ddde3437cc1f12d.p12",
        "Qwerty12",
    ),
    (
        "RSA256_11c707bd54cbfcccb3815e39c4eb57b1dc7dfea9.p12",
        "Qwerty12",
    ),
    (
        "AUTH_RSA256_d682726b55b3e62600ea8fe1c74e75fc96f47790.p12",
        "Qwerty12",
    ),
    (
        "GOSTKNCA_13a3741b52d7bf860aab199b56fad1f4652e357b.p12",
        "Qwerty12",
    ),
    (
        "GOST512_8ff06211dc82beb00253ffa000f1de84abef454f.p12",
        "Aa123456",
    ),
];

/// The URL a started `qoltanba serve` (or the desktop app) prints on its first stdout line,
/// `LISTENING ws://127.0.0.1:PORT`; the child's stdout is taken for it.
pub fn listening_url(child: &mut std::process::Child) -> String {
    use std::io::BufRead as _;
    let mut line = String::new();
    std::io::BufReader::new(child.stdout.take().expect("stdout piped"))
        .read_line(&mut line)
        .expect("read the LISTENING line");
    line.trim()
        .strip_prefix("LISTENING ")
        .unwrap_or_else(|| panic!("no LISTENING line: {line:?}"))
        .to_owned()
}
