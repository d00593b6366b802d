//! CMS SignedData / CAdES-BES (RFC 5652, ETSI EN 319 122-1) in the shape Kalkan and NCALayer
//! produce: SignedData v1, one SignerInfo with `issuerAndSerialNumber`, the signer certificate
//! included, signed attributes contentType, signingTime, messageDigest and
//! signingCertificateV2; digest and signature AlgorithmIdentifiers with NULL parameters, as in
//! NCA's samples.
//!
//! Three ways to sign: attached (the content inside), detached, and hash-only (a given digest,
//! output detached). Attached output can be streamed ([`SignedCms::write_attached`]) so that a
//! large file is never held in memory.

mod cosign;
pub mod ess;
pub mod tsp;
mod verify;

use std::io::{Read, Write};

use cms::cert::{CertificateChoices, IssuerAndSerialNumber};
use cms::content_info::{CmsVersion, ContentInfo};
use cms::signed_data::{
    CertificateSet, EncapsulatedContentInfo, SignedData, SignerIdentifier, SignerInfo, SignerInfos,
};
use const_oid::ObjectIdentifier;
use const_oid::db::rfc5911::{
    ID_CONTENT_TYPE, ID_DATA, ID_MESSAGE_DIGEST, ID_SIGNED_DATA, ID_SIGNING_TIME,
};
use der::asn1::{Any, OctetString, SetOfVec};
use der::{Decode, Encode};
use qoltanba_keys::SigningKey;
use qoltanba_pki::ber::{self, Tlv};
use spki::AlgorithmIdentifierOwned;
use time::OffsetDateTime;
use x509_cert::Certificate;
use x509_cert::attr::Attribute;
use x509_cert::ext::pkix::name::GeneralName;
use x509_cert::time::Time;

pub use cosign::add_signer;
pub use verify::{
    CmsLimits, DetachedContent, SignerReport, TimestampReport, VerifyOptions, VerifyReport,
    attached_content, verify,
};

use crate::{DigestAlgorithm, SignError};
use ess::{EssCertIdV2, IssuerSerial, SigningCertificateV2};

/// Options for making a signature.
#[derive(Debug, Clone, Default)]
pub struct CmsOptions {
    /// The signingTime attribute; `None` means now.
    pub signing_time: Option<OffsetDateTime>,
    /// Also include the chain certificates that came with the key.
    pub include_chain: bool,
}

/// The digest algorithm a key's signatures use (SHA-256 for RSA).
pub fn digest_algorithm_for(key: &dyn SigningKey) -> Result<DigestAlgorithm, SignError> {
    let alg = key.default_signature_algorithm()?;
    DigestAlgorithm::from_oid(alg.digest_oid())
        .ok_or_else(|| SignError::Unsupported(format!("CMS with {}", key.key_algorithm().label())))
}

/// A signed SignedData without content, ready to be written attached or detached.
#[derive(Debug, Clone)]
pub struct SignedCms {
    signed_data: SignedData,
}

fn alg_null(oid: &str) -> Result<AlgorithmIdentifierOwned, SignError> {
    Ok(AlgorithmIdentifierOwned {
        oid: ObjectIdentifier::new(oid).map_err(|e| SignError::Encoding(e.to_string()))?,
        parameters: Some(Any::null()),
    })
}

fn attribute(oid: ObjectIdentifier, value: Any) -> Result<Attribute, SignError> {
    Ok(Attribute {
        oid,
        values: SetOfVec::try_from(vec![value])?,
    })
}

/// RFC 5652 §11.3: UTCTime through 2049, GeneralizedTime after.
fn cms_time(t: OffsetDateTime) -> Result<Time, SignError> {
    let secs = u64::try_from(t.unix_timestamp()).map_err(|_| SignError::Encoding("time".into()))?;
    let dt = der::DateTime::from_unix_duration(std::time::Duration::from_secs(secs))?;
    Ok(match der::asn1::UtcTime::from_date_time(dt) {
        Ok(u) => Time::UtcTime(u),
        Err(_) => Time::GeneralTime(der::asn1::GeneralizedTime::from_date_time(dt)),
    })
}

