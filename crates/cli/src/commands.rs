//! The commands: thin glue from arguments to the libraries and back to text or JSON.
#![allow(clippy::print_stdout)] // printing is this module's job

use std::fs::File;
use std::io::{BufReader, BufWriter, Read, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context, Result, anyhow, bail};
use qoltanba_keys::{SigningKey, SoftwareKey, pkcs12};
use qoltanba_pki::{CertificateDetails, Lang};
use qoltanba_sign::cms::{self, CmsOptions, DetachedContent, VerifyOptions};
use qoltanba_sign::input;
use qoltanba_sign::xml::{self, Parent, Tbs, XmlSignOptions, XmlVerifyOptions};
use serde_json::{Value, json};
use time::format_description::well_known::Rfc3339;

use crate::password;

fn open_key(path: &Path, password_env: Option<&str>) -> Result<SoftwareKey> {
    let password = password::read(password_env)?;
    let mut contents = pkcs12::open_file(path, &password)
        .with_context(|| format!("cannot open {}", path.display()))?;
    // NCA files hold exactly one key.
    Ok(contents.keys.remove(0))
}

fn rfc3339(t: time::OffsetDateTime) -> String {
    t.format(&Rfc3339).unwrap_or_default()
}

/// The JSON shape of certificate details (stable field names; later issues rely on them).
fn details_json(d: &CertificateDetails) -> Value {
    json!({
        "subject_cn": d.subject_cn,
        "surname": d.surname,
        "given_name": d.given_name,
        "patronymic": d.patronymic,
        "full_name": d.full_name,
        "iin": d.iin,
        "bin": d.bin,
        "organization": d.organization,
        "email": d.email,
        "country": d.country,
        "locality": d.locality,
        "not_before": rfc3339(d.not_before),
        "not_after": rfc3339(d.not_after),
        "issuer_cn": d.issuer_cn,
        "issuer_dn": d.issuer_dn,
        "subject_dn": d.subject_dn,
        "serial": d.serial,
        "key_algorithm": d.key_algorithm.label(),
        "key_kind": d.key_kind,
        "key_usage": d.key_usage,
        "ext_key_usage": d.ext_key_usage,
        "roles": d.roles,
        "unknown_roles": d.unknown_roles,
        "policies": d.policies,
        "subject_key_id": d.subject_key_id,
        "authority_key_id": d.authority_key_id,
        "sha256_fingerprint": d.sha256_fingerprint,
        "validity": d.validity_at(time::OffsetDateTime::now_utc()),
    })
}

fn print_details(d: &CertificateDetails) {
    let opt = |v: &Option<String>| v.clone().unwrap_or_else(|| "—".into());
    println!("Name:          {}", opt(&d.full_name).trim());
    println!("IIN:           {}", opt(&d.iin));
    if d.bin.is_some() || d.organization.is_some() {
        println!("Organisation:  {}", opt(&d.organization));
        println!("BIN:           {}", opt(&d.bin));
    }
    if d.email.is_some() {
        println!("E-mail:        {}", opt(&d.email));
    }
    let kind = match d.key_kind {
        qoltanba_pki::KeyKind::Auth => "AUTH (authentication)",
        qoltanba_pki::KeyKind::Sign => "SIGN (signing)",
        qoltanba_pki::KeyKind::Both => "AUTH + SIGN",
        qoltanba_pki::KeyKind::Unknown => "unknown",
    };
    println!("Key:           {}, {kind}", d.key_algorithm.label());
    let roles: Vec<&str> = d.roles.iter().map(|r| r.name(Lang::En)).collect();
    println!(
        "Roles:         {}",
        if roles.is_empty() {
            "—".into()
        } else {
            roles.join(", ")
        }
    );
    println!(
        "Valid:         {} … {} ({:?})",
        rfc3339(d.not_before),
        rfc3339(d.not_after),
        d.validity_at(time::OffsetDateTime::now_utc())
    );
    println!("Issuer:        {}", opt(&d.issuer_cn));
    println!("Serial:        {}", d.serial);
    if let Some(ski) = &d.subject_key_id {
        println!("Key ID (SKI):  {ski}");
    }
}

/// `qoltanba keys info`.
pub(crate) fn keys_info(file: &Path, password_env: Option<&str>, json: bool) -> Result<ExitCode> {
    let key = open_key(file, password_env)?;
    let d = key.details();
    if json {
        let mut v = details_json(d);
        v["alias"] = json!(key.alias());
        println!("{}", serde_json::to_string_pretty(&v)?);
    } else {
        print_details(d);
    }
    Ok(ExitCode::SUCCESS)
}

/// Where the signing key comes from: a key file or a token.
pub(crate) enum KeyChoice<'a> {
    /// A `.p12` file and the variable holding its password.
    File(&'a Path, Option<&'a str>),
    /// A token: module, label, certificate id, PIN variable.
    Token(&'a Path, &'a str, Option<&'a str>, Option<&'a str>),
    /// A key in the OS store, by its certificate's thumbprint.
    Os {
        /// SHA-1 of the certificate, hex.
        thumbprint: &'a str,
        /// The variable holding the store's password (an NSS database with one).
        password_env: Option<&'a str>,
        /// The NSS database to read instead of the configured one.
        nss_db: Option<&'a Path>,
    },
}

