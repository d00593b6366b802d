//! A real RFC 3161 timestamp authority for tests: `openssl ts -reply` behind a minimal HTTP/1.1
//! responder on 127.0.0.1, signing with a TSA certificate of a [`TestPki`]. It can be told to
//! answer garbage or to stop answering, for the failure paths.

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::PathBuf;
use std::process::Command;
use std::sync::Arc;
use std::sync::atomic::{AtomicU8, AtomicUsize, Ordering};
use std::time::Duration;

use crate::pki::{Issued, TestPki};

/// The policy the test TSA stamps with (NCA's production RSA TSA policy).
pub const POLICY: &str = "1.2.398.3.3.2.6.2";

/// How the TSA behaves.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u8)]
pub enum Mode {
    /// Timestamps as asked.
    Normal = 0,
    /// Answers 200 with bytes that are no timestamp response.
    Garbage = 1,
    /// Accepts the connection and never answers.
    Silent = 2,
}

/// A running test TSA.
pub struct TestTsa {
    /// `http://127.0.0.1:<port>/`.
    pub url: String,
    /// The TSA certificate.
    pub cert: Issued,
    mode: Arc<AtomicU8>,
    /// Requests answered.
    pub served: Arc<AtomicUsize>,
    _dir: tempfile::TempDir,
}

impl TestTsa {
    /// Starts a TSA with a certificate from `pki`.
    pub fn start(pki: &TestPki) -> Self {
        let dir = tempfile::tempdir().expect("tmp");
        let cert = pki.issue_tsa();
        let d = dir.path();
        std::fs::write(d.join("tsa.pem"), cert.cert_pem()).expect("cert");
        std::fs::write(d.join("tsa.key"), cert.key_pem().as_bytes()).expect("key");
        std::fs::write(d.join("chain.pem"), pki.nca.cert_pem()).expect("chain");
        std::fs::write(d.join("serial"), "01\n").expect("serial");
        std::fs::write(
            d.join("ts.cnf"),
            format!(
                "[ tsa ]\ndefault_tsa = tsa1\n[ tsa1 ]\ndir = {dir}\nserial = $dir/serial\n\
                 crypto_device = builtin\nsigner_cert = $dir/tsa.pem\ncerts = $dir/chain.pem\n\
                 signer_key = $dir/tsa.key\nsigner_digest = sha256\ndefault_policy = {POLICY}\n\
                 other_policies = 1.2.398.3.3.2.6.1, 1.2.398.3.3.2.6.4\n\
                 digests = sha1, sha256, sha384, sha512\naccuracy = secs:1\nordering = no\n\
                 tsa_name = no\ness_cert_id_chain = no\ness_cert_id_alg = sha256\n",
                dir = d.display()
            ),
        )
        .expect("config");
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
        let url = format!("http://{}/", listener.local_addr().expect("addr"));
        let mode = Arc::new(AtomicU8::new(Mode::Normal as u8));
        let served = Arc::new(AtomicUsize::new(0));
        let work: PathBuf = d.to_owned();
        let (m, n) = (mode.clone(), served.clone());
        std::thread::spawn(move || {
            for conn in listener.incoming().flatten() {
                let (work, m, n) = (work.clone(), m.clone(), n.clone());
                std::thread::spawn(move || serve(conn, &work, &m, &n));
            }
        });
        Self {
            url,
            cert,
            mode,
            served,
            _dir: dir,
        }
    }

    /// Changes how it answers from now on.
    pub fn set_mode(&self, mode: Mode) {
        self.mode.store(mode as u8, Ordering::SeqCst);
    }
}

fn serve(mut conn: TcpStream, work: &std::path::Path, mode: &AtomicU8, served: &AtomicUsize) {
    let _ = conn.set_read_timeout(Some(Duration::from_secs(10)));
    let mut buf = Vec::new();
    let mut chunk = [0u8; 4096];
    let (head_end, len) = loop {
        let Ok(n) = conn.read(&mut chunk) else { return };
        if n == 0 {
            return;
        }
        buf.extend_from_slice(&chunk[..n]);
        if let Some(i) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            let head = String::from_utf8_lossy(&buf[..i]).to_ascii_lowercase();
            let len = head
                .lines()
                .find_map(|l| l.strip_prefix("content-length:"))
                .and_then(|v| v.trim().parse::<usize>().ok())
                .unwrap_or(0);
            break (i + 4, len);
        }
    };
    while buf.len() < head_end + len {
        let Ok(n) = conn.read(&mut chunk) else { return };
        if n == 0 {
            return;
        }
        buf.extend_from_slice(&chunk[..n]);
    }
    let body = match mode.load(Ordering::SeqCst) {
        1 => b"this is not a timestamp response".to_vec(),
        2 => {
            std::thread::sleep(Duration::from_mins(1));
            return;
        }
        _ => {
            let id = served.fetch_add(1, Ordering::SeqCst);
            let q = work.join(format!("q{id}.tsq"));
            let r = work.join(format!("r{id}.tsr"));
            std::fs::write(&q, &buf[head_end..head_end + len]).expect("query");
            let out = Command::new("openssl")
                .args(["ts", "-reply", "-config"])
                .arg(work.join("ts.cnf"))
                .arg("-queryfile")
                .arg(&q)
                .arg("-out")
                .arg(&r)
                .output()
                .expect("openssl");
            if !out.status.success() {
                eprintln!(
                    "openssl ts -reply: {}",
                    String::from_utf8_lossy(&out.stderr)
                );
            }
            std::fs::read(&r).unwrap_or_default()
        }
    };
    let _ = write!(
        conn,
        "HTTP/1.1 200 OK\r\nContent-Type: application/timestamp-reply\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    );
    let _ = conn.write_all(&body);
}

/// POSTs a query to a TSA over plain HTTP/1.1 (tests that do not go through the product's
/// client) and returns the body.
pub fn post(url: &str, query: &[u8]) -> Vec<u8> {
    crate::revocation::fetch(url, Some(("application/timestamp-query", query)))
}
