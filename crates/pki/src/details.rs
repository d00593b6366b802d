//! [`CertificateDetails`]: what portals and the prompt window show about a certificate, read
//! with `x509-parser` according to the NCA layout (KZ-PKI.md §1-§2).

use serde::Serialize;
use sha2::{Digest, Sha256};
use time::OffsetDateTime;
use x509_parser::prelude::{FromDer, ParsedExtension, X509Certificate, X509Name};
use x509_parser::public_key::PublicKey;

use crate::oid;
use crate::role::Role;

/// Why a certificate could not be read.
#[derive(Debug, thiserror::Error, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum CertError {
    /// The bytes are not a DER X.509 certificate.
    #[error("not a valid X.509 certificate ({0})")]
    Malformed(String),
    /// The certificate parsed but bytes follow it.
    #[error("unexpected data after the certificate")]
    TrailingData,
}

/// The public-key algorithm of a certificate or key.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum KeyAlgorithm {
    /// RSA with the modulus size in bits.
    Rsa {
        /// Modulus size.
        bits: usize,
    },
    /// GOST 34.310-2004 (256-bit curve, GOST 34.311-95 hash).
    Gost2004,
    /// GOST R 34.10-2015, 256-bit.
    Gost2015_256,
    /// GOST R 34.10-2015, 512-bit (Streebog-512).
    Gost2015_512,
    /// An elliptic-curve (ECDSA) key.
    Ec,
    /// Anything else, by OID.
    Other {
        /// Dotted OID of the key algorithm.
        oid: String,
    },
}

impl KeyAlgorithm {
    /// The algorithm for an SPKI/PKCS#8 algorithm OID; `bits` is used for RSA only.
    pub fn from_oid(oid: &str, bits: usize) -> Self {
        match oid {
            oid::RSA => Self::Rsa { bits },
            oid::GOST_2004_KEY => Self::Gost2004,
            oid::GOST_2015_256_KEY => Self::Gost2015_256,
            oid::GOST_2015_512_KEY => Self::Gost2015_512,
            oid::EC_PUBLIC_KEY => Self::Ec,
            other => Self::Other {
                oid: other.to_owned(),
            },
        }
    }

    /// True for the Kazakh GOST families.
    pub fn is_gost(&self) -> bool {
        matches!(
            self,
            Self::Gost2004 | Self::Gost2015_256 | Self::Gost2015_512
        )
    }

    /// A short label as NCA file names and portals use it.
    pub fn label(&self) -> String {
        match self {
            Self::Rsa { bits } => format!("RSA-{bits}"),
            Self::Gost2004 => "GOST 34.310-2004".into(),
            Self::Gost2015_256 => "GOST R 34.10-2015 (256)".into(),
            Self::Gost2015_512 => "GOST R 34.10-2015 (512)".into(),
            Self::Ec => "EC".into(),
            Self::Other { oid } => oid.clone(),
        }
    }
}

/// What a key may be used for, as NCALayer's `keyType` sees it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum KeyKind {
    /// Authentication (login) key: EKU clientAuth, or keyEncipherment without nonRepudiation.
    Auth,
    /// Signing key: EKU emailProtection, or nonRepudiation.
    Sign,
    /// Both: the single GOST 2015 key NCA issues since 2022 (KZ-PKI.md §2.3).
    Both,
    /// Nothing in the certificate says.
    Unknown,
}

impl KeyKind {
    /// True if the key may answer an AUTHENTICATION request.
    pub fn can_authenticate(self) -> bool {
        matches!(self, Self::Auth | Self::Both)
    }
    /// True if the key may answer a SIGNATURE request.
    pub fn can_sign(self) -> bool {
        matches!(self, Self::Sign | Self::Both)
    }
}

/// Whether a certificate is within its validity period at a given time.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ValidityStatus {
    /// `notBefore` is in the future.
    NotYetValid,
    /// Within `notBefore..=notAfter`.
    Valid,
    /// `notAfter` has passed.
    Expired,
}