impl<'a> KeyChoice<'a> {
    pub(crate) fn new(
        file: Option<&'a Path>,
        password_env: Option<&'a str>,
        module: Option<&'a Path>,
        label: Option<&'a str>,
        cert: Option<&'a str>,
        pin_env: Option<&'a str>,
    ) -> Self {
        match (file, module) {
            (Some(f), _) => Self::File(f, password_env),
            (None, Some(m)) => Self::Token(m, label.unwrap_or_default(), cert, pin_env),
            (None, None) => Self::File(Path::new(""), password_env),
        }
    }

    /// Opens the key through its provider, as the server's engine does.
    fn open(&self) -> Result<Box<dyn SigningKey>> {
        match self {
            Self::File(path, env) => {
                let password = password::read(*env)?;
                qoltanba_keys::KeyFiles::new(std::sync::Arc::new(qoltanba_keys::files::NoMemory))
                    .open_path(path, &password)
                    .with_context(|| format!("cannot open {}", path.display()))
            }
            Self::Token(module, label, cert, pin_env) => {
                use qoltanba_keys::{KeyProvider, Location};
                let dir =
                    qoltanba_pkcs11::TokenDirectory::new(vec![qoltanba_pkcs11::ModuleConfig {
                        storage: "PKCS11".into(),
                        module: module.to_path_buf(),
                    }]);
                let listing = dir.candidates();
                let candidate = listing
                    .candidates
                    .iter()
                    .find(|c| match &c.location {
                        Location::Token {
                            label: l, cert_id, ..
                        } => l == label && cert.is_none_or(|id| cert_id.eq_ignore_ascii_case(id)),
                        _ => false,
                    })
                    .ok_or_else(|| match listing.problems.first() {
                        Some(p) => anyhow::anyhow!("{p}"),
                        None => anyhow::anyhow!(
                            "the token {label:?} is not connected or holds no such certificate"
                        ),
                    })?;
                let pin = password::read_named(*pin_env, "PIN: ")?;
                Ok(dir.open(candidate, &pin)?)
            }
            Self::Os {
                thumbprint,
                password_env,
                nss_db,
            } => {
                use qoltanba_keys::{KeyProvider, SecretKind};
                let store = crate::list::os_store(*nss_db)?;
                let candidate = store.find(thumbprint)?;
                let secret = match candidate.secret {
                    SecretKind::None => qoltanba_keys::Secret::new(String::new()),
                    _ => password::read_named(
                        *password_env,
                        &format!("{} password: ", candidate.location.describe()),
                    )?,
                };
                store
                    .open(&candidate, &secret)
                    .with_context(|| format!("cannot open {}", candidate.location.describe()))
            }
        }
    }
}

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

/// Writes `output` through a `.partial` file renamed at the end, so that a failure never leaves
/// a truncated signature behind.
fn write_output(
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

/// `qoltanba cert status`.
pub(crate) fn cert_status(
    file: &Path,
    password_env: Option<&str>,
    ocsp: Option<&str>,
    trust: &[PathBuf],
    json: bool,
) -> Result<ExitCode> {
    use qoltanba_pki::revocation::RevocationState;
    use qoltanba_protocol::RevocationCheck as _;
    let raw = std::fs::read(file).with_context(|| format!("cannot read {}", file.display()))?;
    let (leaf, mut pool) = match input::decode_certificates(&raw) {
        Ok(mut certs) if !certs.is_empty() => {
            let leaf = certs.remove(0);
            (leaf, certs)
        }
        _ => {
            let key = open_key(file, password_env)?;
            (key.certificate_der().to_vec(), key.chain_der().to_vec())
        }
    };
    pool.extend(tsa_anchors(trust)?);
    let check = qoltanba_server::revocation::HttpRevocation::new(
        qoltanba_server::revocation::RevocationConfig {
            ocsp_url: ocsp.map(str::to_owned),
            ..Default::default()
        },
    );
    let state = check.check(&leaf, &pool);
    if json {
        println!("{}", serde_json::to_string_pretty(&state)?);
    } else {
        println!("Certificate: {state}");
    }
    Ok(ExitCode::from(match state {
        RevocationState::Good { .. } | RevocationState::NothingToCheck => 0,
        RevocationState::Revoked { .. } => 3,
        RevocationState::Unknown { .. } => 4,
        RevocationState::Unchecked { .. } => 5,
    }))
}

/// Anchors for a TSA's certificate: the given files, else NCA's pinned CAs in the data dir.
fn tsa_anchors(trust: &[PathBuf]) -> Result<Vec<Vec<u8>>> {
    if !trust.is_empty() {
        return load_anchors(trust);
    }
    let data = qoltanba_server::engine::data_dir(None)?;
    Ok(qoltanba_server::engine::trust_anchors(&data, &[])?)
}

fn load_anchors(trust: &[PathBuf]) -> Result<Vec<Vec<u8>>> {
    let mut anchors = Vec::new();
    for t in trust {
        let bytes = std::fs::read(t).with_context(|| format!("cannot read {}", t.display()))?;
        anchors.extend(
            input::decode_certificates(&bytes).map_err(|e| anyhow!("{}: {e}", t.display()))?,
        );
    }
    Ok(anchors)
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

/// Human-readable lines about one signer (CMS and XML alike).
fn print_signer(
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
