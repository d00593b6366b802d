//! `qoltanba sign cms` (detached, attached in one pass, hash-only, CAdES-T, co-signing) and
//! `qoltanba verify cms`.

use std::fs::File;
use std::io::{BufReader, BufWriter, Read, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context, Result, anyhow, bail};
use qoltanba_sign::cms::{self, CmsOptions, DetachedContent, VerifyOptions};
use qoltanba_sign::input;
use serde_json::{Value, json};

use super::{
    KeyChoice, details_json, load_anchors, print_signer, rfc3339, tsa_anchors, write_output,
};

/// Arguments of `qoltanba sign cms`.
pub(crate) struct SignCms<'a> {
    pub(crate) key: KeyChoice<'a>,
    pub(crate) attached: bool,
    pub(crate) hash: bool,
    pub(crate) input: &'a Path,
    pub(crate) output: &'a Path,
    /// CAdES-T from this TSA, its certificate checked against these anchors (none given:
    /// NCA's pinned CAs).
    pub(crate) tsa: Option<(&'a str, &'a [PathBuf])>,
    /// Co-sign this existing CMS.
    pub(crate) add_to: Option<&'a Path>,
}

/// Adds a timestamp from `url` to the last signer of `der`.
fn timestamp(der: &[u8], url: &str, anchors: &[Vec<u8>]) -> Result<Vec<u8>> {
    use qoltanba_protocol::Tsa as _;
    let tsa = qoltanba_server::tsa::HttpTsa::new(qoltanba_server::tsa::TsaConfig {
        url: url.to_owned(),
        ..qoltanba_server::tsa::TsaConfig::default()
    });
    let last = cms::tsp::signature_values(der)?.len().saturating_sub(1);
    Ok(cms::tsp::timestamp_signers(
        der,
        cms::tsp::Signers::Only(last),
        64,
        &|g| tsa.policy(g),
        &|g, q| tsa.exchange(g, q),
        anchors,
    )?)
}

/// A reader that hashes what passes through it.
struct HashingReader<R> {
    inner: R,
    hasher: qoltanba_sign::digest_hasher::Hasher,
}

impl<R: Read> Read for HashingReader<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.hasher.update(&buf[..n]);
        Ok(n)
    }
}

/// `qoltanba sign cms`.
pub(crate) fn sign_cms(a: &SignCms<'_>) -> Result<ExitCode> {
    let key = a.key.open()?;
    let key = key.as_ref();
    let alg = cms::digest_algorithm_for(key)?;
    let opts = CmsOptions::default();
    if let Some(existing) = a.add_to {
        let cms_raw = std::fs::read(existing)
            .with_context(|| format!("cannot read {}", existing.display()))?;
        let cms_der =
            input::decode_binary(&cms_raw).map_err(|e| anyhow!("{}: {e}", existing.display()))?;
        let content =
            std::fs::read(a.input).with_context(|| format!("cannot read {}", a.input.display()))?;
        let mut der = cms::add_signer(&cms_der, key, Some(&content), &opts)?;
        if let Some((url, trust)) = &a.tsa {
            der = timestamp(&der, url, &tsa_anchors(trust)?)?;
        }
        write_output(a.output, &mut |w| Ok(w.write_all(&der)?))?;
        return Ok(ExitCode::SUCCESS);
    }
    let open_input =
        || File::open(a.input).with_context(|| format!("cannot read {}", a.input.display()));
    let write = |f: &mut dyn FnMut(&mut BufWriter<File>) -> Result<()>| write_output(a.output, f);

    if a.hash {
        let digest =
            std::fs::read(a.input).with_context(|| format!("cannot read {}", a.input.display()))?;
        if digest.len() != alg.output_len() {
            bail!(
                "{} must hold the raw {}-byte digest, it has {} bytes",
                a.input.display(),
                alg.output_len(),
                digest.len()
            );
        }
        let mut der = cms::sign_digest(key, &digest, &opts)?.to_detached_der()?;
        if let Some((url, trust)) = &a.tsa {
            der = timestamp(&der, url, &tsa_anchors(trust)?)?;
        }
        write(&mut |w| Ok(w.write_all(&der)?))?;
        return Ok(ExitCode::SUCCESS);
    }
    if a.attached && a.tsa.is_none() && cms::streams_attached(key) {
        // One pass: the content streams into the output and the hasher together, and the
        // SignerInfo follows it.
        let input = open_input()?;
        let len = input.metadata()?.len();
        let mut reader = BufReader::new(input);
        write(&mut |w| {
            Ok(cms::sign_attached_streaming(
                key,
                &mut reader,
                len,
                w,
                &opts,
            )?)
        })?;
        return Ok(ExitCode::SUCCESS);
    }
    // First pass: digest (streamed, any size).
    let (digest, len) = alg.digest_reader(&mut BufReader::new(open_input()?))?;
    let signed = cms::sign_digest(key, &digest, &opts)?;
    if let Some((url, trust)) = &a.tsa {
        let anchors = tsa_anchors(trust)?;
        // The token goes inside the SignerInfo, so the whole CMS is built in memory here.
        let der = if a.attached {
            let content = std::fs::read(a.input)
                .with_context(|| format!("cannot read {}", a.input.display()))?;
            if alg.digest(&content) != digest {
                bail!("{} changed while it was being signed", a.input.display());
            }
            signed.to_attached_der(&content)?
        } else {
            signed.to_detached_der()?
        };
        let der = timestamp(&der, url, &anchors)?;
        write(&mut |w| Ok(w.write_all(&der)?))?;
        return Ok(ExitCode::SUCCESS);
    }
    if a.attached {
        // Keys whose signatures vary in length (ECDSA). Second pass: stream the content into
        // the output, hashing it again so that a file that changed in between is caught rather
        // than signed wrongly.
        write(&mut |w| {
            let mut reader = HashingReader {
                inner: BufReader::new(open_input()?),
                hasher: alg.hasher(),
            };
            signed.write_attached(w, &mut reader, len)?;
            if reader.hasher.finish() != digest {
                bail!("{} changed while it was being signed", a.input.display());
            }
            Ok(())
        })?;
    } else {
        let der = signed.to_detached_der()?;
        write(&mut |w| Ok(w.write_all(&der)?))?;
    }
    Ok(ExitCode::SUCCESS)
}

