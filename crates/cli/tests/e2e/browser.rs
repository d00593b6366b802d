//! Headless Chromium opens a page that uses ncalayer-js-client over wss with the local CA made
//! trusted by `qoltanba trust install` (in a throw-away HOME), and gets a verified signature.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use crate::harness::{Options, js_dir, start};

fn serve_page(listener: TcpListener, page: String, client_js: Vec<u8>, tx: mpsc::Sender<String>) {
    for stream in listener.incoming() {
        let Ok(mut s) = stream else { continue };
        let mut reader = BufReader::new(s.try_clone().unwrap());
        let mut first = String::new();
        if reader.read_line(&mut first).is_err() {
            continue;
        }
        let mut len = 0;
        loop {
            let mut h = String::new();
            if reader.read_line(&mut h).is_err() || h == "\r\n" || h.is_empty() {
                break;
            }
            if let Some(v) = h.to_ascii_lowercase().strip_prefix("content-length:") {
                len = v.trim().parse().unwrap_or(0);
            }
        }
        let (ctype, body): (&str, Vec<u8>) = if first.starts_with("POST /result") {
            let mut b = vec![0; len];
            let _ = reader.read_exact(&mut b);
            let _ = tx.send(String::from_utf8_lossy(&b).into_owned());
            ("text/plain", b"ok".to_vec())
        } else if first.starts_with("GET /ncalayer-client.js") {
            ("application/javascript", client_js.clone())
        } else {
            ("text/html; charset=utf-8", page.clone().into_bytes())
        };
        let _ = write!(
            s,
            "HTTP/1.1 200 OK\r\nContent-Type: {ctype}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
            body.len()
        );
        let _ = s.write_all(&body);
    }
}

#[test]
fn headless_chromium_signs_over_wss() {
    let chromium = ["chromium", "chromium-browser"]
        .into_iter()
        .find(|c| Command::new(c).arg("--version").output().is_ok());
    let chromium = chromium.expect("chromium is missing: run ./scripts/setup.sh");
    let server = start(&Options {
        tls: true,
        ..Options::default()
    });
    let home = server.dir.path().join("home");
    std::fs::create_dir_all(&home).unwrap();
    let data = server.dir.path().join("data");
    let out = Command::new(env!("CARGO_BIN_EXE_qoltanba"))
        .args(["trust", "install", "--data-dir", data.to_str().unwrap()])
        .env("HOME", &home)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "trust install: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let st = Command::new(env!("CARGO_BIN_EXE_qoltanba"))
        .args(["trust", "status", "--data-dir", data.to_str().unwrap()])
        .env("HOME", &home)
        .output()
        .unwrap();
    assert!(
        String::from_utf8_lossy(&st.stdout).contains(": trusted"),
        "{}",
        String::from_utf8_lossy(&st.stdout)
    );

    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let http_port = listener.local_addr().unwrap().port();
    let page = format!(
        r#"<!doctype html><meta charset="utf-8"><script src="/ncalayer-client.js"></script><script>
(async () => {{
  let result;
  try {{
    const c = new NCALayerClient('wss://127.0.0.1:{port}', false);
    c.kmdHttpApiUrl = 'http://127.0.0.1:9/';
    await c.connect();
    result = await c.basicsSignCMS([NCALayerClient.basicsStoragePKCS12], btoa('browser test'),
      NCALayerClient.basicsCMSParamsAttached, NCALayerClient.basicsSignerSignAny);
  }} catch (e) {{ result = 'ERROR ' + e.message; }}
  await fetch('/result', {{ method: 'POST', body: result }});
}})();
</script>"#,
        port = server.port
    );
    let client_js =
        std::fs::read(js_dir().join("node_modules/ncalayer-js-client/ncalayer-client.js")).unwrap();
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || serve_page(listener, page, client_js, tx));

    let profile = server.dir.path().join("chromium-profile");
    let mut child = Command::new(chromium)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--disable-dev-shm-usage",
            &format!("--user-data-dir={}", profile.display()),
            &format!("http://127.0.0.1:{http_port}/"),
        ])
        .env("HOME", &home)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let result = rx.recv_timeout(Duration::from_mins(1));
    let _ = child.kill();
    let _ = child.wait();
    let result = result.expect("the page reported nothing within 60 s");
    assert!(
        result.starts_with("-----BEGIN CMS-----"),
        "page result: {result}"
    );
    server.assert_cms("browser", &result, None);
}

