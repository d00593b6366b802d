//! Timestamps (RFC 3161) for CAdES-T: the request over a signer's signature value, the checks
//! of the TSA's answer (status, imprint, nonce, the token's signature, the TSA certificate's
//! timeStamping purpose and chain), and adding the token to the SignerInfo as the unsigned
//! attribute signatureTimeStampToken. No I/O: the caller carries the request to the TSA.
//!
//! The token is added by splicing encodings (the SignerInfo's TLV gets a new or longer
//! `unsignedAttrs`, and the lengths around it are rewritten), so every other byte of the CMS —
//! other signers, certificates, the content — stays exactly as it was.

use cms::content_info::ContentInfo;
use cms::signed_data::SignedData;
use const_oid::ObjectIdentifier;
use const_oid::db::rfc5911::ID_SIGNED_DATA;
use der::asn1::{Int, OctetString, SetOfVec};
use der::{Any, Decode, Encode};
use qoltanba_pki::ber::{self, Tlv};
use spki::AlgorithmIdentifier;
use time::OffsetDateTime;
use x509_cert::attr::Attribute;
use x509_tsp::{MessageImprint, TimeStampReq, TimeStampResp, TspVersion, TstInfo};

use super::verify::{DetachedContent, VerifyOptions, verify_at_depth};
use super::wrap;
use crate::DigestAlgorithm;

/// id-aa-signatureTimeStampToken (RFC 3161 appendix A).
pub const ID_AA_SIGNATURE_TIME_STAMP_TOKEN: ObjectIdentifier =
    ObjectIdentifier::new_unwrap("1.2.840.113549.1.9.16.2.14");
/// id-ct-TSTInfo.
pub const ID_CT_TST_INFO: ObjectIdentifier =
    ObjectIdentifier::new_unwrap("1.2.840.113549.1.9.16.1.4");
/// id-kp-timeStamping.
pub const EKU_TIME_STAMPING: &str = "1.3.6.1.5.5.7.3.8";

/// Why a timestamp could not be had.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum TspError {
    /// The TSA refused (its status and text).
    #[error("the timestamp authority refused: {0}")]
    Refused(String),
    /// The answer is not a valid timestamp response for this request.
    #[error("the timestamp authority's answer is not valid: {0}")]
    BadResponse(String),
    /// The CMS to be timestamped cannot be read or written.
    #[error("{0}")]
    Cms(String),
    /// Nothing usable came back (unreachable, timed out, an HTTP error).
    #[error("{0}")]
    Unreachable(String),
}

impl From<der::Error> for TspError {
    fn from(e: der::Error) -> Self {
        Self::Cms(e.to_string())
    }
}

/// A request for one signature value, with what its answer must match.
#[derive(Debug, Clone)]
pub struct TimestampRequest {
    /// The DER to POST as `application/timestamp-query`.
    pub der: Vec<u8>,
    digest: DigestAlgorithm,
    imprint: Vec<u8>,
    nonce: Vec<u8>,
}

/// A checked timestamp token.
#[derive(Debug, Clone)]
pub struct Timestamp {
    /// The token (ContentInfo, DER) as it goes into the signature.
    pub token: Vec<u8>,
    /// genTime.
    pub time: OffsetDateTime,
    /// The TSA's policy.
    pub policy: String,
    /// The TSA certificate's subject CN, when the token names it.
    pub tsa: Option<String>,
}

fn random_nonce() -> Result<[u8; 8], TspError> {
    // The OS's generator: a nonce needs no DRBG, and seeding aws-lc's costs a short-lived CLI
    // process ~35 ms of CPU (its jitter-entropy start-up).
    let mut n = [0u8; 8];
    getrandom::fill(&mut n).map_err(|_| TspError::Cms("no randomness for the nonce".into()))?;
    // A positive INTEGER with no leading zero octet.
    n[0] = (n[0] & 0x7f) | 0x01;
    Ok(n)
}

fn oid(s: &str) -> Result<ObjectIdentifier, TspError> {
    ObjectIdentifier::new(s).map_err(|e| TspError::Cms(format!("OID {s}: {e}")))
}

