//! Structural comparison of X.500 names (RFC 5280 §7.1, simplified): names match when they have
//! the same RDNs in the same order, each with the same attribute types and values, values
//! compared after trimming, folding inner white space and case. String types (PrintableString
//! vs UTF8String) do not matter. Never compare DNs as display strings: NCA's two CA generations
//! order `C` and `CN` differently (KZ-PKI.md §1.2).

use der::asn1::{Any, Ia5StringRef, PrintableStringRef, TeletexStringRef, Utf8StringRef};
use der::{Decode, Encode, Tag, Tagged};
use x509_cert::name::Name;

fn normalise(value: &Any) -> Option<String> {
    let s = match value.tag() {
        Tag::Utf8String => Utf8StringRef::try_from(value).ok()?.as_str().to_owned(),
        Tag::PrintableString => PrintableStringRef::try_from(value)
            .ok()?
            .as_str()
            .to_owned(),
        Tag::Ia5String => Ia5StringRef::try_from(value).ok()?.as_str().to_owned(),
        Tag::TeletexString => TeletexStringRef::try_from(value).ok()?.as_str().to_owned(),
        Tag::BmpString => {
            let units: Vec<u16> = value
                .value()
                .chunks_exact(2)
                .map(|c| u16::from_be_bytes([c[0], c[1]]))
                .collect();
            String::from_utf16(&units).ok()?
        }
        _ => return None,
    };
    Some(
        s.split_whitespace()
            .collect::<Vec<_>>()
            .join(" ")
            .to_lowercase(),
    )
}

/// True if the two names are the same name.
pub fn names_match(a: &Name, b: &Name) -> bool {
    if a.0.len() != b.0.len() {
        return false;
    }
    a.0.iter().zip(b.0.iter()).all(|(ra, rb)| {
        ra.0.len() == rb.0.len()
            && ra.0.iter().all(|x| {
                rb.0.iter().any(|y| {
                    x.oid == y.oid
                        && match (normalise(&x.value), normalise(&y.value)) {
                            (Some(p), Some(q)) => p == q,
                            // Not a string type: compare the encodings.
                            _ => x.value.to_der().ok() == y.value.to_der().ok(),
                        }
                })
            })
    })
}

/// [`names_match`] on two DER-encoded names; false if either does not decode.
pub fn der_names_match(a: &[u8], b: &[u8]) -> bool {
    match (Name::from_der(a), Name::from_der(b)) {
        (Ok(a), Ok(b)) => names_match(&a, &b),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::str::FromStr;

    #[test]
    fn case_space_and_string_type_do_not_matter_order_does() {
        let a = Name::from_str("CN=Test  CA,C=KZ").unwrap();
        let b = Name::from_str("CN=test ca,C=KZ").unwrap();
        let c = Name::from_str("C=KZ,CN=Test CA").unwrap();
        assert!(names_match(&a, &b));
        assert!(!names_match(&a, &c));
        assert!(der_names_match(&a.to_der().unwrap(), &b.to_der().unwrap()));
        assert!(!der_names_match(&[0x30], &b.to_der().unwrap()));
    }
}
