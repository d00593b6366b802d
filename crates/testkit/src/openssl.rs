//! The `openssl` command line as an independent verifier and as a producer of inputs made by
//! another implementation (modelled on x509-cert's `test-support/openssl.rs`).

use std::path::Path;
use std::process::{Command, Output};

/// Result of an `openssl` run: success flag and its combined output.
#[derive(Debug)]
pub struct Run {
    /// Exit status was zero.
    pub ok: bool,
    /// stdout and stderr, for assertion messages.
    pub output: String,
}

fn run(args: &[&str]) -> Run {
    let out: Output = Command::new("openssl")
        .args(args)
        .output()
        .expect("run openssl");
    Run {
        ok: out.status.success(),
        output: format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        ),
    }
}

/// `openssl cms -verify` of a DER CMS against `ca_file` (PEM bundle). With `content`, the
/// signature is detached and verified over that file. `-purpose any` as NCA AUTH leaves carry
/// clientAuth, which OpenSSL's S/MIME purpose check would refuse.
pub fn cms_verify(sig: &Path, content: Option<&Path>, ca_file: &Path) -> Run {
    let mut args = vec!["cms", "-verify", "-binary", "-inform", "DER", "-in"];
    let sig = sig.to_str().expect("path");
    args.push(sig);
    let content_s;
    if let Some(c) = content {
        content_s = c.to_str().expect("path").to_owned();
        args.extend(["-content", &content_s]);
    }
    let ca = ca_file.to_str().expect("path");
    args.extend(["-CAfile", ca, "-purpose", "any", "-out", "/dev/null"]);
    let r = run(&args);
    Run {
        ok: r.ok && r.output.contains("Verification successful"),
        output: r.output,
    }
}

/// `openssl cms -sign` with a PEM certificate and key, SHA-256, DER output. Detached unless
/// `attached`.
pub fn cms_sign(input: &Path, cert: &Path, key: &Path, out: &Path, attached: bool) -> Run {
    let mut args = vec![
        "cms",
        "-sign",
        "-binary",
        "-md",
        "sha256",
        "-outform",
        "DER",
        "-in",
        input.to_str().expect("path"),
        "-signer",
        cert.to_str().expect("path"),
        "-inkey",
        key.to_str().expect("path"),
        "-out",
        out.to_str().expect("path"),
    ];
    if attached {
        args.push("-nodetach");
    }
    run(&args)
}

/// `openssl pkcs12 -info` on a container (`-legacy` loads RC2-40/3DES). Succeeds only when the
/// MAC and every bag decrypt.
pub fn pkcs12_info(p12: &Path, password: &str, legacy: bool) -> Run {
    let pass = format!("pass:{password}");
    let mut args = vec![
        "pkcs12",
        "-in",
        p12.to_str().expect("path"),
        "-passin",
        &pass,
    ];
    args.extend(["-noenc", "-info", "-out", "/dev/null"]);
    if legacy {
        args.push("-legacy");
    }
    run(&args)
}

/// `openssl pkcs12 -export` of a PEM key and certificate. `legacy` uses OpenSSL's legacy
/// layout (RC2-40 certificates, 3DES key, SHA-1 MAC); otherwise OpenSSL 3's default (PBES2,
/// AES-256, SHA-256 MAC).
pub fn pkcs12_export(key: &Path, cert: &Path, password: &str, out: &Path, legacy: bool) -> Run {
    let pass = format!("pass:{password}");
    let mut args = vec![
        "pkcs12",
        "-export",
        "-inkey",
        key.to_str().expect("path"),
        "-in",
        cert.to_str().expect("path"),
        "-passout",
        &pass,
        "-out",
        out.to_str().expect("path"),
    ];
    if legacy {
        args.push("-legacy");
    }
    run(&args)
}

/// `openssl asn1parse` of a DER file, for checks on structure.
pub fn asn1parse(der: &Path) -> Run {
    run(&[
        "asn1parse",
        "-inform",
        "DER",
        "-i",
        "-in",
        der.to_str().expect("path"),
    ])
}

/// `openssl ts -verify` of a timestamp token (DER ContentInfo) over `data` (the signature
/// value it stamps), with the CA bundle.
pub fn ts_verify(token: &Path, data: &Path, ca_file: &Path) -> Run {
    let r = run(&[
        "ts",
        "-verify",
        "-token_in",
        "-in",
        token.to_str().expect("path"),
        "-data",
        data.to_str().expect("path"),
        "-CAfile",
        ca_file.to_str().expect("path"),
    ]);
    Run {
        ok: r.ok && r.output.contains("Verification: OK"),
        output: r.output,
    }
}