/// Signs a precomputed digest of the content. The result is written detached or attached.
pub fn sign_digest(
    key: &dyn SigningKey,
    digest: &[u8],
    opts: &CmsOptions,
) -> Result<SignedCms, SignError> {
    build(key, digest, opts, &mut |alg, tbs| Ok(key.sign(alg, tbs)?))
}

/// Makes the signature over the DER of the signed attributes.
type Signer<'a> =
    dyn FnMut(qoltanba_keys::SignatureAlgorithm, &[u8]) -> Result<Vec<u8>, SignError> + 'a;

/// The SignedData over `digest`, with the signature that `sign` makes over the signed
/// attributes.
fn build(
    key: &dyn SigningKey,
    digest: &[u8],
    opts: &CmsOptions,
    sign: &mut Signer<'_>,
) -> Result<SignedCms, SignError> {
    let sig_alg = key.default_signature_algorithm()?;
    let digest_alg = digest_algorithm_for(key)?;
    if digest.len() != digest_alg.output_len() {
        return Err(SignError::HashLength {
            expected: digest_alg.output_len(),
            got: digest.len(),
        });
    }
    let cert = Certificate::from_der(key.certificate_der())
        .map_err(|e| SignError::Encoding(format!("signer certificate: {e}")))?;
    let issuer = cert.tbs_certificate.issuer.clone();
    let serial = cert.tbs_certificate.serial_number.clone();

    // signingCertificateV2: SHA-256 of the certificate plus issuer and serial (RFC 5035).
    let ess = SigningCertificateV2 {
        certs: vec![EssCertIdV2 {
            hash_algorithm: None,
            cert_hash: OctetString::new(DigestAlgorithm::Sha256.digest(key.certificate_der()))?,
            issuer_serial: Some(IssuerSerial {
                issuer: vec![GeneralName::DirectoryName(issuer.clone())],
                serial_number: serial.clone(),
            }),
        }],
        policies: None,
    };
    let time = cms_time(opts.signing_time.unwrap_or_else(OffsetDateTime::now_utc))?;
    let signed_attrs = SetOfVec::try_from(vec![
        attribute(ID_CONTENT_TYPE, Any::encode_from(&ID_DATA)?)?,
        attribute(ID_SIGNING_TIME, Any::encode_from(&time)?)?,
        attribute(
            ID_MESSAGE_DIGEST,
            Any::encode_from(&OctetString::new(digest)?)?,
        )?,
        attribute(ess::ID_AA_SIGNING_CERTIFICATE_V2, Any::encode_from(&ess)?)?,
    ])?;
    // RFC 5652 §5.4: the signature covers the DER of the attributes as a SET OF.
    let tbs = signed_attrs.to_der()?;
    let signature = sign(sig_alg, &tbs)?;

    let digest_alg_id = alg_null(digest_alg.oid())?;
    let signer_info = SignerInfo {
        version: CmsVersion::V1,
        sid: SignerIdentifier::IssuerAndSerialNumber(IssuerAndSerialNumber {
            issuer,
            serial_number: serial,
        }),
        digest_alg: digest_alg_id.clone(),
        signed_attrs: Some(signed_attrs),
        signature_algorithm: alg_null(sig_alg.oid())?,
        signature: OctetString::new(signature)?,
        unsigned_attrs: None,
    };
    let mut certs = vec![CertificateChoices::Certificate(cert)];
    if opts.include_chain {
        for c in key.chain_der() {
            if let Ok(c) = Certificate::from_der(c) {
                certs.push(CertificateChoices::Certificate(c));
            }
        }
    }
    let signed_data = SignedData {
        version: CmsVersion::V1,
        digest_algorithms: SetOfVec::try_from(vec![digest_alg_id])?,
        encap_content_info: EncapsulatedContentInfo {
            econtent_type: ID_DATA,
            econtent: None,
        },
        certificates: Some(CertificateSet(SetOfVec::try_from(certs)?)),
        crls: None,
        signer_infos: SignerInfos(SetOfVec::try_from(vec![signer_info])?),
    };
    Ok(SignedCms { signed_data })
}

