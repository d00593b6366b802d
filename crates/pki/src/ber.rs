//! A small BER → DER normaliser.
//!
//! NCA key files (and some CMS from older tools) use BER: indefinite lengths and constructed
//! OCTET STRINGs. RustCrypto's `der` reads only DER, so such input goes through [`to_der`] first.
//! The rules applied, per X.690 §10:
//!
//! | BER form                                   | DER form written                      |
//! |--------------------------------------------|---------------------------------------|
//! | indefinite length (`0x80` … `00 00`)       | definite, minimal length              |
//! | non-minimal long-form length               | minimal length                        |
//! | constructed OCTET STRING (tag `0x24`)      | primitive OCTET STRING, segments joined |
//!
//! Context-specific constructed tags are kept as they are, since whether they are `IMPLICIT`
//! OCTET STRINGs depends on the schema; [`join_octet_segments`] flattens one where the schema
//! says so (PKCS#7 `EncryptedContentInfo.encryptedContent`).
//!
//! SET OF ordering is not re-sorted: the normaliser is for reading, and signed data is hashed
//! over the bytes the signer produced.

use thiserror::Error;

/// Nesting deeper than this is refused (no real structure comes near; stops stack exhaustion).
pub const MAX_DEPTH: usize = 64;

/// Why a BER input could not be read.
#[derive(Debug, Error, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum BerError {
    /// The input ends inside a tag, a length or a value.
    #[error("truncated ASN.1 data at byte {0}")]
    Truncated(usize),
    /// A length or tag form that BER does not allow.
    #[error("malformed ASN.1 data at byte {0}")]
    Malformed(usize),
    /// The structure nests deeper than [`MAX_DEPTH`].
    #[error("ASN.1 data nests too deep")]
    TooDeep,
    /// Bytes follow the single top-level value.
    #[error("trailing data after the ASN.1 value at byte {0}")]
    TrailingData(usize),
}

/// One parsed TLV header.
#[derive(Debug, Clone, Copy)]
struct Header {
    /// The identifier octet(s), as read (multi-byte tags are kept whole).
    tag_start: usize,
    tag_end: usize,
    constructed: bool,
    /// `None` for the indefinite form.
    len: Option<usize>,
    /// Offset of the first content byte.
    body: usize,
}

fn read_header(input: &[u8], pos: usize) -> Result<Header, BerError> {
    let first = *input.get(pos).ok_or(BerError::Truncated(pos))?;
    let constructed = first & 0x20 != 0;
    let mut p = pos + 1;
    if first & 0x1f == 0x1f {
        // High tag number form: base-128 digits, the last without bit 8.
        loop {
            let b = *input.get(p).ok_or(BerError::Truncated(p))?;
            p += 1;
            if b & 0x80 == 0 {
                break;
            }
            if p - pos > 6 {
                return Err(BerError::Malformed(pos));
            }
        }
    }
    let tag_end = p;
    let l = *input.get(p).ok_or(BerError::Truncated(p))?;
    p += 1;
    let len = match l {
        0..0x80 => Some(usize::from(l)),
        0x80 if !constructed => return Err(BerError::Malformed(pos)),
        0x80 => None,
        _ => {
            let n = usize::from(l & 0x7f);
            if n > 8 || n == 0x7f {
                return Err(BerError::Malformed(pos));
            }
            let bytes = input.get(p..p + n).ok_or(BerError::Truncated(p))?;
            p += n;
            let mut v: u64 = 0;
            for &b in bytes {
                v = (v << 8) | u64::from(b);
            }
            Some(usize::try_from(v).map_err(|_| BerError::Malformed(pos))?)
        }
    };
    if let Some(len) = len
        && p.checked_add(len).is_none_or(|end| end > input.len())
    {
        return Err(BerError::Truncated(p));
    }
    Ok(Header {
        tag_start: pos,
        tag_end,
        constructed,
        len,
        body: p,
    })
}

/// One DER TLV: the identifier's first octet, the content, and the whole encoding.
#[derive(Debug, Clone, Copy)]
pub struct Tlv<'a> {
    /// The first identifier octet (class, constructed bit, tag number or 0x1f).
    pub tag: u8,
    /// The content octets.
    pub value: &'a [u8],
    /// The whole encoding: identifier, length and content.
    pub raw: &'a [u8],
}

impl<'a> Tlv<'a> {
    /// Reads one definite-length TLV from the front of `input`; returns it and the rest.
    pub fn parse(input: &'a [u8]) -> Result<(Self, &'a [u8]), BerError> {
        let h = read_header(input, 0)?;
        let len = h.len.ok_or(BerError::Malformed(0))?;
        let end = h.body + len;
        Ok((
            Self {
                tag: input[0],
                value: &input[h.body..end],
                raw: &input[..end],
            },
            &input[end..],
        ))
    }

    /// Reads exactly one TLV that spans all of `input`.
    pub fn parse_exact(input: &'a [u8]) -> Result<Self, BerError> {
        let (tlv, rest) = Self::parse(input)?;
        if rest.is_empty() {
            Ok(tlv)
        } else {
            Err(BerError::TrailingData(tlv.raw.len()))
        }
    }

