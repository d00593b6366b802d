#![allow(clippy::unwrap_used, missing_docs)]
#[test]
fn dump() {
    let mut out = String::new();
    let mut files: Vec<_> = walk(std::path::Path::new("../../../shared/kz-pki-vectors"));
    files.sort();
    let pki = qoltanba_testkit::pki::TestPki::new();
    let leaf = pki.issue(&qoltanba_testkit::pki::LeafSpec::legal_entity(qoltanba_testkit::pki::Usage::Sign, qoltanba_testkit::pki::roles::CEO));
    for (name, der) in files.into_iter().chain([("gen-leaf".into(), leaf.cert_der.clone()), ("gen-root".into(), pki.root.cert_der.clone())]) {
        let d = qoltanba_pki::CertificateDetails::from_der(&der);
        let mut v = serde_json::to_value(d.as_ref().ok()).unwrap();
        if name.starts_with("gen-") { if let Some(o) = v.as_object_mut() { for k in ["serial","not_before","not_after","sha256_fingerprint","subject_key_id","authority_key_id"] { o.remove(k); } } }
        out.push_str(&format!("{name}: {}\n", serde_json::to_string_pretty(&v).unwrap()));
    }
    std::fs::write(std::env::var("DUMP").unwrap(), out).unwrap();
}
fn walk(d: &std::path::Path) -> Vec<(String, Vec<u8>)> {
    let mut v = Vec::new();
    for e in std::fs::read_dir(d).unwrap().flatten() {
        let p = e.path();
        if p.is_dir() { v.extend(walk(&p)); continue; }
        let ext = p.extension().and_then(|x| x.to_str()).unwrap_or("");
        if !["cer","crt","pem"].contains(&ext) { continue; }
        let bytes = std::fs::read(&p).unwrap();
        let der = if bytes.starts_with(b"-----") { let t = String::from_utf8(bytes).unwrap(); let b: String = t.lines().filter(|l| !l.starts_with("-----")).collect(); base64::Engine::decode(&base64::engine::general_purpose::STANDARD, b).unwrap() } else { bytes };
        v.push((p.display().to_string(), der));
    }
    v
}
