//! What replies carry besides signatures: base64 in, PEM out, the certificate object of
//! `getKeyInfo`, and the short summaries of documents shown to the person.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use qoltanba_keys::SigningKey;
use serde_json::{Value, json};
use time::OffsetDateTime;

use crate::wire::Failure;

/// Decodes base64 sent by a page (whitespace ignored).
pub(super) fn b64(data: &str) -> Result<Vec<u8>, Failure> {
    let clean: String = data.chars().filter(|c| !c.is_ascii_whitespace()).collect();
    STANDARD
        .decode(clean.as_bytes())
        .map_err(|_| Failure::BadInput("invalid base64 data"))
}

/// Base64 of DER, as commonUtils returns signatures.
pub(super) fn base64(der: &[u8]) -> String {
    STANDARD.encode(der)
}

/// PEM with 64-column lines and LF (RFC 7468), as NCALayer returns CMS and certificates.
pub(super) fn pem(label: &str, der: &[u8]) -> String {
    // Only an invalid label fails, and the labels are ours (`CMS`, `CERTIFICATE`).
    pem_rfc7468::encode_string(label, pem_rfc7468::LineEnding::LF, der).unwrap_or_default()
}

/// A readable preview of an XML form: its fields as `name: value` lines (at most 30).
pub(super) fn preview_of_xml(doc: &qoltanba_sign::xml::Document<'_>) -> String {
    qoltanba_sign::xml::preview(doc, 30).join("\n")
}

/// The text of binary data when it is short and printable, else nothing (the prompt shows
/// each document's size beside it).
pub(super) fn summary_of_bytes(data: &[u8]) -> String {
    match std::str::from_utf8(data) {
        Ok(t) if t.len() <= 200 && !t.chars().any(char::is_control) => t.to_owned(),
        _ => String::new(),
    }
}

/// `basics.sign`'s raw result with `outputCert`: the signatures and the signer's certificate.
pub(super) fn raw_with_certificate(signatures: &[String], certificate: &str) -> Value {
    json!({"signatures": signatures, "certificate": certificate})
}

/// `getKeyInfo`'s object (`NLCommonBundle` `KeyInfo`): dates as epoch-millisecond strings.
pub(super) fn key_info(key: &dyn SigningKey) -> Value {
    let d = key.details();
    let ms = |t: OffsetDateTime| (t.unix_timestamp_nanos() / 1_000_000).to_string();
    let algorithm = match d.key_algorithm {
        qoltanba_pki::KeyAlgorithm::Rsa { .. } => "RSA".to_owned(),
        qoltanba_pki::KeyAlgorithm::Gost2004 => "ECGOST34310".to_owned(),
        qoltanba_pki::KeyAlgorithm::Gost2015_256 | qoltanba_pki::KeyAlgorithm::Gost2015_512 => {
            "ECGOST3410-2015".to_owned()
        }
        ref other => other.label(),
    };
    json!({
        "alias": key.alias(),
        "keyId": d.subject_key_id.clone().unwrap_or_default(),
        "algorithm": algorithm,
        "subjectCn": d.subject_cn.clone().unwrap_or_default(),
        "subjectDn": d.subject_dn_compact,
        "issuerCn": d.issuer_cn.clone().unwrap_or_default(),
        "issuerDn": d.issuer_dn_compact,
        "serialNumber": d.serial.to_lowercase(),
        "certNotAfter": ms(d.not_after),
        "certNotBefore": ms(d.not_before),
        "authorityKeyIdentifier": d.authority_key_id.clone().unwrap_or_default(),
        "pem": pem("CERTIFICATE", key.certificate_der()),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The layout pages have always received: 64-column lines, LF, a final LF.
    #[test]
    fn pem_is_wrapped_at_64_columns() {
        for n in [1, 47, 48, 49, 96, 300] {
            let der: Vec<u8> = (0..n)
                .map(|i: u32| (i * 7 % 256).to_le_bytes()[0])
                .collect();
            let b64 = STANDARD.encode(&der);
            let mut want = String::from("-----BEGIN CMS-----\n");
            for chunk in b64.as_bytes().chunks(64) {
                want.push_str(std::str::from_utf8(chunk).unwrap());
                want.push('\n');
            }
            want.push_str("-----END CMS-----\n");
            assert_eq!(pem("CMS", &der), want, "{n} bytes");
        }
    }
}
