//! CMS verification of anyone's signature: a report or a typed error, never a panic.
#![no_main]

use qoltanba_sign::cms::{self, DetachedContent, VerifyOptions};

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let opts = VerifyOptions::default();
    let _ = cms::verify(data, DetachedContent::None, &opts);
    let _ = cms::verify(data, DetachedContent::Bytes(b"11\n"), &opts);
    if let Ok(der) = qoltanba_sign::input::decode_binary(data) {
        let _ = cms::verify(&der, DetachedContent::None, &opts);
    }
});