/// Details of one certificate in the Kazakh profile.
#[derive(Debug, Clone, Serialize)]
#[non_exhaustive]
pub struct CertificateDetails {
    /// Subject CN (`SURNAME NAME` for people).
    pub subject_cn: Option<String>,
    /// Family name (SURNAME attribute).
    pub surname: Option<String>,
    /// First name: the CN without the surname.
    pub given_name: Option<String>,
    /// Patronymic (the `G`/givenName attribute in NCA certificates).
    pub patronymic: Option<String>,
    /// Full name as people write it: surname, first name, patronymic.
    pub full_name: Option<String>,
    /// ИИН: the 12 digits of `SERIALNUMBER=IIN…`.
    pub iin: Option<String>,
    /// БИН: the 12 digits of `OU=BIN…` (or `SERIALNUMBER=BIN…`).
    pub bin: Option<String>,
    /// Organisation (O).
    pub organization: Option<String>,
    /// E-mail address (subject E or SAN rfc822Name).
    pub email: Option<String>,
    /// Country (C).
    pub country: Option<String>,
    /// Locality (L).
    pub locality: Option<String>,
    /// Region (ST).
    pub state: Option<String>,
    /// The subject DN for display (RFC 4514 style).
    pub subject_dn: String,
    /// The subject DN in the compact BouncyCastle style NCALayer's `getKeyInfo` uses:
    /// `CN=…,SURNAME=…,SERIALNUMBER=IIN…,C=KZ,G=…` in encoding order.
    pub subject_dn_compact: String,
    /// Issuer CN.
    pub issuer_cn: Option<String>,
    /// The issuer DN for display.
    pub issuer_dn: String,
    /// The issuer DN in the compact style (see `subject_dn_compact`).
    pub issuer_dn_compact: String,
    /// Serial number, upper-case hex.
    pub serial: String,
    /// Start of validity.
    #[serde(with = "time::serde::rfc3339")]
    pub not_before: OffsetDateTime,
    /// End of validity.
    #[serde(with = "time::serde::rfc3339")]
    pub not_after: OffsetDateTime,
    /// Key algorithm.
    pub key_algorithm: KeyAlgorithm,
    /// AUTH / SIGN / both.
    pub key_kind: KeyKind,
    /// keyUsage bits by name.
    pub key_usage: Vec<String>,
    /// Every extendedKeyUsage OID (standard and role OIDs).
    pub ext_key_usage: Vec<String>,
    /// Roles from the 1.2.398.3.3.4 branch that the product knows.
    pub roles: Vec<Role>,
    /// Role-branch OIDs the product does not know (shown as OIDs).
    pub unknown_roles: Vec<String>,
    /// certificatePolicies OIDs.
    pub policies: Vec<String>,
    /// Subject Key Identifier, lower-case hex (NCA's alias and file-name suffix).
    pub subject_key_id: Option<String>,
    /// Authority Key Identifier, lower-case hex.
    pub authority_key_id: Option<String>,
    /// basicConstraints cA.
    pub is_ca: bool,
    /// SHA-256 of the DER certificate, lower-case hex.
    pub sha256_fingerprint: String,
}

fn attr(name: &X509Name<'_>, wanted: &str) -> Option<String> {
    name.iter_attributes()
        .find(|a| a.attr_type().to_id_string() == wanted)
        .and_then(|a| a.as_str().ok())
        .map(|s| s.trim().to_owned())
}

fn strip_prefix_digits(value: &str, prefix: &str) -> Option<String> {
    let rest = value.strip_prefix(prefix)?;
    (!rest.is_empty() && rest.bytes().all(|b| b.is_ascii_digit())).then(|| rest.to_owned())
}

fn to_datetime(t: x509_parser::time::ASN1Time) -> OffsetDateTime {
    t.to_datetime()
}

impl CertificateDetails {
    /// Reads a DER certificate.
    pub fn from_der(der: &[u8]) -> Result<Self, CertError> {
        let (rest, cert) =
            X509Certificate::from_der(der).map_err(|e| CertError::Malformed(e.to_string()))?;
        if !rest.is_empty() {
            return Err(CertError::TrailingData);
        }
        Ok(Self::from_parsed(&cert, der))
    }

