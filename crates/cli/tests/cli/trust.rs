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

/// `trust update` downloads every pinned certificate (here from a local mirror given with
/// `--base-url`), keeps those whose fingerprint matches, and reports the others.
#[test]
fn trust_update_downloads_and_checks_pins() {
    use std::io::{BufRead, BufReader, Write};
    let Some(shared) = shared_vectors() else {
        return;
    };
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let prod = shared.join("ca-prod");
    let test_ca = shared.join("ca-test/nca_rsa_test.crt");
    std::thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            let mut s = stream;
            let mut line = String::new();
            let mut r = BufReader::new(s.try_clone().unwrap());
            let _ = r.read_line(&mut line);
            loop {
                let mut h = String::new();
                if r.read_line(&mut h).is_err() || h == "\r\n" || h.is_empty() {
                    break;
                }
            }
            let path = line.split_whitespace().nth(1).unwrap_or("/");
            let name = path.rsplit('/').next().unwrap_or_default().to_owned();
            let stem = name.trim_end_matches(".cer");
            let body = match stem {
                // A wrong certificate under a pinned name, and one missing file.
                "nca_rsa" => std::fs::read(&test_ca).ok(),
                "root_gost" => None,
                _ => std::fs::read(prod.join(format!("{stem}.cer")))
                    .or_else(|_| std::fs::read(prod.join(format!("{stem}.pem"))))
                    .ok(),
            };
            let _ = match body {
                Some(b) => {
                    let _ = write!(
                        s,
                        "HTTP/1.1 200 OK\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
                        b.len()
                    );
                    s.write_all(&b)
                }
                None => s.write_all(
                    b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
                ),
            };
        }
    });
    let data = tempfile::tempdir().unwrap();
    let base = format!("http://127.0.0.1:{port}/cert");
    let o = qoltanba(
        &[
            "trust",
            "update",
            "--base-url",
            &base,
            "--data-dir",
            s(data.path()),
        ],
        None,
    );
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let out = String::from_utf8_lossy(&o.stdout);
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(
        out.matches("matches the pinned fingerprint").count(),
        6,
        "{out}"
    );
    assert!(out.contains("nca_rsa.cer: not an NCA certificate"), "{out}");
    assert!(
        err.contains("cannot download") && err.contains("root_gost.cer"),
        "{err}"
    );
    assert_eq!(
        std::fs::read_dir(data.path().join("anchors"))
            .unwrap()
            .count(),
        6
    );
}
