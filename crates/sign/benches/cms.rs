//! CMS signing benchmarks: RSA-2048 detached over 1 KiB, 1 MiB and 100 MiB; attached 100 MiB;
//! the bare private-key operation; SHA-256 throughput; opening an NCA-layout key file.
//! Compare with `bench/openssl-cms.sh`, which times `openssl` on the same sizes.
#![allow(
    missing_docs,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::cast_possible_truncation
)]
#![allow(clippy::semicolon_if_nothing_returned)]

use std::hint::black_box;

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use qoltanba_keys::{Secret, SignatureAlgorithm, SigningKey, pkcs12};
use qoltanba_sign::DigestAlgorithm;
use qoltanba_sign::cms::{self, CmsOptions};
use qoltanba_testkit::p12::{self, Contents, Encoding, Protection};
use qoltanba_testkit::pki::{LeafSpec, TestPki, Usage};

fn data(len: usize) -> Vec<u8> {
    (0..len)
        .map(|i| (i as u32).wrapping_mul(2_654_435_761).to_le_bytes()[3])
        .collect()
}

fn benches(c: &mut Criterion) {
    let pki = TestPki::new();
    let leaf = pki.issue(&LeafSpec::individual(Usage::Sign));
    let nca = p12::write(
        &Contents::of(&leaf),
        "Qwerty12",
        Protection::NcaLegacy,
        Encoding::NcaBer,
    );
    let pw = Secret::new("Qwerty12".into());
    let key = pkcs12::open(&nca, &pw).unwrap().keys.remove(0);
    let opts = CmsOptions::default();

    c.bench_function("rsa2048_sign_sha256_raw", |b| {
        b.iter(|| {
            key.sign(
                SignatureAlgorithm::RsaPkcs1Sha256,
                black_box(b"signed attributes"),
            )
            .unwrap()
        });
    });

    let mut g = c.benchmark_group("cms_detached");
    for (label, len) in [("1KiB", 1 << 10), ("1MiB", 1 << 20), ("100MiB", 100 << 20)] {
        let input = data(len);
        g.throughput(Throughput::Bytes(len as u64));
        if len > 1 << 20 {
            g.sample_size(10);
        }
        g.bench_with_input(BenchmarkId::from_parameter(label), &input, |b, input| {
            b.iter(|| cms::sign_detached(&key, black_box(input), &opts).unwrap());
        });
    }
    g.finish();

    let mut g = c.benchmark_group("cms_attached");
    g.sample_size(10);
    let input = data(100 << 20);
    g.throughput(Throughput::Bytes(input.len() as u64));
    g.bench_function("100MiB", |b| {
        b.iter(|| cms::sign_attached(&key, black_box(&input), &opts).unwrap())
    });
    g.finish();

    let mut g = c.benchmark_group("sha256");
    let input = data(16 << 20);
    g.throughput(Throughput::Bytes(input.len() as u64));
    g.bench_function("16MiB", |b| {
        b.iter(|| DigestAlgorithm::Sha256.digest(black_box(&input)))
    });
    g.finish();

    c.bench_function("p12_open_nca_layout", |b| {
        b.iter(|| pkcs12::open(black_box(&nca), &pw).unwrap())
    });
    if let Some(dir) = qoltanba_testkit::shared_vectors() {
        let real =
            std::fs::read(dir.join("p12-test/RSA256_11c707bd54cbfcccb3815e39c4eb57b1dc7dfea9.p12"))
                .unwrap();
        c.bench_function("p12_open_real_nca_file", |b| {
            b.iter(|| pkcs12::open(black_box(&real), &pw).unwrap())
        });
    }
}

criterion_group!(cms_benches, benches);
criterion_main!(cms_benches);
