//! Verifying enveloped XML signatures made by anyone: every Reference (URI `""` or `#id`,
//! enveloped-signature and C14N transforms), its digest, the SignatureValue over the
//! canonicalized SignedInfo, and the certificate in KeyInfo. Trust and validity are reported
//! apart from the mathematics.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use bergshamra_c14n::C14nMode;
use bergshamra_xml::nodeset::NodeSet;
use der::{Decode, Encode};
use qoltanba_pki::CertificateDetails;
use qoltanba_pki::chain::{self, ChainReport};
use qoltanba_pki::verify::{SigCheckError, verify_signature};
use serde::Serialize;
use time::OffsetDateTime;
use uppsala::{Document, NodeId};

use super::algorithms::{ENVELOPED, XmlSignatureAlgorithm, digest_from_uri};
use super::dom;
use super::{XmlError, parse};

const EXC_C14N_NS: &str = "http://www.w3.org/2001/10/xml-exc-c14n#";

/// What to check beyond the mathematics.
#[derive(Debug, Clone, Default)]
pub struct XmlVerifyOptions {
    /// Trust anchors (DER). Empty: chain status `not_checked`.
    pub trust_anchors: Vec<Vec<u8>>,
    /// The time for validity checks (XMLDSig carries no signing time); default now.
    pub now: Option<OffsetDateTime>,
    /// An extra attribute name that holds IDs (legacy `verifyXml` passes one).
    pub id_attr: Option<String>,
    /// Bounds on the work, checked before anything is canonicalized.
    pub limits: XmlLimits,
}

/// Bounds on the work one verification may do: anyone can hand over a document, and each
/// Reference to the whole document (`URI=""`) canonicalizes all of it again.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct XmlLimits {
    /// Most `ds:Signature` elements.
    pub max_signatures: usize,
    /// Most References in all signatures together.
    pub max_references: usize,
    /// Most Transforms in one Reference.
    pub max_transforms: usize,
    /// Most X509Certificate elements in one KeyInfo.
    pub max_certificates: usize,
    /// Most References to the whole document (`URI=""`) in all signatures together.
    pub max_whole_document: usize,
    /// Most bytes canonicalized in all, estimated before starting as the document's size per
    /// Reference (an upper bound of what each may produce).
    pub max_c14n_bytes: usize,
}

impl Default for XmlLimits {
    fn default() -> Self {
        Self {
            max_signatures: 8,
            max_references: 16,
            max_transforms: 4,
            max_certificates: 8,
            max_whole_document: 4,
            max_c14n_bytes: 128 << 20,
        }
    }
}

/// Counts the work before doing any of it.
fn check_work(
    doc: &Document<'_>,
    sigs: &[NodeId],
    xml_len: usize,
    limits: &XmlLimits,
) -> Result<(), XmlError> {
    let too = |what: String| Err(XmlError::TooMuchWork(what));
    if sigs.len() > limits.max_signatures {
        return too(format!(
            "{} signatures (at most {})",
            sigs.len(),
            limits.max_signatures
        ));
    }
    let (mut refs, mut whole) = (0usize, 0usize);
    for s in sigs {
        let Some(si) = dom::dsig_child(doc, *s, "SignedInfo") else {
            continue;
        };
        for r in dom::dsig_children(doc, si, "Reference") {
            refs += 1;
            if attr(doc, r, "URI").is_none_or(|u| u.is_empty()) {
                whole += 1;
            }
            let transforms = dom::dsig_child(doc, r, "Transforms")
                .map_or(0, |t| dom::dsig_children(doc, t, "Transform").len());
            if transforms > limits.max_transforms {
                return too(format!(
                    "a reference with {transforms} transforms (at most {})",
                    limits.max_transforms
                ));
            }
        }
        let certs = dom::dsig_child(doc, *s, "KeyInfo")
            .into_iter()
            .flat_map(|ki| dom::dsig_children(doc, ki, "X509Data"))
            .map(|xd| dom::dsig_children(doc, xd, "X509Certificate").len())
            .sum::<usize>();
        if certs > limits.max_certificates {
            return too(format!(
                "{certs} certificates in one KeyInfo (at most {})",
                limits.max_certificates
            ));
        }
    }
    if refs > limits.max_references {
        return too(format!(
            "{refs} references (at most {})",
            limits.max_references
        ));
    }
    if whole > limits.max_whole_document {
        return too(format!(
            "{whole} references to the whole document (at most {})",
            limits.max_whole_document
        ));
    }
    if (refs + sigs.len()).saturating_mul(xml_len) > limits.max_c14n_bytes {
        return too(format!(
            "{refs} references over {} KiB (more than {} MiB to canonicalize)",
            xml_len >> 10,
            limits.max_c14n_bytes >> 20
        ));
    }
    Ok(())
}

