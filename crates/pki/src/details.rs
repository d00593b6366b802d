//! [`CertificateDetails`]: what portals and the prompt window show about a certificate, read
//! with `x509-cert` (the one X.509 stack of the product) according to the NCA layout
//! (KZ-PKI.md §1-§2). Names print as x509-parser printed them before (RDNs in encoded order,
//! `", "`-joined, its short names), so nothing shown to a person changed.

use der::asn1::BmpString;
use der::{Decode, Encode, Tag, Tagged};
use serde::Serialize;
use sha2::{Digest, Sha256};
use time::OffsetDateTime;
use x509_cert::Certificate;
use x509_cert::ext::pkix::name::GeneralName;
use x509_cert::ext::pkix::{
    AuthorityKeyIdentifier, BasicConstraints, CertificatePolicies, ExtendedKeyUsage, KeyUsage,
    KeyUsages, SubjectAltName, SubjectKeyIdentifier,
};
use x509_cert::name::Name;

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

/// The public-key algorithm of a certificate or key. Serialized as its [`label`](Self::label)
/// (`RSA-2048`, `GOST R 34.10-2015 (512)`), as every JSON the product writes shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
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

impl Serialize for KeyAlgorithm {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.label())
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

/// The text of a directory string (UTF8String, PrintableString, IA5String, BMPString,
/// TeletexString read as Latin-1), `None` for anything else.
fn directory_string(v: &x509_cert::attr::AttributeValue) -> Option<String> {
    let bytes = v.value();
    match v.tag() {
        Tag::Utf8String | Tag::PrintableString | Tag::Ia5String | Tag::VisibleString => {
            std::str::from_utf8(bytes).ok().map(str::to_owned)
        }
        Tag::BmpString => BmpString::from_der(&v.to_der().ok()?)
            .ok()
            .map(|b| b.to_string()),
        Tag::TeletexString => Some(bytes.iter().map(|b| char::from(*b)).collect()),
        _ => None,
    }
}

/// Every attribute of a name in encoded order: (dotted OID, value).
fn attributes(name: &Name) -> impl Iterator<Item = (String, &x509_cert::attr::AttributeValue)> {
    name.0
        .iter()
        .flat_map(|rdn| rdn.0.iter())
        .map(|a| (a.oid.to_string(), &a.value))
}

fn attr(name: &Name, wanted: &str) -> Option<String> {
    attributes(name)
        .find(|(o, _)| o == wanted)
        .and_then(|(_, v)| directory_string(v))
        .map(|s| s.trim().to_owned())
}

fn strip_prefix_digits(value: &str, prefix: &str) -> Option<String> {
    let rest = value.strip_prefix(prefix)?;
    (!rest.is_empty() && rest.bytes().all(|b| b.is_ascii_digit())).then(|| rest.to_owned())
}

fn to_datetime(t: x509_cert::time::Time) -> OffsetDateTime {
    let secs = i64::try_from(t.to_unix_duration().as_secs()).unwrap_or(i64::MAX);
    OffsetDateTime::from_unix_timestamp(secs).unwrap_or(OffsetDateTime::UNIX_EPOCH)
}

/// `C=KZ, CN=…, serialNumber=…`: RDNs in encoded order, multi-valued ones joined by `+`.
fn display_dn(name: &Name) -> String {
    name.0
        .iter()
        .map(|rdn| {
            rdn.0
                .iter()
                .map(|a| {
                    let o = a.oid.to_string();
                    let key = match o.as_str() {
                        oid::CN => "CN",
                        oid::SURNAME => "surname",
                        oid::SERIAL_NUMBER => "serialNumber",
                        oid::COUNTRY => "C",
                        oid::LOCALITY => "L",
                        oid::STATE => "ST",
                        oid::ORGANIZATION => "O",
                        oid::ORG_UNIT => "OU",
                        oid::GIVEN_NAME => "givenName",
                        oid::EMAIL => "Email",
                        "2.5.4.12" => "title",
                        "2.5.4.15" => "businessCategory",
                        "0.9.2342.19200300.100.1.25" => "DC",
                        _ => "",
                    };
                    let value = directory_string(&a.value)
                        .unwrap_or_else(|| format!("#{}", hex::encode(a.value.value())));
                    if key.is_empty() {
                        format!("{o}={value}")
                    } else {
                        format!("{key}={value}")
                    }
                })
                .collect::<Vec<_>>()
                .join(" + ")
        })
        .collect::<Vec<_>>()
        .join(", ")
}

/// The modulus size of an RSA public key (RSAPublicKey ::= SEQUENCE { n, e }).
fn rsa_bits(public_key: &[u8]) -> usize {
    let Ok(parts) = crate::ber::Tlv::parse(public_key).and_then(|(seq, _)| seq.children()) else {
        return 0;
    };
    let n: Vec<u8> = parts
        .first()
        .map(|n| n.value.iter().copied().skip_while(|b| *b == 0).collect())
        .unwrap_or_default();
    n.first().map_or(0, |top| {
        (n.len() - 1) * 8 + (8 - top.leading_zeros() as usize)
    })
}

impl CertificateDetails {
    /// Reads a DER certificate.
    pub fn from_der(der: &[u8]) -> Result<Self, CertError> {
        let cert = Certificate::from_der(der).map_err(|e| match e.kind() {
            der::ErrorKind::TrailingData { .. } => CertError::TrailingData,
            _ => CertError::Malformed(e.to_string()),
        })?;
        Ok(Self::from_parsed(&cert, der))
    }

