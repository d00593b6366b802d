//! The PKCS#12 reader: any bytes give a key or a typed error, never a panic or a hang.
#![no_main]

use qoltanba_keys::{Secret, pkcs12};

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    // The password of the test PKI's files and of the NCA test files' first seed.
    for password in ["Qwerty12", ""] {
        let _ = pkcs12::open(data, &Secret::new(password.to_owned()));
    }
});
