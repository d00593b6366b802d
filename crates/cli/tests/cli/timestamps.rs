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
