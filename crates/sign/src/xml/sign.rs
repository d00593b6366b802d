//! Making enveloped signatures in Kalkan's shape.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use bergshamra_c14n::C14nMode;
use bergshamra_xml::nodeset::NodeSet;
use qoltanba_keys::SigningKey;
use uppsala::{Document, NodeId};

use super::algorithms::{
    C14N, C14N_WITH_COMMENTS, DSIG_NS, ENVELOPED, XmlSignatureAlgorithm, digest_uri,
};
use super::dom::{self, ID_ATTRS};
use super::parse::start_tag;
use super::{XmlError, parse, stream};

/// What to sign.
#[derive(Debug, Clone, Copy, Default)]
pub enum Tbs<'a> {
    /// The whole document: `Reference URI=""`.
    #[default]
    WholeDocument,
    /// The element an XPath selects (NCALayer's `tbsElementXPath`); it must carry an `Id`.
    XPath(&'a str),
    /// The first element with this local name, referenced through the named ID attribute
    /// (the legacy `signXmlByElementId`).
    ElementId {
        /// Local name of the element.
        element: &'a str,
        /// Name of its ID attribute.
        id_attr: &'a str,
    },
}

/// Where the `ds:Signature` goes (as the last child).
#[derive(Debug, Clone, Copy, Default)]
pub enum Parent<'a> {
    /// The document element.
    #[default]
    DocumentElement,
    /// The element an XPath selects (`signatureParentElementXPath`).
    XPath(&'a str),
    /// The first element with this local name (legacy API).
    ElementName(&'a str),
}

/// Options for [`sign`].
#[derive(Debug, Clone, Copy, Default)]
pub struct XmlSignOptions<'a> {
    /// What to sign.
    pub tbs: Tbs<'a>,
    /// Where to put the signature.
    pub parent: Parent<'a>,
}

fn wrap76(b64: &str) -> String {
    let mut out = String::with_capacity(b64.len() + b64.len() / 76 + 1);
    for (i, chunk) in b64.as_bytes().chunks(76).enumerate() {
        if i > 0 {
            out.push('\n');
        }
        out.push_str(std::str::from_utf8(chunk).unwrap_or_default());
    }
    out
}

fn escape_attr(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('"', "&quot;")
}

