//! XML signing and verification of a 10 KiB and a 10 MiB form (RSA-2048). Compare with
//! `bench/xmlsec-xml.sh`, which times `xmlsec1 --sign/--verify` on the same documents.
#![allow(missing_docs, clippy::unwrap_used, clippy::expect_used)]

use std::fmt::Write as _;
use std::hint::black_box;

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use qoltanba_keys::{Secret, pkcs12};
use qoltanba_sign::xml::{self, XmlSignOptions, XmlVerifyOptions};
use qoltanba_testkit::p12::{self, Contents, Encoding, Protection};
use qoltanba_testkit::pki::{LeafSpec, TestPki, Usage};

/// A form of about `size` bytes: many fields with Kazakh/Russian text and attributes.
pub fn form(size: usize) -> String {
    let mut s = String::from(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<form xmlns=\"urn:egov:form\">\n",
    );
    let mut i = 0;
    while s.len() < size {
        let _ = writeln!(
            s,
            "  <field n=\"{i}\" kind=\"text\">Өтініш беруші / Заявитель №{i}: Тестов Тест</field>"
        );
        i += 1;
    }
    s.push_str("</form>\n");
    s
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
    let key = pkcs12::open(&nca, &Secret::new("Qwerty12".into()))
        .unwrap()
        .keys
        .remove(0);
    let mut g = c.benchmark_group("xml");
    for (label, size) in [("10KiB", 10 << 10), ("10MiB", 10 << 20)] {
        let doc = form(size);
        let signed = xml::sign(&key, &doc, &XmlSignOptions::default()).unwrap();
        g.throughput(Throughput::Bytes(doc.len() as u64));
        if size > 1 << 20 {
            g.sample_size(10);
        }
        g.bench_with_input(BenchmarkId::new("sign", label), &doc, |b, d| {
            b.iter(|| xml::sign(&key, black_box(d), &XmlSignOptions::default()).unwrap());
        });
        g.bench_with_input(BenchmarkId::new("verify", label), &signed, |b, d| {
            b.iter(|| {
                let r = xml::verify(black_box(d), &XmlVerifyOptions::default()).unwrap();
                assert!(r.valid);
            });
        });
    }
    g.finish();
}

criterion_group!(xml_benches, benches);
criterion_main!(xml_benches);
