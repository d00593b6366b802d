//! The real `ncalayer-js-client` 1.5.6 in Node against the server (PROTOCOL.md §5).

use std::process::Command;

use serde_json::Value;

use crate::harness::{Options, Server, js_dir, start};

const CONTENT: &str = "Қолтаңба тесті / тест подписи / signature test";

fn run_client(server: &Server, mode: &str, extra_ca: Option<&std::path::Path>) -> Value {
    let mut cmd = Command::new("node");
    cmd.current_dir(js_dir())
        .args(["run.mjs", "--url", &server.url, "--mode", mode]);
    if let Some(ca) = extra_ca {
        cmd.env("NODE_EXTRA_CA_CERTS", ca);
    }
    let out = cmd.output().expect("run node (apt nodejs)");
    assert!(
        out.status.success(),
        "node failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("bad output {e}: {}", String::from_utf8_lossy(&out.stdout)))
}

fn ok<'a>(r: &'a Value, name: &str) -> &'a Value {
    r[name]
        .get("ok")
        .unwrap_or_else(|| panic!("{name} failed: {}", r[name]))
}

fn error(r: &Value, name: &str) -> String {
    r[name]["error"]
        .as_str()
        .unwrap_or_else(|| panic!("{name} should have failed: {}", r[name]))
        .to_owned()
}

fn check_approve_suite(server: &Server, r: &Value) {
    assert_eq!(ok(r, "connect"), "1.4");
    assert_eq!(ok(r, "getActiveTokens"), &serde_json::json!([]));
    let info = ok(r, "getKeyInfo");
    assert!(
        info["subjectDn"]
            .as_str()
            .unwrap()
            .contains("SERIALNUMBER=IIN123456789011"),
        "{info}"
    );
    assert_eq!(info["keyId"], server.leaf.ski_hex.as_str());
    assert_eq!(info["algorithm"], "RSA");
    assert!(
        info["certNotAfter"]
            .as_str()
            .unwrap()
            .parse::<u64>()
            .is_ok()
    );
    let pem = info["pem"].as_str().unwrap();
    assert_eq!(
        qoltanba_sign::input::decode_certificates(pem.as_bytes()).unwrap()[0],
        server.leaf.cert_der
    );

    let content = CONTENT.as_bytes();
    server.assert_cms(
        "cadesAttached",
        ok(r, "cadesAttached").as_str().unwrap(),
        None,
    );
    server.assert_cms(
        "cadesDetached",
        ok(r, "cadesDetached").as_str().unwrap(),
        Some(content),
    );
    server.assert_cms(
        "cadesHash",
        ok(r, "cadesHash").as_str().unwrap(),
        Some(content),
    );
    // createCMSSignatureFromBase64 is CAdES-T; createCAdES* are not.
    let tsp = ok(r, "cmsSignatureTsp").as_str().unwrap();
    server.assert_cms("cmsSignatureTsp", tsp, None);
    server.assert_timestamped("cmsSignatureTsp", tsp);
    let bes =
        qoltanba_sign::input::decode_binary(ok(r, "cadesAttached").as_str().unwrap().as_bytes())
            .unwrap();
    assert!(!qoltanba_sign::cms::tsp::signature_values(&bes).unwrap()[0].timestamped);
    server.assert_xml("signXml", ok(r, "signXml").as_str().unwrap());
    let many = ok(r, "signXmls").as_array().unwrap();
    assert_eq!(many.len(), 2);
    for (i, x) in many.iter().enumerate() {
        server.assert_xml(&format!("signXmls{i}"), x.as_str().unwrap());
    }
    // basics: CMS comes back as PEM (a single document is unwrapped by the client).
    let single = ok(r, "basicsCmsSingleDetached").as_str().unwrap();
    assert!(single.starts_with("-----BEGIN CMS-----\n") && single.ends_with("-----END CMS-----\n"));
    server.assert_cms("basicsSingle", single, Some(content));
    let many = ok(r, "basicsCmsManyAttached").as_array().unwrap();
    assert_eq!(many.len(), 2);
    server.assert_cms("basicsMany0", many[0].as_str().unwrap(), None);
    server.assert_cms("basicsMany1", many[1].as_str().unwrap(), None);
    // The client's default parameters carry `tsaProfile: {}`: each CMS is CAdES-T.
    server.assert_timestamped("basicsMany0", many[0].as_str().unwrap());
    server.assert_timestamped("basicsMany1", many[1].as_str().unwrap());
    server.assert_timestamped("basicsHash", ok(r, "basicsCmsHash").as_str().unwrap());
    let no_tsp = qoltanba_sign::input::decode_binary(single.as_bytes()).unwrap();
    assert!(
        !qoltanba_sign::cms::tsp::signature_values(&no_tsp).unwrap()[0].timestamped,
        "basicsCMSParamsDetachedNoTSP got a timestamp"
    );
    server.assert_cms(
        "basicsHash",
        ok(r, "basicsCmsHash").as_str().unwrap(),
        Some(content),
    );
    let xmls = ok(r, "basicsXml").as_array().unwrap();
    server.assert_xml("basicsXml", xmls[0].as_str().unwrap());

    assert!(
        error(r, "basicsWrongIin").starts_with("SIGNING_FAILURE"),
        "{}",
        r["basicsWrongIin"]
    );
    // The only key is a SIGN key: an authentication request finds none.
    assert!(error(r, "basicsAuthKeyWanted").contains("no key"));
    assert_eq!(error(r, "badBase64"), "500: invalid base64 data");
    assert!(error(r, "badXml").starts_with("500: malformed XML"));
    assert!(error(r, "xxe").contains("DTD"));
    assert!(
        r["changeLocale"].get("error").is_none(),
        "{}",
        r["changeLocale"]
    );
}