    /// True if the constructed bit is set.
    pub fn is_constructed(&self) -> bool {
        self.tag & 0x20 != 0
    }

    /// The TLVs inside a constructed value.
    pub fn children(&self) -> Result<Vec<Self>, BerError> {
        if !self.is_constructed() {
            return Err(BerError::Malformed(0));
        }
        let mut out = Vec::new();
        let mut rest = self.value;
        while !rest.is_empty() {
            let (t, r) = Self::parse(rest)?;
            out.push(t);
            rest = r;
        }
        Ok(out)
    }
}

/// Appends a DER length.
pub fn write_len(out: &mut Vec<u8>, len: usize) {
    if len < 0x80 {
        #[allow(clippy::cast_possible_truncation)] // checked: < 0x80
        out.push(len as u8);
        return;
    }
    let bytes = (len as u64).to_be_bytes();
    let skip = bytes.iter().take_while(|b| **b == 0).count();
    #[allow(clippy::cast_possible_truncation)] // at most 8 length bytes
    out.push(0x80 | (8 - skip) as u8);
    out.extend_from_slice(&bytes[skip..]);
}

/// Normalises one BER value (the whole input) to DER as described in the module docs.
///
/// The output's size is measured first and allocated once, exactly, then written in place: no
/// scratch copies per level (key material would be left behind in freed buffers, and a deeply
/// nested input would cost its size once per level), nothing larger than what comes out.
pub fn to_der(input: &[u8]) -> Result<Vec<u8>, BerError> {
    let (end, total) = measure_total(input, 0, 0)?;
    if end != input.len() {
        return Err(BerError::TrailingData(end));
    }
    let mut out = Vec::with_capacity(total);
    write(input, 0, &mut out, 0)?;
    debug_assert_eq!(out.len(), total);
    Ok(out)
}

/// Returns true when the input is already plain DER-shaped (definite lengths, no constructed
/// OCTET STRING), so callers can skip the copy. Malformed input returns false.
pub fn is_definite(input: &[u8]) -> bool {
    to_der(input).is_ok_and(|d| d == input)
}

/// Octets of a DER length field for `len`.
fn len_len(len: usize) -> usize {
    if len < 0x80 {
        1
    } else {
        1 + (usize::BITS - len.leading_zeros()).div_ceil(8) as usize
    }
}

/// Calls `f` on each child of the constructed value with header `h` (definite or indefinite
/// length); returns the offset after the value.
fn each_child(
    input: &[u8],
    h: &Header,
    mut f: impl FnMut(usize) -> Result<usize, BerError>,
) -> Result<usize, BerError> {
    let mut p = h.body;
    let limit = h.len.map(|l| h.body + l);
    loop {
        match limit {
            Some(end) if p == end => return Ok(p),
            Some(end) if p > end => return Err(BerError::Malformed(p)),
            None if input.get(p..p + 2) == Some(&[0, 0]) => return Ok(p + 2),
            _ => {}
        }
        if p >= input.len() {
            return Err(BerError::Truncated(p));
        }
        p = f(p)?;
    }
}

/// The DER content length of the value at `pos`, and the offset after it.
fn measure(input: &[u8], pos: usize, depth: usize) -> Result<(usize, usize), BerError> {
    if depth > MAX_DEPTH {
        return Err(BerError::TooDeep);
    }
    let h = read_header(input, pos)?;
    if !h.constructed {
        let len = h.len.ok_or(BerError::Malformed(pos))?;
        return Ok((h.body + len, len));
    }
    let octets = input[h.tag_start..h.tag_end] == [0x24];
    let mut content = 0usize;
    let end = each_child(input, &h, |p| {
        if octets {
            // Segments of a constructed OCTET STRING: their contents are joined.
            let ch = read_header(input, p)?;
            if !matches!(input[ch.tag_start..ch.tag_end], [0x04 | 0x24]) {
                return Err(BerError::Malformed(p));
            }
            let (end, c) = measure(input, p, depth + 1)?;
            content += c;
            Ok(end)
        } else {
            let (end, total) = measure_total(input, p, depth + 1)?;
            content += total;
            Ok(end)
        }
    })?;
    Ok((end, content))
}

/// The whole DER size (identifier, length, content) of the value at `pos`, and its end.
fn measure_total(input: &[u8], pos: usize, depth: usize) -> Result<(usize, usize), BerError> {
    let (end, content) = measure(input, pos, depth)?;
    let h = read_header(input, pos)?;
    let tag_len = if h.constructed && input[h.tag_start..h.tag_end] == [0x24] {
        1
    } else {
        h.tag_end - h.tag_start
    };
    Ok((end, tag_len + len_len(content) + content))
}

