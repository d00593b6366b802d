use super::{fx, qoltanba, s, stderr};
use qoltanba_testkit::{openssl, shared_vectors};

const PW: Option<&str> = Some("Тест-123");

fn sign(
    dir: &std::path::Path,
    extra: &[&str],
    input: &std::path::Path,
    out: &str,
) -> std::path::PathBuf {
    let f = fx();
    let out = dir.join(out);
    let mut args = vec![
        "sign",
        "cms",
        "--key",
        s(&f.key_file),
        "--password-env",
        "QOLTANBA_PW",
    ];
    args.extend_from_slice(extra);
    args.extend([s(input), "-o", s(&out)]);
    let o = qoltanba(&args, PW);
    assert!(o.status.success(), "{}", stderr(&o));
    out
}

#[test]
fn detached_attached_and_hash_signatures_verify_in_openssl_and_in_qoltanba() {
    let f = fx();
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("doc.xml");
    std::fs::write(&input, "<doc>Өтініш / Заявление</doc>").unwrap();
    let digest = dir.path().join("doc.sha256");
    std::fs::write(
        &digest,
        qoltanba_sign::DigestAlgorithm::Sha256.digest(&std::fs::read(&input).unwrap()),
    )
    .unwrap();

    let detached = sign(dir.path(), &[], &input, "d.p7s");
    let attached = sign(dir.path(), &["--attached"], &input, "a.p7s");
    let hashed = sign(dir.path(), &["--hash"], &digest, "h.p7s");

    for (sig, content) in [
        (&detached, Some(&input)),
        (&attached, None),
        (&hashed, Some(&input)),
    ] {
        let r = openssl::cms_verify(sig, content.map(std::path::PathBuf::as_path), &f.ca);
        assert!(r.ok, "{}: {}", sig.display(), r.output);
        let mut args = vec!["verify", "cms", s(sig), "--trust", s(&f.ca), "--json"];
        if let Some(c) = content {
            args.extend(["--content", s(c)]);
        }
        let o = qoltanba(&args, None);
        assert!(o.status.success(), "{}", stderr(&o));
        let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
        assert_eq!(v["valid"], true);
        assert_eq!(v["signers"][0]["chain"]["status"], "trusted");
        assert_eq!(v["signers"][0]["chain"]["validity"], "valid");
        assert_eq!(v["signers"][0]["certificate"]["bin"], "123456789021");
    }

    // One byte of the content changed → exit 1.
    let changed = dir.path().join("changed.xml");
    let mut bytes = std::fs::read(&input).unwrap();
    bytes[1] ^= 1;
    std::fs::write(&changed, &bytes).unwrap();
    let o = qoltanba(
        &["verify", "cms", s(&detached), "--content", s(&changed)],
        None,
    );
    assert_eq!(o.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&o.stdout).contains("INVALID"));

    // One byte of the signature value changed → exit 1.
    let mut sig = std::fs::read(&attached).unwrap();
    let n = sig.len();
    sig[n - 10] ^= 0x40;
    let bad = dir.path().join("bad.p7s");
    std::fs::write(&bad, &sig).unwrap();
    assert_eq!(
        qoltanba(&["verify", "cms", s(&bad)], None).status.code(),
        Some(1)
    );

    // A --hash input that is not a 32-byte digest is refused.
    let o = qoltanba(
        &[
            "sign",
            "cms",
            "--key",
            s(&f.key_file),
            "--password-env",
            "QOLTANBA_PW",
            "--hash",
            s(&input),
            "-o",
            s(&dir.path().join("x")),
        ],
        PW,
    );
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("32-byte"), "{}", stderr(&o));
}

#[test]
fn verify_accepts_openssl_cms_and_the_kalkan_sample() {
    let f = fx();
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("in.txt");
    std::fs::write(&input, b"signed by openssl").unwrap();
    let cert = dir.path().join("c.pem");
    let key = dir.path().join("k.pem");
    std::fs::write(&cert, f.leaf.cert_pem()).unwrap();
    std::fs::write(&key, f.leaf.key_pem().as_bytes()).unwrap();
    let out = dir.path().join("o.p7s");
    assert!(openssl::cms_sign(&input, &cert, &key, &out, false).ok);
    let o = qoltanba(
        &[
            "verify",
            "cms",
            s(&out),
            "--content",
            s(&input),
            "--trust",
            s(&f.ca),
        ],
        None,
    );
    assert!(o.status.success(), "{}", stderr(&o));

    let Some(shared) = shared_vectors() else {
        return;
    };
    let sample = shared.join("signed/RSA256_11c707bd54cbfcccb3815e39c4eb57b1dc7dfea9.cms");
    let ca = shared.join("ca-test/nca_rsa_test.crt");
    let o = qoltanba(
        &["verify", "cms", s(&sample), "--trust", s(&ca), "--json"],
        None,
    );
    assert!(o.status.success(), "{}", stderr(&o));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["signers"][0]["chain"]["status"], "trusted");
    assert_eq!(v["signers"][0]["certificate"]["iin"], "123456789011");
    // Today the certificate has long expired; at signing time it was valid.
    assert_eq!(v["signers"][0]["certificate"]["validity"], "expired");
    assert_eq!(v["signers"][0]["chain"]["validity"], "valid");
}

#[test]
fn large_attached_streams() {
    // 8 MiB through the streaming path (the 100 MiB case is in the benchmark).
    let f = fx();
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("big.bin");
    let data: Vec<u8> = (0..8u32 << 20)
        .map(|i| (i.wrapping_mul(2_654_435_761) >> 24) as u8)
        .collect();
    std::fs::write(&input, &data).unwrap();
    let sig = sign(dir.path(), &["--attached"], &input, "big.p7s");
    let r = openssl::cms_verify(&sig, None, &f.ca);
    assert!(r.ok, "{}", r.output);
}
