//! What comes back from the network — OCSP responses, CRLs, TSA answers — and CMS given to
//! applyCAdEST: a typed error or an answer, never a panic or unbounded work.
#![no_main]

use qoltanba_pki::revocation;
use qoltanba_sign::DigestAlgorithm;
use qoltanba_sign::cms::tsp::{self, TimestampRequest};

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let now = time::OffsetDateTime::UNIX_EPOCH + time::Duration::days(20_000);
    // The response as the answer, and (split) as the certificates too.
    let (a, b) = data.split_at(data.len() / 2);
    for (resp, cert) in [(data, data), (a, b), (b, a)] {
        let _ = revocation::ocsp_status(resp, cert, cert, Some(b"nonce123"), now);
        let _ = revocation::crl_status(resp, cert, cert, now);
        let _ = revocation::ocsp_urls(cert);
        let _ = revocation::crl_urls(cert);
    }
    if let Ok(req) = TimestampRequest::new(b"signature", DigestAlgorithm::Sha256, None) {
        let _ = req.check(data, &[]);
    }
    let _ = tsp::read_info(data);
    let _ = tsp::signature_values(data);
    let _ = tsp::add_timestamp(data, 0, b);
    let _ = tsp::add_timestamp(a, 1, b);
});
