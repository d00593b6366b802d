//! XML signatures: every signature made here is verified by `xmlsec1` against the test CA; our
//! verifier is checked on Kalkan's samples and on xmlsec1's own signatures; hostile XML is
//! refused.

use std::path::Path;

use qoltanba_pki::ValidityStatus;
use qoltanba_pki::chain::ChainStatus;
use qoltanba_sign::input;
use qoltanba_sign::xml::{self, Parent, Tbs, XmlError, XmlSignOptions, XmlVerifyOptions};
use qoltanba_testkit::{shared_vectors, xmlsec};

use crate::common::{fixture, write};

/// A form with everything C14N can get wrong: declaration, PI, comments, namespaces (default
/// and prefixed), attributes in odd order with entities, CDATA, character references, Kazakh and
/// Russian text, whitespace.
const FORM: &str = r#"<?xml version="1.0" encoding="UTF-8"?>
<?portal version="2"?>
<!-- өтініш / заявление -->
<request xmlns="urn:egov:form" xmlns:b="urn:egov:b" z="last" a="first &amp; &lt;tag&gt;" Id="req-1">
  <b:applicant iin="123456789011">Тестов Тест Тестович — ТОО «Сәлем»</b:applicant>
  <!-- a comment inside -->
  <text><![CDATA[x < y && "quoted"]]> &#1178;&#x04D8; tab	end</text>
  <data  b:attr='single "quotes"'   >  spaced  </data>
  <empty/>
  <nested><level2><level3 Id="inner-7">deep</level3></level2></nested>
</request>
"#;

fn verify_in_xmlsec(signed: &str, id_attr: Option<(&str, &str)>) {
    let f = fixture();
    let dir = tempfile::tempdir().unwrap();
    let p = write(dir.path(), "signed.xml", signed.as_bytes());
    let [root, nca] = f.trusted_pems();
    let r = xmlsec::verify(&p, &[root.as_path(), nca.as_path()], id_attr);
    assert!(
        r.ok,
        "xmlsec1 rejected our signature: {}\n{signed}",
        r.output
    );
}

fn verify_ours(signed: &str, id_attr: Option<&str>) -> xml::XmlVerifyReport {
    let f = fixture();
    let opts = XmlVerifyOptions {
        trust_anchors: f.anchors(),
        now: None,
        id_attr: id_attr.map(str::to_owned),
        ..Default::default()
    };
    xml::verify(signed, &opts).unwrap()
}

#[test]
fn whole_document_signature_verifies_in_xmlsec_and_keeps_the_text() {
    let key = fixture().key();
    let signed = xml::sign(&key, FORM, &XmlSignOptions::default()).unwrap();
    verify_in_xmlsec(&signed, None);
    let rep = verify_ours(&signed, None);
    assert!(rep.valid, "{rep:?}");
    assert_eq!(
        rep.signatures[0].chain.as_ref().unwrap().status,
        ChainStatus::Trusted
    );
    // The document's own text survives byte for byte around the inserted signature.
    let at = signed.find("<ds:Signature").unwrap();
    assert_eq!(&signed[..at], &FORM[..at]);
    let end = signed.find("</ds:Signature>").unwrap() + "</ds:Signature>".len();
    assert_eq!(&signed[end..], &FORM[at..]);
    // Kalkan's shape.
    for want in [
        "<ds:Signature xmlns:ds=\"http://www.w3.org/2000/09/xmldsig#\">",
        "<ds:CanonicalizationMethod Algorithm=\"http://www.w3.org/TR/2001/REC-xml-c14n-20010315\"/>",
        "<ds:SignatureMethod Algorithm=\"http://www.w3.org/2001/04/xmldsig-more#rsa-sha256\"/>",
        "<ds:Reference URI=\"\">",
        "<ds:Transform Algorithm=\"http://www.w3.org/2000/09/xmldsig#enveloped-signature\"/>\n<ds:Transform Algorithm=\"http://www.w3.org/TR/2001/REC-xml-c14n-20010315#WithComments\"/>",
        "<ds:DigestMethod Algorithm=\"http://www.w3.org/2001/04/xmlenc#sha256\"/>",
        "<ds:X509Certificate>\nMII",
    ] {
        assert!(signed.contains(want), "missing {want}");
    }
}

