//! Key files made to hurt the reader: every one is refused with a typed error, quickly.

use std::time::Duration;

use qoltanba_keys::{KeyError, Secret, pkcs12};
use qoltanba_testkit::p12;

/// Opens on another thread; a reader that hangs fails the test instead of the suite.
fn open_within(bytes: Vec<u8>, limit: Duration) -> Result<(), KeyError> {
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let r = pkcs12::open(&bytes, &Secret::new("x".into())).map(|_| ());
        let _ = tx.send(r);
    });
    rx.recv_timeout(limit)
        .expect("the reader hangs on a hostile key file")
}

/// Before: `keys info` spent minutes in PBKDF2 on a MAC-less file asking for 2^31 iterations.
#[test]
fn a_mac_less_file_asking_for_2_pow_31_iterations_is_refused_at_once() {
    let r = open_within(p12::hostile_pbes2_no_mac(1 << 31), Duration::from_secs(10));
    assert!(matches!(r, Err(KeyError::Unsupported(_))), "{r:?}");
}

#[test]
fn mac_less_files_get_a_small_budget_and_ordinary_ones_still_open() {
    // Within the MAC-less budget: the KDF runs, and a random ciphertext is a wrong password.
    let r = open_within(p12::hostile_pbes2_no_mac(2048), Duration::from_secs(10));
    assert!(
        matches!(r, Err(KeyError::WrongPassword | KeyError::Corrupt(_))),
        "{r:?}"
    );
    // Past it (fine for a file with a MAC, but nothing vouches for this one).
    let r = open_within(
        p12::hostile_pbes2_no_mac(u32::try_from(pkcs12::MAX_TOTAL_ITERATIONS_NO_MAC + 1).unwrap()),
        Duration::from_secs(10),
    );
    assert!(matches!(r, Err(KeyError::Unsupported(_))), "{r:?}");
    // Past the per-KDF cap.
    let r = open_within(
        p12::hostile_pbes2_no_mac(pkcs12::MAX_ITERATIONS + 1),
        Duration::from_secs(10),
    );
    assert!(matches!(r, Err(KeyError::Unsupported(_))), "{r:?}");
}
