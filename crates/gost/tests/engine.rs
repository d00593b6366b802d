//! An independent check: OpenSSL's gost engine (Debian's `libengine-gost-openssl`, installed by
//! scripts/setup.sh) makes keys on the same curves, and
//! - our d·G equals the engine's public key,
//! - the engine verifies our signatures, and we verify the engine's.
//!
//! The engine writes signatures as RFC 4491 does (`s ‖ r`, big-endian); NCA's layout is its byte
//! reversal (lib.rs), and the engine too reads a digest little-endian.
#![allow(missing_docs, clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::Path;
use std::process::Command;

use qoltanba_gost::{CurveId, PrivateKey, PublicKey};

fn openssl(args: &[&str]) -> Vec<u8> {
    let out = Command::new("openssl")
        .args(args)
        .output()
        .expect("openssl runs");
    assert!(
        out.status.success(),
        "openssl {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    out.stdout
}

/// Whether the engine verifies the signature file over the digest file with the key.
fn engine_verifies(key: &str, digest: &str, sig: &str) -> bool {
    Command::new("openssl")
        .args([
            "pkeyutl", "-engine", "gost", "-verify", "-inkey", key, "-in", digest,
        ])
        .args(["-sigfile", sig])
        .output()
        .expect("openssl runs")
        .status
        .success()
}

/// The engine's `-text` field `name` ("Private key:", "X:", "Y:") as big-endian bytes.
fn field(text: &str, name: &str, len: usize) -> Vec<u8> {
    let hex = text
        .lines()
        .find_map(|l| l.trim().strip_prefix(name))
        .unwrap_or_else(|| panic!("{name} in {text}"))
        .trim();
    let hex = format!("{hex:0>width$}", width = 2 * len);
    hex::decode(hex).unwrap()
}

fn rng(buf: &mut [u8]) -> bool {
    let mut s = 0x9e37_79b9_7f4a_7c15u64 ^ buf.len() as u64;
    for b in buf {
        s ^= s << 13;
        s ^= s >> 7;
        s ^= s << 17;
        *b = s.to_le_bytes()[5];
    }
    true
}

fn check(dir: &Path, algorithm: &str, curve: CurveId) {
    let n = curve.byte_len();
    let key = dir.join(format!("{algorithm}.pem"));
    let key = key.to_str().unwrap();
    for _ in 0..3 {
        openssl(&[
            "genpkey",
            "-engine",
            "gost",
            "-algorithm",
            algorithm,
            "-pkeyopt",
            "paramset:A",
            "-out",
            key,
        ]);
        let text = String::from_utf8(openssl(&[
            "pkey", "-engine", "gost", "-in", key, "-text", "-noout",
        ]))
        .unwrap();
        let d = field(&text, "Private key:", n);
        let mut x = field(&text, "X:", n);
        let mut y = field(&text, "Y:", n);
        x.reverse();
        y.reverse();
        let ours = PrivateKey::from_be(curve, &d).unwrap();
        let public = ours.public_key();
        assert_eq!(
            public.to_le_xy(),
            [x, y].concat(),
            "d·G equals the engine's public key"
        );
        assert_eq!(
            PublicKey::from_le_xy(curve, public.to_le_xy()).unwrap(),
            public
        );

        let digest: Vec<u8> = (0..n)
            .map(|i| u8::try_from(i * 37 % 251).unwrap())
            .collect();
        let digest_file = dir.join("digest");
        std::fs::write(&digest_file, &digest).unwrap();
        let digest_file = digest_file.to_str().unwrap();

        // Ours → the engine verifies.
        let mut sig = ours.sign_digest(&digest, rng).unwrap();
        sig.reverse();
        let sig_file = dir.join("ours.sig");
        std::fs::write(&sig_file, &sig).unwrap();
        let sig_file = sig_file.to_str().unwrap();
        assert!(engine_verifies(key, digest_file, sig_file));
        // A changed signature is refused by the engine, so the check above can fail.
        sig[n / 2] ^= 1;
        std::fs::write(sig_file, &sig).unwrap();
        assert!(!engine_verifies(key, digest_file, sig_file));

        // The engine's → we verify.
        let mut theirs = openssl(&[
            "pkeyutl",
            "-engine",
            "gost",
            "-sign",
            "-inkey",
            key,
            "-in",
            digest_file,
        ]);
        assert_eq!(theirs.len(), 2 * n);
        theirs.reverse();
        public.verify_digest(&digest, &theirs).unwrap();
        theirs[1] ^= 1;
        assert!(public.verify_digest(&digest, &theirs).is_err());
    }
}

#[test]
fn the_gost_engine_agrees_on_keys_and_signatures() {
    let dir = std::env::temp_dir().join(format!("qoltanba-gost-engine-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    check(&dir, "gost2001", CurveId::CryptoProA);
    check(&dir, "gost2012_512", CurveId::Tc26_512A);
    std::fs::remove_dir_all(&dir).unwrap();
}