#[test]
fn signature_under_a_nested_parent_and_a_referenced_element() {
    let key = fixture().key();
    // Signature placed deep inside, whole document signed.
    let opts = XmlSignOptions {
        tbs: Tbs::WholeDocument,
        parent: Parent::XPath("//*[local-name()='level2']"),
    };
    let signed = xml::sign(&key, FORM, &opts).unwrap();
    assert!(signed.contains("<level3 Id=\"inner-7\">deep</level3><ds:Signature"));
    verify_in_xmlsec(&signed, None);
    assert!(verify_ours(&signed, None).valid);

    // One element signed by XPath (URI="#inner-7"), signature in another element.
    let opts = XmlSignOptions {
        tbs: Tbs::XPath("//*[@Id='inner-7']"),
        parent: Parent::XPath("/*[local-name()='request']/*[local-name()='data']"),
    };
    let signed = xml::sign(&key, FORM, &opts).unwrap();
    assert!(signed.contains("<ds:Reference URI=\"#inner-7\">"));
    verify_in_xmlsec(&signed, Some(("Id", "level3")));
    assert!(verify_ours(&signed, None).valid);

    // Prefixed XPath with the document's own prefixes.
    let opts = XmlSignOptions {
        tbs: Tbs::WholeDocument,
        parent: Parent::XPath("//b:applicant"),
    };
    let signed = xml::sign(&key, FORM, &opts).unwrap();
    verify_in_xmlsec(&signed, None);
}

/// SignedInfo is canonicalized in the context of the elements around the Signature (their
/// namespaces and xml:* attributes are in scope there): redeclared prefixes, a default namespace
/// undeclared again, inherited xml:lang and xml:space, `>` and a line end inside attribute
/// values, and an empty-element parent.
#[test]
fn signature_in_a_context_full_of_namespaces() {
    let key = fixture().key();
    let doc = "<r xmlns=\"urn:d\" xml:lang=\"kk\" xmlns:p=\"urn:p1\" a=\"x&gt;y>z\">\
               <p:m xmlns:p=\"urn:p2\" xml:space=\"preserve\" b=\"1\n2\">\
               <n xmlns=\"\" c='q\"'/></p:m><p:o/></r>";
    for parent in ["//*[local-name()='n']", "//*[local-name()='m']", "/*"] {
        let opts = XmlSignOptions {
            tbs: Tbs::WholeDocument,
            parent: Parent::XPath(parent),
        };
        let signed = xml::sign(&key, doc, &opts).unwrap();
        verify_in_xmlsec(&signed, None);
        assert!(verify_ours(&signed, None).valid, "{parent}");
    }
}

#[test]
fn legacy_sign_by_element_id_and_empty_parent() {
    let key = fixture().key();
    let doc = r#"<root><doc uid="d1">Құжат</doc><sigs/></root>"#;
    let opts = XmlSignOptions {
        tbs: Tbs::ElementId {
            element: "doc",
            id_attr: "uid",
        },
        parent: Parent::ElementName("sigs"),
    };
    let signed = xml::sign(&key, doc, &opts).unwrap();
    assert!(signed.starts_with("<root><doc uid=\"d1\">Құжат</doc><sigs><ds:Signature"));
    assert!(signed.ends_with("</ds:Signature></sigs></root>"));
    verify_in_xmlsec(&signed, Some(("uid", "doc")));
    assert!(verify_ours(&signed, Some("uid")).valid);
    // Without telling the verifier which attribute is the ID, the reference cannot resolve.
    assert!(!verify_ours(&signed, None).valid);
}

