//! Small helpers over the `uppsala` DOM: names, IDs, XPath with the document's prefixes, and
//! canonicalization of node sets.

use std::collections::HashMap;

use bergshamra_c14n::{C14nMode, C14nSink};
use bergshamra_xml::nodeset::NodeSet;
use uppsala::{Document, NodeId, NodeKind};

use super::XmlError;
use super::algorithms::DSIG_NS;
use crate::digest_alg::{DigestAlgorithm, Hasher};

/// Attribute names treated as IDs (XMLDSig needs a schema to know; these are what Kalkan,
/// xmlsec and portals use). `xml:id` is matched by its local name `id`.
pub(crate) const ID_ATTRS: [&str; 3] = ["Id", "ID", "id"];

pub(crate) fn is_element(doc: &Document<'_>, id: NodeId) -> bool {
    matches!(doc.node_kind(id), Some(NodeKind::Element(_)))
}

/// True for an element `{DSIG_NS}local`.
pub(crate) fn is_dsig(doc: &Document<'_>, id: NodeId, local: &str) -> bool {
    doc.element(id).is_some_and(|e| {
        e.name.local_name == local && e.name.namespace_uri.as_deref() == Some(DSIG_NS)
    })
}

/// The first child element `{DSIG_NS}local` of `parent`.
pub(crate) fn dsig_child(doc: &Document<'_>, parent: NodeId, local: &str) -> Option<NodeId> {
    doc.children_iter(parent).find(|c| is_dsig(doc, *c, local))
}

/// All child elements `{DSIG_NS}local` of `parent`.
pub(crate) fn dsig_children(doc: &Document<'_>, parent: NodeId, local: &str) -> Vec<NodeId> {
    doc.children_iter(parent)
        .filter(|c| is_dsig(doc, *c, local))
        .collect()
}

/// Every node of a parsed document in arena order, without building a list of them. The arena
/// has no holes, and it holds no more nodes than the source has bytes (every node but the
/// document's takes at least one), which bounds the walk.
pub(crate) fn nodes<'d>(doc: &'d Document<'_>) -> impl Iterator<Item = NodeId> + 'd {
    (0..=doc.input_text().len())
        .map(NodeId::new)
        .take_while(move |id| doc.node_kind(*id).is_some())
}

/// Every `ds:Signature` element in document order. The arena is walked in place (no list of
/// every node is built) and the few found are put in the order of their source offsets.
pub(crate) fn signatures(doc: &Document<'_>) -> Vec<NodeId> {
    let mut found: Vec<NodeId> = nodes(doc)
        .filter(|n| is_dsig(doc, *n, "Signature"))
        .collect();
    found.sort_by_key(|n| doc.node_range(*n).map_or(usize::MAX, |r| r.start));
    found
}

/// The text inside an element, concatenated.
pub(crate) fn text_of(doc: &Document<'_>, id: NodeId) -> String {
    doc.text_content_deep(id)
}

/// The one element whose ID attribute (see [`ID_ATTRS`], plus `extra`) equals `value`.
pub(crate) fn element_by_id(
    doc: &Document<'_>,
    value: &str,
    extra: Option<&str>,
) -> Result<NodeId, XmlError> {
    let mut found = None;
    for n in doc.descendants(doc.root()) {
        let Some(e) = doc.element(n) else { continue };
        let hit = e.attributes.iter().any(|a| {
            let name = &*a.name.local_name;
            (ID_ATTRS.contains(&name) || extra == Some(name)) && a.value == value
        });
        if hit {
            if found.is_some() {
                return Err(XmlError::DuplicateId(value.to_owned()));
            }
            found = Some(n);
        }
    }
    found.ok_or_else(|| XmlError::BadSignature(format!("no element has the ID {value:?}")))
}

/// Evaluates an XPath that must select exactly one element. Prefixes declared anywhere in the
/// document are bound, so `/a:Request/a:Body` works for `xmlns:a="…"` documents.
pub(crate) fn select_one(doc: &mut Document<'_>, xpath: &str) -> Result<NodeId, XmlError> {
    let mut prefixes: HashMap<String, String> = HashMap::new();
    for n in doc.descendants(doc.root()) {
        if let Some(e) = doc.element(n) {
            for (p, uri) in &e.namespace_declarations {
                if !p.is_empty() {
                    prefixes
                        .entry(p.to_string())
                        .or_insert_with(|| uri.to_string());
                }
            }
        }
    }
    doc.prepare_xpath();
    let mut ev = uppsala::xpath::XPathEvaluator::new();
    for (p, uri) in prefixes {
        ev.add_namespace(p, uri);
    }
    let nodes = ev
        .select_nodes(doc, doc.root(), xpath)
        .map_err(|e| XmlError::XPath(format!("{xpath:?}: {e}")))?;
    let elements: Vec<NodeId> = nodes.into_iter().filter(|n| is_element(doc, *n)).collect();
    match elements.as_slice() {
        [one] => Ok(*one),
        [] => Err(XmlError::XPath(format!("{xpath:?} selects no element"))),
        more => Err(XmlError::XPath(format!(
            "{xpath:?} selects {} elements, not one",
            more.len()
        ))),
    }
}

