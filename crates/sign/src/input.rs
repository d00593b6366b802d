//! Reading signatures as people and portals hand them over: DER or BER bytes, PEM
//! (`-----BEGIN CMS-----`, `PKCS7`, `SIGNED DATA`), or bare base64 (what NCALayer returns).
//!
//! The PEM is read by hand, leniently: `pem-rfc7468` (which writes our PEM) implements RFC
//! 7468's strict grammar only (64-column lines, nothing around the document, one document),
//! while what people and portals hand over is the lax kind (other line widths, CRLF, one line,
//! text around it, several certificates in one file).

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;

use crate::SignError;

/// Largest input accepted as text (base64 of a 512 MiB signature would be larger).
const MAX_TEXT: usize = 1 << 30;

/// Returns binary DER/BER: as given when it starts like ASN.1, else decoded from PEM or base64.
pub fn decode_binary(input: &[u8]) -> Result<Vec<u8>, SignError> {
    let trimmed = input.trim_ascii();
    if trimmed.first() == Some(&0x30) {
        return Ok(input.to_vec());
    }
    if trimmed.len() > MAX_TEXT {
        return Err(SignError::BadEncoding);
    }
    let text = std::str::from_utf8(trimmed).map_err(|_| SignError::BadEncoding)?;
    let body: String = if text.starts_with("-----BEGIN ") {
        let mut lines = text.lines();
        lines.next();
        lines.take_while(|l| !l.starts_with("-----END ")).collect()
    } else {
        text.chars().filter(|c| !c.is_ascii_whitespace()).collect()
    };
    let body: String = body.chars().filter(|c| !c.is_ascii_whitespace()).collect();
    let bytes = STANDARD
        .decode(body.as_bytes())
        .map_err(|_| SignError::BadEncoding)?;
    if bytes.first() != Some(&0x30) {
        return Err(SignError::BadEncoding);
    }
    Ok(bytes)
}

/// Reads a certificate file: DER, or one or more PEM certificates. Returns DER certificates.
pub fn decode_certificates(input: &[u8]) -> Result<Vec<Vec<u8>>, SignError> {
    if input.first() == Some(&0x30) {
        return Ok(vec![input.to_vec()]);
    }
    let text = std::str::from_utf8(input).map_err(|_| SignError::BadEncoding)?;
    let mut out = Vec::new();
    let mut current: Option<String> = None;
    for line in text.lines().map(str::trim) {
        if line == "-----BEGIN CERTIFICATE-----" {
            current = Some(String::new());
        } else if line == "-----END CERTIFICATE-----" {
            let b64 = current.take().ok_or(SignError::BadEncoding)?;
            out.push(
                STANDARD
                    .decode(b64.as_bytes())
                    .map_err(|_| SignError::BadEncoding)?,
            );
        } else if let Some(c) = current.as_mut() {
            c.push_str(line);
        }
    }
    if out.is_empty() {
        return Err(SignError::BadEncoding);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn der_pem_and_base64_are_accepted_garbage_is_not() {
        let der = vec![0x30, 0x03, 0x02, 0x01, 0x05];
        assert_eq!(decode_binary(&der).unwrap(), der);
        let b64 = STANDARD.encode(&der);
        assert_eq!(decode_binary(b64.as_bytes()).unwrap(), der);
        let pem = format!("-----BEGIN CMS-----\n{b64}\n-----END CMS-----\n");
        assert_eq!(decode_binary(pem.as_bytes()).unwrap(), der);
        assert!(matches!(
            decode_binary(b"not base64 !!"),
            Err(SignError::BadEncoding)
        ));
        assert!(matches!(decode_binary(b""), Err(SignError::BadEncoding)));
        assert!(matches!(
            decode_binary(&[0xff, 0xfe]),
            Err(SignError::BadEncoding)
        ));
    }
}