#[test]
fn many_documents_with_one_key() {
    let key = fixture().key();
    let docs = [
        "<a>1</a>",
        "<b xmlns=\"urn:x\">2</b>",
        "<?xml version=\"1.0\"?>\n<c/>",
        // Literal whitespace in attribute values is normalised (XML 1.0 §3.3.3) as xmlsec does.
        "<d x=\"1\n\t2\" y='&#10;'>t</d>",
    ];
    let signed = xml::sign_many(&key, &docs, &XmlSignOptions::default()).unwrap();
    assert_eq!(signed.len(), 4);
    for s in &signed {
        verify_in_xmlsec(s, None);
    }
    assert!(signed[2].starts_with("<?xml version=\"1.0\"?>\n<c><ds:Signature"));
}

#[test]
fn changes_outside_and_inside_the_signature_are_caught() {
    let key = fixture().key();
    let signed = xml::sign(&key, FORM, &XmlSignOptions::default()).unwrap();
    // Outside: one character of the content.
    let outside = signed.replacen("spaced", "spaceD", 1);
    let rep = verify_ours(&outside, None);
    assert!(!rep.valid);
    assert!(!rep.signatures[0].references[0].digest_matches);
    // The independent verifier agrees (so the positive xmlsec1 checks above can fail).
    let f = fixture();
    let dir = tempfile::tempdir().unwrap();
    let p = write(dir.path(), "tampered.xml", outside.as_bytes());
    let [root, nca] = f.trusted_pems();
    assert!(!xmlsec::verify(&p, &[root.as_path(), nca.as_path()], None).ok);
    // And a certificate from another CA is not trusted by xmlsec1.
    let other = qoltanba_testkit::pki::TestPki::new();
    let other_root = write(dir.path(), "other.pem", other.root.cert_pem().as_bytes());
    let p = write(dir.path(), "good.xml", signed.as_bytes());
    assert!(!xmlsec::verify(&p, &[other_root.as_path()], None).ok);
    // Inside: one character of SignedInfo (the digest value) and of SignatureValue.
    let dv = signed.find("<ds:DigestValue>").unwrap() + "<ds:DigestValue>".len();
    let mut inside = signed.clone().into_bytes();
    inside[dv] = if inside[dv] == b'A' { b'B' } else { b'A' };
    assert!(!verify_ours(std::str::from_utf8(&inside).unwrap(), None).valid);
    let sv = signed.find("<ds:SignatureValue>\n").unwrap() + "<ds:SignatureValue>\n".len();
    let mut inside = signed.clone().into_bytes();
    inside[sv + 5] = if inside[sv + 5] == b'A' { b'B' } else { b'A' };
    let rep = verify_ours(std::str::from_utf8(&inside).unwrap(), None);
    assert!(!rep.valid);
    assert!(!rep.signatures[0].signature_matches);
    // A comment added outside: comments are not signed with URI="" (XMLDSig §4.3.3.3).
    let commented = signed.replacen("<empty/>", "<empty/><!-- added -->", 1);
    assert!(verify_ours(&commented, None).valid);
}

#[test]
fn xmlsec_made_signatures_verify() {
    let f = fixture();
    let dir = tempfile::tempdir().unwrap();
    let key = write(dir.path(), "k.pem", f.leaf.key_pem().as_bytes());
    let cert = write(dir.path(), "c.pem", f.leaf.cert_pem().as_bytes());
    // Exclusive C14N with comments in SignedInfo, rsa-sha256, inclusive C14N transform.
    let template = r#"<?xml version="1.0" encoding="UTF-8"?>
<doc xmlns="urn:t" xmlns:unused="urn:u"><item>Мәтін</item><!-- c --><ds:Signature xmlns:ds="http://www.w3.org/2000/09/xmldsig#"><ds:SignedInfo><ds:CanonicalizationMethod Algorithm="http://www.w3.org/2001/10/xml-exc-c14n#"/><ds:SignatureMethod Algorithm="http://www.w3.org/2001/04/xmldsig-more#rsa-sha256"/><ds:Reference URI=""><ds:Transforms><ds:Transform Algorithm="http://www.w3.org/2000/09/xmldsig#enveloped-signature"/></ds:Transforms><ds:DigestMethod Algorithm="http://www.w3.org/2001/04/xmlenc#sha256"/><ds:DigestValue/></ds:Reference></ds:SignedInfo><ds:SignatureValue/><ds:KeyInfo><ds:X509Data/></ds:KeyInfo></ds:Signature></doc>"#;
    let t = write(dir.path(), "t.xml", template.as_bytes());
    let out = dir.path().join("o.xml");
    let r = xmlsec::sign(&t, &key, &cert, &out);
    assert!(r.ok, "{}", r.output);
    let signed = std::fs::read_to_string(&out).unwrap();
    let rep = verify_ours(&signed, None);
    assert!(rep.valid, "{rep:?}\n{signed}");
    assert!(!verify_ours(&signed.replace("Мәтін", "Мәтiн"), None).valid);
}

