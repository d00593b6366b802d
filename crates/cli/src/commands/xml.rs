//! `qoltanba sign xml` and `qoltanba verify xml`.

use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context, Result, anyhow};
use qoltanba_sign::xml::{self, Parent, Tbs, XmlSignOptions, XmlVerifyOptions};
use serde_json::{Value, json};

use super::{details_json, load_anchors, open_key, print_signer, write_output};

/// Arguments of `qoltanba sign xml`.
pub(crate) struct SignXml<'a> {
    pub(crate) key: &'a Path,
    pub(crate) password_env: Option<&'a str>,
    pub(crate) tbs_xpath: Option<&'a str>,
    pub(crate) parent_xpath: Option<&'a str>,
    pub(crate) input: &'a Path,
    pub(crate) output: &'a Path,
}

/// The file as text, without a copy: the bytes become the string (a BOM is dropped in place).
fn read_xml(path: &Path) -> Result<String> {
    let mut bytes =
        std::fs::read(path).with_context(|| format!("cannot read {}", path.display()))?;
    if bytes.starts_with(b"\xEF\xBB\xBF") {
        bytes.drain(..3);
    }
    String::from_utf8(bytes).map_err(|_| anyhow!("{}: {}", path.display(), xml::XmlError::NotUtf8))
}

/// `qoltanba sign xml`.
pub(crate) fn sign_xml(a: &SignXml<'_>) -> Result<ExitCode> {
    let doc = read_xml(a.input)?;
    let key = open_key(a.key, a.password_env)?;
    let opts = XmlSignOptions {
        tbs: a.tbs_xpath.map_or(Tbs::WholeDocument, Tbs::XPath),
        parent: a
            .parent_xpath
            .map_or(Parent::DocumentElement, Parent::XPath),
    };
    let signed = xml::sign(&key, &doc, &opts)
        .with_context(|| format!("cannot sign {}", a.input.display()))?;
    write_output(a.output, &mut |w| Ok(w.write_all(signed.as_bytes())?))?;
    Ok(ExitCode::SUCCESS)
}

/// `qoltanba verify xml`.
pub(crate) fn verify_xml(
    file: &Path,
    trust: &[PathBuf],
    id_attr: Option<String>,
    json: bool,
) -> Result<ExitCode> {
    let doc = read_xml(file)?;
    let opts = XmlVerifyOptions {
        trust_anchors: load_anchors(trust)?,
        now: None,
        id_attr,
        ..Default::default()
    };
    let report =
        xml::verify(&doc, &opts).with_context(|| format!("cannot verify {}", file.display()))?;
    if json {
        let signatures: Vec<Value> = report
            .signatures
            .iter()
            .map(|s| {
                json!({
                    "signature_valid": s.signature_valid,
                    "signature_matches": s.signature_matches,
                    "signature_method": s.signature_method,
                    "references": s.references,
                    "problem": s.problem,
                    "certificate": s.certificate.as_ref().map(details_json),
                    "chain": s.chain,
                })
            })
            .collect();
        let v = json!({ "valid": report.valid, "signatures": signatures });
        println!("{}", serde_json::to_string_pretty(&v)?);
    } else {
        println!(
            "Document: {}",
            if report.valid { "VALID" } else { "INVALID" }
        );
        for (i, s) in report.signatures.iter().enumerate() {
            println!("Signature {}:", i + 1);
            print_signer(
                s.certificate.as_ref(),
                None,
                s.signature_valid,
                s.problem.as_deref(),
                s.chain.as_ref(),
            );
        }
    }
    Ok(if report.valid {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}
