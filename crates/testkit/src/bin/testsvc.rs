//! `testsvc DIR`: a test PKI with a key file whose certificate names an OCSP responder and a
//! CRL, plus a running TSA (`openssl ts -reply`), OCSP responder (`openssl ocsp`) and CRL server
//! on 127.0.0.1, for benchmarks and manual tries. Prints `KEY`, `CERT`, `CA`, `NCA`, `TSA`,
//! `OCSP` lines, then serves until stdin closes.
#![allow(clippy::unwrap_used, clippy::print_stdout, clippy::print_stderr)]

use std::io::Read as _;
use std::path::PathBuf;

use qoltanba_testkit::p12;
use qoltanba_testkit::pki::{LeafSpec, TestPki, Usage};
use qoltanba_testkit::revocation::Revocation;
use qoltanba_testkit::tsa::TestTsa;

fn main() -> std::process::ExitCode {
    let Some(dir) = std::env::args().nth(1).map(PathBuf::from) else {
        eprintln!("usage: testsvc DIR");
        return std::process::ExitCode::from(2);
    };
    std::fs::create_dir_all(&dir).unwrap();
    let pki = TestPki::new();
    let mut rev = Revocation::reserve();
    let leaf = pki.issue(
        &LeafSpec::individual(Usage::Sign).with_revocation(Some(&rev.ocsp_url), Some(&rev.crl_url)),
    );
    rev.start(&pki, &[(&leaf, false)]);
    let tsa = TestTsa::start(&pki);
    let key = p12::write_nca_file(&leaf, "Qwerty12", &dir);
    std::fs::write(dir.join("ca.pem"), pki.ca_bundle_pem()).unwrap();
    std::fs::write(dir.join("nca.pem"), pki.nca.cert_pem()).unwrap();
    std::fs::write(dir.join("cert.pem"), leaf.cert_pem()).unwrap();
    println!("KEY {}", key.display());
    println!("CERT {}", dir.join("cert.pem").display());
    println!("CA {}", dir.join("ca.pem").display());
    println!("NCA {}", dir.join("nca.pem").display());
    println!("TSA {}", tsa.url);
    println!("OCSP {}", rev.ocsp_url);
    let mut sink = Vec::new();
    let _ = std::io::stdin().read_to_end(&mut sink);
    std::process::ExitCode::SUCCESS
}
