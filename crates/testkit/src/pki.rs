//! A test PKI in the exact NCA layout (KZ-PKI.md §1-§2), generated in process.
//!
//! A root and an intermediate CA ("ҰЛТТЫҚ КУӘЛАНДЫРУШЫ ОРТАЛЫҚ (RSA) TEST") and leaves for
//! individuals and legal-entity employees with ИИН/БИН, AUTH and SIGN key usages, role OIDs,
//! policy OIDs, and expired / not-yet-valid variants. Certificates are built from the typed
//! `x509-cert` structures and signed with AWS-LC RSA keys; keys are 2048-bit everywhere to keep
//! tests fast (real NCA CAs use RSA-4096).

use std::time::Duration;

use aws_lc_rs::encoding::AsDer;
use aws_lc_rs::rsa::{KeyPair, KeySize};
use aws_lc_rs::signature::{KeyPair as _, RSA_PKCS1_SHA256};
use const_oid::ObjectIdentifier;
use const_oid::db::{rfc4519, rfc5280, rfc5912};
use der::asn1::{
    Any, BitString, GeneralizedTime, Ia5String, OctetString, PrintableString, SetOfVec, UtcTime,
    Utf8StringRef,
};
use der::{Decode, Encode};
use sha1::Digest;
use spki::{AlgorithmIdentifierOwned, SubjectPublicKeyInfoOwned};
use x509_cert::Certificate;
use x509_cert::attr::AttributeTypeAndValue;
use x509_cert::ext::Extension;
use x509_cert::ext::pkix::certpolicy::{PolicyInformation, PolicyQualifierInfo};
use x509_cert::ext::pkix::{
    AuthorityKeyIdentifier, BasicConstraints, CertificatePolicies, ExtendedKeyUsage, KeyUsage,
    KeyUsages, SubjectKeyIdentifier,
};
use x509_cert::name::{Name, RdnSequence, RelativeDistinguishedName};
use x509_cert::serial_number::SerialNumber;
use x509_cert::time::{Time, Validity};
use zeroize::Zeroizing;

/// Role OIDs (KZ-PKI.md §2.1).
pub mod roles {
    /// Individual.
    pub const INDIVIDUAL: &str = "1.2.398.3.3.4.1.1";
    /// Legal entity (every employee certificate carries it).
    pub const LEGAL_ENTITY: &str = "1.2.398.3.3.4.1.2";
    /// First head (CEO).
    pub const CEO: &str = "1.2.398.3.3.4.1.2.1";
    /// Right to sign.
    pub const SIGNER: &str = "1.2.398.3.3.4.1.2.2";
    /// Right to sign financial documents.
    pub const FINANCE: &str = "1.2.398.3.3.4.1.2.3";
    /// HR officer.
    pub const HR: &str = "1.2.398.3.3.4.1.2.4";
    /// Employee.
    pub const EMPLOYEE: &str = "1.2.398.3.3.4.1.2.5";
}

const RSA_ENCRYPTION: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.1.1");
const SHA256_WITH_RSA: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.1.11");
const SURNAME: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.5.4.4");
const SERIAL_NUMBER: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.5.4.5");
const GIVEN_NAME: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.5.4.42");
const EMAIL: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.9.1");
const EKU_CLIENT_AUTH: &str = "1.3.6.1.5.5.7.3.2";
const EKU_EMAIL: &str = "1.3.6.1.5.5.7.3.4";
const CPS_QUALIFIER: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.6.1.5.5.7.2.1");

/// AUTH (login) or SIGN key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Usage {
    /// digitalSignature + keyEncipherment, EKU clientAuth; file `AUTH_RSA256_<ski>.p12`.
    Auth,
    /// digitalSignature + nonRepudiation, EKU emailProtection; file `RSA256_<ski>.p12`.
    Sign,
}

/// When the leaf is valid.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lifetime {
    /// From an hour ago for a year.
    Current,
    /// Ended yesterday.
    Expired,
    /// Starts tomorrow.
    NotYetValid,
}

