//! `qoltanba keys info`, and opening the key a signing command names.

use std::path::Path;
use std::process::ExitCode;

use anyhow::{Context, Result};
use qoltanba_keys::SigningKey;
use qoltanba_pki::{CertificateDetails, Lang};
use serde_json::json;

use super::{details_json, open_key, rfc3339};
use crate::password;

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
    pub(super) fn open(&self) -> Result<Box<dyn SigningKey>> {
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