/// Writes the DER form of the value at `pos` into `out`; returns the offset after it.
fn write(input: &[u8], pos: usize, out: &mut Vec<u8>, depth: usize) -> Result<usize, BerError> {
    if depth > MAX_DEPTH {
        return Err(BerError::TooDeep);
    }
    let h = read_header(input, pos)?;
    let tag = &input[h.tag_start..h.tag_end];
    if !h.constructed {
        let len = h.len.ok_or(BerError::Malformed(pos))?;
        out.extend_from_slice(tag);
        write_len(out, len);
        out.extend_from_slice(&input[h.body..h.body + len]);
        return Ok(h.body + len);
    }
    let (_, content) = measure(input, pos, depth)?;
    if tag == [0x24] {
        out.push(0x04);
        write_len(out, content);
        write_octets(input, pos, out, depth)
    } else {
        out.extend_from_slice(tag);
        write_len(out, content);
        each_child(input, &h, |p| write(input, p, out, depth + 1))
    }
}

/// Appends the content octets of an OCTET STRING (segments joined); returns its end.
fn write_octets(
    input: &[u8],
    pos: usize,
    out: &mut Vec<u8>,
    depth: usize,
) -> Result<usize, BerError> {
    if depth > MAX_DEPTH {
        return Err(BerError::TooDeep);
    }
    let h = read_header(input, pos)?;
    if !h.constructed {
        let len = h.len.ok_or(BerError::Malformed(pos))?;
        out.extend_from_slice(&input[h.body..h.body + len]);
        return Ok(h.body + len);
    }
    each_child(input, &h, |p| write_octets(input, p, out, depth + 1))
}

/// Concatenates the contents of a run of DER primitive OCTET STRINGs.
fn join_segments(der: &[u8]) -> Result<Vec<u8>, BerError> {
    let mut joined = Vec::with_capacity(der.len());
    let mut p = 0;
    while p < der.len() {
        let h = read_header(der, p)?;
        if der[h.tag_start..h.tag_end] != [0x04] {
            return Err(BerError::Malformed(p));
        }
        let len = h.len.ok_or(BerError::Malformed(p))?;
        joined.extend_from_slice(&der[h.body..h.body + len]);
        p = h.body + len;
    }
    Ok(joined)
}

/// For a DER value whose tag is a constructed `[n] IMPLICIT OCTET STRING` (segments inside),
/// returns the joined content; for a primitive one, its content. `der` is one whole TLV.
pub fn join_octet_segments(der: &[u8]) -> Result<Vec<u8>, BerError> {
    let h = read_header(der, 0)?;
    let len = h.len.ok_or(BerError::Malformed(0))?;
    let body = &der[h.body..h.body + len];
    if h.constructed {
        join_segments(body)
    } else {
        Ok(body.to_vec())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn indefinite_and_constructed_octets_become_der() {
        // SEQUENCE (indefinite) { OCTET STRING (constructed, indefinite) { "ab", "c" } }
        let ber = [
            0x30, 0x80, 0x24, 0x80, 0x04, 0x02, b'a', b'b', 0x04, 0x01, b'c', 0, 0, 0, 0,
        ];
        assert_eq!(
            to_der(&ber).unwrap(),
            [0x30, 0x05, 0x04, 0x03, b'a', b'b', b'c']
        );
    }

    #[test]
    fn long_form_lengths_are_minimised() {
        let ber = [0x04, 0x82, 0x00, 0x01, 0xaa];
        assert_eq!(to_der(&ber).unwrap(), [0x04, 0x01, 0xaa]);
        let mut big = vec![0x04, 0x81, 200];
        big.extend(std::iter::repeat_n(7u8, 200));
        assert_eq!(to_der(&big).unwrap(), big);
    }

    #[test]
    fn bad_input_is_an_error_not_a_panic() {
        assert_eq!(to_der(&[]), Err(BerError::Truncated(0)));
        assert!(matches!(
            to_der(&[0x30, 0x80, 0x04]),
            Err(BerError::Truncated(_))
        ));
        assert!(matches!(
            to_der(&[0x04, 0x80, 0, 0]),
            Err(BerError::Malformed(0))
        ));
        assert!(matches!(
            to_der(&[0x04, 0x05, 1]),
            Err(BerError::Truncated(_))
        ));
        assert!(matches!(
            to_der(&[0x04, 0x01, 1, 2]),
            Err(BerError::TrailingData(3))
        ));
        assert!(to_der(&[0x04, 0x89, 1, 1, 1, 1, 1, 1, 1, 1, 1]).is_err());
        let deep: Vec<u8> = std::iter::repeat_n([0x30u8, 0x80], 200).flatten().collect();
        assert_eq!(to_der(&deep), Err(BerError::TooDeep));
    }

    #[test]
    fn join_implicit_segments() {
        let der = [0xa0, 0x07, 0x04, 0x02, 1, 2, 0x04, 0x01, 3];
        assert_eq!(join_octet_segments(&der).unwrap(), [1, 2, 3]);
        assert_eq!(join_octet_segments(&[0x80, 0x02, 9, 9]).unwrap(), [9, 9]);
    }
}