/// `qoltanba verify cms`.
pub(crate) fn verify_cms(
    sig: &Path,
    content: Option<&Path>,
    trust: &[PathBuf],
    json: bool,
) -> Result<ExitCode> {
    let raw = std::fs::read(sig).with_context(|| format!("cannot read {}", sig.display()))?;
    let der = input::decode_binary(&raw).map_err(|e| anyhow!("{}: {e}", sig.display()))?;
    let anchors = load_anchors(trust)?;
    let opts = VerifyOptions {
        trust_anchors: anchors,
        now: None,
        ..Default::default()
    };
    let report = match content {
        Some(p) => {
            let mut f = BufReader::new(
                File::open(p).with_context(|| format!("cannot read {}", p.display()))?,
            );
            cms::verify(&der, DetachedContent::Reader(&mut f), &opts)?
        }
        None => cms::verify(&der, DetachedContent::None, &opts)?,
    };
    if json {
        let signers: Vec<Value> = report
            .signers
            .iter()
            .map(|s| {
                json!({
                    "signature_valid": s.signature_valid,
                    "digest_matches": s.digest_matches,
                    "signature_matches": s.signature_matches,
                    "signing_certificate_matches": s.signing_certificate_matches,
                    "problem": s.problem,
                    "digest_algorithm": s.digest_algorithm,
                    "signing_time": s.signing_time.map(rfc3339),
                    "certificate": s.certificate.as_ref().map(details_json),
                    "chain": s.chain,
                    "timestamp": s.timestamp,
                })
            })
            .collect();
        let v = json!({ "valid": report.valid, "attached": report.attached, "signers": signers });
        println!("{}", serde_json::to_string_pretty(&v)?);
    } else {
        println!(
            "Signature: {}",
            if report.valid { "VALID" } else { "INVALID" }
        );
        for (i, s) in report.signers.iter().enumerate() {
            println!("Signer {}:", i + 1);
            print_signer(
                s.certificate.as_ref(),
                s.signing_time,
                s.signature_valid,
                s.problem.as_deref(),
                s.chain.as_ref(),
            );
            if let Some(t) = &s.timestamp {
                println!(
                    "  Timestamp: {} ({}; policy {}; TSA {})",
                    t.time.map(rfc3339).unwrap_or_default(),
                    if t.valid { "valid" } else { "INVALID" },
                    t.policy.as_deref().unwrap_or("?"),
                    t.tsa.as_deref().unwrap_or("?")
                );
                if let Some(p) = &t.problem {
                    println!("  Timestamp problem: {p}");
                }
            }
        }
    }
    Ok(if report.valid {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}