#[test]
fn js_client_over_ws() {
    let server = start(&Options::default());
    let r = run_client(&server, "approve", None);
    check_approve_suite(&server, &r);
}

#[test]
fn js_client_over_wss_with_the_local_ca() {
    let server = start(&Options {
        tls: true,
        ..Options::default()
    });
    assert!(server.url.starts_with("wss://"));
    check_local_tls_files(&server);
    let r = run_client(&server, "approve", Some(&server.local_ca()));
    check_approve_suite(&server, &r);
    // Without trusting the local CA the client cannot connect (looks like "not running").
    let r = run_client(&server, "approve", None);
    let e = r["connect"]["error"].as_str().unwrap();
    assert!(
        e.starts_with("Ошибка взаимодействия с NCALayer") || e == "connect timeout",
        "{e}"
    );
}

#[test]
fn js_client_cancel() {
    let server = start(&Options {
        approve: false,
        ..Options::default()
    });
    let r = run_client(&server, "cancel", None);
    assert_eq!(ok(&r, "connect"), "1.4");
    assert_eq!(
        r["basicsCancel"]["canceledByUser"], true,
        "{}",
        r["basicsCancel"]
    );
    assert_eq!(error(&r, "commonUtilsCancel"), "500: action.canceled");
    assert_eq!(r["commonUtilsCancel"]["canceledByUser"], false);
    assert_eq!(error(&r, "signXmlCancel"), "500: action.canceled");
}

/// The local CA is name-constrained to loopback, its private key exists nowhere, and the server
/// key is readable by its owner only.
fn check_local_tls_files(server: &Server) {
    let tls = server.local_ca().parent().unwrap().to_owned();
    let mut names: Vec<String> = std::fs::read_dir(&tls)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    assert_eq!(names, ["local-ca.pem", "server.key", "server.pem"]);
    for f in ["local-ca.pem", "server.pem"] {
        let text = std::fs::read_to_string(tls.join(f)).unwrap();
        assert!(!text.contains("PRIVATE KEY"), "{f} holds a private key");
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(tls.join("server.key"))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600);
    }
    let out = Command::new("openssl")
        .args(["x509", "-noout", "-text", "-in"])
        .arg(tls.join("local-ca.pem"))
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("X509v3 Name Constraints: critical")
            || text.contains("X509v3 Name Constraints"),
        "{text}"
    );
    assert!(
        text.contains("IP:127.0.0.1/255.255.255.255") && text.contains("DNS:localhost"),
        "{text}"
    );
    assert!(text.contains("pathlen:0"), "{text}");
}

/// A GOST R 34.10-2015 (512) key through the whole stack. No independent GOST verifier exists
/// here, so the library verifier checks the results (it verifies NCA's own GOST signatures in
/// the known-answer tests).
#[test]
fn js_client_with_a_gost2015_key() {
    gost_suite(qoltanba_testkit::pki::Algorithm::Gost2015);
}