/// The first element with local name `name` (legacy applet API names elements, not paths).
pub(crate) fn element_by_name(doc: &Document<'_>, name: &str) -> Result<NodeId, XmlError> {
    doc.descendants(doc.root())
        .into_iter()
        .find(|n| doc.element(*n).is_some_and(|e| e.name.local_name == name))
        .ok_or_else(|| XmlError::XPath(format!("no element named {name:?}")))
}

/// Canonicalizes a node set.
pub(crate) fn c14n(
    doc: &Document<'_>,
    mode: C14nMode,
    set: &NodeSet,
    prefixes: &[String],
) -> Result<Vec<u8>, XmlError> {
    bergshamra_c14n::canonicalize_doc(doc, mode, Some(set), prefixes)
        .map_err(|e| XmlError::Unsupported(format!("canonicalization: {e}")))
}

/// Canonicalizes a node set straight into a digest: the canonical bytes are never held whole
/// (for a whole document they are as large as the document).
pub(crate) fn c14n_digest(
    doc: &Document<'_>,
    mode: C14nMode,
    set: &NodeSet,
    prefixes: &[String],
    alg: DigestAlgorithm,
) -> Result<Vec<u8>, XmlError> {
    let mut sink = HashSink::new(alg);
    bergshamra_c14n::canonicalize_doc_to(doc, mode, Some(set), prefixes, &mut sink)
        .map_err(|e| XmlError::Unsupported(format!("canonicalization: {e}")))?;
    Ok(sink.finish())
}

/// Collects a canonicalizer's small writes into 64 KiB pieces for a hasher.
pub(crate) struct HashSink {
    hasher: Hasher,
    buf: Vec<u8>,
}

impl HashSink {
    const CAP: usize = 64 << 10;

    pub(crate) fn new(alg: DigestAlgorithm) -> Self {
        Self {
            hasher: alg.hasher(),
            buf: Vec::with_capacity(Self::CAP),
        }
    }

    /// The digest of everything written.
    pub(crate) fn finish(mut self) -> Vec<u8> {
        self.flush();
        self.hasher.finish()
    }

    fn flush(&mut self) {
        self.hasher.update(&self.buf);
        self.buf.clear();
    }
}

impl C14nSink for HashSink {
    // A capacity hint is the size of the whole output: this sink needs none.
    fn reserve(&mut self, _additional: usize) {}

    fn write(&mut self, bytes: &[u8]) {
        if self.buf.len() + bytes.len() > Self::CAP {
            self.flush();
        }
        if bytes.len() >= Self::CAP {
            self.hasher.update(bytes);
        } else {
            self.buf.extend_from_slice(bytes);
        }
    }

    fn write_byte(&mut self, byte: u8) {
        if self.buf.len() == Self::CAP {
            self.flush();
        }
        self.buf.push(byte);
    }
}

/// The whole document without comments. A source without `<!--` has no comment to leave out,
/// and then the set is built without walking every node to find them.
pub(crate) fn whole_document(doc: &Document<'_>) -> NodeSet {
    if doc.input_text().contains("<!--") {
        NodeSet::all_without_comments(doc)
    } else {
        NodeSet::all(doc)
    }
}

/// The node set a same-document Reference URI selects (XMLDSig §4.3.3.3): `""` is the whole
/// document **without comments** (even when a `#WithComments` transform follows); `#id` is that
/// element's subtree, also without comments.
pub(crate) fn reference_set(
    doc: &Document<'_>,
    uri: &str,
    extra_id: Option<&str>,
) -> Result<NodeSet, XmlError> {
    if uri.is_empty() {
        return Ok(whole_document(doc));
    }
    if let Some(id) = uri.strip_prefix('#') {
        let id = id
            .strip_prefix("xpointer(id('")
            .and_then(|r| r.strip_suffix("'))"))
            .unwrap_or(id);
        let el = element_by_id(doc, id, extra_id)?;
        return Ok(NodeSet::tree_without_comments(el, doc));
    }
    Err(XmlError::Unsupported(format!(
        "Reference URI {uri:?} (only same-document references)"
    )))
}

/// The enveloped-signature transform: everything but the Signature's subtree.
pub(crate) fn without_signature(doc: &Document<'_>, set: &NodeSet, signature: NodeId) -> NodeSet {
    set.subtract(&NodeSet::tree_with_comments(signature, doc))
}