/// Signs one document. Returns the signed document text.
pub fn sign(
    key: &dyn SigningKey,
    xml: &str,
    opts: &XmlSignOptions<'_>,
) -> Result<String, XmlError> {
    let key_alg = key.default_signature_algorithm()?;
    let method = XmlSignatureAlgorithm::for_key(key_alg)
        .ok_or_else(|| XmlError::Unsupported(format!("XML signatures with {key_alg:?}")))?;
    let digest_alg = method
        .digest
        .ok_or_else(|| XmlError::Unsupported(format!("XML signatures with {key_alg:?} (GOST)")))?;

    let Located {
        uri,
        digest,
        insert_at,
        empty_tag,
        context,
    } = locate(xml, opts, digest_alg)?;

    let signed_info = format!(
        "<ds:SignedInfo>\n\
         <ds:CanonicalizationMethod Algorithm=\"{C14N}\"/>\n\
         <ds:SignatureMethod Algorithm=\"{}\"/>\n\
         <ds:Reference URI=\"{}\">\n\
         <ds:Transforms>\n\
         <ds:Transform Algorithm=\"{ENVELOPED}\"/>\n\
         <ds:Transform Algorithm=\"{C14N_WITH_COMMENTS}\"/>\n\
         </ds:Transforms>\n\
         <ds:DigestMethod Algorithm=\"{}\"/>\n\
         <ds:DigestValue>{}</ds:DigestValue>\n\
         </ds:Reference>\n\
         </ds:SignedInfo>",
        method.uri,
        escape_attr(&uri),
        digest_uri(digest_alg),
        STANDARD.encode(&digest),
    );
    let cert = wrap76(&STANDARD.encode(key.certificate_der()));
    let signature = |value: &str| {
        format!(
            "<ds:Signature xmlns:ds=\"{DSIG_NS}\">\n{signed_info}\n<ds:SignatureValue>\n{value}\n</ds:SignatureValue>\n\
             <ds:KeyInfo>\n<ds:X509Data>\n<ds:X509Certificate>\n{cert}\n</ds:X509Certificate>\n</ds:X509Data>\n</ds:KeyInfo>\n\
             </ds:Signature>"
        )
    };

    // SignedInfo is canonicalized in its final context: inclusive C14N gives it every namespace
    // and xml:* attribute in scope there. That context is the start tags of the elements around
    // the Signature, so a small document of those tags and the Signature (with an empty
    // SignatureValue) canonicalizes exactly as the signed document will.
    let mut probe = context
        .iter()
        .map(|(tag, _)| tag.as_str())
        .collect::<String>();
    probe.push_str(&signature(""));
    for (_, name) in context.iter().rev() {
        probe.push_str("</");
        probe.push_str(name);
        probe.push('>');
    }
    let probe_doc = parse(&probe)?;
    let sig_el = dom::signatures(&probe_doc)
        .into_iter()
        .next()
        .ok_or_else(|| XmlError::BadSignature("inserted signature not found".into()))?;
    let si = dom::dsig_child(&probe_doc, sig_el, "SignedInfo")
        .ok_or_else(|| XmlError::BadSignature("SignedInfo".into()))?;
    let si_bytes = dom::c14n(
        &probe_doc,
        C14nMode::Inclusive,
        &NodeSet::tree_without_comments(si, &probe_doc),
        &[],
    )?;
    let value = key.sign(key_alg, &si_bytes)?;
    let signature = signature(&wrap76(&STANDARD.encode(value)));

    // The output is built once: the document's text with the Signature spliced in.
    let mut out = String::with_capacity(xml.len() + signature.len() + 64);
    out.push_str(&xml[..insert_at]);
    if let Some(name) = &empty_tag {
        // `<a/>` becomes `<a>` + signature + `</a>`.
        out.push('>');
        out.push_str(&signature);
        out.push_str("</");
        out.push_str(name);
        out.push('>');
        out.push_str(&xml[insert_at + 2..]);
    } else {
        out.push_str(&signature);
        out.push_str(&xml[insert_at..]);
    }
    Ok(out)
}

/// What signing needs from the document itself.
struct Located {
    /// The Reference URI.
    uri: String,
    /// The digest of what the Reference covers.
    digest: Vec<u8>,
    /// Where the Signature goes in the text.
    insert_at: usize,
    /// For an empty-element parent `<a/>`, its name (the new end tag needs it).
    empty_tag: Option<String>,
    /// The start tags around the Signature, outermost first, with their names.
    context: Vec<(String, String)>,
}

fn locate(
    xml: &str,
    opts: &XmlSignOptions<'_>,
    digest_alg: crate::DigestAlgorithm,
) -> Result<Located, XmlError> {
    // Everything the document itself is needed for: the digest (canonicalized straight into
    // the hasher), where the Signature goes, and the start tags of the elements around it. The
    // common case, the whole document with the Signature under the document element, takes one
    // pass of the pull parser and builds no DOM; the others parse a DOM, dropped here.
    let whole = match opts.tbs {
        Tbs::WholeDocument => true,
        Tbs::XPath(x) => x.trim().is_empty(),
        Tbs::ElementId { .. } => false,
    };
    let under_root = match opts.parent {
        Parent::DocumentElement => true,
        Parent::XPath(x) => x.trim().is_empty(),
        Parent::ElementName(_) => false,
    };
    if whole && under_root {
        let mut sink = dom::HashSink::new(digest_alg);
        let w = stream::canonicalize_whole(xml, &mut sink)?;
        let empty_tag = w.empty.then(|| w.name.clone());
        return Ok(Located {
            uri: String::new(),
            digest: sink.finish(),
            insert_at: w.insert_at,
            empty_tag,
            context: vec![(w.start_tag, w.name)],
        });
    }
    let mut doc = parse(xml)?;
    let (uri, tbs_set) = reference_of(&mut doc, opts.tbs)?;
    let parent = match opts.parent {
        Parent::DocumentElement => doc
            .document_element()
            .ok_or_else(|| XmlError::Malformed("no document element".into()))?,
        Parent::XPath(x) if x.trim().is_empty() => doc
            .document_element()
            .ok_or_else(|| XmlError::Malformed("no document element".into()))?,
        Parent::XPath(x) => dom::select_one(&mut doc, x)?,
        Parent::ElementName(n) => dom::element_by_name(&doc, n)?,
    };
    // The Signature does not exist yet, so the enveloped transform has nothing to remove:
    // the digest over the document as it is equals the digest a verifier computes
    // afterwards.
    let digest = dom::c14n_digest(
        &doc,
        C14nMode::InclusiveWithComments,
        &tbs_set,
        &[],
        digest_alg,
    )?;
    let (insert_at, empty_tag) = insertion_point(&doc, parent)?;
    let context = context_of(&doc, parent)?;
    Ok(Located {
        uri,
        digest,
        insert_at,
        empty_tag,
        context,
    })
}