/// The person and organisation in a leaf's subject.
#[derive(Debug, Clone)]
pub struct Subject {
    /// Family name (SURNAME; first word of CN).
    pub surname: String,
    /// First name (second word of CN).
    pub first_name: String,
    /// Patronymic (G attribute).
    pub patronymic: Option<String>,
    /// 12-digit ИИН.
    pub iin: String,
    /// Organisation and 12-digit БИН, for legal-entity certificates.
    pub organization: Option<(String, String)>,
    /// E-mail address (E attribute).
    pub email: Option<String>,
    /// Locality and region.
    pub locality: Option<String>,
}

impl Subject {
    /// ТЕСТОВ ТЕСТ ТЕСТОВИЧ, ИИН 123456789011: the NCA test individual.
    pub fn individual() -> Self {
        Self {
            surname: "ТЕСТОВ".into(),
            first_name: "ТЕСТ".into(),
            patronymic: Some("ТЕСТОВИЧ".into()),
            iin: "123456789011".into(),
            organization: None,
            email: Some("test@example.kz".into()),
            locality: Some("АСТАНА".into()),
        }
    }

    /// The same person as an employee of АО "ТЕСТ", БИН 123456789021.
    pub fn employee() -> Self {
        Self {
            organization: Some(("АО \"ТЕСТ\"".into(), "123456789021".into())),
            ..Self::individual()
        }
    }
}

/// What to issue.
#[derive(Debug, Clone)]
pub struct LeafSpec {
    /// Subject.
    pub subject: Subject,
    /// AUTH or SIGN.
    pub usage: Usage,
    /// Role OIDs put in the EKU extension (see [`roles`]).
    pub roles: Vec<&'static str>,
    /// Validity.
    pub lifetime: Lifetime,
    /// The OCSP responder named in the AIA extension.
    pub ocsp_url: Option<String>,
    /// The CRL named in the CRL distribution points.
    pub crl_url: Option<String>,
}

impl LeafSpec {
    /// An individual's key.
    pub fn individual(usage: Usage) -> Self {
        Self {
            subject: Subject::individual(),
            usage,
            roles: vec![roles::INDIVIDUAL],
            lifetime: Lifetime::Current,
            ocsp_url: None,
            crl_url: None,
        }
    }

    /// A legal-entity key with a specific role (CEO, signer, HR, employee…).
    pub fn legal_entity(usage: Usage, role: &'static str) -> Self {
        Self {
            subject: Subject::employee(),
            usage,
            roles: vec![roles::LEGAL_ENTITY, role],
            lifetime: Lifetime::Current,
            ocsp_url: None,
            crl_url: None,
        }
    }

    /// Same spec naming an OCSP responder and a CRL (either may be `None`).
    #[must_use]
    pub fn with_revocation(mut self, ocsp: Option<&str>, crl: Option<&str>) -> Self {
        self.ocsp_url = ocsp.map(str::to_owned);
        self.crl_url = crl.map(str::to_owned);
        self
    }

    /// Same spec with another lifetime.
    #[must_use]
    pub fn with_lifetime(mut self, lifetime: Lifetime) -> Self {
        self.lifetime = lifetime;
        self
    }
}

/// The key algorithm of a test PKI.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Algorithm {
    /// RSA-2048 with SHA-256.
    Rsa,
    /// GOST 34.310-2004 (CryptoPro-A) with GOST 34.311-95.
    Gost2004,
    /// GOST R 34.10-2015 512-bit (TC26-512-A) with Streebog-512.
    Gost2015,
}

impl Algorithm {
    fn label(self) -> &'static str {
        match self {
            Self::Rsa => "RSA",
            Self::Gost2004 | Self::Gost2015 => "GOST",
        }
    }
}

const GOST_2004_KEY: &str = "1.2.398.3.10.1.1.1.1";
const GOST_2015_KEY: &str = "1.2.398.3.10.1.1.2.2";

