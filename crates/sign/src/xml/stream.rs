//! The common case, a whole document signed with the Signature under the document element,
//! without a DOM: one pass of `uppsala`'s pull parser canonicalizes the document straight into
//! the hasher and finds where the Signature goes.
//!
//! The DOM of a 10 MiB form takes about 17 times the document's size; this pass holds only the
//! open elements' namespace bindings. The pull parser is the same tokenizer as the DOM parser,
//! with the same options ([`super::parse`]: no DTD, no entities, the depth limit), so a document
//! is accepted or refused exactly as on the DOM path.
//!
//! Written by hand because `bergshamra-c14n` canonicalizes only a DOM. This is inclusive
//! Canonical XML 1.0 without comments over the whole document (what `Reference URI=""` selects,
//! XMLDSig §4.3.3.3), which is the simplest case of the algorithm: every namespace declaration
//! that changes a binding is rendered where it is made, sorted by prefix; attributes sorted by
//! namespace URI and local name; the escapes are `bergshamra-c14n`'s own. The tests compare the
//! output with `bergshamra-c14n` and `xmllint --c14n` on documents full of traps.

use bergshamra_c14n::C14nSink;
use bergshamra_c14n::escape::{escape_attr_into, escape_pi_into, escape_text_into};
use std::borrow::Cow;

use uppsala::{Attribute, PullEvent, PullParser, QName};

use super::XmlError;
use super::parse;
use super::parse::{MAX_DEPTH, MAX_XML_SIZE, normalized_value, raw_attributes};

/// What one pass over a document found.
pub(crate) struct WholeDocument {
    /// Where the Signature goes: before the document element's end tag, or at the `/>` of an
    /// empty document element.
    pub(crate) insert_at: usize,
    /// The document element is empty (`<a/>`), so the Signature needs a new end tag.
    pub(crate) empty: bool,
    /// The document element's name.
    pub(crate) name: String,
    /// The document element's start tag (`<a …>` even when the element is empty).
    pub(crate) start_tag: String,
}

/// Canonicalizes the whole document (inclusive C14N 1.0, without comments) into `out`.
pub(crate) fn canonicalize_whole<W: C14nSink>(
    xml: &str,
    out: &mut W,
) -> Result<WholeDocument, XmlError> {
    if xml.len() > MAX_XML_SIZE {
        return Err(XmlError::TooLarge);
    }
    let mut events = PullParser::new(xml)
        .with_forbid_dtd(true)
        .with_forbid_entities(true)
        .with_max_depth(MAX_DEPTH);
    // In-scope namespace bindings (prefix, URI; "" is the default namespace), and for each open
    // element how many bindings were in scope before it.
    let mut bindings: Vec<(String, String)> = Vec::new();
    let mut open: Vec<usize> = Vec::new();
    let mut seen_root = false;
    let mut root: Option<(usize, usize)> = None;
    let mut found = None;
    while let Some(event) = events.next_event().map_err(|e| parse::error(&e))? {
        match event {
            PullEvent::StartElement {
                name,
                attributes,
                namespace_declarations,
                byte_start,
                byte_end,
                ..
            } => {
                if open.is_empty() {
                    seen_root = true;
                    root = Some((byte_start, byte_end));
                }
                open.push(bindings.len());
                let tag = &xml[byte_start..byte_end];
                start_tag(
                    out,
                    tag,
                    &name,
                    &attributes,
                    namespace_declarations,
                    &mut bindings,
                );
            }
            PullEvent::EndElement {
                name, byte_start, ..
            } => {
                out.write(b"</");
                write_qname(out, name.prefix.as_deref(), &name.local_name);
                out.write_byte(b'>');
                if let Some(before) = open.pop() {
                    bindings.truncate(before);
                }
                if open.is_empty() {
                    let (start, end) = root.unwrap_or_default();
                    let tag = &xml[start..end];
                    found = Some(if byte_start == start {
                        // `<a …/>`: the Signature goes at the `/>`.
                        WholeDocument {
                            insert_at: end - 2,
                            empty: true,
                            name: name.prefixed_name().into_owned(),
                            start_tag: format!("{}>", tag.strip_suffix("/>").unwrap_or(tag)),
                        }
                    } else {
                        WholeDocument {
                            insert_at: byte_start,
                            empty: false,
                            name: name.prefixed_name().into_owned(),
                            start_tag: tag.to_owned(),
                        }
                    });
                }
            }
            PullEvent::Text { content, .. } | PullEvent::CData { content, .. } => {
                if !open.is_empty() {
                    escape_text_into(out, &content);
                }
            }
            PullEvent::ProcessingInstruction { pi, .. } => {
                // Outside the document element a PI is set apart by a line end.
                let top = open.is_empty();
                if top && seen_root {
                    out.write_byte(b'\n');
                }
                out.write(b"<?");
                out.write(pi.target.as_bytes());
                if let Some(data) = pi.data.as_deref().filter(|d| !d.is_empty()) {
                    out.write_byte(b' ');
                    escape_pi_into(out, data);
                }
                out.write(b"?>");
                if top && !seen_root {
                    out.write_byte(b'\n');
                }
            }
            PullEvent::Doctype(_) => return Err(XmlError::Dtd),
            // Comments are not in the node set; the declaration and namespace events carry
            // nothing canonical.
            PullEvent::Comment { .. }
            | PullEvent::XmlDeclaration(_)
            | PullEvent::StartNamespace { .. }
            | PullEvent::EndNamespace => {}
        }
    }
    found.ok_or_else(|| XmlError::Malformed("no document element".into()))
}