    fn from_parsed(cert: &X509Certificate<'_>, der: &[u8]) -> Self {
        let subject = cert.subject();
        let subject_cn = attr(subject, oid::CN);
        let surname = attr(subject, oid::SURNAME);
        let patronymic = attr(subject, oid::GIVEN_NAME);
        let given_name = match (&subject_cn, &surname) {
            (Some(cn), Some(sn)) => cn
                .strip_prefix(sn.as_str())
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(str::to_owned),
            _ => None,
        };
        let full_name = surname.as_ref().map(|sn| {
            [
                Some(sn.as_str()),
                given_name.as_deref(),
                patronymic.as_deref(),
            ]
            .into_iter()
            .flatten()
            .collect::<Vec<_>>()
            .join(" ")
        });
        let serial_attr = attr(subject, oid::SERIAL_NUMBER);
        let iin = serial_attr
            .as_deref()
            .and_then(|s| strip_prefix_digits(s, "IIN"));
        let bin = subject
            .iter_attributes()
            .filter(|a| a.attr_type().to_id_string() == oid::ORG_UNIT)
            .filter_map(|a| a.as_str().ok())
            .find_map(|s| strip_prefix_digits(s.trim(), "BIN"))
            .or_else(|| {
                serial_attr
                    .as_deref()
                    .and_then(|s| strip_prefix_digits(s, "BIN"))
            });

        let spki = cert.public_key();
        let bits = match spki.parsed() {
            Ok(PublicKey::RSA(k)) => k.key_size(),
            _ => 0,
        };
        let key_algorithm = KeyAlgorithm::from_oid(&spki.algorithm.algorithm.to_id_string(), bits);

        let (key_usage, ku_sign, ku_auth) = key_usage_of(cert);
        let ext_key_usage = ext_key_usage_of(cert);
        let key_kind = kind_of(&ext_key_usage, &key_algorithm, ku_sign, ku_auth);

        let mut roles = Vec::new();
        let mut unknown_roles = Vec::new();
        for o in ext_key_usage
            .iter()
            .filter(|o| o.starts_with(oid::ROLE_ARC))
        {
            match Role::from_oid(o) {
                Some(r) => roles.push(r),
                None => unknown_roles.push(o.clone()),
            }
        }
        let ext = extensions_of(cert);
        let (policies, subject_key_id, authority_key_id, san_email) =
            (ext.policies, ext.ski, ext.aki, ext.san_email);

        Self {
            given_name,
            patronymic,
            full_name,
            iin,
            bin,
            organization: attr(subject, oid::ORGANIZATION),
            email: attr(subject, oid::EMAIL).or(san_email),
            country: attr(subject, oid::COUNTRY),
            locality: attr(subject, oid::LOCALITY),
            state: attr(subject, oid::STATE),
            subject_dn: subject.to_string(),
            subject_dn_compact: compact_dn(subject),
            issuer_dn_compact: compact_dn(cert.issuer()),
            issuer_cn: attr(cert.issuer(), oid::CN),
            issuer_dn: cert.issuer().to_string(),
            serial: hex::encode_upper(cert.raw_serial()),
            not_before: to_datetime(cert.validity().not_before),
            not_after: to_datetime(cert.validity().not_after),
            key_algorithm,
            key_kind,
            key_usage,
            ext_key_usage,
            roles,
            unknown_roles,
            policies,
            subject_key_id,
            authority_key_id,
            is_ca: cert.is_ca(),
            sha256_fingerprint: hex::encode(Sha256::digest(der)),
            subject_cn,
            surname,
        }
    }

    /// Where `at` falls relative to the validity period.
    pub fn validity_at(&self, at: OffsetDateTime) -> ValidityStatus {
        if at < self.not_before {
            ValidityStatus::NotYetValid
        } else if at > self.not_after {
            ValidityStatus::Expired
        } else {
            ValidityStatus::Valid
        }
    }

    /// True if the certificate carries the EKU (or role) OID `oid`.
    pub fn has_eku(&self, oid: &str) -> bool {
        self.ext_key_usage.iter().any(|o| o == oid)
    }
}

/// keyUsage bit names, and whether they say SIGN (nonRepudiation) or AUTH (keyEncipherment
/// without nonRepudiation).
fn key_usage_of(cert: &X509Certificate<'_>) -> (Vec<String>, bool, bool) {
    let Ok(Some(ku)) = cert.key_usage() else {
        return (Vec::new(), false, false);
    };
    let ku = ku.value;
    let bits = [
        (ku.digital_signature(), "digitalSignature"),
        (ku.non_repudiation(), "nonRepudiation"),
        (ku.key_encipherment(), "keyEncipherment"),
        (ku.data_encipherment(), "dataEncipherment"),
        (ku.key_agreement(), "keyAgreement"),
        (ku.key_cert_sign(), "keyCertSign"),
        (ku.crl_sign(), "cRLSign"),
    ];
    let names = bits
        .iter()
        .filter(|(on, _)| *on)
        .map(|(_, n)| (*n).to_owned())
        .collect();
    (
        names,
        ku.non_repudiation(),
        ku.key_encipherment() && !ku.non_repudiation(),
    )
}