/// A test private key.
enum TestKey {
    Rsa(KeyPair),
    Gost {
        key: qoltanba_gost::PrivateKey,
        d_le: Zeroizing<Vec<u8>>,
        algorithm: Algorithm,
    },
}

impl TestKey {
    fn generate(algorithm: Algorithm) -> Self {
        let curve = match algorithm {
            Algorithm::Rsa => {
                return Self::Rsa(KeyPair::generate(KeySize::Rsa2048).expect("keygen"));
            }
            Algorithm::Gost2004 => qoltanba_gost::CurveId::CryptoProA,
            Algorithm::Gost2015 => qoltanba_gost::CurveId::Tc26_512A,
        };
        let n = curve.byte_len();
        let mut d_le = Zeroizing::new(vec![0u8; n]);
        aws_lc_rs::rand::fill(&mut d_le).expect("rng");
        d_le[n - 1] &= 0x3f; // below q for both curves
        d_le[0] |= 1; // non-zero
        let key = qoltanba_gost::PrivateKey::from_le(curve, &d_le).expect("scalar");
        Self::Gost {
            key,
            d_le,
            algorithm,
        }
    }

    /// AlgorithmIdentifier of the key (GOST: key OID with {curve, hash} parameters).
    fn key_algorithm(algorithm: Algorithm) -> AlgorithmIdentifierOwned {
        let (key, params): (&str, [&str; 2]) = match algorithm {
            Algorithm::Rsa => {
                return AlgorithmIdentifierOwned {
                    oid: RSA_ENCRYPTION,
                    parameters: Some(Any::null()),
                };
            }
            Algorithm::Gost2004 => (
                GOST_2004_KEY,
                ["1.2.398.3.10.1.1.1.1.1", "1.2.398.3.10.1.3.1.1.0"],
            ),
            Algorithm::Gost2015 => (
                GOST_2015_KEY,
                ["1.2.398.3.10.1.1.2.2.1", "1.2.398.3.10.1.3.3"],
            ),
        };
        let params: Vec<ObjectIdentifier> = params.iter().map(|o| oid(o)).collect();
        AlgorithmIdentifierOwned {
            oid: oid(key),
            parameters: Some(Any::encode_from(&params).expect("params")),
        }
    }

    fn spki(&self) -> SubjectPublicKeyInfoOwned {
        match self {
            Self::Rsa(k) => spki_of(k),
            Self::Gost { key, algorithm, .. } => {
                let xy = OctetString::new(key.public_key().to_le_xy().to_vec()).expect("xy");
                SubjectPublicKeyInfoOwned {
                    algorithm: Self::key_algorithm(*algorithm),
                    subject_public_key: BitString::from_bytes(&xy.to_der().expect("xy"))
                        .expect("bits"),
                }
            }
        }
    }

    /// PKCS#8 as NCA writes it (KZ-PKI.md §3.3).
    fn pkcs8(&self) -> Zeroizing<Vec<u8>> {
        match self {
            Self::Rsa(k) => Zeroizing::new(k.as_der().expect("pkcs8").as_ref().to_vec()),
            Self::Gost {
                d_le, algorithm, ..
            } => {
                let inner = Zeroizing::new(match algorithm {
                    Algorithm::Gost2004 => {
                        let be: Vec<u8> = d_le.iter().rev().copied().collect();
                        der::asn1::UintRef::new(&be)
                            .expect("int")
                            .to_der()
                            .expect("int")
                    }
                    _ => OctetString::new(d_le.to_vec())
                        .expect("octets")
                        .to_der()
                        .expect("octets"),
                });
                let body = Zeroizing::new(
                    [
                        0u8.to_der().expect("v"),
                        Self::key_algorithm(*algorithm).to_der().expect("alg"),
                        OctetString::new(inner.to_vec())
                            .expect("k")
                            .to_der()
                            .expect("k"),
                    ]
                    .concat(),
                );
                let header = der::Header::new(
                    der::Tag::Sequence,
                    der::Length::try_from(body.len()).expect("len"),
                )
                .expect("header")
                .to_der()
                .expect("header");
                Zeroizing::new([header, body.to_vec()].concat())
            }
        }
    }

