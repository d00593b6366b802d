//! Co-signing: a second signer added to an attached and to a detached CMS; openssl verifies
//! every signer, the first signer's bytes are unchanged, and a different content is refused.

use qoltanba_keys::{Secret, pkcs12};
use qoltanba_sign::cms::{self, CmsOptions, DetachedContent, VerifyOptions};
use qoltanba_testkit::openssl;
use qoltanba_testkit::p12;
use qoltanba_testkit::pki::{LeafSpec, Usage, roles};

use crate::common::fixture;

fn signer_bytes(der: &[u8]) -> Vec<Vec<u8>> {
    let ci = qoltanba_pki::ber::Tlv::parse_exact(der).unwrap();
    let sd = ci.children().unwrap()[1].children().unwrap()[0];
    let f = sd.children().unwrap();
    f.last()
        .unwrap()
        .children()
        .unwrap()
        .iter()
        .map(|t| t.raw.to_vec())
        .collect()
}

#[test]
fn a_second_signer_joins_and_both_verify() {
    let f = fixture();
    let first = f.key();
    let other = f
        .pki
        .issue(&LeafSpec::legal_entity(Usage::Sign, roles::CEO));
    let dir = tempfile::tempdir().unwrap();
    let file = p12::write_nca_file(&other, "Other-123", dir.path());
    let second = pkcs12::open_file(&file, &Secret::new("Other-123".into()))
        .unwrap()
        .keys
        .remove(0);
    let content = b"joint statement";
    for attached in [true, false] {
        let one = if attached {
            cms::sign_attached(&first, content, &CmsOptions::default()).unwrap()
        } else {
            cms::sign_detached(&first, content, &CmsOptions::default()).unwrap()
        };
        let given = (!attached).then_some(&content[..]);
        let two = cms::add_signer(&one, &second, given, &CmsOptions::default()).unwrap();
        assert_eq!(
            signer_bytes(&two)[0],
            signer_bytes(&one)[0],
            "the first signer changed"
        );
        let p = dir.path().join("two.p7s");
        std::fs::write(&p, &two).unwrap();
        let c = dir.path().join("content");
        std::fs::write(&c, content).unwrap();
        let v = openssl::cms_verify(&p, (!attached).then_some(c.as_path()), &f.ca_file());
        assert!(v.ok, "{}", v.output);
        let opts = VerifyOptions {
            trust_anchors: f.anchors(),
            ..VerifyOptions::default()
        };
        let source = if attached {
            DetachedContent::None
        } else {
            DetachedContent::Bytes(content)
        };
        let rep = cms::verify(&two, source, &opts).unwrap();
        assert!(rep.valid && rep.signers.len() == 2, "{rep:?}");
        let serials: Vec<_> = rep
            .signers
            .iter()
            .map(|s| s.certificate.as_ref().unwrap().serial.clone())
            .collect();
        assert_ne!(serials[0], serials[1]);
        // A third signer over other content is refused for the attached one.
        if attached {
            assert!(
                cms::add_signer(&two, &second, Some(b"other"), &CmsOptions::default()).is_err()
            );
        } else {
            assert!(cms::add_signer(&two, &second, None, &CmsOptions::default()).is_err());
        }
    }
}
