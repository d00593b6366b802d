//! `qoltanba trust update --from DIR` keeps only NCA certificates whose fingerprints are pinned.

use super::{qoltanba, s};
use qoltanba_testkit::shared_vectors;

#[test]
fn trust_update_accepts_pinned_nca_certificates_only() {
    let Some(shared) = shared_vectors() else {
        return;
    };
    let data = tempfile::tempdir().unwrap();
    let o = qoltanba(
        &[
            "trust",
            "update",
            "--from",
            s(&shared.join("ca-prod")),
            "--data-dir",
            s(data.path()),
        ],
        None,
    );
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let out = String::from_utf8_lossy(&o.stdout);
    assert_eq!(
        out.matches("matches the pinned fingerprint").count(),
        8,
        "{out}"
    );
    // root_gost_2020 is a root of other CAs, not NCA's: not pinned.
    assert!(
        out.contains("root_gost_2020.cer: not an NCA certificate"),
        "{out}"
    );
    let mut names: Vec<String> = std::fs::read_dir(data.path().join("anchors"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    assert_eq!(names.len(), 8);
    assert!(names.contains(&"nca_rsa_2022.cer".to_owned()));
    // A directory with only test CAs: nothing imported, exit 1.
    let o = qoltanba(
        &[
            "trust",
            "update",
            "--from",
            s(&shared.join("ca-test")),
            "--data-dir",
            s(data.path()),
        ],
        None,
    );
    assert_eq!(o.status.code(), Some(1));
}
