//! `xmlsec1` (libxmlsec1, OpenSSL backend) as the independent XMLDSig verifier and signer.

use std::path::Path;
use std::process::Command;

use crate::openssl::Run;

fn run(args: &[&str]) -> Run {
    let out = Command::new("xmlsec1")
        .args(args)
        .output()
        .expect("run xmlsec1 (apt xmlsec1)");
    Run {
        ok: out.status.success(),
        output: format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        ),
    }
}

/// `xmlsec1 --verify` with the signer certificate from KeyInfo checked against the trusted
/// PEM certificates. `id_attr` = (attribute, element) registers an ID attribute for `#id`
/// references.
pub fn verify(xml: &Path, trusted_pems: &[&Path], id_attr: Option<(&str, &str)>) -> Run {
    let mut args: Vec<String> = vec![
        "--verify".into(),
        "--enabled-key-data".into(),
        "x509".into(),
    ];
    for t in trusted_pems {
        args.push("--trusted-pem".into());
        args.push(t.to_str().expect("path").into());
    }
    if let Some((attr, element)) = id_attr {
        args.push(format!("--id-attr:{attr}"));
        args.push(element.into());
    }
    args.push(xml.to_str().expect("path").into());
    let refs: Vec<&str> = args.iter().map(String::as_str).collect();
    let r = run(&refs);
    Run {
        ok: r.ok && r.output.contains("OK"),
        output: r.output,
    }
}

/// `xmlsec1 --sign` of a template (a document with an empty `ds:Signature`) with a PEM key
/// and certificate.
pub fn sign(template: &Path, key_pem: &Path, cert_pem: &Path, out: &Path) -> Run {
    let key = format!(
        "{},{}",
        key_pem.to_str().expect("path"),
        cert_pem.to_str().expect("path")
    );
    run(&[
        "--sign",
        "--privkey-pem",
        &key,
        "--output",
        out.to_str().expect("path"),
        template.to_str().expect("path"),
    ])
}