/// One Reference.
#[derive(Debug, Clone, Serialize)]
pub struct ReferenceReport {
    /// The URI as written.
    pub uri: String,
    /// DigestMethod URI.
    pub digest_method: String,
    /// The recomputed digest equals DigestValue.
    pub digest_matches: bool,
    /// Why not, in words.
    pub problem: Option<String>,
}

/// One `ds:Signature`.
#[derive(Debug, Clone, Serialize)]
pub struct XmlSignatureReport {
    /// Every reference matches and the signature value verifies.
    pub signature_valid: bool,
    /// The SignatureValue verifies over the canonical SignedInfo.
    pub signature_matches: bool,
    /// SignatureMethod URI.
    pub signature_method: String,
    /// The references.
    pub references: Vec<ReferenceReport>,
    /// Why not valid, in words.
    pub problem: Option<String>,
    /// The signer's certificate from KeyInfo.
    pub certificate: Option<CertificateDetails>,
    /// Trust and validity at `now`.
    pub chain: Option<ChainReport>,
}

/// The whole document.
#[derive(Debug, Clone, Serialize)]
pub struct XmlVerifyReport {
    /// There is at least one signature and every one is valid.
    pub valid: bool,
    /// One entry per `ds:Signature`, in document order.
    pub signatures: Vec<XmlSignatureReport>,
}

fn attr(doc: &Document<'_>, id: NodeId, name: &str) -> Option<String> {
    doc.get_attribute(id, name).map(str::to_owned)
}

fn b64(text: &str) -> Option<Vec<u8>> {
    let clean: String = text.chars().filter(|c| !c.is_ascii_whitespace()).collect();
    STANDARD.decode(clean.as_bytes()).ok()
}

/// The exclusive-C14N `InclusiveNamespaces PrefixList` under a Transform or
/// CanonicalizationMethod element.
fn prefix_list(doc: &Document<'_>, el: NodeId) -> Vec<String> {
    doc.children_iter(el)
        .find(|c| {
            doc.element(*c).is_some_and(|e| {
                e.name.local_name == "InclusiveNamespaces"
                    && e.name.namespace_uri.as_deref() == Some(EXC_C14N_NS)
            })
        })
        .and_then(|c| attr(doc, c, "PrefixList"))
        .map(|l| l.split_whitespace().map(str::to_owned).collect())
        .unwrap_or_default()
}

/// Verifies every signature in the document.
pub fn verify(xml: &str, opts: &XmlVerifyOptions) -> Result<XmlVerifyReport, XmlError> {
    let doc = parse(xml)?;
    let sigs = dom::signatures(&doc);
    if sigs.is_empty() {
        return Err(XmlError::NoSignature);
    }
    check_work(&doc, &sigs, xml.len(), &opts.limits)?;
    let signatures: Vec<XmlSignatureReport> = sigs
        .iter()
        .map(|s| verify_one(&doc, *s, opts))
        .collect::<Result<_, _>>()?;
    Ok(XmlVerifyReport {
        valid: signatures.iter().all(|s| s.signature_valid),
        signatures,
    })
}