/// Signs `content` and returns a detached CMS (DER).
pub fn sign_detached(
    key: &dyn SigningKey,
    content: &[u8],
    opts: &CmsOptions,
) -> Result<Vec<u8>, SignError> {
    let digest = digest_algorithm_for(key)?.digest(content);
    sign_digest(key, &digest, opts)?.to_detached_der()
}

/// Signs `content` and returns an attached CMS (DER) holding it.
pub fn sign_attached(
    key: &dyn SigningKey,
    content: &[u8],
    opts: &CmsOptions,
) -> Result<Vec<u8>, SignError> {
    let digest = digest_algorithm_for(key)?.digest(content);
    sign_digest(key, &digest, opts)?.to_attached_der(content)
}

/// Signs content that is read once: it streams into `out` (attached, DER) and into the hasher
/// together, and the SignerInfo, made when the content has been read, follows it. `len` is the
/// content's length, which DER needs before the content.
///
/// DER lengths come first, so the layout is computed up front from a stand-in SignedData with a
/// zero digest and a zero signature of the key's signature length; the real one has the same
/// length (asserted). Keys whose signatures vary in length (ECDSA) are refused with
/// [`SignError::Unsupported`]; [`sign_digest`] and [`SignedCms::write_attached`] still sign them.
pub fn sign_attached_streaming(
    key: &dyn SigningKey,
    content: &mut impl Read,
    len: u64,
    out: &mut impl Write,
    opts: &CmsOptions,
) -> Result<(), SignError> {
    let digest_alg = digest_algorithm_for(key)?;
    let sig_len = fixed_signature_len(key.key_algorithm()).ok_or_else(|| {
        SignError::Unsupported(format!(
            "streaming attached CMS with {}",
            key.key_algorithm().label()
        ))
    })?;
    // One signing time for the stand-in and the real signature.
    let opts = CmsOptions {
        signing_time: Some(opts.signing_time.unwrap_or_else(OffsetDateTime::now_utc)),
        ..opts.clone()
    };
    let stand_in = build(
        key,
        &vec![0; digest_alg.output_len()],
        &opts,
        &mut |_, _| Ok(vec![0; sig_len]),
    )?;
    let (head, stand_in_tail) = stand_in.attached_parts(len)?;
    out.write_all(&head)?;
    let mut hasher = digest_alg.hasher();
    let mut buf = vec![0u8; 1 << 20];
    let mut copied = 0u64;
    let mut limited = content.take(len);
    loop {
        let n = limited.read(&mut buf)?;
        if n == 0 {
            break;
        }
        hasher.update(&buf[..n]);
        out.write_all(&buf[..n])?;
        copied += n as u64;
    }
    if copied != len {
        return Err(SignError::Content(format!(
            "the content changed while signing: expected {len} bytes, read {copied}"
        )));
    }
    let signed = sign_digest(key, &hasher.finish(), &opts)?;
    let (real_head, tail) = signed.attached_parts(len)?;
    if real_head != head || tail.len() != stand_in_tail.len() {
        return Err(SignError::Encoding(
            "the signature is not as long as the key's signatures are".into(),
        ));
    }
    out.write_all(&tail)?;
    Ok(())
}

/// Whether [`sign_attached_streaming`] can sign with this key (its signatures have one length).
pub fn streams_attached(key: &dyn SigningKey) -> bool {
    fixed_signature_len(key.key_algorithm()).is_some()
}

/// The length of every signature the key makes, for keys whose signatures have one.
fn fixed_signature_len(alg: &qoltanba_pki::KeyAlgorithm) -> Option<usize> {
    use qoltanba_pki::KeyAlgorithm;
    match alg {
        KeyAlgorithm::Rsa { bits } if *bits > 0 => Some(bits.div_ceil(8)),
        KeyAlgorithm::Gost2004 | KeyAlgorithm::Gost2015_256 => Some(64),
        KeyAlgorithm::Gost2015_512 => Some(128),
        _ => None,
    }
}