impl TimestampRequest {
    /// A request over `signature` hashed with `digest`, asking for `policy` (none: the TSA's
    /// default), with a random nonce and the TSA's certificate.
    pub fn new(
        signature: &[u8],
        digest: DigestAlgorithm,
        policy: Option<&str>,
    ) -> Result<Self, TspError> {
        let imprint = digest.digest(signature);
        let nonce = random_nonce()?;
        let req = TimeStampReq {
            version: TspVersion::V1,
            message_imprint: MessageImprint {
                hash_algorithm: AlgorithmIdentifier {
                    oid: oid(digest.oid())?,
                    parameters: Some(Any::null()),
                },
                hashed_message: OctetString::new(imprint.clone())?,
            },
            req_policy: policy.map(oid).transpose()?,
            nonce: Some(Int::new(&nonce)?),
            cert_req: true,
            extensions: None,
        };
        Ok(Self {
            der: req.to_der()?,
            digest,
            imprint,
            nonce: nonce.to_vec(),
        })
    }

    /// Checks the TSA's answer and returns its token. `anchors`: trust anchors for the TSA's
    /// certificate (empty: its chain is not checked).
    pub fn check(&self, response: &[u8], anchors: &[Vec<u8>]) -> Result<Timestamp, TspError> {
        let bad = |m: String| TspError::BadResponse(m);
        let der = ber::to_der(response).map_err(|e| bad(e.to_string()))?;
        let resp = TimeStampResp::from_der(&der).map_err(|e| bad(e.to_string()))?;
        let status = resp.status.status as u8;
        if status > 1 {
            let text = resp
                .status
                .status_string
                .as_ref()
                .map(|s| {
                    s.iter()
                        .map(|u| u.as_str().to_owned())
                        .collect::<Vec<_>>()
                        .join("; ")
                })
                .unwrap_or_default();
            return Err(TspError::Refused(
                format!("status {status} {text}").trim().to_owned(),
            ));
        }
        let token = resp
            .time_stamp_token
            .ok_or_else(|| bad("no token in a granted response".into()))?;
        let token_der = token.to_der()?;
        let info = tst_info(&token)?;
        if info.message_imprint.hash_algorithm.oid != oid(self.digest.oid())?
            || info.message_imprint.hashed_message.as_bytes() != self.imprint.as_slice()
        {
            return Err(bad("the token is for different data (imprint)".into()));
        }
        if info.nonce.as_ref().map(Int::as_bytes) != Some(self.nonce.as_slice()) {
            return Err(bad("the nonce does not match the request".into()));
        }
        let report = verify_at_depth(
            &token_der,
            DetachedContent::None,
            &VerifyOptions {
                trust_anchors: anchors.to_vec(),
                ..VerifyOptions::default()
            },
            false,
        )
        .map_err(|e| bad(format!("the token: {e}")))?;
        let signer = report
            .signers
            .first()
            .filter(|_| report.valid)
            .ok_or_else(|| bad("the token's signature does not verify".into()))?;
        let cert = signer
            .certificate
            .as_ref()
            .ok_or_else(|| bad("the token carries no TSA certificate".into()))?;
        if !cert.ext_key_usage.iter().any(|e| e == EKU_TIME_STAMPING) {
            return Err(bad("the TSA certificate is not for timestamping".into()));
        }
        if let Some(chain) = &signer.chain
            && matches!(chain.status, qoltanba_pki::chain::ChainStatus::Untrusted)
        {
            return Err(bad("the TSA certificate is not from a trusted CA".into()));
        }
        Ok(Timestamp {
            token: token_der,
            time: gen_time(&info)?,
            policy: info.policy.to_string(),
            tsa: cert.subject_cn.clone(),
        })
    }
}

fn gen_time(info: &TstInfo) -> Result<OffsetDateTime, TspError> {
    let secs = info.gen_time.to_unix_duration().as_secs();
    OffsetDateTime::from_unix_timestamp(i64::try_from(secs).unwrap_or(i64::MAX))
        .map_err(|e| TspError::BadResponse(format!("genTime: {e}")))
}

fn tst_info(token: &ContentInfo) -> Result<TstInfo, TspError> {
    let bad = |m: String| TspError::BadResponse(m);
    if token.content_type != ID_SIGNED_DATA {
        return Err(bad("the token is not SignedData".into()));
    }
    let sd = SignedData::from_der(&token.content.to_der()?).map_err(|e| bad(e.to_string()))?;
    if sd.encap_content_info.econtent_type != ID_CT_TST_INFO {
        return Err(bad("the token holds no TSTInfo".into()));
    }
    let content = sd
        .encap_content_info
        .econtent
        .ok_or_else(|| bad("the token has no content".into()))?
        .decode_as::<OctetString>()
        .map_err(|e| bad(e.to_string()))?;
    TstInfo::from_der(content.as_bytes()).map_err(|e| bad(format!("TSTInfo: {e}")))
}

