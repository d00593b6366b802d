//! The BER normaliser: never a panic, and normalising its own output changes nothing.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    if let Ok(der) = qoltanba_pki::ber::to_der(data) {
        // Definite lengths cost at most a few bytes more than indefinite ones, at most 64 deep.
        assert!(der.len() <= data.len() + 1024, "output grew past its bound");
        assert_eq!(
            qoltanba_pki::ber::to_der(&der).ok().as_deref(),
            Some(der.as_slice()),
            "DER is not a fixed point"
        );
    }
});