/// Runs headless Chromium on `url` with `page_port` marked as a public address and returns
/// what the page logged as `RESULT …` (or `none`).
fn lna_run(chromium: &str, profile: &std::path::Path, url: &str, page_port: u16) -> String {
    let out = Command::new(chromium)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--disable-dev-shm-usage",
            "--ignore-certificate-errors",
            "--enable-logging=stderr",
            "--v=0",
            &format!("--ip-address-space-overrides=127.0.0.1:{page_port}=public"),
            &format!("--user-data-dir={}", profile.display()),
            url,
        ])
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let (tx, rx) = mpsc::channel();
    let mut child = out;
    let stderr = child.stderr.take().unwrap();
    std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            if let Some(i) = line.find("\"RESULT ") {
                let r = line[i + 8..]
                    .split('"')
                    .next()
                    .unwrap_or_default()
                    .to_owned();
                let _ = tx.send(r);
                return;
            }
        }
    });
    let r = rx
        .recv_timeout(Duration::from_secs(40))
        .unwrap_or_else(|_| "none".into());
    let _ = child.kill();
    let _ = child.wait();
    r
}

/// Removes the test's site from the browsers' policy however the test ends.
struct PolicyGuard(String);

impl Drop for PolicyGuard {
    fn drop(&mut self) {
        let _ = Command::new(env!("CARGO_BIN_EXE_qoltanba"))
            .args(["admin", "browser-policy", "remove", &self.0])
            .output();
    }
}

/// Local Network Access (Chrome 147+): a public https page cannot open the signer's WebSocket
/// on 127.0.0.1 until `qoltanba admin browser-policy allow` lists it, and cannot again after
/// `remove`. Chromium reads the policy from /etc/chromium/policies/managed, so this needs root
/// (CI runs as root).
#[test]
#[allow(clippy::too_many_lines)] // one scenario in order: page server, three browser runs
fn local_network_access_needs_the_browser_policy() {
    let chromium = ["chromium", "chromium-browser"]
        .into_iter()
        .find(|c| Command::new(c).arg("--version").output().is_ok())
        .expect("chromium is missing: run ./scripts/setup.sh");
    let root = Command::new("id").arg("-u").output().unwrap().stdout == b"0\n";
    if !root {
        assert!(
            std::env::var_os("CI").is_none(),
            "the LNA test needs root under CI"
        );
        eprintln!("skipped: writing Chromium's managed policy needs root");
        return;
    }
    let server = start(&Options::default());
    let site_dir = server.dir.path().join("site");
    std::fs::create_dir_all(&site_dir).unwrap();
    std::fs::write(
        site_dir.join("page.html"),
        format!(
            r"<!doctype html><meta charset=utf-8><script>
const ws = new WebSocket('ws://127.0.0.1:{port}/');
let done = false;
ws.onopen = () => {{ done = true; console.log('RESULT open'); ws.close(); }};
ws.onerror = () => {{ if (!done) {{ done = true; console.log('RESULT blocked'); }} }};
setTimeout(() => {{ if (!done) console.log('RESULT timeout'); }}, 10000);
</script>",
            port = server.port
        ),
    )
    .unwrap();
    let (key, cert) = (site_dir.join("k.pem"), site_dir.join("c.pem"));
    let ok = Command::new("openssl")
        .args([
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-days",
            "2",
            "-subj",
            "/CN=127.0.0.1",
        ])
        .args(["-addext", "subjectAltName=IP:127.0.0.1", "-keyout"])
        .arg(&key)
        .arg("-out")
        .arg(&cert)
        .output()
        .unwrap();
    assert!(ok.status.success());
    let page_port = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let mut https = Command::new("openssl")
        .args([
            "s_server",
            "-quiet",
            "-WWW",
            "-accept",
            &page_port.to_string(),
            "-cert",
        ])
        .arg(&cert)
        .arg("-key")
        .arg(&key)
        .current_dir(&site_dir)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let start_wait = std::time::Instant::now();
    while std::net::TcpStream::connect(("127.0.0.1", page_port)).is_err() {
        assert!(
            start_wait.elapsed() < Duration::from_secs(10),
            "openssl s_server did not start"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    let origin = format!("https://127.0.0.1:{page_port}");
    let url = format!("{origin}/page.html");
    let policy = |action: &str| {
        let o = Command::new(env!("CARGO_BIN_EXE_qoltanba"))
            .args(["admin", "browser-policy", action, &origin, "--json"])
            .output()
            .unwrap();
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        serde_json::from_slice::<serde_json::Value>(&o.stdout).unwrap()
    };
    let profile = |n: &str| server.dir.path().join(format!("profile-{n}"));

    let before = lna_run(chromium, &profile("1"), &url, page_port);
    let _guard = PolicyGuard(origin.clone());
    let shown = policy("allow");
    let file = std::path::Path::new("/etc/chromium/policies/managed/qoltanba.json");
    assert!(file.is_file(), "{shown}");
    let allowed = lna_run(chromium, &profile("2"), &url, page_port);
    policy("remove");
    assert!(!file.exists());
    let after = lna_run(chromium, &profile("3"), &url, page_port);
    let _ = https.kill();
    let _ = https.wait();
    assert_eq!(
        (before.as_str(), allowed.as_str(), after.as_str()),
        ("blocked", "open", "blocked"),
        "public page → signer: without the policy, with it, after removing it"
    );
}