    /// The certificate signatureAlgorithm (RSA with NULL parameters, GOST without, as NCA).
    fn signature_algorithm(&self) -> AlgorithmIdentifierOwned {
        match self {
            Self::Rsa(_) => AlgorithmIdentifierOwned {
                oid: SHA256_WITH_RSA,
                parameters: Some(Any::null()),
            },
            Self::Gost {
                algorithm: Algorithm::Gost2004,
                ..
            } => AlgorithmIdentifierOwned {
                oid: oid("1.2.398.3.10.1.1.1.2"),
                parameters: None,
            },
            Self::Gost { .. } => AlgorithmIdentifierOwned {
                oid: oid("1.2.398.3.10.1.1.2.3.2"),
                parameters: None,
            },
        }
    }

    fn sign(&self, message: &[u8]) -> Vec<u8> {
        match self {
            Self::Rsa(k) => {
                let mut sig = vec![0; k.public_modulus_len()];
                k.sign(
                    &RSA_PKCS1_SHA256,
                    &aws_lc_rs::rand::SystemRandom::new(),
                    message,
                    &mut sig,
                )
                .expect("sign");
                sig
            }
            Self::Gost { key, algorithm, .. } => {
                let digest = match algorithm {
                    Algorithm::Gost2004 => qoltanba_gost::hash_34311(message).to_vec(),
                    _ => qoltanba_gost::hash_streebog512(message).to_vec(),
                };
                key.sign_digest(&digest, |b| aws_lc_rs::rand::fill(b).is_ok())
                    .expect("sign")
            }
        }
    }
}

/// A certificate with its private key (PKCS#8, zeroized on drop).
pub struct Issued {
    /// DER certificate.
    pub cert_der: Vec<u8>,
    /// PKCS#8 PrivateKeyInfo DER.
    pub pkcs8_der: Zeroizing<Vec<u8>>,
    /// Subject Key Identifier, lower-case hex (NCA alias and file-name suffix).
    pub ski_hex: String,
    /// AUTH or SIGN (CA certificates: `Sign`).
    pub usage: Usage,
    /// The key algorithm.
    pub algorithm: Algorithm,
    key: TestKey,
    name: Name,
    ski: Vec<u8>,
}

impl Issued {
    /// The certificate as PEM.
    pub fn cert_pem(&self) -> String {
        pem("CERTIFICATE", &self.cert_der)
    }

    /// The private key as unencrypted PKCS#8 PEM (for feeding `openssl` in tests).
    pub fn key_pem(&self) -> Zeroizing<String> {
        Zeroizing::new(pem("PRIVATE KEY", &self.pkcs8_der))
    }

    /// The NCA file name: `AUTH_RSA256_<ski>.p12`, `RSA256_<ski>.p12`, `GOSTKNCA_<ski>.p12`
    /// (`AUTH_GOSTKNCA_…` for AUTH) or `GOST512_<ski>.p12`.
    pub fn nca_file_name(&self) -> String {
        match (self.algorithm, self.usage) {
            (Algorithm::Rsa, Usage::Auth) => format!("AUTH_RSA256_{}.p12", self.ski_hex),
            (Algorithm::Rsa, Usage::Sign) => format!("RSA256_{}.p12", self.ski_hex),
            (Algorithm::Gost2004, Usage::Auth) => format!("AUTH_GOSTKNCA_{}.p12", self.ski_hex),
            (Algorithm::Gost2004, Usage::Sign) => format!("GOSTKNCA_{}.p12", self.ski_hex),
            (Algorithm::Gost2015, _) => format!("GOST512_{}.p12", self.ski_hex),
        }
    }

    /// Signs `message` with the key's algorithm (RSA: SHA-256 PKCS#1 v1.5; GOST: the KZ layout):
    /// the raw private-key operation, for tests that need a signature made outside the code
    /// under test.
    pub fn sign_sha256(&self, message: &[u8]) -> Vec<u8> {
        self.key.sign(message)
    }
}

