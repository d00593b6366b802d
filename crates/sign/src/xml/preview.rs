//! A readable preview of an XML form for the person who signs it: one line per field that
//! holds text (`name: value`, indented by depth), the fields' attributes aside, any existing
//! signature left out. Bounded in lines and characters whatever the document.

use uppsala::{Document, NodeId, NodeKind};

use super::algorithms::DSIG_NS;

/// Most characters of one value shown.
const MAX_VALUE: usize = 120;

/// The first `max_lines` lines of the preview of `doc`.
pub fn preview(doc: &Document<'_>, max_lines: usize) -> Vec<String> {
    let mut out = Vec::new();
    let Some(root) = doc.document_element() else {
        return out;
    };
    // Depth-first with an explicit stack (the parser already bounds the depth).
    let mut stack: Vec<(NodeId, usize)> = vec![(root, 0)];
    while let Some((id, depth)) = stack.pop() {
        if out.len() >= max_lines {
            out.push("…".to_owned());
            break;
        }
        let Some(e) = doc.element(id) else { continue };
        if e.name.namespace_uri.as_deref() == Some(DSIG_NS) && e.name.local_name == "Signature" {
            continue;
        }
        let children: Vec<NodeId> = doc.children(id);
        let elements: Vec<NodeId> = children
            .iter()
            .copied()
            .filter(|c| matches!(doc.node_kind(*c), Some(NodeKind::Element(_))))
            .collect();
        let text: String = children
            .iter()
            .filter_map(|c| match doc.node_kind(*c) {
                Some(NodeKind::Text(t) | NodeKind::CData(t)) => Some(t.as_ref()),
                _ => None,
            })
            .collect::<String>()
            .split_whitespace()
            .collect::<Vec<_>>()
            .join(" ");
        let indent = "  ".repeat(depth.min(8));
        let name = &e.name.local_name;
        if !text.is_empty() {
            let mut value: String = text.chars().take(MAX_VALUE).collect();
            if text.chars().count() > MAX_VALUE {
                value.push('…');
            }
            out.push(format!("{indent}{name}: {value}"));
        } else if !elements.is_empty() {
            out.push(format!("{indent}{name}"));
        }
        for c in elements.into_iter().rev() {
            stack.push((c, depth + 1));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::fmt::Write as _;

    #[test]
    fn fields_come_out_as_lines_and_signatures_are_left_out() {
        let xml = r#"<form><applicant><iin>123456789011</iin><name>  ТЕСТОВ
            ТЕСТ </name></applicant><amount currency="KZT">1500</amount>
            <ds:Signature xmlns:ds="http://www.w3.org/2000/09/xmldsig#"><ds:SignatureValue>AAAA</ds:SignatureValue></ds:Signature></form>"#;
        let doc = crate::xml::parse(xml).expect("parse");
        assert_eq!(
            preview(&doc, 20),
            [
                "form",
                "  applicant",
                "    iin: 123456789011",
                "    name: ТЕСТОВ ТЕСТ",
                "  amount: 1500"
            ]
        );
    }

    #[test]
    fn the_preview_is_bounded() {
        let mut many = String::new();
        for i in 0..10_000 {
            let _ = write!(many, "<f{i}>{}</f{i}>", "x".repeat(1000));
        }
        let xml = format!("<r>{many}</r>");
        let doc = crate::xml::parse(&xml).expect("parse");
        let p = preview(&doc, 30);
        assert_eq!(p.len(), 31);
        assert!(p.iter().all(|l| l.chars().count() <= MAX_VALUE + 20));
    }
}
