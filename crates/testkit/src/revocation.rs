//! Revocation services for tests: a real OCSP responder (`openssl ocsp -index … -port`) signing
//! with a delegated responder certificate, and a CRL made by `openssl ca -gencrl` served over
//! HTTP, both on 127.0.0.1 and both stoppable. Reserve first (the URLs go into the leaves),
//! then start with the certificates and which of them are revoked.

use std::fmt::Write as _;
use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use der::Decode;

use crate::pki::{Issued, TestPki};

/// The OCSP responder and the CRL server.
pub struct Revocation {
    /// `http://127.0.0.1:<port>/` of the OCSP responder.
    pub ocsp_url: String,
    /// `http://127.0.0.1:<port>/nca.crl`.
    pub crl_url: String,
    ocsp_port: u16,
    crl: Option<TcpListener>,
    crl_on: Arc<AtomicBool>,
    ocsp: Option<Child>,
    dir: tempfile::TempDir,
}

impl Drop for Revocation {
    fn drop(&mut self) {
        self.stop_ocsp();
    }
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("port")
}

fn openssl(args: &[&str]) {
    let out = Command::new("openssl")
        .args(args)
        .output()
        .expect("openssl");
    assert!(
        out.status.success(),
        "openssl {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// `YYMMDDHHMMSSZ`, as openssl's index wants.
fn index_time(t: std::time::SystemTime) -> String {
    let secs = t
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    let dt = time::OffsetDateTime::from_unix_timestamp(i64::try_from(secs).unwrap_or(0))
        .unwrap_or(time::OffsetDateTime::UNIX_EPOCH);
    format!(
        "{:02}{:02}{:02}{:02}{:02}{:02}Z",
        dt.year() % 100,
        u8::from(dt.month()),
        dt.day(),
        dt.hour(),
        dt.minute(),
        dt.second()
    )
}

impl Revocation {
    /// Reserves the two addresses.
    pub fn reserve() -> Self {
        let crl = TcpListener::bind("127.0.0.1:0").expect("bind");
        let crl_url = format!("http://{}/nca.crl", crl.local_addr().expect("addr"));
        let ocsp_port = free_port();
        Self {
            ocsp_url: format!("http://127.0.0.1:{ocsp_port}/"),
            crl_url,
            ocsp_port,
            crl: Some(crl),
            crl_on: Arc::new(AtomicBool::new(true)),
            ocsp: None,
            dir: tempfile::tempdir().expect("tmp"),
        }
    }

    /// Starts both services for `certs` (each with whether it is revoked), issued by `pki`'s
    /// intermediate.
    #[allow(clippy::too_many_lines)] // the files, the CRL, the CRL server, the responder, in order
    pub fn start(&mut self, pki: &TestPki, certs: &[(&Issued, bool)]) {
        let d = self.dir.path();
        let mut index = String::new();
        let later = std::time::SystemTime::now() + Duration::from_hours(24 * 365);
        let revoked_at = index_time(std::time::SystemTime::now() - Duration::from_hours(1));
        for (c, revoked) in certs {
            let cert = x509_cert::Certificate::from_der(&c.cert_der).expect("cert");
            let serial = hex::encode_upper(cert.tbs_certificate.serial_number.as_bytes());
            let (flag, when) = if *revoked {
                ("R", format!("{revoked_at},keyCompromise"))
            } else {
                ("V", String::new())
            };
            let _ = writeln!(
                index,
                "{flag}\t{}\t{when}\t{serial}\tunknown\t/CN=test",
                index_time(later)
            );
        }
        std::fs::write(d.join("index.txt"), index).expect("index");
        std::fs::write(d.join("index.txt.attr"), "unique_subject = no\n").expect("attr");
        std::fs::write(d.join("crlnumber"), "01\n").expect("crlnumber");
        std::fs::write(d.join("nca.pem"), pki.nca.cert_pem()).expect("ca");
        std::fs::write(d.join("nca.key"), pki.nca.key_pem().as_bytes()).expect("key");
        let responder = pki.issue_ocsp_responder();
        std::fs::write(d.join("resp.pem"), responder.cert_pem()).expect("resp");
        std::fs::write(d.join("resp.key"), responder.key_pem().as_bytes()).expect("resp key");
        std::fs::write(
            d.join("ca.cnf"),
            format!(
                "[ ca ]\ndefault_ca = d\n[ d ]\ndatabase = {0}/index.txt\ncrlnumber = {0}/crlnumber\ndefault_md = sha256\ndefault_crl_days = 1\n",
                d.display()
            ),
        )
        .expect("cnf");
        let p = |n: &str| d.join(n).to_string_lossy().into_owned();
        openssl(&[
            "ca",
            "-gencrl",
            "-config",
            &p("ca.cnf"),
            "-keyfile",
            &p("nca.key"),
            "-cert",
            &p("nca.pem"),
            "-out",
            &p("crl.pem"),
        ]);
        openssl(&[
            "crl",
            "-in",
            &p("crl.pem"),
            "-outform",
            "DER",
            "-out",
            &p("nca.crl"),
        ]);
        let crl = std::fs::read(d.join("nca.crl")).expect("crl");
        let listener = self.crl.take().expect("started once");
        let on = self.crl_on.clone();
        std::thread::spawn(move || {
            for conn in listener.incoming().flatten() {
                let (crl, on) = (crl.clone(), on.clone());
                std::thread::spawn(move || serve_crl(conn, &crl, &on));
            }
        });
        let mut child = Command::new("openssl")
            .args([
                "ocsp",
                "-index",
                &p("index.txt"),
                "-port",
                &self.ocsp_port.to_string(),
                "-rsigner",
                &p("resp.pem"),
                "-rkey",
                &p("resp.key"),
                "-CA",
                &p("nca.pem"),
                "-nmin",
                "60",
                "-ignore_err",
            ])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("openssl ocsp");
        // Ready once it says so. (Probing the port instead would hand it an empty request,
        // on which `openssl ocsp -ignore_err` spins.)
        let stderr = child.stderr.take().expect("stderr");
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            use std::io::BufRead as _;
            for line in std::io::BufReader::new(stderr)
                .lines()
                .map_while(Result::ok)
            {
                if line.contains("waiting for OCSP client connections") {
                    let _ = tx.send(());
                }
            }
        });
        self.ocsp = Some(child);
        let start = Instant::now();
        assert!(
            rx.recv_timeout(Duration::from_secs(10)).is_ok(),
            "openssl ocsp did not start within {:?}",
            start.elapsed()
        );
    }

    /// Stops the OCSP responder (its port then refuses connections).
    pub fn stop_ocsp(&mut self) {
        if let Some(mut c) = self.ocsp.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }

    /// Stops serving the CRL (connections are closed unanswered).
    pub fn stop_crl(&self) {
        self.crl_on.store(false, Ordering::SeqCst);
    }
}