/// Signs several documents with one key (NCALayer's `signXmls`); stops at the first failure.
pub fn sign_many(
    key: &dyn SigningKey,
    docs: &[&str],
    opts: &XmlSignOptions<'_>,
) -> Result<Vec<String>, XmlError> {
    docs.iter().map(|d| sign(key, d, opts)).collect()
}

/// The Reference URI and the node set it covers.
fn reference_of(doc: &mut Document<'_>, tbs: Tbs<'_>) -> Result<(String, NodeSet), XmlError> {
    let (element, id_attrs): (NodeId, Vec<&str>) = match tbs {
        Tbs::WholeDocument => return Ok((String::new(), dom::whole_document(doc))),
        Tbs::XPath(x) if x.trim().is_empty() => {
            return Ok((String::new(), dom::whole_document(doc)));
        }
        Tbs::XPath(x) => (dom::select_one(doc, x)?, ID_ATTRS.to_vec()),
        Tbs::ElementId { element, id_attr } => (dom::element_by_name(doc, element)?, vec![id_attr]),
    };
    let e = doc
        .element(element)
        .ok_or_else(|| XmlError::XPath("not an element".into()))?;
    let id = e
        .attributes
        .iter()
        .find(|a| id_attrs.contains(&&*a.name.local_name))
        .map(|a| a.value.to_string())
        .ok_or_else(|| XmlError::NoId(id_attrs.join("/")))?;
    // The verifier resolves the ID by attribute value: it must be unique.
    dom::element_by_id(doc, &id, id_attrs.first().copied())?;
    Ok((
        format!("#{id}"),
        NodeSet::tree_without_comments(element, doc),
    ))
}

/// The start tags of `parent` and its ancestors, outermost first, each with its element's name
/// (an empty-element tag `<a/>` given as `<a>`).
fn context_of(doc: &Document<'_>, parent: NodeId) -> Result<Vec<(String, String)>, XmlError> {
    let src = doc.input_text();
    let mut chain = doc.ancestors(parent);
    chain.reverse();
    chain.push(parent);
    let mut out = Vec::new();
    for id in chain {
        let Some(e) = doc.element(id) else { continue };
        let tag = doc
            .node_range(id)
            .and_then(|r| start_tag(&src[r]))
            .ok_or_else(|| XmlError::Malformed("element position unknown".into()))?;
        let tag = tag
            .strip_suffix("/>")
            .map_or_else(|| tag.to_owned(), |t| format!("{t}>"));
        out.push((tag, e.name.prefixed_name().into_owned()));
    }
    Ok(out)
}

/// Where in the text the Signature goes: before the parent's end tag. For an empty-element tag
/// (`<a/>`) it is the offset of `/>`, returned with the element's name for the new end tag.
fn insertion_point(
    doc: &Document<'_>,
    parent: NodeId,
) -> Result<(usize, Option<String>), XmlError> {
    let range = doc
        .node_range(parent)
        .ok_or_else(|| XmlError::Malformed("element position unknown".into()))?;
    let src = doc.input_text();
    let element_text = &src[range.clone()];
    let name = doc
        .element(parent)
        .map(|e| e.name.prefixed_name().into_owned())
        .unwrap_or_default();
    if element_text.ends_with("/>") {
        return Ok((range.end - 2, Some(name)));
    }
    let end_tag_start = element_text
        .rfind("</")
        .ok_or_else(|| XmlError::Malformed("end tag not found".into()))?;
    Ok((range.start + end_tag_start, None))
}
