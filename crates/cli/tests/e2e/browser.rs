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
