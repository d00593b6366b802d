//! The per-install local TLS certificate (never a shared private key).
//!
//! On first run a local CA is made, **name-constrained** to `IP:127.0.0.1`, `IP:::1` and
//! `DNS:localhost`; it issues the server certificate, and its private key is dropped right away
//! (it is never written anywhere), so nothing can issue another certificate under it. Only the
//! CA certificate is installed into trust stores (`qoltanba trust install`). The server key is
//! written with mode 0600. Renewal (missing, unreadable or expiring within 30 days) makes a new
//! pair; the new CA must then be trusted again.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use rcgen::{
    BasicConstraints, CertificateParams, CidrSubnet, DistinguishedName, DnType,
    ExtendedKeyUsagePurpose, GeneralSubtree, IsCa, Issuer, KeyPair, KeyUsagePurpose,
    NameConstraints, SanType,
};
use time::{Duration, OffsetDateTime};
use tokio_rustls::rustls;
use tokio_rustls::rustls::pki_types::pem::PemObject;
use tokio_rustls::rustls::pki_types::{CertificateDer, PrivateKeyDer};

/// How long the local CA and server certificate are valid (Apple platforms cap TLS server
/// certificates at 825 days even under a local root).
pub const VALIDITY_DAYS: i64 = 800;
/// Renew when less than this remains.
pub const RENEW_BEFORE_DAYS: i64 = 30;

/// Local TLS failures.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum TlsError {
    /// Files could not be read or written.
    #[error("local TLS files in {0}: {1}")]
    Io(PathBuf, std::io::Error),
    /// Certificate generation failed.
    #[error("cannot create the local certificate: {0}")]
    Generate(String),
    /// rustls refused the material.
    #[error("TLS configuration: {0}")]
    Config(String),
}

/// Paths of the local TLS material in the data directory.
#[derive(Debug, Clone)]
pub struct TlsPaths {
    /// The local CA certificate (public; what trust stores get).
    pub ca: PathBuf,
    /// The server certificate chain (leaf then CA).
    pub cert: PathBuf,
    /// The server private key (0600).
    pub key: PathBuf,
}

impl TlsPaths {
    /// The files under `<data_dir>/tls/`.
    pub fn in_dir(data_dir: &Path) -> Self {
        let d = data_dir.join("tls");
        Self {
            ca: d.join("local-ca.pem"),
            cert: d.join("server.pem"),
            key: d.join("server.key"),
        }
    }
}

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> TlsError + '_ {
    move |e| TlsError::Io(path.to_owned(), e)
}

/// Loads the server certificate, making a new CA and certificate when needed. Returns the
/// rustls configuration and whether new material was made.
pub fn ensure(data_dir: &Path) -> Result<(Arc<rustls::ServerConfig>, bool), TlsError> {
    let paths = TlsPaths::in_dir(data_dir);
    let renewed = if needs_renewal(&paths) {
        generate(&paths)?;
        true
    } else {
        false
    };
    Ok((server_config(&paths)?, renewed))
}

fn needs_renewal(paths: &TlsPaths) -> bool {
    let Ok(pem) = std::fs::read(&paths.cert) else {
        return true;
    };
    if !paths.key.is_file() || !paths.ca.is_file() {
        return true;
    }
    let Some(Ok(leaf)) = CertificateDer::pem_slice_iter(&pem).next() else {
        return true;
    };
    let Ok(cert) = <x509_cert::Certificate as der::Decode>::from_der(&leaf) else {
        return true;
    };
    let not_after = cert.tbs_certificate.validity.not_after.to_unix_duration();
    let Ok(not_after) =
        OffsetDateTime::from_unix_timestamp(i64::try_from(not_after.as_secs()).unwrap_or(i64::MAX))
    else {
        return true;
    };
    not_after - OffsetDateTime::now_utc() < Duration::days(RENEW_BEFORE_DAYS)
}

fn generate(paths: &TlsPaths) -> Result<(), TlsError> {
    let g = |e: rcgen::Error| TlsError::Generate(e.to_string());
    let now = OffsetDateTime::now_utc();
    let host = std::env::var("HOSTNAME").unwrap_or_default();

    let mut ca = CertificateParams::default();
    let mut dn = DistinguishedName::new();
    dn.push(
        DnType::CommonName,
        format!("Qoltanba local CA {} {}", host, now.date())
            .trim()
            .replace("  ", " "),
    );
    dn.push(DnType::OrganizationName, "Qoltanba (this computer only)");
    ca.distinguished_name = dn;
    ca.is_ca = IsCa::Ca(BasicConstraints::Constrained(0));
    ca.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
    ca.name_constraints = Some(NameConstraints {
        permitted_subtrees: vec![
            GeneralSubtree::IpAddress(CidrSubnet::V4([127, 0, 0, 1], [255; 4])),
            GeneralSubtree::IpAddress(CidrSubnet::V6(
                [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1],
                [255; 16],
            )),
            GeneralSubtree::DnsName("localhost".into()),
        ],
        excluded_subtrees: Vec::new(),
    });
    ca.not_before = now - Duration::hours(1);
    ca.not_after = now + Duration::days(VALIDITY_DAYS);
    let ca_key = KeyPair::generate().map_err(g)?;
    let ca_cert = ca.self_signed(&ca_key).map_err(g)?;

    let mut leaf = CertificateParams::default();
    let mut dn = DistinguishedName::new();
    dn.push(DnType::CommonName, "127.0.0.1");
    leaf.distinguished_name = dn;
    leaf.subject_alt_names = vec![
        SanType::IpAddress(std::net::IpAddr::V4(std::net::Ipv4Addr::LOCALHOST)),
        SanType::IpAddress(std::net::IpAddr::V6(std::net::Ipv6Addr::LOCALHOST)),
        SanType::DnsName("localhost".try_into().map_err(g)?),
    ];
    leaf.key_usages = vec![KeyUsagePurpose::DigitalSignature];
    leaf.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
    leaf.not_before = now - Duration::hours(1);
    leaf.not_after = now + Duration::days(VALIDITY_DAYS - 1);
    let leaf_key = KeyPair::generate().map_err(g)?;
    let issuer = Issuer::new(ca, ca_key);
    let leaf_cert = leaf.signed_by(&leaf_key, &issuer).map_err(g)?;
    // The CA's private key goes out of scope here and is never written anywhere.
    drop(issuer);

    let dir = paths.ca.parent().unwrap_or(Path::new("."));
    std::fs::create_dir_all(dir).map_err(io(dir))?;
    write_file(&paths.ca, ca_cert.pem().as_bytes(), false)?;
    write_file(
        &paths.cert,
        format!("{}{}", leaf_cert.pem(), ca_cert.pem()).as_bytes(),
        false,
    )?;
    write_file(&paths.key, leaf_key.serialize_pem().as_bytes(), true)?;
    Ok(())
}

