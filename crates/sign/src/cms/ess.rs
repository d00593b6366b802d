//! ESS signing-certificate attributes (RFC 2634 §5.4, RFC 5035 §3). The `cms` crate has no ESS
//! types, so they are defined here on `der`'s derive.
//!
//! ```asn1
//! SigningCertificateV2 ::= SEQUENCE {
//!     certs        SEQUENCE OF ESSCertIDv2,
//!     policies     SEQUENCE OF PolicyInformation OPTIONAL }
//! ESSCertIDv2 ::= SEQUENCE {
//!     hashAlgorithm AlgorithmIdentifier DEFAULT {algorithm id-sha256},
//!     certHash      Hash,
//!     issuerSerial  IssuerSerial OPTIONAL }
//! ESSCertID ::= SEQUENCE { certHash Hash, issuerSerial IssuerSerial OPTIONAL }   -- SHA-1
//! IssuerSerial ::= SEQUENCE { issuer GeneralNames, serialNumber CertificateSerialNumber }
//! ```

use const_oid::ObjectIdentifier;
use der::asn1::{Any, OctetString};
use der::{Sequence, ValueOrd};
use spki::AlgorithmIdentifierOwned;
use x509_cert::ext::pkix::name::GeneralName;
use x509_cert::serial_number::SerialNumber;

/// id-aa-signingCertificateV2.
pub const ID_AA_SIGNING_CERTIFICATE_V2: ObjectIdentifier =
    ObjectIdentifier::new_unwrap("1.2.840.113549.1.9.16.2.47");
/// id-aa-signingCertificate (v1, SHA-1).
pub const ID_AA_SIGNING_CERTIFICATE: ObjectIdentifier =
    ObjectIdentifier::new_unwrap("1.2.840.113549.1.9.16.2.12");
/// id-sha256.
pub const ID_SHA256: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.16.840.1.101.3.4.2.1");

/// IssuerSerial.
#[derive(Clone, Debug, Eq, PartialEq, Sequence, ValueOrd)]
pub struct IssuerSerial {
    /// The issuer as GeneralNames (a directoryName).
    pub issuer: Vec<GeneralName>,
    /// The certificate's serial number.
    pub serial_number: SerialNumber,
}

/// ESSCertIDv2.
#[derive(Clone, Debug, Eq, PartialEq, Sequence, ValueOrd)]
pub struct EssCertIdV2 {
    /// Hash algorithm; `None` is the DEFAULT, SHA-256 (DER omits a default value).
    #[asn1(optional = "true")]
    pub hash_algorithm: Option<AlgorithmIdentifierOwned>,
    /// Hash of the whole DER certificate.
    pub cert_hash: OctetString,
    /// Issuer and serial of the certificate.
    #[asn1(optional = "true")]
    pub issuer_serial: Option<IssuerSerial>,
}

/// SigningCertificateV2.
#[derive(Clone, Debug, Eq, PartialEq, Sequence, ValueOrd)]
pub struct SigningCertificateV2 {
    /// The signer's certificate first.
    pub certs: Vec<EssCertIdV2>,
    /// Policies (unused).
    #[asn1(optional = "true")]
    pub policies: Option<Vec<Any>>,
}

/// ESSCertID (v1).
#[derive(Clone, Debug, Eq, PartialEq, Sequence, ValueOrd)]
pub struct EssCertId {
    /// SHA-1 of the certificate.
    pub cert_hash: OctetString,
    /// Issuer and serial.
    #[asn1(optional = "true")]
    pub issuer_serial: Option<IssuerSerial>,
}

/// SigningCertificate (v1).
#[derive(Clone, Debug, Eq, PartialEq, Sequence, ValueOrd)]
pub struct SigningCertificate {
    /// The signer's certificate first.
    pub certs: Vec<EssCertId>,
    /// Policies (unused).
    #[asn1(optional = "true")]
    pub policies: Option<Vec<Any>>,
}

impl EssCertIdV2 {
    /// The hash algorithm's OID, SHA-256 when absent.
    pub fn hash_oid(&self) -> ObjectIdentifier {
        self.hash_algorithm.as_ref().map_or(ID_SHA256, |a| a.oid)
    }
}