fn verify_one(
    doc: &Document<'_>,
    sig: NodeId,
    opts: &XmlVerifyOptions,
) -> Result<XmlSignatureReport, XmlError> {
    let bad = |what: &str| XmlError::BadSignature(format!("no {what}"));
    let si = dom::dsig_child(doc, sig, "SignedInfo").ok_or_else(|| bad("SignedInfo"))?;
    let cm = dom::dsig_child(doc, si, "CanonicalizationMethod")
        .ok_or_else(|| bad("CanonicalizationMethod"))?;
    let cm_uri =
        attr(doc, cm, "Algorithm").ok_or_else(|| bad("CanonicalizationMethod Algorithm"))?;
    let sm = dom::dsig_child(doc, si, "SignatureMethod").ok_or_else(|| bad("SignatureMethod"))?;
    let sm_uri = attr(doc, sm, "Algorithm").ok_or_else(|| bad("SignatureMethod Algorithm"))?;
    let sv = dom::dsig_child(doc, sig, "SignatureValue").ok_or_else(|| bad("SignatureValue"))?;

    let mut report = XmlSignatureReport {
        signature_valid: false,
        signature_matches: false,
        signature_method: sm_uri.clone(),
        references: Vec::new(),
        problem: None,
        certificate: None,
        chain: None,
    };
    let mut problems: Vec<String> = Vec::new();

    let references = dom::dsig_children(doc, si, "Reference");
    if references.is_empty() {
        problems.push("the signature has no Reference".into());
    }
    for r in references {
        report
            .references
            .push(check_reference(doc, sig, r, opts.id_attr.as_deref()));
    }
    if let Some(p) = report.references.iter().find_map(|r| r.problem.clone()) {
        problems.push(p);
    }

    // Certificates from KeyInfo/X509Data.
    let certs: Vec<Vec<u8>> = dom::dsig_child(doc, sig, "KeyInfo")
        .into_iter()
        .flat_map(|ki| dom::dsig_children(doc, ki, "X509Data"))
        .flat_map(|xd| dom::dsig_children(doc, xd, "X509Certificate"))
        .filter_map(|c| b64(&dom::text_of(doc, c)))
        .collect();

    let method = XmlSignatureAlgorithm::from_uri(&sm_uri);
    let mode = C14nMode::from_uri(&cm_uri);
    let signature_value = b64(&dom::text_of(doc, sv));
    match (method, mode, signature_value) {
        (None, _, _) => problems.push(format!("unsupported SignatureMethod {sm_uri}")),
        (_, None, _) => problems.push(format!("unsupported CanonicalizationMethod {cm_uri}")),
        (_, _, None) => problems.push("SignatureValue is not base64".into()),
        (Some(method), Some(mode), Some(value)) => {
            let set = if mode.with_comments() {
                NodeSet::tree_with_comments(si, doc)
            } else {
                NodeSet::tree_without_comments(si, doc)
            };
            let si_bytes = dom::c14n(doc, mode, &set, &prefix_list(doc, cm))?;
            let digest_oid = method.digest.map(crate::DigestAlgorithm::oid);
            let mut outcome = Err(SigCheckError::Mismatch);
            let mut signer = None;
            for c in &certs {
                let Some(spki) = x509_cert::Certificate::from_der(c)
                    .ok()
                    .and_then(|x| x.tbs_certificate.subject_public_key_info.to_der().ok())
                else {
                    continue;
                };
                outcome = verify_signature(&spki, method.oid, digest_oid, &si_bytes, &value);
                if outcome.is_ok() {
                    signer = Some(c);
                    break;
                }
            }
            match (&outcome, certs.is_empty()) {
                (_, true) => problems.push("no certificate in KeyInfo".into()),
                (Ok(()), _) => report.signature_matches = true,
                (Err(e), _) => problems.push(format!("signature: {e}")),
            }
            let signer = signer.or_else(|| certs.first());
            if let Some(c) = signer {
                report.certificate = CertificateDetails::from_der(c).ok();
                let at = opts.now.unwrap_or_else(OffsetDateTime::now_utc);
                report.chain = Some(chain::check(c, &certs, &opts.trust_anchors, at));
            }
        }
    }
    report.signature_valid = report.signature_matches
        && !report.references.is_empty()
        && report.references.iter().all(|r| r.digest_matches);
    if !problems.is_empty() {
        report.problem = Some(problems.join("; "));
    }
    Ok(report)
}

fn check_reference(
    doc: &Document<'_>,
    sig: NodeId,
    reference: NodeId,
    id_attr: Option<&str>,
) -> ReferenceReport {
    let uri = attr(doc, reference, "URI").unwrap_or_default();
    let dm = dom::dsig_child(doc, reference, "DigestMethod")
        .and_then(|d| attr(doc, d, "Algorithm"))
        .unwrap_or_default();
    let mut r = ReferenceReport {
        uri: uri.clone(),
        digest_method: dm.clone(),
        digest_matches: false,
        problem: None,
    };
    let result = (|| -> Result<bool, XmlError> {
        let alg = digest_from_uri(&dm)
            .ok_or_else(|| XmlError::Unsupported(format!("DigestMethod {dm}")))?;
        let expected = dom::dsig_child(doc, reference, "DigestValue")
            .and_then(|d| b64(&dom::text_of(doc, d)))
            .ok_or_else(|| XmlError::BadSignature("DigestValue missing or not base64".into()))?;
        let mut set = dom::reference_set(doc, &uri, id_attr)?;
        let mut mode = C14nMode::Inclusive;
        let mut prefixes = Vec::new();
        if let Some(ts) = dom::dsig_child(doc, reference, "Transforms") {
            for t in dom::dsig_children(doc, ts, "Transform") {
                let a = attr(doc, t, "Algorithm").unwrap_or_default();
                if a == ENVELOPED {
                    set = dom::without_signature(doc, &set, sig);
                } else if let Some(m) = C14nMode::from_uri(&a) {
                    mode = m;
                    prefixes = prefix_list(doc, t);
                } else {
                    return Err(XmlError::Unsupported(format!("transform {a}")));
                }
            }
        }
        Ok(dom::c14n_digest(doc, mode, &set, &prefixes, alg)? == expected)
    })();
    match result {
        Ok(true) => r.digest_matches = true,
        Ok(false) => {
            r.problem = Some(format!(
                "reference {uri:?}: the signed content was changed (digest differs)"
            ));
        }
        Err(e) => r.problem = Some(format!("reference {uri:?}: {e}")),
    }
    r
}
