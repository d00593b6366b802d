//! The streaming canonicalizer of whole documents (what signing a whole form uses) against the
//! DOM canonicalizer on the same input: the same bytes, or both refuse; never a panic.
#![no_main]

use qoltanba_sign::xml;

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        match (xml::canonicalize(text, false, false), xml::canonicalize_with_dom(text)) {
            (Ok(streamed), Ok(dom)) => assert_eq!(
                String::from_utf8_lossy(&streamed),
                String::from_utf8_lossy(&dom),
                "streamed and DOM canonical forms differ"
            ),
            (Err(_), Err(_)) => {}
            (streamed, dom) => panic!(
                "one canonicalizer refused: streamed {:?}, DOM {:?}",
                streamed.map(|_| ()),
                dom.map(|_| ())
            ),
        }
    }
});