/// A root and an intermediate CA that issue leaves.
pub struct TestPki {
    /// The key algorithm of every certificate in this PKI.
    pub algorithm: Algorithm,
    /// Self-signed root ("НЕГІЗГІ КУӘЛАНДЫРУШЫ ОРТАЛЫҚ (RSA) TEST").
    pub root: Issued,
    /// Intermediate ("ҰЛТТЫҚ КУӘЛАНДЫРУШЫ ОРТАЛЫҚ (RSA) TEST"), path length 0.
    pub nca: Issued,
}

impl Default for TestPki {
    fn default() -> Self {
        Self::new()
    }
}

impl TestPki {
    /// Generates a fresh RSA root and intermediate.
    pub fn new() -> Self {
        Self::with_algorithm(Algorithm::Rsa)
    }

    /// Generates a fresh root and intermediate with keys of `algorithm`; leaves get the same.
    pub fn with_algorithm(algorithm: Algorithm) -> Self {
        let label = match algorithm {
            Algorithm::Gost2015 => "GOST) TEST 2022".to_owned(),
            other => format!("{}) TEST", other.label()),
        };
        let root_name = ca_name(&format!("НЕГІЗГІ КУӘЛАНДЫРУШЫ ОРТАЛЫҚ ({label}"));
        let root = issue_ca(
            TestKey::generate(algorithm),
            algorithm,
            root_name,
            None,
            None,
            "1.2.398.3.1.2",
        );
        let nca_name = ca_name(&format!("ҰЛТТЫҚ КУӘЛАНДЫРУШЫ ОРТАЛЫҚ ({label}"));
        let nca = issue_ca(
            TestKey::generate(algorithm),
            algorithm,
            nca_name,
            Some(&root),
            Some(0),
            "1.2.398.3.3.2",
        );
        Self {
            algorithm,
            root,
            nca,
        }
    }

    /// Root and intermediate as one PEM bundle (trust anchors for `openssl -CAfile`).
    pub fn ca_bundle_pem(&self) -> String {
        format!("{}{}", self.root.cert_pem(), self.nca.cert_pem())
    }

    /// Issues an end-entity certificate in the NCA layout with a new key of the PKI's algorithm.
    pub fn issue(&self, spec: &LeafSpec) -> Issued {
        let key = TestKey::generate(self.algorithm);
        let public = key.spki();
        let ski = key_id(&public);
        let name = leaf_name(&spec.subject);
        let policy = match (spec.subject.organization.is_some(), spec.usage) {
            (false, Usage::Sign) => "1.2.398.3.3.2.3",
            (false, Usage::Auth) => "1.2.398.3.3.2.4",
            (true, Usage::Sign) => "1.2.398.3.3.2.1",
            (true, Usage::Auth) => "1.2.398.3.3.2.2",
        };
        let (ku, eku) = match spec.usage {
            Usage::Auth => (
                KeyUsages::DigitalSignature | KeyUsages::KeyEncipherment,
                EKU_CLIENT_AUTH,
            ),
            Usage::Sign => (
                KeyUsages::DigitalSignature | KeyUsages::NonRepudiation,
                EKU_EMAIL,
            ),
        };
        let mut ekus = vec![oid(eku)];
        ekus.extend(spec.roles.iter().map(|r| oid(r)));
        let extensions = vec![
            ext(&KeyUsage(ku), true),
            ext(&ExtendedKeyUsage(ekus), false),
            ext(&policies(policy, "http://pki.gov.kz/cps"), false),
            ext(
                &SubjectKeyIdentifier(OctetString::new(ski.clone()).expect("ski")),
                false,
            ),
            ext(&aki(&self.nca.ski), false),
        ];
        let mut extensions = extensions;
        let uri = |u: &str| {
            x509_cert::ext::pkix::name::GeneralName::UniformResourceIdentifier(
                Ia5String::new(u).expect("url"),
            )
        };
        if let Some(u) = &spec.ocsp_url {
            extensions.push(ext(
                &x509_cert::ext::pkix::AuthorityInfoAccessSyntax(vec![
                    x509_cert::ext::pkix::AccessDescription {
                        access_method: oid("1.3.6.1.5.5.7.48.1"),
                        access_location: uri(u),
                    },
                ]),
                false,
            ));
        }
        if let Some(u) = &spec.crl_url {
            extensions.push(ext(
                &x509_cert::ext::pkix::CrlDistributionPoints(vec![
                    x509_cert::ext::pkix::crl::dp::DistributionPoint {
                        distribution_point: Some(
                            x509_cert::ext::pkix::name::DistributionPointName::FullName(vec![uri(
                                u,
                            )]),
                        ),
                        reasons: None,
                        crl_issuer: None,
                    },
                ]),
                false,
            ));
        }
        let now = std::time::SystemTime::now();
        let day = Duration::from_hours(24);
        let (from, to) = match spec.lifetime {
            Lifetime::Current => (now - Duration::from_hours(1), now + 365 * day),
            Lifetime::Expired => (now - 366 * day, now - day),
            Lifetime::NotYetValid => (now + day, now + 366 * day),
        };
        let cert_der = sign_tbs(&self.nca, name.clone(), public, extensions, from, to);
        finish(key, self.algorithm, cert_der, name, ski, spec.usage)
    }
}