fn shared_xml(dir: &Path, name: &str) -> String {
    std::fs::read_to_string(dir.join("signed").join(name)).unwrap()
}

#[test]
fn kalkan_samples() {
    let Some(dir) = shared_vectors() else { return };
    let ca =
        input::decode_certificates(&std::fs::read(dir.join("ca-test/nca_rsa_test.crt")).unwrap())
            .unwrap();
    let opts = XmlVerifyOptions {
        trust_anchors: ca,
        now: None,
        id_attr: None,
        ..Default::default()
    };
    for name in [
        "RSA256_11c707bd54cbfcccb3815e39c4eb57b1dc7dfea9.xml",
        "AUTH_RSA256_b2c70a9ff7a5dc59de0ccc3c0ddde3437cc1f12d.xml",
    ] {
        let text = shared_xml(&dir, name);
        let rep = xml::verify(&text, &opts).unwrap();
        assert!(rep.valid, "{name}: {rep:?}");
        let s = &rep.signatures[0];
        assert_eq!(
            s.certificate.as_ref().unwrap().iin.as_deref(),
            Some("123456789011")
        );
        let chain = s.chain.as_ref().unwrap();
        assert_eq!(chain.status, ChainStatus::Trusted);
        assert_eq!(
            chain.validity,
            ValidityStatus::Expired,
            "checked now; the test certificates expired"
        );
        // One character changed in the signed content.
        let tampered = text.replacen("NCANode", "NCANodf", 1);
        assert!(!xml::verify(&tampered, &opts).unwrap().valid, "{name}");
    }
    // GOST samples are covered in gost.rs; under the RSA test CA the GOST one is valid
    // mathematically but its chain is not trusted.
    let rep = xml::verify(
        &shared_xml(
            &dir,
            "GOSTKNCA_13a3741b52d7bf860aab199b56fad1f4652e357b.xml",
        ),
        &opts,
    )
    .unwrap();
    assert!(rep.valid);
    assert_eq!(
        rep.signatures[0].chain.as_ref().unwrap().status,
        ChainStatus::Untrusted
    );
}

