//! Which keys qualify for a request: NCALayer's `keyType` (commonUtils) and `signerParams`
//! (basics: EKU OIDs, IIN, BIN, certificate serial, chain), plus validity.

use qoltanba_keys::SigningKey;
use qoltanba_pki::chain::{self, ChainStatus};
use qoltanba_pki::{CertificateDetails, ValidityStatus, oid};
use time::OffsetDateTime;

/// How the certificate's chain is checked.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum ChainRule {
    /// Against the configured trust anchors (NCA's CAs plus `--trust-anchor`). Default. When
    /// none are configured the chain is not checked.
    #[default]
    Configured,
    /// Against these certificates (DER), from `signerParams.chain`.
    Given(Vec<Vec<u8>>),
    /// No chain building (`signerParams.chain: []`): any certificate, test CAs included.
    None,
}

/// The conditions a key must meet.
#[derive(Debug, Clone, Default)]
pub struct KeyFilter {
    /// Every one of these EKU/role OIDs must be in the certificate. clientAuth is also met by
    /// a key that can authenticate (the GOST 2015 key, KZ-PKI.md §2.3).
    pub eku_oids: Vec<String>,
    /// The subject's IIN must equal this.
    pub iin: Option<String>,
    /// The subject's BIN must equal this.
    pub bin: Option<String>,
    /// The certificate serial (hex, any case) must equal this.
    pub serial: Option<String>,
    /// commonUtils `keyType`: `Some(true)` signing keys, `Some(false)` authentication keys.
    pub signing_key: Option<bool>,
    /// Chain check.
    pub chain: ChainRule,
    /// Accept expired (and not yet valid) certificates (test-only flag of NCALayer).
    pub allow_expired: bool,
    /// Accept revoked certificates (`allowRevoked`, NCALayer's test flag).
    pub allow_revoked: bool,
}

/// Why a key does not qualify (shown greyed out with this reason).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Mismatch {
    /// Missing EKU/role OID.
    Eku(String),
    /// Different IIN.
    Iin,
    /// Different BIN.
    Bin,
    /// Different serial.
    Serial,
    /// Not a signing / authentication key.
    KeyType,
    /// Expired or not yet valid.
    Validity(ValidityStatus),
    /// Does not chain to the trust anchors.
    Chain(ChainStatus),
    /// In a storage the site does not allow.
    Storage(String),
}

impl std::fmt::Display for Mismatch {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Eku(o) if o == oid::EKU_CLIENT_AUTH => {
                f.write_str("an authentication (AUTH) key is wanted")
            }
            Self::Eku(o) => write!(f, "the certificate lacks the required usage or role {o}"),
            Self::Iin => f.write_str("the site wants a different IIN"),
            Self::Bin => f.write_str("the site wants a different BIN"),
            Self::Serial => f.write_str("the site wants a different certificate"),
            Self::KeyType => f.write_str("the site wants a different kind of key (AUTH/SIGN)"),
            Self::Validity(ValidityStatus::Expired) => f.write_str("the certificate has expired"),
            Self::Validity(_) => f.write_str("the certificate is not valid yet"),
            Self::Chain(ChainStatus::Untrusted) => {
                f.write_str("the certificate was not issued by a trusted CA")
            }
            Self::Chain(other) => write!(f, "the certificate chain cannot be checked ({other:?})"),
            Self::Storage(s) => write!(f, "the site does not accept keys from {s}"),
        }
    }
}

impl KeyFilter {
    /// Checks `key` at `now` against the filter; `anchors` are the configured trust anchors.
    pub fn check(
        &self,
        key: &dyn SigningKey,
        anchors: &[Vec<u8>],
        now: OffsetDateTime,
    ) -> Result<(), Mismatch> {
        self.check_certificate(
            key.details(),
            key.certificate_der(),
            key.chain_der(),
            anchors,
            now,
        )
    }

    /// Checks a certificate (with the chain that came with it) at `now`.
    pub fn check_certificate(
        &self,
        d: &CertificateDetails,
        certificate: &[u8],
        chain_der: &[Vec<u8>],
        anchors: &[Vec<u8>],
        now: OffsetDateTime,
    ) -> Result<(), Mismatch> {
        self.check_details(d, now)?;
        let anchors: &[Vec<u8>] = match &self.chain {
            ChainRule::None => return Ok(()),
            // No anchors installed yet (`qoltanba trust update` not run): chains cannot be
            // checked, and the server says so when it starts, rather than refusing every key.
            ChainRule::Configured if anchors.is_empty() => return Ok(()),
            ChainRule::Configured => anchors,
            ChainRule::Given(a) => a,
        };
        let report = chain::check(certificate, chain_der, anchors, now);
        match report.status {
            ChainStatus::Trusted => Ok(()),
            other => Err(Mismatch::Chain(other)),
        }
    }

    /// The checks that need only the certificate details.
    pub fn check_details(
        &self,
        d: &CertificateDetails,
        now: OffsetDateTime,
    ) -> Result<(), Mismatch> {
        for o in &self.eku_oids {
            let met = d.has_eku(o) || (o == oid::EKU_CLIENT_AUTH && d.key_kind.can_authenticate());
            if !met {
                return Err(Mismatch::Eku(o.clone()));
            }
        }
        if self.iin.as_ref().is_some_and(|i| d.iin.as_ref() != Some(i)) {
            return Err(Mismatch::Iin);
        }
        if self.bin.as_ref().is_some_and(|b| d.bin.as_ref() != Some(b)) {
            return Err(Mismatch::Bin);
        }
        if self.serial.as_ref().is_some_and(|s| {
            !s.trim_start_matches('0')
                .eq_ignore_ascii_case(d.serial.trim_start_matches('0'))
        }) {
            return Err(Mismatch::Serial);
        }
        match self.signing_key {
            Some(true) if !d.key_kind.can_sign() => return Err(Mismatch::KeyType),
            Some(false) if !d.key_kind.can_authenticate() => return Err(Mismatch::KeyType),
            _ => {}
        }
        let v = d.validity_at(now);
        if v != ValidityStatus::Valid && !self.allow_expired {
            return Err(Mismatch::Validity(v));
        }
        Ok(())
    }
}
