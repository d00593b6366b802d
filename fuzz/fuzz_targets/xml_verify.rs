//! XML signature verification of anyone's document: a report or a typed error, never a panic,
//! and bounded work (the limits are checked before canonicalization).
#![no_main]

use qoltanba_sign::xml::{self, XmlVerifyOptions};

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        let _ = xml::verify(text, &XmlVerifyOptions::default());
        let _ = xml::verify(
            text,
            &XmlVerifyOptions {
                id_attr: Some("id".into()),
                ..XmlVerifyOptions::default()
            },
        );
    }
});