/// Writes a file through a temporary file of its own (`<name>.<pid>-<n>.tmp`: the certificate
/// and the key never share one, nor do two processes making them at once), created afresh
/// (mode 0600 on Unix for `secret` files), then renamed into place.
fn write_file(path: &Path, data: &[u8], secret: bool) -> Result<(), TlsError> {
    static N: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    let mut name = path.file_name().unwrap_or_default().to_os_string();
    name.push(format!(
        ".{}-{}.tmp",
        std::process::id(),
        N.fetch_add(1, std::sync::atomic::Ordering::Relaxed)
    ));
    let tmp = path.with_file_name(name);
    let mut opts = std::fs::OpenOptions::new();
    opts.write(true).create_new(true);
    #[cfg(unix)]
    if secret {
        use std::os::unix::fs::OpenOptionsExt;
        opts.mode(0o600);
    }
    #[cfg(not(unix))]
    let _ = secret;
    let mut f = opts.open(&tmp).map_err(io(&tmp))?;
    if let Err(e) = std::io::Write::write_all(&mut f, data) {
        let _ = std::fs::remove_file(&tmp);
        return Err(io(&tmp)(e));
    }
    std::fs::rename(&tmp, path).map_err(io(path))
}

fn server_config(paths: &TlsPaths) -> Result<Arc<rustls::ServerConfig>, TlsError> {
    let certs: Vec<CertificateDer<'static>> = CertificateDer::pem_file_iter(&paths.cert)
        .map_err(|e| TlsError::Config(e.to_string()))?
        .collect::<Result<_, _>>()
        .map_err(|e| TlsError::Config(e.to_string()))?;
    let key =
        PrivateKeyDer::from_pem_file(&paths.key).map_err(|e| TlsError::Config(e.to_string()))?;
    let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    let config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| TlsError::Config(e.to_string()))?
        .with_no_client_auth()
        .with_single_cert(certs, key)
        .map_err(|e| TlsError::Config(e.to_string()))?;
    Ok(Arc::new(config))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn made_once_kept_then_renewed_when_broken() {
        let dir = std::env::temp_dir().join(format!("qoltanba-tls-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let (_, first) = ensure(&dir).unwrap();
        assert!(first);
        let paths = TlsPaths::in_dir(&dir);
        let ca1 = std::fs::read(&paths.ca).unwrap();
        let (_, again) = ensure(&dir).unwrap();
        assert!(!again, "valid material is kept");
        assert_eq!(std::fs::read(&paths.ca).unwrap(), ca1);
        std::fs::remove_file(&paths.key).unwrap();
        let (_, renewed) = ensure(&dir).unwrap();
        assert!(renewed, "a missing key makes a new pair");
        assert_ne!(
            std::fs::read(&paths.ca).unwrap(),
            ca1,
            "a new CA, not a re-issue under the old one"
        );
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&paths.key).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        let _ = std::fs::remove_dir_all(&dir);
    }

    /// Two processes making the certificate at once (the desktop app and `qoltanba serve`
    /// started together): with one shared `server.tmp` the key could land in `server.pem`.
    #[cfg(unix)]
    #[test]
    fn concurrent_generation_never_mixes_the_key_into_the_certificate() {
        use std::os::unix::fs::PermissionsExt;
        for round in 0..40 {
            let dir = std::env::temp_dir()
                .join(format!("qoltanba-tls-race-{}-{round}", std::process::id()));
            let _ = std::fs::remove_dir_all(&dir);
            let paths = TlsPaths::in_dir(&dir);
            std::fs::create_dir_all(paths.ca.parent().unwrap()).unwrap();
            let threads: Vec<_> = (0..4)
                .map(|_| {
                    let p = TlsPaths::in_dir(&dir);
                    std::thread::spawn(move || generate(&p))
                })
                .collect();
            for t in threads {
                let _ = t.join();
            }
            let cert = std::fs::read_to_string(&paths.cert).unwrap_or_default();
            assert!(
                !cert.contains("PRIVATE KEY"),
                "round {round}: key in server.pem"
            );
            let key = std::fs::read_to_string(&paths.key).unwrap_or_default();
            assert!(
                !key.contains("CERTIFICATE"),
                "round {round}: certificate in server.key"
            );
            let mode = std::fs::metadata(&paths.key).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600, "round {round}");
            let _ = std::fs::remove_dir_all(&dir);
        }
    }
}