/// One TLV around `parts` (the splicing of [`tsp::add_timestamp`] and [`add_signer`]: the
/// parts' bytes are kept as they are).
fn wrap(tag: u8, parts: &[&[u8]]) -> Vec<u8> {
    let len: usize = parts.iter().map(|p| p.len()).sum();
    let mut out = vec![tag];
    ber::write_len(&mut out, len);
    out.reserve(len);
    for p in parts {
        out.extend_from_slice(p);
    }
    out
}

fn header(tag: u8, len: u64) -> Result<Vec<u8>, SignError> {
    let mut h = vec![tag];
    ber::write_len(
        &mut h,
        usize::try_from(len).map_err(|_| SignError::Encoding("too large".into()))?,
    );
    Ok(h)
}

impl SignedCms {
    /// The detached form: ContentInfo { signedData } with no eContent.
    pub fn to_detached_der(&self) -> Result<Vec<u8>, SignError> {
        let ci = ContentInfo {
            content_type: ID_SIGNED_DATA,
            content: Any::encode_from(&self.signed_data)?,
        };
        Ok(ci.to_der()?)
    }

    /// The attached form with `content` inside (one output buffer, no other copy).
    pub fn to_attached_der(&self, content: &[u8]) -> Result<Vec<u8>, SignError> {
        let mut out = Vec::with_capacity(content.len() + 16 * 1024);
        self.write_attached(&mut out, &mut &content[..], content.len() as u64)?;
        Ok(out)
    }

    /// Writes the attached form to `out`, copying exactly `len` bytes of content from
    /// `content`. DER lengths are computed up front, so the content streams through.
    pub fn write_attached(
        &self,
        out: &mut impl Write,
        content: &mut impl Read,
        len: u64,
    ) -> Result<(), SignError> {
        let (head, tail) = self.attached_parts(len)?;
        out.write_all(&head)?;
        let copied = std::io::copy(&mut content.take(len), out)?;
        if copied != len {
            return Err(SignError::Content(format!(
                "the content changed while signing: expected {len} bytes, read {copied}"
            )));
        }
        out.write_all(&tail)?;
        Ok(())
    }

    /// The attached form around `len` bytes of content: everything before the content and
    /// everything after it.
    fn attached_parts(&self, len: u64) -> Result<(Vec<u8>, Vec<u8>), SignError> {
        // Encode without content, then splice a content-bearing EncapsulatedContentInfo in
        // place of the empty one: everything else stays typed `cms` encoding.
        let sd_der = self.signed_data.to_der()?;
        let sd = Tlv::parse_exact(&sd_der).map_err(|e| SignError::Encoding(e.to_string()))?;
        let parts = sd
            .children()
            .map_err(|e| SignError::Encoding(e.to_string()))?;
        let [version, digest_algs, _eci, rest @ ..] = parts.as_slice() else {
            return Err(SignError::Encoding("unexpected SignedData layout".into()));
        };
        let oid_data = ID_DATA.to_der()?;
        let octet_hdr = header(0x04, len)?;
        let explicit_len = octet_hdr.len() as u64 + len;
        let explicit_hdr = header(0xa0, explicit_len)?;
        let eci_len = oid_data.len() as u64 + explicit_hdr.len() as u64 + explicit_len;
        let eci_hdr = header(0x30, eci_len)?;
        let rest_len: u64 = rest.iter().map(|t| t.raw.len() as u64).sum();
        let sd_len =
            (version.raw.len() + digest_algs.raw.len() + eci_hdr.len()) as u64 + eci_len + rest_len;
        let sd_hdr = header(0x30, sd_len)?;
        let oid_sd = ID_SIGNED_DATA.to_der()?;
        let ci_explicit_hdr = header(0xa0, sd_hdr.len() as u64 + sd_len)?;
        let ci_len =
            oid_sd.len() as u64 + ci_explicit_hdr.len() as u64 + sd_hdr.len() as u64 + sd_len;

        let head = [
            header(0x30, ci_len)?.as_slice(),
            &oid_sd,
            &ci_explicit_hdr,
            &sd_hdr,
            version.raw,
            digest_algs.raw,
            &eci_hdr,
            &oid_data,
            &explicit_hdr,
            &octet_hdr,
        ]
        .concat();
        let tail = rest.iter().flat_map(|t| t.raw.iter().copied()).collect();
        Ok((head, tail))
    }
}
