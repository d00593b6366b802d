//! Verification of CMS SignedData made by anyone (Kalkan, NCALayer, OpenSSL, this program).
//!
//! The mathematical result (content digest, signed attributes, signature) is reported apart
//! from the certificate's trust and validity at signing time, as portals and NCANode do.

use std::io::Read;

use cms::cert::CertificateChoices;
use cms::content_info::ContentInfo;
use cms::signed_data::{SignedData, SignerIdentifier, SignerInfo};
use const_oid::db::rfc5911::{ID_CONTENT_TYPE, ID_MESSAGE_DIGEST, ID_SIGNED_DATA, ID_SIGNING_TIME};
use der::asn1::{ObjectIdentifier, OctetString};
use der::{Decode, Encode};
use qoltanba_pki::ber::{self, Tlv};
use qoltanba_pki::chain::{self, ChainReport};
use qoltanba_pki::name::names_match;
use qoltanba_pki::{CertificateDetails, verify::verify_signature};
use serde::Serialize;
use time::OffsetDateTime;
use x509_cert::Certificate;
use x509_cert::ext::pkix::SubjectKeyIdentifier;
use x509_cert::time::Time;

use super::ess;
use crate::{DigestAlgorithm, SignError};

/// Where the content of a detached signature comes from.
pub enum DetachedContent<'a> {
    /// None given (the signature must be attached).
    None,
    /// In memory.
    Bytes(&'a [u8]),
    /// Streamed (a large file); read once.
    Reader(&'a mut dyn Read),
    /// Only its digest is known (hash-only signatures), with the digest algorithm's OID.
    Digest(&'a [u8]),
}

/// What to check beyond the mathematics.
#[derive(Debug, Clone, Default)]
pub struct VerifyOptions {
    /// Trust anchors (DER certificates). Empty: chain status is `not_checked`.
    pub trust_anchors: Vec<Vec<u8>>,
    /// Time for the validity check when the signature has no signingTime; default now.
    pub now: Option<OffsetDateTime>,
    /// Bounds on the work, checked before any digest or signature is computed.
    pub limits: CmsLimits,
}

/// Bounds on the work one CMS verification may do: anyone can hand over a signature.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CmsLimits {
    /// Most SignerInfos.
    pub max_signers: usize,
    /// Most certificates carried in the signature.
    pub max_certificates: usize,
}

impl Default for CmsLimits {
    fn default() -> Self {
        Self {
            max_signers: 16,
            max_certificates: 32,
        }
    }
}

/// The result for one signer.
#[derive(Debug, Clone, Serialize)]
pub struct SignerReport {
    /// Digest, signed attributes and signature all check out.
    pub signature_valid: bool,
    /// messageDigest equals the content's digest.
    pub digest_matches: bool,
    /// The signature verifies with the signer certificate's key.
    pub signature_matches: bool,
    /// signingCertificateV2 (or v1) names this certificate: `None` when the attribute is absent.
    pub signing_certificate_matches: Option<bool>,
    /// Why it is not valid, in words.
    pub problem: Option<String>,
    /// Digest algorithm OID.
    pub digest_algorithm: String,
    /// The signingTime attribute.
    #[serde(with = "time::serde::rfc3339::option")]
    pub signing_time: Option<OffsetDateTime>,
    /// The signer's certificate, when found.
    pub certificate: Option<CertificateDetails>,
    /// Trust and validity at the timestamp's time when there is a valid one, else at the
    /// signingTime (or now).
    pub chain: Option<ChainReport>,
    /// The signatureTimeStampToken (CAdES-T), when there is one.
    pub timestamp: Option<TimestampReport>,
}

/// A signer's timestamp.
#[derive(Debug, Clone, Serialize)]
pub struct TimestampReport {
    /// The token verifies, covers this signer's signature value, and its signer is a TSA.
    pub valid: bool,
    /// genTime.
    #[serde(with = "time::serde::rfc3339::option")]
    pub time: Option<OffsetDateTime>,
    /// The TSA's policy OID.
    pub policy: Option<String>,
    /// The TSA certificate's subject CN.
    pub tsa: Option<String>,
    /// The TSA certificate's chain at genTime.
    pub chain: Option<ChainReport>,
    /// Why it is not valid.
    pub problem: Option<String>,
}

/// The result for the whole signature.
#[derive(Debug, Clone, Serialize)]
pub struct VerifyReport {
    /// Every signer's signature is mathematically valid (and there is at least one).
    pub valid: bool,
    /// The content was inside the signature.
    pub attached: bool,
    /// One entry per SignerInfo.
    pub signers: Vec<SignerReport>,
}

impl VerifyReport {
    /// Attached content is not returned here; see [`attached_content`].
    pub fn is_valid(&self) -> bool {
        self.valid
    }
}

/// Returns the encapsulated content of an attached CMS, if any.
pub fn attached_content(cms: &[u8]) -> Result<Option<Vec<u8>>, SignError> {
    let (sd, _) = decode_signed_data(cms)?;
    econtent(&sd)
}

fn econtent(sd: &SignedData) -> Result<Option<Vec<u8>>, SignError> {
    match &sd.encap_content_info.econtent {
        None => Ok(None),
        Some(any) => Ok(Some(
            any.decode_as::<OctetString>()
                .map_err(|e| SignError::NotCms(format!("eContent: {e}")))?
                .into_bytes(),
        )),
    }
}

/// Decodes ContentInfo → SignedData, normalising BER; returns it with the DER of SignedData.
fn decode_signed_data(cms: &[u8]) -> Result<(SignedData, Vec<u8>), SignError> {
    let der = ber::to_der(cms).map_err(|e| SignError::NotCms(e.to_string()))?;
    let ci = ContentInfo::from_der(&der).map_err(|e| SignError::NotCms(e.to_string()))?;
    if ci.content_type != ID_SIGNED_DATA {
        return Err(SignError::NotCms(format!(
            "content type {} is not signedData",
            ci.content_type
        )));
    }
    let sd_der = ci.content.to_der()?;
    let sd = SignedData::from_der(&sd_der).map_err(|e| SignError::NotCms(e.to_string()))?;
    Ok((sd, sd_der))
}

/// Verifies a CMS signature (DER or BER; see [`crate::input`] for PEM/base64).
pub fn verify(
    cms: &[u8],
    content: DetachedContent<'_>,
    opts: &VerifyOptions,
) -> Result<VerifyReport, SignError> {
    verify_at_depth(cms, content, opts, true)
}

/// `timestamps`: also check signers' timestamp tokens (not inside a token: no recursion).
pub(super) fn verify_at_depth(
    cms: &[u8],
    content: DetachedContent<'_>,
    opts: &VerifyOptions,
    timestamps: bool,
) -> Result<VerifyReport, SignError> {
    let (sd, sd_der) = decode_signed_data(cms)?;
    // SignerInfos as encoded (decoding a SET OF re-sorts it, and the signed attributes must be
    // hashed exactly as the signer encoded them).
    let sd_tlv = Tlv::parse_exact(&sd_der).map_err(|e| SignError::NotCms(e.to_string()))?;
    let parts = sd_tlv
        .children()
        .map_err(|e| SignError::NotCms(e.to_string()))?;
    let raw_signers = parts
        .last()
        .filter(|t| t.tag == 0x31)
        .ok_or_else(|| SignError::NotCms("no SignerInfos".into()))?
        .children()
        .map_err(|e| SignError::NotCms(e.to_string()))?;
    if raw_signers.is_empty() {
        return Err(SignError::NotCms("the signature has no signers".into()));
    }
    if raw_signers.len() > opts.limits.max_signers {
        return Err(SignError::TooMuchWork(format!(
            "{} signers (at most {})",
            raw_signers.len(),
            opts.limits.max_signers
        )));
    }
    let cert_count = sd.certificates.as_ref().map_or(0, |c| c.0.len());
    if cert_count > opts.limits.max_certificates {
        return Err(SignError::TooMuchWork(format!(
            "{cert_count} certificates (at most {})",
            opts.limits.max_certificates
        )));
    }

    let certs: Vec<Vec<u8>> = sd
        .certificates
        .iter()
        .flat_map(|set| set.0.iter())
        .filter_map(|c| match c {
            CertificateChoices::Certificate(c) => c.to_der().ok(),
            CertificateChoices::Other(_) => None,
        })
        .collect();

    let signer_infos: Vec<SignerInfo> = raw_signers
        .iter()
        .map(|t| SignerInfo::from_der(t.raw).map_err(|e| SignError::NotCms(e.to_string())))
        .collect::<Result<_, _>>()?;
    let algs: Vec<Option<DigestAlgorithm>> = signer_infos
        .iter()
        .map(|si| DigestAlgorithm::from_oid(&si.digest_alg.oid.to_string()))
        .collect();

    // Digest the content once per algorithm in use.
    let embedded = econtent(&sd)?;
    let attached = embedded.is_some();
    // Each algorithm once, whatever order the signers name them in.
    let mut wanted: Vec<DigestAlgorithm> = Vec::new();
    for a in algs.iter().flatten() {
        if !wanted.contains(a) {
            wanted.push(*a);
        }
    }
    let digests: Vec<(DigestAlgorithm, Vec<u8>)> = match (&embedded, content) {
        (Some(c), _) => wanted.iter().map(|a| (*a, a.digest(c))).collect(),
        (None, DetachedContent::Bytes(c)) => wanted.iter().map(|a| (*a, a.digest(c))).collect(),
        (None, DetachedContent::Reader(r)) => {
            let mut hashers: Vec<_> = wanted.iter().map(|a| (*a, a.hasher())).collect();
            let mut buf = vec![0u8; 1 << 20];
            loop {
                let n = r.read(&mut buf)?;
                if n == 0 {
                    break;
                }
                for (_, h) in &mut hashers {
                    h.update(&buf[..n]);
                }
            }
            hashers.into_iter().map(|(a, h)| (a, h.finish())).collect()
        }
        (None, DetachedContent::Digest(d)) => wanted.iter().map(|a| (*a, d.to_vec())).collect(),
        (None, DetachedContent::None) => {
            return Err(SignError::Content(
                "this is a detached signature: the signed content is needed to verify it".into(),
            ));
        }
    };

    let mut signers = Vec::new();
    for ((si, raw), alg) in signer_infos.iter().zip(&raw_signers).zip(&algs) {
        let mut report = verify_signer(si, raw, *alg, &digests, &sd, &certs, opts);
        if timestamps {
            check_timestamp(si, &mut report, &certs, opts);
        }
        signers.push(report);
    }
    let valid = signers.iter().all(|s| s.signature_valid);
    Ok(VerifyReport {
        valid,
        attached,
        signers,
    })
}

/// Reads and checks a signer's signatureTimeStampToken; a valid one moves the chain check of
/// the signer's certificate to the timestamp's time (a signature made under a CA generation
/// that has since expired validates as it did when made).
fn check_timestamp(si: &SignerInfo, r: &mut SignerReport, certs: &[Vec<u8>], opts: &VerifyOptions) {
    let Some(value) = si.unsigned_attrs.as_ref().and_then(|u| {
        u.iter()
            .find(|a| a.oid == super::tsp::ID_AA_SIGNATURE_TIME_STAMP_TOKEN)
            .and_then(|a| a.values.get(0))
    }) else {
        return;
    };
    let mut t = TimestampReport {
        valid: false,
        time: None,
        policy: None,
        tsa: None,
        chain: None,
        problem: None,
    };
    let checked = (|| -> Result<(), String> {
        let token = value.to_der().map_err(|e| e.to_string())?;
        let info = super::tsp::read_info(&token).map_err(|e| e.to_string())?;
        t.time = Some(info.time);
        t.policy = Some(info.policy.clone());
        let imprint_alg = DigestAlgorithm::from_oid(&info.imprint_algorithm)
            .ok_or_else(|| format!("imprint algorithm {}", info.imprint_algorithm))?;
        if imprint_alg.digest(si.signature.as_bytes()) != info.imprint {
            return Err("the token is for another signature (imprint differs)".into());
        }
        let inner = VerifyOptions {
            now: Some(info.time),
            ..opts.clone()
        };
        let report = verify_at_depth(&token, DetachedContent::None, &inner, false)
            .map_err(|e| format!("the token: {e}"))?;
        let signer = report
            .signers
            .into_iter()
            .next()
            .ok_or("the token has no signer")?;
        t.tsa = signer
            .certificate
            .as_ref()
            .and_then(|c| c.subject_cn.clone());
        t.chain.clone_from(&signer.chain);
        if !signer.signature_valid {
            return Err(format!(
                "the token's signature: {}",
                signer.problem.unwrap_or_default()
            ));
        }
        if !signer.certificate.as_ref().is_some_and(|c| {
            c.ext_key_usage
                .iter()
                .any(|e| e == super::tsp::EKU_TIME_STAMPING)
        }) {
            return Err("the token's signer is not a timestamp authority".into());
        }
        Ok(())
    })();
    match checked {
        Ok(()) => t.valid = true,
        Err(e) => t.problem = Some(e),
    }
    if t.valid
        && let (Some(at), Some(cert)) = (t.time, find_certificate(&si.sid, certs))
    {
        r.chain = Some(chain::check(cert, certs, &opts.trust_anchors, at));
    }
    r.timestamp = Some(t);
}

fn find_certificate<'a>(sid: &SignerIdentifier, certs: &'a [Vec<u8>]) -> Option<&'a Vec<u8>> {
    certs.iter().find(|der| {
        let Ok(c) = Certificate::from_der(der) else {
            return false;
        };
        match sid {
            SignerIdentifier::IssuerAndSerialNumber(ias) => {
                c.tbs_certificate.serial_number == ias.serial_number
                    && names_match(&c.tbs_certificate.issuer, &ias.issuer)
            }
            SignerIdentifier::SubjectKeyIdentifier(ski) => c
                .tbs_certificate
                .get::<SubjectKeyIdentifier>()
                .ok()
                .flatten()
                .is_some_and(|(_, k)| k.0 == ski.0),
        }
    })
}

