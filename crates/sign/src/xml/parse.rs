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
    parser.parse(xml).map_err(|e| {
        let msg = e.to_string();
        let lower = msg.to_lowercase();
        if lower.contains("doctype") || lower.contains("dtd") {
            XmlError::Dtd
        } else if lower.contains("depth") || lower.contains("nest") {
            XmlError::TooDeep
        } else {
            XmlError::Malformed(msg)
        }
    })
}

/// Bytes to text: UTF-8 only (a leading BOM is dropped).
pub fn text(bytes: &[u8]) -> Result<&str, XmlError> {
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    std::str::from_utf8(bytes).map_err(|_| XmlError::NotUtf8)
}