/// What a timestamp token says.
#[derive(Debug, Clone)]
pub struct TokenInfo {
    /// genTime.
    pub time: OffsetDateTime,
    /// The TSA's policy OID.
    pub policy: String,
    /// The imprint's hash algorithm OID.
    pub imprint_algorithm: String,
    /// The imprint.
    pub imprint: Vec<u8>,
}

/// Reads a token's TSTInfo (its signature is not checked here).
pub fn read_info(token_der: &[u8]) -> Result<TokenInfo, TspError> {
    let der = ber::to_der(token_der).map_err(|e| TspError::BadResponse(e.to_string()))?;
    let ci = ContentInfo::from_der(&der).map_err(|e| TspError::BadResponse(e.to_string()))?;
    let info = tst_info(&ci)?;
    Ok(TokenInfo {
        time: gen_time(&info)?,
        policy: info.policy.to_string(),
        imprint_algorithm: info.message_imprint.hash_algorithm.oid.to_string(),
        imprint: info.message_imprint.hashed_message.as_bytes().to_vec(),
    })
}

/// One signer's signature value, as a timestamp covers it.
#[derive(Debug, Clone)]
pub struct SignatureValue {
    /// The signature octets.
    pub value: Vec<u8>,
    /// The signer's digest algorithm (the imprint's).
    pub digest: DigestAlgorithm,
    /// The signer has a signatureTimeStampToken already.
    pub timestamped: bool,
    /// The first such token (DER), when there is one.
    pub token: Option<Vec<u8>>,
}

/// Each signer's signature value, in the order of the SignerInfos.
pub fn signature_values(cms: &[u8]) -> Result<Vec<SignatureValue>, TspError> {
    let der = ber::to_der(cms).map_err(|e| TspError::Cms(e.to_string()))?;
    let ci = Tlv::parse_exact(&der).map_err(|e| TspError::Cms(e.to_string()))?;
    let explicit = children(&ci)?
        .into_iter()
        .nth(1)
        .ok_or_else(|| TspError::Cms("not a ContentInfo".into()))?;
    let sd = children(&explicit)?
        .into_iter()
        .next()
        .ok_or_else(|| TspError::Cms("empty ContentInfo".into()))?;
    let sd_parts = children(&sd)?;
    let signers = sd_parts
        .last()
        .ok_or_else(|| TspError::Cms("no SignerInfos".into()))?;
    let mut out = Vec::new();
    for si in children(signers)? {
        let f = children(&si)?;
        // version, sid, digestAlgorithm, [0] signedAttrs?, signatureAlgorithm, signature, [1]?
        let digest_alg = f
            .get(2)
            .ok_or_else(|| TspError::Cms("SignerInfo too short".into()))?;
        let alg = spki::AlgorithmIdentifierOwned::from_der(digest_alg.raw)?;
        let digest = DigestAlgorithm::from_oid(&alg.oid.to_string())
            .ok_or_else(|| TspError::Cms(format!("digest algorithm {}", alg.oid)))?;
        let signature = f
            .iter()
            .rev()
            .find(|t| t.tag == 0x04)
            .ok_or_else(|| TspError::Cms("SignerInfo has no signature".into()))?;
        let token_oid = ID_AA_SIGNATURE_TIME_STAMP_TOKEN.to_der()?;
        let mut token = None;
        if let Some(u) = f.last().filter(|u| u.tag == 0xa1) {
            for a in children(u)? {
                let parts = children(&a)?;
                if let [o, values] = parts.as_slice()
                    && o.raw == token_oid.as_slice()
                {
                    token = children(values)?.first().map(|t| t.raw.to_vec());
                    break;
                }
            }
        }
        out.push(SignatureValue {
            value: signature.value.to_vec(),
            digest,
            timestamped: token.is_some(),
            token,
        });
    }
    Ok(out)
}

fn children<'a>(t: &Tlv<'a>) -> Result<Vec<Tlv<'a>>, TspError> {
    t.children().map_err(|e| TspError::Cms(e.to_string()))
}