impl TestPki {
    /// A delegated OCSP responder's certificate ("OCSP RESPONDER TEST"), issued by the
    /// intermediate: EKU OCSPSigning and id-pkix-ocsp-nocheck, as NCA's responders have.
    pub fn issue_ocsp_responder(&self) -> Issued {
        self.issue_service("OCSP RESPONDER TEST", "1.3.6.1.5.5.7.3.9", true)
    }

    /// A timestamp authority's certificate ("TSA SERVICE TEST"), issued by the intermediate:
    /// digitalSignature + nonRepudiation, EKU timeStamping (critical, as RFC 3161 requires).
    pub fn issue_tsa(&self) -> Issued {
        self.issue_service("TSA SERVICE TEST", "1.3.6.1.5.5.7.3.8", false)
    }

    fn issue_service(&self, cn: &str, eku: &str, ocsp_nocheck: bool) -> Issued {
        let key = TestKey::generate(self.algorithm);
        let public = key.spki();
        let ski = key_id(&public);
        let name = ca_name(cn);
        let mut extensions = vec![
            ext(
                &KeyUsage(KeyUsages::DigitalSignature | KeyUsages::NonRepudiation),
                true,
            ),
            ext(&ExtendedKeyUsage(vec![oid(eku)]), true),
            ext(
                &SubjectKeyIdentifier(OctetString::new(ski.clone()).expect("ski")),
                false,
            ),
            ext(&aki(&self.nca.ski), false),
        ];
        if ocsp_nocheck {
            extensions.push(Extension {
                extn_id: oid("1.3.6.1.5.5.7.48.1.5"),
                critical: false,
                extn_value: OctetString::new(der::asn1::Null.to_der().expect("null")).expect("ext"),
            });
        }
        let now = std::time::SystemTime::now();
        let cert_der = sign_tbs(
            &self.nca,
            name.clone(),
            public,
            extensions,
            now - Duration::from_hours(1),
            now + Duration::from_hours(24 * 365),
        );
        finish(key, self.algorithm, cert_der, name, ski, Usage::Sign)
    }
}

fn finish(
    key: TestKey,
    algorithm: Algorithm,
    cert_der: Vec<u8>,
    name: Name,
    ski: Vec<u8>,
    usage: Usage,
) -> Issued {
    let pkcs8_der = key.pkcs8();
    Issued {
        cert_der,
        pkcs8_der,
        ski_hex: hex::encode(&ski),
        usage,
        algorithm,
        key,
        name,
        ski,
    }
}

