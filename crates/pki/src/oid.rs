//! Object identifiers of the Kazakh PKI profile (KZ-PKI.md §2-§3) and the few standard ones the
//! profile leans on. Kept as dotted strings: they are compared with parsed OIDs' string form and
//! shown to people; the typed `const_oid::ObjectIdentifier` forms live where DER is built.

/// id-at-commonName.
pub const CN: &str = "2.5.4.3";
/// id-at-surname (SURNAME, the family name).
pub const SURNAME: &str = "2.5.4.4";
/// id-at-serialNumber: `IIN` + 12 digits (or `BIN` + 12 digits).
pub const SERIAL_NUMBER: &str = "2.5.4.5";
/// id-at-countryName.
pub const COUNTRY: &str = "2.5.4.6";
/// id-at-localityName.
pub const LOCALITY: &str = "2.5.4.7";
/// id-at-stateOrProvinceName.
pub const STATE: &str = "2.5.4.8";
/// id-at-organizationName.
pub const ORGANIZATION: &str = "2.5.4.10";
/// id-at-organizationalUnitName: `BIN` + 12 digits on legal-entity certificates.
pub const ORG_UNIT: &str = "2.5.4.11";
/// id-at-givenName: in NCA certificates this holds the **patronymic**.
pub const GIVEN_NAME: &str = "2.5.4.42";
/// PKCS#9 emailAddress.
pub const EMAIL: &str = "1.2.840.113549.1.9.1";

/// EKU id-kp-clientAuth: marks AUTH keys.
pub const EKU_CLIENT_AUTH: &str = "1.3.6.1.5.5.7.3.2";
/// EKU id-kp-emailProtection: marks SIGN keys.
pub const EKU_EMAIL_PROTECTION: &str = "1.3.6.1.5.5.7.3.4";

/// rsaEncryption.
pub const RSA: &str = "1.2.840.113549.1.1.1";
/// GOST 34.310-2004 public key.
pub const GOST_2004_KEY: &str = "1.2.398.3.10.1.1.1.1";
/// GOST R 34.10-2015 256-bit public key.
pub const GOST_2015_256_KEY: &str = "1.2.398.3.10.1.1.2.1";
/// GOST R 34.10-2015 512-bit public key.
pub const GOST_2015_512_KEY: &str = "1.2.398.3.10.1.1.2.2";
/// id-ecPublicKey.
pub const EC_PUBLIC_KEY: &str = "1.2.840.10045.2.1";

/// The Kazakh GOST arc: every GOST key, signature and digest OID starts with it.
pub const KZ_GOST_ARC: &str = "1.2.398.3.10.";

/// The "Users" branch of the KZ OID registry that holds role OIDs (in the EKU extension).
pub const ROLE_ARC: &str = "1.2.398.3.3.4.";