fn time_of(t: &Time) -> Option<OffsetDateTime> {
    let secs = t.to_unix_duration().as_secs();
    OffsetDateTime::from_unix_timestamp(i64::try_from(secs).ok()?).ok()
}

#[allow(clippy::too_many_lines)]
fn verify_signer(
    si: &SignerInfo,
    raw: &Tlv<'_>,
    alg: Option<DigestAlgorithm>,
    digests: &[(DigestAlgorithm, Vec<u8>)],
    sd: &SignedData,
    certs: &[Vec<u8>],
    opts: &VerifyOptions,
) -> SignerReport {
    let mut r = SignerReport {
        signature_valid: false,
        digest_matches: false,
        signature_matches: false,
        signing_certificate_matches: None,
        problem: None,
        digest_algorithm: si.digest_alg.oid.to_string(),
        signing_time: None,
        certificate: None,
        chain: None,
        timestamp: None,
    };
    let cert = find_certificate(&si.sid, certs);
    r.certificate = cert.and_then(|c| CertificateDetails::from_der(c).ok());
    let Some(alg) = alg else {
        r.problem = Some(format!(
            "unsupported digest algorithm {}",
            r.digest_algorithm
        ));
        return r;
    };
    let Some(content_digest) = digests.iter().find(|(a, _)| *a == alg).map(|(_, d)| d) else {
        r.problem = Some("content digest unavailable".into());
        return r;
    };

    // The message the signature covers: the signed attributes re-tagged as SET OF, or the
    // content itself when there are none.
    let message: Vec<u8>;
    if let Some(attrs) = &si.signed_attrs {
        let mut problems = Vec::new();
        let value = |oid: ObjectIdentifier| {
            attrs
                .iter()
                .find(|a| a.oid == oid)
                .and_then(|a| a.values.get(0))
        };
        match value(ID_MESSAGE_DIGEST).and_then(|v| v.decode_as::<OctetString>().ok()) {
            Some(md) => r.digest_matches = md.as_bytes() == content_digest.as_slice(),
            None => problems.push("no messageDigest attribute"),
        }
        if !r.digest_matches && value(ID_MESSAGE_DIGEST).is_some() {
            problems.push("the content does not match the signature (digest differs)");
        }
        let ct_ok = value(ID_CONTENT_TYPE)
            .and_then(|v| v.decode_as::<ObjectIdentifier>().ok())
            .is_some_and(|o| o == sd.encap_content_info.econtent_type);
        if !ct_ok {
            problems.push("contentType attribute missing or different from the content");
        }
        r.signing_time = value(ID_SIGNING_TIME)
            .and_then(|v| Time::from_der(&v.to_der().ok()?).ok())
            .and_then(|t| time_of(&t));
        if let Some(c) = cert {
            if let Some(v) = value(ess::ID_AA_SIGNING_CERTIFICATE_V2) {
                r.signing_certificate_matches =
                    Some(v.decode_as::<ess::SigningCertificateV2>().is_ok_and(|sc| {
                        sc.certs.first().is_some_and(|id| {
                            DigestAlgorithm::from_oid(&id.hash_oid().to_string())
                                .is_some_and(|a| a.digest(c) == id.cert_hash.as_bytes())
                        })
                    }));
            } else if let Some(v) = value(ess::ID_AA_SIGNING_CERTIFICATE) {
                r.signing_certificate_matches =
                    Some(v.decode_as::<ess::SigningCertificate>().is_ok_and(|sc| {
                        sc.certs.first().is_some_and(|id| {
                            DigestAlgorithm::Sha1.digest(c) == id.cert_hash.as_bytes()
                        })
                    }));
            }
            if r.signing_certificate_matches == Some(false) {
                problems.push("the signing-certificate attribute names another certificate");
            }
        }
        let Some(raw_attrs) = raw
            .children()
            .ok()
            .and_then(|c| c.into_iter().find(|t| t.tag == 0xa0))
        else {
            r.problem = Some("signed attributes unreadable".into());
            return r;
        };
        let mut m = raw_attrs.raw.to_vec();
        m[0] = 0x31;
        message = m;
        if !ct_ok {
            r.digest_matches = false;
        }
        if !problems.is_empty() {
            r.problem = Some(problems.join("; "));
        }
    } else {
        r.digest_matches = true;
        message = Vec::new();
    }

    let Some(cert) = cert else {
        r.problem = Some("the signer's certificate is not in the signature".into());
        return r;
    };
    let spki = Certificate::from_der(cert)
        .ok()
        .and_then(|c| c.tbs_certificate.subject_public_key_info.to_der().ok());
    let Some(spki) = spki else {
        r.problem = Some("the signer's certificate is malformed".into());
        return r;
    };
    let signed: &[u8] = if si.signed_attrs.is_some() {
        &message
    } else {
        // Without signed attributes the signature covers the content itself; only possible
        // when the content is in memory or attached (not for digest-only input).
        r.problem = Some("signatures without signed attributes are not supported".into());
        return r;
    };
    match verify_signature(
        &spki,
        &si.signature_algorithm.oid.to_string(),
        Some(alg.oid()),
        signed,
        si.signature.as_bytes(),
    ) {
        Ok(()) => r.signature_matches = true,
        Err(e) => {
            let p = format!("signature: {e}");
            r.problem = Some(r.problem.map_or(p.clone(), |q| format!("{q}; {p}")));
        }
    }
    r.signature_valid =
        r.digest_matches && r.signature_matches && r.signing_certificate_matches != Some(false);
    let at = r
        .signing_time
        .or(opts.now)
        .unwrap_or_else(OffsetDateTime::now_utc);
    r.chain = Some(chain::check(cert, certs, &opts.trust_anchors, at));
    r
}