fn issue_ca(
    key: TestKey,
    algorithm: Algorithm,
    name: Name,
    issuer: Option<&Issued>,
    path_len: Option<u8>,
    policy: &str,
) -> Issued {
    let public = key.spki();
    let ski = key_id(&public);
    let mut extensions = vec![
        ext(
            &BasicConstraints {
                ca: true,
                path_len_constraint: path_len,
            },
            true,
        ),
        ext(&KeyUsage(KeyUsages::KeyCertSign | KeyUsages::CRLSign), true),
        ext(&policies(policy, "http://root.gov.kz/cps"), false),
        ext(
            &SubjectKeyIdentifier(OctetString::new(ski.clone()).expect("ski")),
            false,
        ),
    ];
    if let Some(i) = issuer {
        extensions.push(ext(&aki(&i.ski), false));
    }
    let now = std::time::SystemTime::now();
    let from = now - Duration::from_hours(24);
    let to = now + Duration::from_hours(20 * 365 * 24);
    if let Some(i) = issuer {
        let cert_der = sign_tbs(i, name.clone(), public, extensions, from, to);
        return finish(key, algorithm, cert_der, name, ski, Usage::Sign);
    }
    // Self-signed: a stand-in issuer carrying the new key and name.
    let me = Issued {
        cert_der: Vec::new(),
        pkcs8_der: Zeroizing::new(Vec::new()),
        ski_hex: String::new(),
        usage: Usage::Sign,
        algorithm,
        key,
        name: name.clone(),
        ski: ski.clone(),
    };
    let der = sign_tbs(&me, name.clone(), public, extensions, from, to);
    finish(me.key, algorithm, der, name, ski, Usage::Sign)
}

fn sign_tbs(
    issuer: &Issued,
    subject: Name,
    spki: SubjectPublicKeyInfoOwned,
    extensions: Vec<Extension>,
    from: std::time::SystemTime,
    to: std::time::SystemTime,
) -> Vec<u8> {
    let mut serial = [0u8; 16];
    aws_lc_rs::rand::fill(&mut serial).expect("rng");
    serial[0] &= 0x7f;
    serial[0] |= 0x10;
    let alg = issuer.key.signature_algorithm();
    let tbs = x509_cert::TbsCertificate {
        version: x509_cert::Version::V3,
        serial_number: SerialNumber::new(&serial).expect("serial"),
        signature: alg.clone(),
        issuer: issuer.name.clone(),
        validity: Validity {
            not_before: time_of(from),
            not_after: time_of(to),
        },
        subject,
        subject_public_key_info: spki,
        issuer_unique_id: None,
        subject_unique_id: None,
        extensions: Some(extensions),
    };
    let tbs_der = tbs.to_der().expect("tbs");
    let sig = issuer.sign_sha256(&tbs_der);
    Certificate {
        tbs_certificate: tbs,
        signature_algorithm: alg,
        signature: BitString::from_bytes(&sig).expect("sig"),
    }
    .to_der()
    .expect("cert")
}

fn time_of(t: std::time::SystemTime) -> Time {
    let secs = t
        .duration_since(std::time::UNIX_EPOCH)
        .expect("time")
        .as_secs();
    let dt = der::DateTime::from_unix_duration(Duration::from_secs(secs)).expect("date");
    // RFC 5280: UTCTime through 2049, GeneralizedTime after.
    match UtcTime::from_date_time(dt) {
        Ok(u) => Time::UtcTime(u),
        Err(_) => Time::GeneralTime(GeneralizedTime::from_date_time(dt)),
    }
}

fn spki_of(key: &KeyPair) -> SubjectPublicKeyInfoOwned {
    let der = key.public_key().as_der().expect("spki");
    let spki = SubjectPublicKeyInfoOwned::from_der(der.as_ref()).expect("spki");
    debug_assert_eq!(spki.algorithm.oid, RSA_ENCRYPTION);
    spki
}