/// Every extendedKeyUsage OID, standard ones included, dotted.
fn ext_key_usage_of(cert: &X509Certificate<'_>) -> Vec<String> {
    let Ok(Some(eku)) = cert.extended_key_usage() else {
        return Vec::new();
    };
    let e = eku.value;
    let mut out: Vec<String> = [
        (e.server_auth, "1.3.6.1.5.5.7.3.1"),
        (e.client_auth, oid::EKU_CLIENT_AUTH),
        (e.code_signing, "1.3.6.1.5.5.7.3.3"),
        (e.email_protection, oid::EKU_EMAIL_PROTECTION),
        (e.time_stamping, "1.3.6.1.5.5.7.3.8"),
        (e.ocsp_signing, "1.3.6.1.5.5.7.3.9"),
        (e.any, "2.5.29.37.0"),
    ]
    .iter()
    .filter(|(on, _)| *on)
    .map(|(_, o)| (*o).to_owned())
    .collect();
    out.extend(
        e.other
            .iter()
            .map(x509_parser::der_parser::Oid::to_id_string),
    );
    out
}

/// AUTH vs SIGN (KZ-PKI.md §2.3): EKU first, keyUsage when there is no EKU.
fn kind_of(eku: &[String], alg: &KeyAlgorithm, ku_sign: bool, ku_auth: bool) -> KeyKind {
    let has = |o: &str| eku.iter().any(|e| e == o);
    match (has(oid::EKU_CLIENT_AUTH), has(oid::EKU_EMAIL_PROTECTION)) {
        (true, true) => KeyKind::Both,
        (true, false) => KeyKind::Auth,
        // Since 2022 NCA issues one GOST 2015 key with emailProtection only, and it is used
        // for login as well (KZ-PKI.md §2.3, NCANode issue #192).
        (false, true) if matches!(alg, KeyAlgorithm::Gost2015_512 | KeyAlgorithm::Gost2015_256) => {
            KeyKind::Both
        }
        (false, true) => KeyKind::Sign,
        (false, false) if ku_sign => KeyKind::Sign,
        (false, false) if ku_auth => KeyKind::Auth,
        (false, false) => KeyKind::Unknown,
    }
}

struct ExtensionInfo {
    policies: Vec<String>,
    ski: Option<String>,
    aki: Option<String>,
    san_email: Option<String>,
}

fn extensions_of(cert: &X509Certificate<'_>) -> ExtensionInfo {
    let mut info = ExtensionInfo {
        policies: Vec::new(),
        ski: None,
        aki: None,
        san_email: None,
    };
    for ext in cert.extensions() {
        match ext.parsed_extension() {
            ParsedExtension::CertificatePolicies(p) => {
                info.policies
                    .extend(p.iter().map(|pi| pi.policy_id.to_id_string()));
            }
            ParsedExtension::SubjectKeyIdentifier(k) => info.ski = Some(hex::encode(k.0)),
            ParsedExtension::AuthorityKeyIdentifier(a) => {
                info.aki = a.key_identifier.as_ref().map(|k| hex::encode(k.0));
            }
            ParsedExtension::SubjectAlternativeName(san) => {
                info.san_email = san.general_names.iter().find_map(|g| match g {
                    x509_parser::extensions::GeneralName::RFC822Name(m) => Some((*m).to_owned()),
                    _ => None,
                });
            }
            _ => {}
        }
    }
    info
}

/// `K=V` pairs joined by `,` with BouncyCastle's short names, as Kalkan prints DNs.
fn compact_dn(name: &X509Name<'_>) -> String {
    name.iter_attributes()
        .map(|a| {
            let oid = a.attr_type().to_id_string();
            let key = match oid.as_str() {
                oid::CN => "CN",
                oid::SURNAME => "SURNAME",
                oid::SERIAL_NUMBER => "SERIALNUMBER",
                oid::COUNTRY => "C",
                oid::LOCALITY => "L",
                oid::STATE => "ST",
                oid::ORGANIZATION => "O",
                oid::ORG_UNIT => "OU",
                oid::GIVEN_NAME => "G",
                oid::EMAIL => "E",
                "2.5.4.12" => "T",
                "2.5.4.15" => "BusinessCategory",
                "0.9.2342.19200300.100.1.25" => "DC",
                _ => "",
            };
            let value = a.as_str().map_or_else(
                |_| "#".to_owned() + &hex::encode(a.as_slice()),
                |v| {
                    v.replace('\\', "\\\\")
                        .replace(',', "\\,")
                        .replace('+', "\\+")
                        .replace('=', "\\=")
                },
            );
            if key.is_empty() {
                format!("{oid}={value}")
            } else {
                format!("{key}={value}")
            }
        })
        .collect::<Vec<_>>()
        .join(",")
}