#[test]
fn hostile_xml_is_refused_quickly() {
    let key = fixture().key();
    let xxe =
        r#"<?xml version="1.0"?><!DOCTYPE r [<!ENTITY x SYSTEM "file:///etc/passwd">]><r>&x;</r>"#;
    let laughs = r#"<?xml version="1.0"?><!DOCTYPE l [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;"><!ENTITY c "&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;"><!ENTITY d "&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;"><!ENTITY e "&d;&d;&d;&d;&d;&d;&d;&d;&d;&d;"><!ENTITY f "&e;&e;&e;&e;&e;&e;&e;&e;&e;&e;"><!ENTITY g "&f;&f;&f;&f;&f;&f;&f;&f;&f;&f;">]><l>&g;</l>"#;
    let external = r#"<?xml version="1.0"?><!DOCTYPE r SYSTEM "http://example.invalid/r.dtd"><r/>"#;
    for (name, doc) in [
        ("xxe", xxe),
        ("billion laughs", laughs),
        ("external DTD", external),
    ] {
        let err = xml::sign(&key, doc, &XmlSignOptions::default()).unwrap_err();
        assert!(matches!(err, XmlError::Dtd), "{name}: {err:?}");
        assert!(
            matches!(
                xml::verify(doc, &XmlVerifyOptions::default()),
                Err(XmlError::Dtd)
            ),
            "{name}"
        );
        assert!(err.to_string().contains("DTD"));
    }
    let deep = format!("{}{}", "<a>".repeat(100), "</a>".repeat(100));
    let err = xml::sign(&key, &deep, &XmlSignOptions::default()).unwrap_err();
    assert!(matches!(err, XmlError::TooDeep), "{err:?}");
    // An undefined entity without any DTD.
    assert!(matches!(
        xml::sign(&key, "<r>&nope;</r>", &XmlSignOptions::default()),
        Err(XmlError::Malformed(_))
    ));
    for bad in ["", "<a>", "<a></b>", "not xml", "<a x='1' x='2'/>"] {
        let err = xml::sign(&key, bad, &XmlSignOptions::default()).unwrap_err();
        assert!(matches!(err, XmlError::Malformed(_)), "{bad:?}: {err:?}");
    }
    assert!(matches!(
        xml::verify("<a/>", &XmlVerifyOptions::default()),
        Err(XmlError::NoSignature)
    ));
    // XPaths that select nothing or several elements.
    let opts = XmlSignOptions {
        tbs: Tbs::WholeDocument,
        parent: Parent::XPath("//missing"),
    };
    assert!(matches!(
        xml::sign(&key, FORM, &opts),
        Err(XmlError::XPath(_))
    ));
    let opts = XmlSignOptions {
        tbs: Tbs::XPath("//*[local-name()='data']"),
        parent: Parent::DocumentElement,
    };
    assert!(matches!(
        xml::sign(&key, FORM, &opts),
        Err(XmlError::NoId(_))
    ));
    let opts = XmlSignOptions {
        tbs: Tbs::WholeDocument,
        parent: Parent::XPath("//*["),
    };
    assert!(matches!(
        xml::sign(&key, FORM, &opts),
        Err(XmlError::XPath(_))
    ));
}

/// Our C14N (bergshamra-c14n) against libxml2's (`xmllint --c14n` / `--exc-c14n`, both with
/// comments) on documents with the usual traps.
#[test]
fn c14n_matches_libxml2() {
    let docs = [
        FORM,
        "<?xml version=\"1.0\"?>\n<!-- before -->\n<?pi  data ?>\n<r xmlns=\"urn:d\" xmlns:x=\"urn:x\"><x:c x:a=\"1\" b=\"2\" a=\"3\"/><!-- in --></r>\n<!-- after -->",
        "<a xmlns:u=\"urn:unused\" xml:lang=\"kk\"><b xmlns:u=\"urn:unused\">Қазақша</b><c xml:space=\"preserve\">  </c></a>",
        "<a attr=\"tab\t nl\n cr&#13; lt&lt; gt&gt; amp&amp; quot&quot;\">text &#xD; &lt; &gt; &amp; ' \"</a>",
        "<a><![CDATA[<not> & markup]]><e></e><e/></a>",
        "<p:a xmlns:p=\"urn:p\" xmlns:q=\"urn:q\"><q:b xmlns:p=\"urn:p\"><p:c/></q:b></p:a>",
        "<?xml version=\"1.0\"?>\n<?before  x ?>\n<a xmlns=\"urn:1\"><b xmlns=\"\"><c xmlns=\"\"/><d xmlns=\"urn:1\"/></b><e xmlns=\"urn:2\" xmlns:z=\"urn:z\" xmlns:b=\"urn:b\" z:k=\"1\" b:k=\"2\" k=\"3\"/><?in?></a>\n<?after?>",
        "<a b=\"1\r\n2\">x\r\ny\rz</a>",
    ];
    let dir = tempfile::tempdir().unwrap();
    for (i, doc) in docs.iter().enumerate() {
        let path = dir.path().join(format!("d{i}.xml"));
        std::fs::write(&path, doc).unwrap();
        for (flag, exclusive) in [("--c14n", false), ("--exc-c14n", true)] {
            let out = std::process::Command::new("xmllint")
                .arg(flag)
                .arg(&path)
                .output()
                .expect("xmllint (apt libxml2-utils)");
            assert!(
                out.status.success(),
                "xmllint {flag} d{i}: {}",
                String::from_utf8_lossy(&out.stderr)
            );
            let ours = xml::canonicalize(doc, exclusive, true).unwrap();
            assert_eq!(
                String::from_utf8_lossy(&ours),
                String::from_utf8_lossy(&out.stdout),
                "{flag} on document {i}"
            );
            // Without comments (the streaming canonicalizer of whole documents) the output is
            // the same for documents that have none.
            if !exclusive && !doc.contains("<!--") {
                let ours = xml::canonicalize(doc, false, false).unwrap();
                assert_eq!(
                    String::from_utf8_lossy(&ours),
                    String::from_utf8_lossy(&out.stdout),
                    "streamed {flag} on document {i}"
                );
            }
        }
    }
}