/// RFC 5280 §4.2.1.2 method 1: SHA-1 of the subjectPublicKey BIT STRING.
fn key_id(spki: &SubjectPublicKeyInfoOwned) -> Vec<u8> {
    sha1::Sha1::digest(spki.subject_public_key.raw_bytes()).to_vec()
}

fn aki(issuer_ski: &[u8]) -> AuthorityKeyIdentifier {
    AuthorityKeyIdentifier {
        key_identifier: Some(OctetString::new(issuer_ski.to_vec()).expect("aki")),
        authority_cert_issuer: None,
        authority_cert_serial_number: None,
    }
}

fn policies(policy: &str, cps: &str) -> CertificatePolicies {
    CertificatePolicies(vec![PolicyInformation {
        policy_identifier: oid(policy),
        policy_qualifiers: Some(vec![PolicyQualifierInfo {
            policy_qualifier_id: CPS_QUALIFIER,
            qualifier: Some(Any::encode_from(&Ia5String::new(cps).expect("cps")).expect("cps")),
        }]),
    }])
}

fn ext<T: Encode + const_oid::AssociatedOid>(value: &T, critical: bool) -> Extension {
    Extension {
        extn_id: T::OID,
        critical,
        extn_value: OctetString::new(value.to_der().expect("ext")).expect("ext"),
    }
}

fn oid(s: &str) -> ObjectIdentifier {
    ObjectIdentifier::new(s).expect("oid")
}

fn utf8(s: &str) -> Any {
    Any::from(Utf8StringRef::new(s).expect("utf8"))
}

fn printable(s: &str) -> Any {
    Any::encode_from(&PrintableString::new(s).expect("printable")).expect("printable")
}

fn rdn(oid: ObjectIdentifier, value: Any) -> RelativeDistinguishedName {
    RelativeDistinguishedName(
        SetOfVec::try_from(vec![AttributeTypeAndValue { oid, value }]).expect("rdn"),
    )
}

fn ca_name(cn: &str) -> Name {
    RdnSequence(vec![
        rdn(rfc4519::CN, utf8(cn)),
        rdn(rfc4519::C, printable("KZ")),
    ])
}

/// The NCA subject order: CN, SURNAME, SERIALNUMBER, C, L, ST, O, OU, G, E (KZ-PKI.md §1.1).
fn leaf_name(s: &Subject) -> Name {
    let mut rdns = vec![
        rdn(
            rfc4519::CN,
            utf8(&format!("{} {}", s.surname, s.first_name)),
        ),
        rdn(SURNAME, utf8(&s.surname)),
        rdn(SERIAL_NUMBER, printable(&format!("IIN{}", s.iin))),
        rdn(rfc4519::C, printable("KZ")),
    ];
    if let Some(l) = &s.locality {
        rdns.push(rdn(rfc4519::L, utf8(l)));
        rdns.push(rdn(rfc4519::ST, utf8(l)));
    }
    if let Some((org, bin)) = &s.organization {
        rdns.push(rdn(rfc4519::O, utf8(org)));
        rdns.push(rdn(rfc4519::OU, utf8(&format!("BIN{bin}"))));
    }
    if let Some(p) = &s.patronymic {
        rdns.push(rdn(GIVEN_NAME, utf8(p)));
    }
    if let Some(e) = &s.email {
        rdns.push(rdn(
            EMAIL,
            Any::encode_from(&Ia5String::new(e).expect("email")).expect("email"),
        ));
    }
    RdnSequence(rdns)
}

/// PEM-encodes DER with the given label (RFC 7468: 64 columns, LF).
pub fn pem(label: &str, der: &[u8]) -> String {
    pem_rfc7468::encode_string(label, pem_rfc7468::LineEnding::LF, der).expect("a valid label")
}

// Keep the unused-import lint quiet for OIDs used only in some configurations.
const _: ObjectIdentifier = rfc5280::ID_CE_KEY_USAGE;
const _: ObjectIdentifier = rfc5912::ID_KP_CLIENT_AUTH;
