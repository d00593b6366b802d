//! GOST 34.310-2004 and GOST R 34.10-2015 (512) sign and verify (the digest is given; hashing
//! is separate). Compare with `openssl speed rsa2048` (bench/openssl-cms.sh prints it).
#![allow(missing_docs, clippy::unwrap_used, clippy::cast_possible_truncation)]
#![allow(clippy::semicolon_if_nothing_returned)]

use std::hint::black_box;

use criterion::{Criterion, criterion_group, criterion_main};
use qoltanba_gost::{CurveId, PrivateKey};

fn rng(buf: &mut [u8]) -> bool {
    use std::sync::atomic::{AtomicU64, Ordering};
    static S: AtomicU64 = AtomicU64::new(0x9e37_79b9_7f4a_7c15);
    for b in buf {
        let x = S.fetch_add(0x9e37_79b9_7f4a_7c15, Ordering::Relaxed);
        *b = (x >> 29) as u8;
    }
    true
}

fn benches(c: &mut Criterion) {
    for (name, curve) in [
        ("gost2004", CurveId::CryptoProA),
        ("gost2015_512", CurveId::Tc26_512A),
    ] {
        let n = curve.byte_len();
        let mut d = vec![0x5au8; n];
        d[n - 1] = 0x1f;
        let key = PrivateKey::from_le(curve, &d).unwrap();
        let public = key.public_key();
        let digest = vec![0x42u8; n];
        let sig = key.sign_digest(&digest, rng).unwrap();
        c.bench_function(&format!("{name}_sign"), |b| {
            b.iter(|| key.sign_digest(black_box(&digest), rng).unwrap())
        });
        c.bench_function(&format!("{name}_verify"), |b| {
            b.iter(|| {
                public
                    .verify_digest(black_box(&digest), black_box(&sig))
                    .unwrap()
            });
        });
    }
    c.bench_function("hash_34311_1KiB", |b| {
        b.iter(|| qoltanba_gost::hash_34311(black_box(&[7u8; 1024])))
    });
    c.bench_function("streebog512_1KiB", |b| {
        b.iter(|| qoltanba_gost::hash_streebog512(black_box(&[7u8; 1024])))
    });
}

criterion_group!(gost_benches, benches);
criterion_main!(gost_benches);
