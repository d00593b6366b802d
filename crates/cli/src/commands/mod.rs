//! The commands: thin glue from arguments to the libraries and back to text or JSON, one
//! module a subcommand (`keys`, `sign cms`/`verify cms`, `cert status`, `sign xml`/`verify
//! xml`); what they share is here.
#![allow(clippy::print_stdout)] // printing is this module's job

mod cert;
mod cms;
mod keys;
mod xml;

use std::fs::File;
use std::io::{BufWriter, Write as _};
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, anyhow};
use qoltanba_keys::{SoftwareKey, pkcs12};
use qoltanba_pki::CertificateDetails;
use qoltanba_sign::input;
use serde_json::Value;
use time::format_description::well_known::Rfc3339;

pub(crate) use cert::cert_status;
pub(crate) use cms::{SignCms, sign_cms, verify_cms};
pub(crate) use keys::{KeyChoice, keys_info};
pub(crate) use xml::{SignXml, sign_xml, verify_xml};

use crate::password;

pub(super) fn open_key(path: &Path, password_env: Option<&str>) -> Result<SoftwareKey> {
    let password = password::read(password_env)?;
    let mut contents = pkcs12::open_file(path, &password)
        .with_context(|| format!("cannot open {}", path.display()))?;
    // NCA files hold exactly one key.
    Ok(contents.keys.remove(0))
}

pub(super) fn rfc3339(t: time::OffsetDateTime) -> String {
    t.format(&Rfc3339).unwrap_or_default()
}

/// The JSON of certificate details: the fields of [`CertificateDetails`] as it serializes them
/// (stable names; later issues rely on them), with the validity now.
#[derive(serde::Serialize)]
struct DetailsJson<'a> {
    #[serde(flatten)]
    details: &'a CertificateDetails,
    validity: qoltanba_pki::ValidityStatus,
}

pub(super) fn details_json(d: &CertificateDetails) -> Value {
    serde_json::to_value(DetailsJson {
        details: d,
        validity: d.validity_at(time::OffsetDateTime::now_utc()),
    })
    .unwrap_or_default()
}

/// Writes `output` through a `.partial` file renamed at the end, so that a failure never leaves
/// a truncated signature behind.
pub(super) fn write_output(
    output: &Path,
    f: &mut dyn FnMut(&mut BufWriter<File>) -> Result<()>,
) -> Result<()> {
    let tmp = PathBuf::from(format!("{}.partial", output.display()));
    let file = File::create(&tmp).with_context(|| format!("cannot write {}", tmp.display()))?;
    let mut w = BufWriter::new(file);
    let r = f(&mut w).and_then(|()| w.flush().map_err(Into::into));
    if r.is_err() {
        let _ = std::fs::remove_file(&tmp);
        return r;
    }
    std::fs::rename(&tmp, output).with_context(|| format!("cannot write {}", output.display()))
}

/// Anchors for a TSA's certificate: the given files, else NCA's pinned CAs in the data dir.
pub(super) fn tsa_anchors(trust: &[PathBuf]) -> Result<Vec<Vec<u8>>> {
    if !trust.is_empty() {
        return load_anchors(trust);
    }
    let data = qoltanba_local::paths::data_dir(None)?;
    Ok(qoltanba_server::engine::trust_anchors(&data, &[])?)
}

pub(super) fn load_anchors(trust: &[PathBuf]) -> Result<Vec<Vec<u8>>> {
    let mut anchors = Vec::new();
    for t in trust {
        let bytes = std::fs::read(t).with_context(|| format!("cannot read {}", t.display()))?;
        anchors.extend(
            input::decode_certificates(&bytes).map_err(|e| anyhow!("{}: {e}", t.display()))?,
        );
    }
    Ok(anchors)
}

/// Human-readable lines about one signer (CMS and XML alike).
pub(super) fn print_signer(
    cert: Option<&CertificateDetails>,
    signing_time: Option<time::OffsetDateTime>,
    valid: bool,
    problem: Option<&str>,
    chain: Option<&qoltanba_pki::chain::ChainReport>,
) {
    if let Some(d) = cert {
        println!(
            "  Name:     {}",
            d.full_name
                .clone()
                .or_else(|| d.subject_cn.clone())
                .unwrap_or_default()
        );
        if let Some(iin) = &d.iin {
            println!("  IIN:      {iin}");
        }
        if let Some(bin) = &d.bin {
            println!("  BIN:      {bin}");
        }
    }
    if let Some(t) = signing_time {
        println!("  Signed:   {}", rfc3339(t));
    }
    println!("  Math:     {}", if valid { "valid" } else { "INVALID" });
    if let Some(p) = problem {
        println!("  Problem:  {p}");
    }
    if let Some(c) = chain {
        println!("  Chain:    {:?}", c.status);
        println!("  Validity: {:?} at {}", c.validity, rfc3339(c.checked_at));
    }
}