/// The same with a GOST 34.310-2004 key (legal entities' keys until 2022).
#[test]
fn js_client_with_a_gost2004_key() {
    gost_suite(qoltanba_testkit::pki::Algorithm::Gost2004);
}

fn gost_suite(algorithm: qoltanba_testkit::pki::Algorithm) {
    use qoltanba_sign::cms::{self, DetachedContent, VerifyOptions};
    use qoltanba_sign::xml::{self, XmlVerifyOptions};
    use qoltanba_testkit::pki::Algorithm;
    let gost2015 = algorithm == Algorithm::Gost2015;
    let server = start(&Options {
        algorithm,
        ..Options::default()
    });
    let r = run_client(&server, "approve", None);
    let anchors = vec![
        server.pki.root.cert_der.clone(),
        server.pki.nca.cert_der.clone(),
    ];
    let vo = VerifyOptions {
        trust_anchors: anchors.clone(),
        now: None,
        ..Default::default()
    };
    let check_cms = |name: &str, detached: Option<&[u8]>| {
        let text = ok(&r, name);
        let text = text.as_str().or_else(|| text[0].as_str()).unwrap();
        let der = qoltanba_sign::input::decode_binary(text.as_bytes()).unwrap();
        let content = detached.map_or(DetachedContent::None, DetachedContent::Bytes);
        let rep = cms::verify(&der, content, &vo).unwrap();
        assert!(rep.valid, "{name}: {rep:?}");
        let digest = if gost2015 {
            "1.2.398.3.10.1.3.3"
        } else {
            "1.2.398.3.10.1.3.1"
        };
        assert_eq!(rep.signers[0].digest_algorithm, digest, "{name}");
        assert_eq!(
            rep.signers[0].chain.as_ref().unwrap().status,
            qoltanba_pki::chain::ChainStatus::Trusted
        );
    };
    check_cms("cadesAttached", None);
    check_cms("cadesDetached", Some(CONTENT.as_bytes()));
    if gost2015 {
        // The page hashed with SHA-256; a GOST 2015 key needs a Streebog-512 hash: a clear error.
        assert!(
            error(&r, "cadesHash").contains("the hash must be 64 bytes"),
            "{}",
            r["cadesHash"]
        );
        assert!(
            error(&r, "basicsCmsHash").contains("64 bytes"),
            "{}",
            r["basicsCmsHash"]
        );
    } else {
        // A 32-byte hash is taken as a GOST 34.311 hash and signed; the page's SHA-256 bytes
        // do not match the content's GOST hash, which the verifier reports.
        let der =
            qoltanba_sign::input::decode_binary(ok(&r, "cadesHash").as_str().unwrap().as_bytes())
                .unwrap();
        let rep = cms::verify(&der, DetachedContent::Bytes(CONTENT.as_bytes()), &vo).unwrap();
        assert!(!rep.valid && rep.signers[0].signature_matches, "{rep:?}");
    }
    check_cms("basicsCmsSingleDetached", Some(CONTENT.as_bytes()));
    check_cms("basicsCmsManyAttached", None);
    let xo = XmlVerifyOptions {
        trust_anchors: anchors,
        ..XmlVerifyOptions::default()
    };
    for name in ["signXml", "basicsXml"] {
        let v = ok(&r, name);
        let text = v.as_str().or_else(|| v[0].as_str()).unwrap();
        let method = if gost2015 {
            "gostr34102015-gostr34112015-512"
        } else {
            "gost34310-gost34311"
        };
        assert!(text.contains(method), "{name}");
        assert!(xml::verify(text, &xo).unwrap().valid, "{name}");
    }
    if gost2015 {
        // The single GOST 2015 key also answers authentication requests (KZ-PKI.md §2.3).
        check_cms("basicsAuthKeyWanted", Some(CONTENT.as_bytes()));
        assert_eq!(ok(&r, "getKeyInfo")["algorithm"], "ECGOST3410-2015");
    } else {
        assert!(error(&r, "basicsAuthKeyWanted").contains("no key"));
        assert_eq!(ok(&r, "getKeyInfo")["algorithm"], "ECGOST34310");
    }
}
