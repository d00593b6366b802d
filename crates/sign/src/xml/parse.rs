//! Safe XML parsing: `uppsala` with DTDs and entity declarations forbidden, a depth limit and a
//! size limit. Only the five predefined entities and character references are ever resolved.

use uppsala::{Document, Parser};

use super::XmlError;

/// Deepest element nesting accepted. Portal forms nest under 20 levels; crafted input deeper
/// than this is refused before it can exhaust the stack of any later recursion.
pub const MAX_DEPTH: u32 = 64;
/// Largest document accepted (the server's frame limit is 50 MB of base64 documents).
pub const MAX_XML_SIZE: usize = 64 << 20;

/// Parses `xml` safely.
pub fn parse(xml: &str) -> Result<Document<'_>, XmlError> {
    if xml.len() > MAX_XML_SIZE {
        return Err(XmlError::TooLarge);
    }
    let parser = Parser::new()
        .with_forbid_dtd(true)
        .with_forbid_entities(true)
        .with_max_depth(MAX_DEPTH);
    let mut doc = parser.parse(xml).map_err(|e| error(&e))?;
    normalize_attribute_whitespace(&mut doc);
    Ok(doc)
}

/// The parser's error as ours (the DOM and the pull parser share it).
pub(crate) fn error(e: &uppsala::XmlError) -> XmlError {
    let msg = e.to_string();
    let lower = msg.to_lowercase();
    if lower.contains("doctype") || lower.contains("dtd") {
        XmlError::Dtd
    } else if lower.contains("depth") || lower.contains("nest") {
        XmlError::TooDeep
    } else {
        XmlError::Malformed(msg)
    }
}

/// XML 1.0 §3.3.3: in an attribute value a literal tab, line feed or carriage return (after
/// §2.11 line-end normalisation, so CR LF counts once) becomes a space, while the same
/// characters written as character references stay. The parser keeps literal whitespace, which
/// would change what C14N outputs (and so every digest) compared with libxml2, xmlsec and
/// Kalkan; the affected values are recomputed from the source text here.
fn normalize_attribute_whitespace(doc: &mut Document<'_>) {
    let src = doc.input_text();
    // Every element once, in arena order (the order does not matter here); the changes are
    // made after the walk.
    let mut changes = Vec::new();
    for id in super::dom::nodes(doc)
        .filter(|id| matches!(doc.node_kind(*id), Some(uppsala::NodeKind::Element(_))))
    {
        let Some(range) = doc.node_range(id) else {
            continue;
        };
        let Some(tag) = start_tag(&src[range]) else {
            continue;
        };
        if !tag.contains(['\t', '\n', '\r']) {
            continue;
        }
        for (name, raw) in raw_attributes(tag) {
            if !raw.contains(['\t', '\n', '\r']) || name == "xmlns" || name.starts_with("xmlns:") {
                continue;
            }
            changes.push((id, name.to_owned(), normalized_value(raw)));
        }
    }
    for (id, name, value) in changes {
        let attr = doc.element_mut(id).and_then(|e| {
            e.attributes
                .iter_mut()
                .find(|a| a.name.prefixed_name() == name)
        });
        if let Some(a) = attr {
            a.value = std::borrow::Cow::Owned(value);
        }
    }
}

/// The start tag at the beginning of an element's source (`<name …>` or `<name …/>`).
pub(crate) fn start_tag(element: &str) -> Option<&str> {
    if !element.starts_with('<') {
        return None;
    }
    let mut quote = None;
    for (i, c) in element.char_indices() {
        match (quote, c) {
            (None, '"' | '\'') => quote = Some(c),
            (Some(q), c) if c == q => quote = None,
            (None, '>') => return Some(&element[..=i]),
            _ => {}
        }
    }
    None
}

/// `(name, raw value)` pairs of a well-formed start tag.
pub(crate) fn raw_attributes(tag: &str) -> Vec<(&str, &str)> {
    let body = tag
        .trim_start_matches('<')
        .trim_end_matches('>')
        .trim_end_matches('/');
    let mut rest = body.trim_start_matches(|c: char| !c.is_whitespace());
    let mut out = Vec::new();
    loop {
        rest = rest.trim_start();
        let Some(eq) = rest.find('=') else { break };
        let name = rest[..eq].trim();
        let after = rest[eq + 1..].trim_start();
        let Some(q) = after.chars().next().filter(|c| *c == '"' || *c == '\'') else {
            break;
        };
        let Some(end) = after[1..].find(q) else { break };
        out.push((name, &after[1..=end]));
        rest = &after[end + 2..];
    }
    out
}

/// Line ends normalised, literal whitespace to spaces, then references expanded (the five
/// predefined entities and character references: DTDs are refused, so there are no others).
pub(crate) fn normalized_value(raw: &str) -> String {
    let spaced = raw.replace("\r\n", " ").replace(['\r', '\n', '\t'], " ");
    let mut out = String::with_capacity(spaced.len());
    let mut rest = spaced.as_str();
    while let Some(amp) = rest.find('&') {
        out.push_str(&rest[..amp]);
        let Some(semi) = rest[amp..].find(';') else {
            out.push_str(&rest[amp..]);
            return out;
        };
        let name = &rest[amp + 1..amp + semi];
        let ch = match name {
            "lt" => Some('<'),
            "gt" => Some('>'),
            "amp" => Some('&'),
            "quot" => Some('"'),
            "apos" => Some('\''),
            _ => name
                .strip_prefix("#x")
                .map(|h| u32::from_str_radix(h, 16))
                .or_else(|| name.strip_prefix('#').map(str::parse::<u32>))
                .and_then(Result::ok)
                .and_then(char::from_u32),
        };
        match ch {
            Some(c) => out.push(c),
            None => out.push_str(&rest[amp..=amp + semi]),
        }
        rest = &rest[amp + semi + 1..];
    }
    out.push_str(rest);
    out
}

/// Bytes to text: UTF-8 only (a leading BOM is dropped).
pub fn text(bytes: &[u8]) -> Result<&str, XmlError> {
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    std::str::from_utf8(bytes).map_err(|_| XmlError::NotUtf8)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn attribute_values_are_normalized_like_xml_1_0() {
        assert_eq!(normalized_value("a\tb\r\nc\rd\ne"), "a b c d e");
        assert_eq!(
            normalized_value("x&#9;y&#xA;z&amp;&lt;&#x4D8;"),
            "x\ty\nz&<Ә"
        );
        assert_eq!(
            raw_attributes("<a b=\"1\" c:d='2 3'/>"),
            vec![("b", "1"), ("c:d", "2 3")]
        );
        let doc = parse("<a b=\"1\n2\" c=\"3&#10;4\"><x y='\t'/></a>").unwrap();
        let a = doc.document_element().unwrap();
        assert_eq!(doc.get_attribute(a, "b"), Some("1 2"));
        assert_eq!(doc.get_attribute(a, "c"), Some("3\n4"));
    }
}