/// A 1.5 MB document whose signature has 400 `URI=""` references cost 2.4 s of CPU before any
/// count was checked; now it is refused before anything is canonicalized, as are the other
/// shapes of too much work.
#[test]
fn verification_work_is_counted_before_it_is_done() {
    let body = format!("<doc><p>{}</p>", "x".repeat(1_500_000));
    let reference = r#"<ds:Reference URI=""><ds:Transforms><ds:Transform Algorithm="http://www.w3.org/2000/09/xmldsig#enveloped-signature"/></ds:Transforms><ds:DigestMethod Algorithm="http://www.w3.org/2001/04/xmlenc#sha256"/><ds:DigestValue>AAAA</ds:DigestValue></ds:Reference>"#;
    let sig = |refs: usize, transforms: usize, certs: usize| {
        let by_id = format!(
            r##"<ds:Reference URI="#a"><ds:Transforms>{}</ds:Transforms><ds:DigestMethod Algorithm="http://www.w3.org/2001/04/xmlenc#sha256"/><ds:DigestValue>AAAA</ds:DigestValue></ds:Reference>"##,
            r#"<ds:Transform Algorithm="http://www.w3.org/2000/09/xmldsig#enveloped-signature"/>"#
                .repeat(transforms)
        );
        format!(
            r#"<ds:Signature xmlns:ds="http://www.w3.org/2000/09/xmldsig#"><ds:SignedInfo><ds:CanonicalizationMethod Algorithm="http://www.w3.org/TR/2001/REC-xml-c14n-20010315"/><ds:SignatureMethod Algorithm="http://www.w3.org/2001/04/xmldsig-more#rsa-sha256"/>{}{}</ds:SignedInfo><ds:SignatureValue>AAAA</ds:SignatureValue><ds:KeyInfo><ds:X509Data>{}</ds:X509Data></ds:KeyInfo></ds:Signature>"#,
            reference.repeat(refs),
            by_id,
            "<ds:X509Certificate>AAAA</ds:X509Certificate>".repeat(certs)
        )
    };
    let opts = XmlVerifyOptions::default();
    let refused = |doc: &str, what: &str| match xml::verify(doc, &opts) {
        Err(XmlError::TooMuchWork(w)) => assert!(w.contains(what), "{w}"),
        other => panic!("{what}: {other:?}"),
    };
    refused(&format!("{body}{}</doc>", sig(400, 1, 1)), "references");
    refused(&format!("{body}{}</doc>", sig(5, 1, 1)), "whole document");
    refused(&format!("<doc>{}</doc>", sig(1, 50, 1)), "transforms");
    refused(&format!("<doc>{}</doc>", sig(1, 1, 100)), "certificates");
    refused(
        &format!("<doc>{}</doc>", sig(0, 1, 1).repeat(20)),
        "signatures",
    );
    // Within the bounds the work is done (and these made-up digests do not match).
    let r = xml::verify(&format!("{body}{}</doc>", sig(2, 1, 1)), &opts).unwrap();
    assert!(!r.valid);
}
