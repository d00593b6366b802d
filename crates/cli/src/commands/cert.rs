//! `qoltanba cert status`: OCSP, then the CRLs, as the server checks before signing.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context, Result};
use qoltanba_keys::SigningKey as _;
use qoltanba_sign::input;

use super::{open_key, tsa_anchors};

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
