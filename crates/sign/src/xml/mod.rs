//! Enveloped XMLDSig in the shape Kalkan and NCALayer produce (KZ-PKI.md §3.4), and
//! verification of enveloped signatures made by anyone.
//!
//! * Parsing is safe by construction: DTDs are refused (so no external entities and no entity
//!   expansion), nesting depth and size are limited ([`parse`]).
//! * Canonicalization is `bergshamra-c14n` (inclusive/exclusive, ±comments) on the `uppsala`
//!   DOM.
//! * The signed output is the input text with the `<ds:Signature>` spliced in: the XML
//!   declaration and the document's own bytes stay exactly as they were.

mod algorithms;
mod dom;
mod parse;
mod preview;
mod sign;
mod stream;
mod verify;

pub use algorithms::XmlSignatureAlgorithm;
pub use parse::{MAX_DEPTH, MAX_XML_SIZE, parse, text};
pub use preview::preview;
pub use sign::{Parent, Tbs, XmlSignOptions, sign, sign_many};
pub use uppsala::Document;
pub use verify::{
    ReferenceReport, XmlLimits, XmlSignatureReport, XmlVerifyOptions, XmlVerifyReport, verify,
};

/// Canonicalizes a whole document (C14N 1.0 inclusive or exclusive, with or without comments),
/// parsed with the same safety rules as signing.
///
/// Inclusive without comments, what `Reference URI=""` signs, streams without a DOM
/// ([`stream`]).
pub fn canonicalize(xml: &str, exclusive: bool, with_comments: bool) -> Result<Vec<u8>, XmlError> {
    use bergshamra_c14n::C14nMode;
    if !exclusive && !with_comments {
        let mut out = Vec::with_capacity(xml.len());
        stream::canonicalize_whole(xml, &mut out)?;
        return Ok(out);
    }
    let doc = parse(xml)?;
    let mode = match (exclusive, with_comments) {
        (false, false) => C14nMode::Inclusive,
        (false, true) => C14nMode::InclusiveWithComments,
        (true, false) => C14nMode::Exclusive,
        (true, true) => C14nMode::ExclusiveWithComments,
    };
    let set = if with_comments {
        bergshamra_xml::nodeset::NodeSet::all(&doc)
    } else {
        bergshamra_xml::nodeset::NodeSet::all_without_comments(&doc)
    };
    dom::c14n(&doc, mode, &set, &[])
}

/// Inclusive C14N without comments through the DOM (`bergshamra-c14n`) instead of the
/// streaming canonicalizer that [`canonicalize`] uses for it: the two are compared by the
/// `xml_c14n` fuzz target. Not for other uses.
#[doc(hidden)]
pub fn canonicalize_with_dom(xml: &str) -> Result<Vec<u8>, XmlError> {
    let doc = parse(xml)?;
    dom::c14n(
        &doc,
        bergshamra_c14n::C14nMode::Inclusive,
        &bergshamra_xml::nodeset::NodeSet::all_without_comments(&doc),
        &[],
    )
}

/// Why XML could not be signed or checked. Messages are for people and carry no secrets.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum XmlError {
    /// Not well-formed XML (with the parser's position).
    #[error("malformed XML: {0}")]
    Malformed(String),
    /// A document type declaration: refused, so that no entity is ever expanded or fetched.
    #[error("XML with a document type declaration (DTD) is not accepted")]
    Dtd,
    /// Elements nest deeper than [`MAX_DEPTH`].
    #[error("XML nests deeper than {MAX_DEPTH} levels")]
    TooDeep,
    /// Larger than [`MAX_XML_SIZE`].
    #[error("the XML document is larger than {} MiB", MAX_XML_SIZE >> 20)]
    TooLarge,
    /// Input bytes are not UTF-8.
    #[error("the XML document is not UTF-8 text")]
    NotUtf8,
    /// An XPath that does not parse or select exactly one element.
    #[error("XPath {0}")]
    XPath(String),
    /// The element to sign has no ID attribute to reference.
    #[error("the element to sign has no {0} attribute")]
    NoId(String),
    /// An ID that more than one element carries (would allow signature wrapping).
    #[error("the ID {0:?} appears on more than one element")]
    DuplicateId(String),
    /// Something this program does not implement (algorithm, transform…).
    #[error("unsupported: {0}")]
    Unsupported(String),
    /// The signature would take more work than a verification may.
    #[error("refused: the document has {0}")]
    TooMuchWork(String),
    /// No `ds:Signature` in the document.
    #[error("the document has no XML signature")]
    NoSignature,
    /// A signature element that lacks a required part.
    #[error("malformed XML signature: {0}")]
    BadSignature(String),
    /// The key failed.
    #[error(transparent)]
    Key(#[from] qoltanba_keys::KeyError),
}
