//! Revocation status against real services: `openssl ocsp` (a delegated responder) and a CRL
//! from `openssl ca -gencrl`, for a good and a revoked certificate of a generated PKI.

use qoltanba_pki::revocation::{
    RevocationError, Status, crl_status, crl_urls, ocsp_request, ocsp_status, ocsp_urls,
};
use qoltanba_testkit::pki::{LeafSpec, TestPki, Usage};
use qoltanba_testkit::revocation::{Revocation, fetch};
use time::OffsetDateTime;

#[test]
fn ocsp_and_crl_tell_good_from_revoked() {
    let pki = TestPki::new();
    let mut rev = Revocation::reserve();
    let spec =
        LeafSpec::individual(Usage::Sign).with_revocation(Some(&rev.ocsp_url), Some(&rev.crl_url));
    let good = pki.issue(&spec);
    let bad = pki.issue(&spec);
    rev.start(&pki, &[(&good, false), (&bad, true)]);
    assert_eq!(ocsp_urls(&good.cert_der), [rev.ocsp_url.clone()]);
    assert_eq!(crl_urls(&good.cert_der), [rev.crl_url.clone()]);
    let now = OffsetDateTime::now_utc();
    let issuer = &pki.nca.cert_der;
    for (leaf, revoked) in [(&good, false), (&bad, true)] {
        let nonce = [7u8, 1, 2, 3, 4, 5, 6, 8];
        let req = ocsp_request(&leaf.cert_der, issuer, &nonce).unwrap();
        let resp = fetch(&rev.ocsp_url, Some(("application/ocsp-request", &req)));
        let a = ocsp_status(&resp, &leaf.cert_der, issuer, Some(&nonce), now).unwrap();
        assert_eq!(a.source, "ocsp");
        assert!(a.next_update.is_some());
        match (&a.status, revoked) {
            (Status::Good, false) => {}
            (Status::Revoked { reason, .. }, true) => {
                assert_eq!(reason.as_deref(), Some("keyCompromise"));
            }
            other => panic!("OCSP said {other:?}"),
        }
        // A replay (another nonce) is refused.
        assert_eq!(
            ocsp_status(&resp, &leaf.cert_der, issuer, Some(b"other123"), now),
            Err(RevocationError::Nonce)
        );
        // The answer is about this certificate only.
        let other = if revoked { &good } else { &bad };
        assert_eq!(
            ocsp_status(&resp, &other.cert_der, issuer, Some(&nonce), now),
            Err(RevocationError::NotForThisCertificate)
        );
        let crl = fetch(&rev.crl_url, None);
        let c = crl_status(&crl, &leaf.cert_der, issuer, now).unwrap();
        assert_eq!(c.source, "crl");
        assert_eq!(matches!(c.status, Status::Revoked { .. }), revoked, "{c:?}");
        // Out of date a week later.
        let later = now + time::Duration::days(7);
        assert!(matches!(
            crl_status(&crl, &leaf.cert_der, issuer, later),
            Err(RevocationError::Stale(_))
        ));
    }
    // Signed by someone else: refused.
    let stranger = TestPki::new();
    let req = ocsp_request(&good.cert_der, issuer, b"12345678").unwrap();
    let resp = fetch(&rev.ocsp_url, Some(("application/ocsp-request", &req)));
    assert!(ocsp_status(&resp, &good.cert_der, &stranger.nca.cert_der, None, now).is_err());
    let crl = fetch(&rev.crl_url, None);
    assert!(crl_status(&crl, &good.cert_der, &stranger.nca.cert_der, now).is_err());
}