/// Adds `token` as signatureTimeStampToken to signer `index` of `cms`; everything else stays
/// byte for byte (BER input is normalised to DER first).
pub fn add_timestamp(cms: &[u8], index: usize, token: &[u8]) -> Result<Vec<u8>, TspError> {
    let der = ber::to_der(cms).map_err(|e| TspError::Cms(e.to_string()))?;
    let ci = Tlv::parse_exact(&der).map_err(|e| TspError::Cms(e.to_string()))?;
    let ci_parts = children(&ci)?;
    let [ct, explicit] = ci_parts.as_slice() else {
        return Err(TspError::Cms("not a ContentInfo".into()));
    };
    let sd = children(explicit)?
        .into_iter()
        .next()
        .ok_or_else(|| TspError::Cms("empty ContentInfo".into()))?;
    let sd_parts = children(&sd)?;
    let (signers, head) = sd_parts
        .split_last()
        .ok_or_else(|| TspError::Cms("empty SignedData".into()))?;
    let signer_list = children(signers)?;
    let target = signer_list
        .get(index)
        .ok_or_else(|| TspError::Cms(format!("no signer {index}")))?;
    let attr = Attribute {
        oid: ID_AA_SIGNATURE_TIME_STAMP_TOKEN,
        values: SetOfVec::try_from(vec![Any::from_der(token)?])?,
    }
    .to_der()?;
    let fields = children(target)?;
    let new_signer = match fields.split_last() {
        Some((last, rest)) if last.tag == 0xa1 => {
            // unsignedAttrs [1] IMPLICIT SET OF: append (a SET OF's DER order would sort; the
            // existing attributes keep their bytes and the new one goes last, as signers do).
            let mut inner: Vec<&[u8]> = children(last)?.iter().map(|t| t.raw).collect();
            inner.push(&attr);
            let unsigned = wrap(0xa1, &inner);
            let mut all: Vec<&[u8]> = rest.iter().map(|t| t.raw).collect();
            all.push(&unsigned);
            wrap(target.tag, &all)
        }
        _ => {
            let unsigned = wrap(0xa1, &[&attr]);
            let mut all: Vec<&[u8]> = fields.iter().map(|t| t.raw).collect();
            all.push(&unsigned);
            wrap(target.tag, &all)
        }
    };
    let list: Vec<&[u8]> = signer_list
        .iter()
        .enumerate()
        .map(|(i, s)| {
            if i == index {
                new_signer.as_slice()
            } else {
                s.raw
            }
        })
        .collect();
    let new_signers = wrap(signers.tag, &list);
    let mut sd_all: Vec<&[u8]> = head.iter().map(|t| t.raw).collect();
    sd_all.push(&new_signers);
    let new_sd = wrap(sd.tag, &sd_all);
    let new_explicit = wrap(explicit.tag, &[&new_sd]);
    Ok(wrap(ci.tag, &[ct.raw, &new_explicit]))
}

/// Carries a query to the TSA: `(gost, query) → answer`.
pub type Exchange<'a> = dyn Fn(bool, &[u8]) -> Result<Vec<u8>, String> + 'a;

/// Which signers of a CMS get a timestamp.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Signers {
    /// Only this one (a signature just made).
    Only(usize),
    /// Every signer that has none yet (applyCAdEST).
    Unstamped,
}

/// Timestamps signers of `cms`: for each, a request over its signature value (SHA-256 imprint
/// for every key family, as NCA's production TSA stamps GOST signatures too — the public
/// production CAdES-T sample, KZ-PKI.md §8.3), `exchange(gost, query)` carries it to the TSA,
/// the answer is checked against `anchors` and the token added. `policy(gost)` names the
/// policy to ask for.
pub fn timestamp_signers(
    cms: &[u8],
    which: Signers,
    max_signers: usize,
    policy: &dyn Fn(bool) -> Option<String>,
    exchange: &Exchange<'_>,
    anchors: &[Vec<u8>],
) -> Result<Vec<u8>, TspError> {
    let values = signature_values(cms)?;
    if values.len() > max_signers {
        return Err(TspError::Cms(format!(
            "the CMS has {} signers (at most {max_signers})",
            values.len()
        )));
    }
    let mut out = cms.to_vec();
    for (i, v) in values.iter().enumerate() {
        let wanted = match which {
            Signers::Only(o) => o == i,
            Signers::Unstamped => !v.timestamped,
        };
        if !wanted {
            continue;
        }
        let gost = !matches!(
            v.digest,
            DigestAlgorithm::Sha1
                | DigestAlgorithm::Sha256
                | DigestAlgorithm::Sha384
                | DigestAlgorithm::Sha512
        );
        let req =
            TimestampRequest::new(&v.value, DigestAlgorithm::Sha256, policy(gost).as_deref())?;
        let answer = exchange(gost, &req.der).map_err(TspError::Unreachable)?;
        let t = req.check(&answer, anchors)?;
        out = add_timestamp(&out, i, &t.token)?;
    }
    Ok(out)
}