    fn from_parsed(cert: &Certificate, der: &[u8]) -> Self {
        let tbs = &cert.tbs_certificate;
        let subject = &tbs.subject;
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
        let bin = attributes(subject)
            .filter(|(o, _)| o == oid::ORG_UNIT)
            .filter_map(|(_, v)| directory_string(v))
            .find_map(|s| strip_prefix_digits(s.trim(), "BIN"))
            .or_else(|| {
                serial_attr
                    .as_deref()
                    .and_then(|s| strip_prefix_digits(s, "BIN"))
            });

        let spki = &tbs.subject_public_key_info;
        let alg_oid = spki.algorithm.oid.to_string();
        let bits = if alg_oid == oid::RSA {
            spki.subject_public_key.as_bytes().map_or(0, rsa_bits)
        } else {
            0
        };
        let key_algorithm = KeyAlgorithm::from_oid(&alg_oid, bits);

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
            subject_dn: display_dn(subject),
            subject_dn_compact: compact_dn(subject),
            issuer_dn_compact: compact_dn(&tbs.issuer),
            issuer_cn: attr(&tbs.issuer, oid::CN),
            issuer_dn: display_dn(&tbs.issuer),
            serial: hex::encode_upper(tbs.serial_number.as_bytes()),
            not_before: to_datetime(tbs.validity.not_before),
            not_after: to_datetime(tbs.validity.not_after),
            key_algorithm,
            key_kind,
            key_usage,
            ext_key_usage,
            roles,
            unknown_roles,
            policies,
            subject_key_id,
            authority_key_id,
            is_ca: tbs
                .get::<BasicConstraints>()
                .ok()
                .flatten()
                .is_some_and(|(_, b)| b.ca),
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
fn key_usage_of(cert: &Certificate) -> (Vec<String>, bool, bool) {
    let Ok(Some((_, ku))) = cert.tbs_certificate.get::<KeyUsage>() else {
        return (Vec::new(), false, false);
    };
    let on = |u: KeyUsages| ku.0.contains(u);
    let bits = [
        (on(KeyUsages::DigitalSignature), "digitalSignature"),
        (on(KeyUsages::NonRepudiation), "nonRepudiation"),
        (on(KeyUsages::KeyEncipherment), "keyEncipherment"),
        (on(KeyUsages::DataEncipherment), "dataEncipherment"),
        (on(KeyUsages::KeyAgreement), "keyAgreement"),
        (on(KeyUsages::KeyCertSign), "keyCertSign"),
        (on(KeyUsages::CRLSign), "cRLSign"),
    ];
    let names = bits
        .iter()
        .filter(|(on, _)| *on)
        .map(|(_, n)| (*n).to_owned())
        .collect();
    let nr = on(KeyUsages::NonRepudiation);
    (names, nr, on(KeyUsages::KeyEncipherment) && !nr)
}

/// Every extendedKeyUsage OID, standard ones first (in x509-parser's order, as before), dotted.
fn ext_key_usage_of(cert: &Certificate) -> Vec<String> {
    let Ok(Some((_, eku))) = cert.tbs_certificate.get::<ExtendedKeyUsage>() else {
        return Vec::new();
    };
    let all: Vec<String> = eku.0.iter().map(ToString::to_string).collect();
    let standard = [
        "1.3.6.1.5.5.7.3.1",
        oid::EKU_CLIENT_AUTH,
        "1.3.6.1.5.5.7.3.3",
        oid::EKU_EMAIL_PROTECTION,
        "1.3.6.1.5.5.7.3.8",
        "1.3.6.1.5.5.7.3.9",
        "2.5.29.37.0",
    ];
    let mut out: Vec<String> = standard
        .iter()
        .filter(|s| all.iter().any(|o| o == *s))
        .map(|s| (*s).to_owned())
        .collect();
    out.extend(all.into_iter().filter(|o| !standard.contains(&o.as_str())));
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

fn extensions_of(cert: &Certificate) -> ExtensionInfo {
    let tbs = &cert.tbs_certificate;
    ExtensionInfo {
        policies: tbs
            .get::<CertificatePolicies>()
            .ok()
            .flatten()
            .map(|(_, p)| {
                p.0.iter()
                    .map(|pi| pi.policy_identifier.to_string())
                    .collect()
            })
            .unwrap_or_default(),
        ski: tbs
            .get::<SubjectKeyIdentifier>()
            .ok()
            .flatten()
            .map(|(_, k)| hex::encode(k.0.as_bytes())),
        aki: tbs
            .get::<AuthorityKeyIdentifier>()
            .ok()
            .flatten()
            .and_then(|(_, a)| a.key_identifier.map(|k| hex::encode(k.as_bytes()))),
        san_email: tbs
            .get::<SubjectAltName>()
            .ok()
            .flatten()
            .and_then(|(_, san)| {
                san.0.into_iter().find_map(|g| match g {
                    GeneralName::Rfc822Name(m) => Some(m.to_string()),
                    _ => None,
                })
            }),
    }
}

/// `K=V` pairs joined by `,` with BouncyCastle's short names, as Kalkan prints DNs.
fn compact_dn(name: &Name) -> String {
    attributes(name)
        .map(|(oid, v)| {
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
            let value = directory_string(v).map_or_else(
                || "#".to_owned() + &hex::encode(v.value()),
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
