//! The site's logo (basics `logo`): accepted only as a small, well-formed PNG, which the
//! desktop shows as an image. Decoded here in full with the `png` crate under an allocation
//! limit, so that what reaches the window is a picture and nothing else.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;

/// Largest logo side in pixels.
pub const MAX_SIDE: u32 = 512;
/// Most bytes the decoder may allocate.
const MAX_DECODED: usize = 4 << 20;

/// Why a logo was not accepted (the call goes on without it).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum LogoError {
    /// Not base64 (a `data:image/png;base64,` prefix is allowed).
    #[error("the logo is not base64")]
    Base64,
    /// Not a PNG, or a damaged one.
    #[error("the logo is not a valid PNG image: {0}")]
    NotPng(String),
    /// Wider or taller than [`MAX_SIDE`].
    #[error("the logo is larger than {MAX_SIDE}×{MAX_SIDE} pixels")]
    TooLarge,
}

/// The PNG bytes of a page's `logo`, once checked.
pub fn check(logo: &str) -> Result<Vec<u8>, LogoError> {
    let b64 = logo.trim();
    let b64 = b64.strip_prefix("data:image/png;base64,").unwrap_or(b64);
    let clean: String = b64.chars().filter(|c| !c.is_ascii_whitespace()).collect();
    let png = STANDARD.decode(clean).map_err(|_| LogoError::Base64)?;
    let decoder = png::Decoder::new_with_limits(
        std::io::Cursor::new(&png),
        png::Limits { bytes: MAX_DECODED },
    );
    let mut reader = decoder
        .read_info()
        .map_err(|e| LogoError::NotPng(e.to_string()))?;
    let (w, h) = reader.info().size();
    if w == 0 || h == 0 || w > MAX_SIDE || h > MAX_SIDE {
        return Err(LogoError::TooLarge);
    }
    let size = reader
        .output_buffer_size()
        .filter(|s| *s <= MAX_DECODED)
        .ok_or(LogoError::TooLarge)?;
    let mut buf = vec![0; size];
    reader
        .next_frame(&mut buf)
        .map_err(|e| LogoError::NotPng(e.to_string()))?;
    Ok(png)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn png(w: u32, h: u32) -> String {
        let mut out = Vec::new();
        {
            let mut e = png::Encoder::new(&mut out, w, h);
            e.set_color(png::ColorType::Grayscale);
            let mut wr = e.write_header().expect("header");
            wr.write_image_data(&vec![128; (w * h) as usize])
                .expect("data");
        }
        STANDARD.encode(out)
    }

    #[test]
    fn a_png_is_accepted_with_or_without_data_prefix() {
        let red = png(64, 32);
        assert!(check(&red).is_ok());
        assert!(check(&format!("data:image/png;base64,{red}")).is_ok());
        assert_eq!(check(&png(600, 1)), Err(LogoError::TooLarge));
    }

    #[test]
    fn anything_else_is_refused() {
        assert_eq!(check("not base64!"), Err(LogoError::Base64));
        // An SVG (could carry script) is not a PNG.
        let svg = STANDARD
            .encode(b"<svg xmlns='http://www.w3.org/2000/svg'><script>alert(1)</script></svg>");
        assert!(matches!(check(&svg), Err(LogoError::NotPng(_))));
        // A PNG cut short.
        let whole = STANDARD.decode(png(8, 8)).unwrap_or_default();
        let cut = &whole[..whole.len() - 20];
        assert!(matches!(
            check(&STANDARD.encode(cut)),
            Err(LogoError::NotPng(_))
        ));
    }
}