/// Writes a start tag: the name, the namespace declarations that change a binding (sorted by
/// prefix, "" first), then the attributes sorted by (namespace URI, local name), their values
/// normalized as the DOM path does (XML 1.0 §3.3.3, see parse.rs). The declarations join
/// `bindings`.
fn start_tag<W: C14nSink>(
    out: &mut W,
    tag: &str,
    name: &QName<'_>,
    attributes: &[Attribute<'_>],
    namespace_declarations: Vec<(Cow<'_, str>, Cow<'_, str>)>,
    bindings: &mut Vec<(String, String)>,
) {
    out.write_byte(b'<');
    write_qname(out, name.prefix.as_deref(), &name.local_name);
    // Declarations that change a binding, sorted by prefix ("" first).
    let mut rendered: Vec<(&str, &str)> = Vec::new();
    for (prefix, uri) in &namespace_declarations {
        if prefix == "xml" {
            continue;
        }
        let current = bindings
            .iter()
            .rev()
            .find(|(p, _)| p == prefix)
            .map_or("", |(_, u)| u.as_str());
        if current != uri {
            rendered.push((prefix, uri));
        }
    }
    rendered.sort_unstable();
    for (prefix, uri) in &rendered {
        out.write(b" xmlns");
        if !prefix.is_empty() {
            out.write_byte(b':');
            out.write(prefix.as_bytes());
        }
        out.write(b"=\"");
        escape_attr_into(out, uri);
        out.write_byte(b'"');
    }
    for (prefix, uri) in namespace_declarations {
        bindings.push((prefix.into_owned(), uri.into_owned()));
    }
    // Attributes sorted by (namespace URI, local name); values as the DOM path
    // normalizes them (XML 1.0 §3.3.3, see parse.rs).
    let raw = if tag.contains(['\t', '\n', '\r']) {
        raw_attributes(tag)
    } else {
        Vec::new()
    };
    let mut attrs: Vec<_> = attributes
        .iter()
        .map(|a| {
            let key = (
                a.name.namespace_uri.as_deref().unwrap_or(""),
                &*a.name.local_name,
            );
            let qname = a.name.prefixed_name();
            let value = raw
                .iter()
                .find(|(n, v)| *n == qname && v.contains(['\t', '\n', '\r']))
                .map_or(Cow::Borrowed(&*a.value), |(_, v)| {
                    Cow::Owned(normalized_value(v))
                });
            (key, qname, value)
        })
        .collect();
    attrs.sort_unstable_by(|a, b| a.0.cmp(&b.0));
    for (_, qname, value) in &attrs {
        out.write_byte(b' ');
        out.write(qname.as_bytes());
        out.write(b"=\"");
        escape_attr_into(out, value);
        out.write_byte(b'"');
    }
    out.write_byte(b'>');
}

fn write_qname<W: C14nSink>(out: &mut W, prefix: Option<&str>, local: &str) {
    if let Some(p) = prefix.filter(|p| !p.is_empty()) {
        out.write(p.as_bytes());
        out.write_byte(b':');
    }
    out.write(local.as_bytes());
}

#[cfg(test)]
mod tests {
    use bergshamra_c14n::C14nMode;
    use bergshamra_xml::nodeset::NodeSet;

    use super::*;
    use crate::xml::dom;

    /// Documents with the traps of C14N: namespaces declared, redeclared, undeclared and
    /// unused; attribute order and namespaced attributes; every escape; line ends; CDATA;
    /// PIs and comments inside and outside; empty elements; whitespace outside the document
    /// element; literal whitespace in attribute values.
    const DOCS: &[&str] = &[
        "<a/>",
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<!-- c -->\n<?pi  data ?>\n<r xmlns=\"urn:d\" xmlns:x=\"urn:x\"><x:c x:a=\"1\" b=\"2\" a=\"3\"/><!-- in --><?in?></r>\n<!-- after -->\n<?after x?>\n",
        "<a xmlns:u=\"urn:unused\" xml:lang=\"kk\"><b xmlns:u=\"urn:unused\">Қазақша</b><c xml:space=\"preserve\">  </c></a>",
        "<a attr=\"tab\t nl\n cr&#13; lt&lt; gt&gt; amp&amp; quot&quot;\" b='&#9;&#10;'>text &#xD; &lt; &gt; &amp; ' \"\r\nline\rend</a>",
        "<a><![CDATA[<not> & markup]]><e></e><e/></a>",
        "<p:a xmlns:p=\"urn:p\" xmlns:q=\"urn:q\"><q:b xmlns:p=\"urn:p\"><p:c/></q:b></p:a>",
        "<a xmlns=\"urn:1\"><b xmlns=\"\"><c xmlns=\"\"/><d xmlns=\"urn:1\"/></b><e xmlns=\"urn:2\" xmlns:z=\"urn:z\" xmlns:b=\"urn:b\" z:k=\"1\" b:k=\"2\" k=\"3\"/></a>",
        "<a xmlns:xml=\"http://www.w3.org/XML/1998/namespace\" xml:base=\"x\" z=\"&quot;\" y=\"'\"/>",
        "<form xmlns=\"urn:egov:form\">\n  <field n=\"1\" kind=\"text\">Өтініш №1</field>\n</form>",
    ];

    #[test]
    fn streams_what_the_dom_canonicalizer_gives() {
        for doc in DOCS {
            let mut ours = Vec::new();
            canonicalize_whole(doc, &mut ours).unwrap();
            let parsed = parse(doc).unwrap();
            let theirs = dom::c14n(
                &parsed,
                C14nMode::Inclusive,
                &NodeSet::all_without_comments(&parsed),
                &[],
            )
            .unwrap();
            assert_eq!(
                String::from_utf8(ours).unwrap(),
                String::from_utf8(theirs).unwrap(),
                "{doc}"
            );
        }
    }

    #[test]
    fn finds_where_the_signature_goes() {
        let doc = "<?xml version=\"1.0\"?>\n<r a=\"1\">x<s/></r>\n";
        let w = canonicalize_whole(doc, &mut Vec::new()).unwrap();
        assert_eq!(&doc[w.insert_at..], "</r>\n");
        assert_eq!(
            (w.empty, w.name.as_str(), w.start_tag.as_str()),
            (false, "r", "<r a=\"1\">")
        );
        let doc = "<p:r xmlns:p=\"urn:p\" b='>'/>";
        let w = canonicalize_whole(doc, &mut Vec::new()).unwrap();
        assert_eq!(&doc[w.insert_at..], "/>");
        assert_eq!(
            (w.empty, w.name.as_str(), w.start_tag.as_str()),
            (true, "p:r", "<p:r xmlns:p=\"urn:p\" b='>'>")
        );
    }

    #[test]
    fn refuses_what_the_dom_parser_refuses() {
        let deep = format!("{}{}", "<a>".repeat(70), "</a>".repeat(70));
        for doc in [
            "<!DOCTYPE a [<!ENTITY x \"y\">]><a>&x;</a>",
            "<!DOCTYPE a><a/>",
            "<a>&unknown;</a>",
            "<a><b></a>",
            "<a x=\"1\" x=\"2\"/>",
            "<p:a/>",
            "",
            "<a/><b/>",
            "<a>\u{1}</a>",
            deep.as_str(),
        ] {
            let dom = parse(doc).map(|_| ()).map_err(|e| e.to_string());
            let ours = canonicalize_whole(doc, &mut Vec::new())
                .map(|_| ())
                .map_err(|e| e.to_string());
            assert!(ours.is_err(), "{doc:?} was accepted");
            assert_eq!(ours, dom, "{doc:?}");
        }
    }
}
