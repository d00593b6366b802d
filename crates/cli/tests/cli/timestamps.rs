//! `qoltanba sign cms --tsa`: CAdES-T from a real TSA (`openssl ts -reply` over HTTP), verified
//! by `openssl cms -verify`; `verify cms` reports the timestamp (time, policy, TSA, valid).

use qoltanba_testkit::openssl;
use qoltanba_testkit::tsa::{Mode, TestTsa};

use super::{fx, json_of, qoltanba, s, stderr};

#[test]
fn sign_cms_with_a_tsa_makes_cades_t_and_verify_reports_it() {
    let f = fx();
    let tsa = TestTsa::start(&f.pki);
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("doc.txt");
    std::fs::write(&input, "Қолтаңба").unwrap();
    for attached in [true, false] {
        let out = dir.path().join(format!("doc-{attached}.p7s"));
        let mut args = vec![
            "sign",
            "cms",
            "--key",
            s(&f.key_file),
            "--password-env",
            "QOLTANBA_PW",
            "--tsa",
            &tsa.url,
            "--tsa-trust",
            s(&f.ca),
            s(&input),
            "-o",
            s(&out),
        ];
        if attached {
            args.push("--attached");
        }
        let o = qoltanba(&args, Some("Тест-123"));
        assert!(o.status.success(), "{}", stderr(&o));
        let content = (!attached).then_some(input.as_path());
        let check = openssl::cms_verify(&out, content, &f.ca);
        assert!(check.ok, "{}", check.output);
        let mut vargs = vec!["verify", "cms", s(&out), "--trust", s(&f.ca), "--json"];
        if !attached {
            vargs.extend(["--content", s(&input)]);
        }
        let report = json_of(&qoltanba(&vargs, None));
        let t = &report["signers"][0]["timestamp"];
        assert_eq!(t["valid"], true, "{report}");
        assert_eq!(t["policy"], qoltanba_testkit::tsa::POLICY);
        assert_eq!(t["tsa"], "TSA SERVICE TEST");
        assert!(
            t["time"].as_str().is_some_and(|x| x.starts_with("20")),
            "{t}"
        );
        assert_eq!(t["chain"]["status"], "trusted", "{t}");
        // The text form says it too.
        let o = qoltanba(&["verify", "cms", s(&out), "--trust", s(&f.ca)], None);
        if attached {
            assert!(
                String::from_utf8_lossy(&o.stdout).contains("Timestamp: 20"),
                "{}",
                String::from_utf8_lossy(&o.stdout)
            );
        }
    }
    // A TSA that answers garbage: an error, and no signature file.
    tsa.set_mode(Mode::Garbage);
    let out = dir.path().join("none.p7s");
    let o = qoltanba(
        &[
            "sign",
            "cms",
            "--key",
            s(&f.key_file),
            "--password-env",
            "QOLTANBA_PW",
            "--tsa",
            &tsa.url,
            "--tsa-trust",
            s(&f.ca),
            s(&input),
            "-o",
            s(&out),
        ],
        Some("Тест-123"),
    );
    assert!(!o.status.success());
    assert!(stderr(&o).contains("timestamp"), "{}", stderr(&o));
    assert!(!out.exists());
}

#[test]
fn sign_cms_add_to_co_signs_with_a_timestamp_and_verify_lists_every_signer() {
    let f = fx();
    let tsa = TestTsa::start(&f.pki);
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("contract.txt");
    std::fs::write(&input, "Шарт / Договор / Contract").unwrap();
    let first = dir.path().join("one.p7s");
    let o = qoltanba(
        &[
            "sign",
            "cms",
            "--key",
            s(&f.key_file),
            "--password-env",
            "QOLTANBA_PW",
            "--attached",
            s(&input),
            "-o",
            s(&first),
        ],
        Some("Тест-123"),
    );
    assert!(o.status.success(), "{}", stderr(&o));
    // A second person (another key of the same PKI) adds a timestamped signature.
    let other = f.pki.issue(&qoltanba_testkit::pki::LeafSpec::individual(
        qoltanba_testkit::pki::Usage::Sign,
    ));
    let other_file = qoltanba_testkit::p12::write_nca_file(&other, "Second-1", dir.path());
    let both = dir.path().join("two.p7s");
    let o = qoltanba(
        &[
            "sign",
            "cms",
            "--key",
            s(&other_file),
            "--password-env",
            "QOLTANBA_PW",
            "--add-to",
            s(&first),
            "--tsa",
            &tsa.url,
            "--tsa-trust",
            s(&f.ca),
            s(&input),
            "-o",
            s(&both),
        ],
        Some("Second-1"),
    );
    assert!(o.status.success(), "{}", stderr(&o));
    let check = openssl::cms_verify(&both, None, &f.ca);
    assert!(check.ok, "{}", check.output);
    let report = json_of(&qoltanba(
        &["verify", "cms", s(&both), "--trust", s(&f.ca), "--json"],
        None,
    ));
    let signers = report["signers"].as_array().unwrap();
    assert_eq!(signers.len(), 2, "{report}");
    assert!(
        signers.iter().all(|x| x["signature_valid"] == true),
        "{report}"
    );
    assert!(signers[0]["timestamp"].is_null());
    assert_eq!(signers[1]["timestamp"]["valid"], true, "{report}");
    // The first signer is byte for byte the one before.
    let one = std::fs::read(&first).unwrap();
    let two = std::fs::read(&both).unwrap();
    let sig_of = |der: &[u8]| {
        qoltanba_sign::cms::tsp::signature_values(der).unwrap()[0]
            .value
            .clone()
    };
    assert_eq!(sig_of(&one), sig_of(&two));
    // Other content than the one inside: refused.
    let wrong = dir.path().join("wrong.txt");
    std::fs::write(&wrong, "something else").unwrap();
    let o = qoltanba(
        &[
            "sign",
            "cms",
            "--key",
            s(&other_file),
            "--password-env",
            "QOLTANBA_PW",
            "--add-to",
            s(&first),
            s(&wrong),
            "-o",
            s(&dir.path().join("x.p7s")),
        ],
        Some("Second-1"),
    );
    assert!(!o.status.success());
}