fn serve_crl(mut conn: TcpStream, crl: &[u8], on: &AtomicBool) {
    let _ = conn.set_read_timeout(Some(Duration::from_secs(5)));
    let mut buf = [0u8; 4096];
    let _ = conn.read(&mut buf);
    if !on.load(Ordering::SeqCst) {
        return;
    }
    let _ = write!(
        conn,
        "HTTP/1.1 200 OK\r\nContent-Type: application/pkix-crl\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        crl.len()
    );
    let _ = conn.write_all(crl);
}

/// A plain HTTP/1.1 exchange (tests that do not go through the product's client): POST with
/// `body` when given, else GET; returns the body.
pub fn fetch(url: &str, post: Option<(&str, &[u8])>) -> Vec<u8> {
    let rest = url.trim_start_matches("http://");
    let (addr, path) = rest
        .split_once('/')
        .map_or((rest, "/".to_owned()), |(a, p)| (a, format!("/{p}")));
    let mut s = TcpStream::connect(addr).expect("connect");
    // One write: `openssl ocsp` spins on a request head that arrives in pieces.
    let msg = match post {
        Some((ct, body)) => {
            let mut m = format!(
                "POST {path} HTTP/1.1\r\nHost: {addr}\r\nContent-Type: {ct}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
                body.len()
            )
            .into_bytes();
            m.extend_from_slice(body);
            m
        }
        None => {
            format!("GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n").into_bytes()
        }
    };
    s.write_all(&msg).expect("write");
    let mut out = Vec::new();
    let _ = s.read_to_end(&mut out);
    out.windows(4)
        .position(|w| w == b"\r\n\r\n")
        .map(|i| out[i + 4..].to_vec())
        .unwrap_or_default()
}
