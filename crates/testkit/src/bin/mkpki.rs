//! `cargo run -p qoltanba-testkit --bin mkpki -- DIR [PASSWORD]`: writes a fresh test PKI in
//! the NCA layout into DIR so that a person can inspect it with `openssl`: the CA bundle, and
//! AUTH/SIGN key files for an individual and for legal-entity roles, plus expired and
//! not-yet-valid variants and a modern (PBES2) container.
#![allow(clippy::print_stdout, clippy::unwrap_used)]

use qoltanba_testkit::p12::{self, Contents, Encoding, Protection};
use qoltanba_testkit::pki::{LeafSpec, Lifetime, TestPki, Usage, roles};

fn main() -> std::process::ExitCode {
    let mut args = std::env::args().skip(1);
    let Some(dir) = args.next() else {
        eprintln!("usage: mkpki DIR [PASSWORD]");
        return std::process::ExitCode::from(2);
    };
    let password = args.next().unwrap_or_else(|| "Qwerty12".into());
    let dir = std::path::PathBuf::from(dir);
    std::fs::create_dir_all(&dir).unwrap();
    let pki = TestPki::new();
    std::fs::write(dir.join("ca.pem"), pki.ca_bundle_pem()).unwrap();
    std::fs::write(dir.join("root.cer"), &pki.root.cert_der).unwrap();
    std::fs::write(dir.join("nca.cer"), &pki.nca.cert_der).unwrap();
    let specs = [
        ("individual", LeafSpec::individual(Usage::Auth)),
        ("individual", LeafSpec::individual(Usage::Sign)),
        ("ceo", LeafSpec::legal_entity(Usage::Sign, roles::CEO)),
        ("signer", LeafSpec::legal_entity(Usage::Sign, roles::SIGNER)),
        ("hr", LeafSpec::legal_entity(Usage::Sign, roles::HR)),
        (
            "employee",
            LeafSpec::legal_entity(Usage::Auth, roles::EMPLOYEE),
        ),
        (
            "expired",
            LeafSpec::individual(Usage::Sign).with_lifetime(Lifetime::Expired),
        ),
        (
            "future",
            LeafSpec::individual(Usage::Sign).with_lifetime(Lifetime::NotYetValid),
        ),
    ];
    for (label, spec) in specs {
        let leaf = pki.issue(&spec);
        let sub = dir.join(label);
        std::fs::create_dir_all(&sub).unwrap();
        let path = p12::write_nca_file(&leaf, &password, &sub);
        println!("{}", path.display());
    }
    let leaf = pki.issue(&LeafSpec::individual(Usage::Sign));
    let modern = p12::write(
        &Contents::of(&leaf),
        &password,
        Protection::ModernPbes2,
        Encoding::Der,
    );
    std::fs::write(dir.join("modern.p12"), modern).unwrap();
    println!("{}", dir.join("modern.p12").display());
    std::process::ExitCode::SUCCESS
}
