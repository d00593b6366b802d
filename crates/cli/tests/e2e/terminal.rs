//! The real terminal prompter of `qoltanba serve` (no test mode): a page asks for a signature,
//! and a person at a terminal (tmux, answered with send-keys) allows the site, names the key
//! file, types the password and approves. The signature is checked with openssl.

use std::process::Command;
use std::time::{Duration, Instant};

use qoltanba_testkit::openssl;
use qoltanba_testkit::p12;
use qoltanba_testkit::pki::{LeafSpec, TestPki, Usage};
use tungstenite::Message;
use tungstenite::client::IntoClientRequest;

fn tmux(args: &[&str]) -> String {
    let out = Command::new("tmux")
        .args(args)
        .output()
        .expect("tmux (apt tmux)");
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn wait_for(session: &str, text: &str) {
    let start = Instant::now();
    loop {
        let screen = tmux(&["capture-pane", "-p", "-t", session]);
        if screen.contains(text) {
            return;
        }
        assert!(
            start.elapsed() < Duration::from_secs(30),
            "{text:?} never appeared:\n{screen}"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// Ends the tmux session however the test ends.
struct Kill(String);
impl Drop for Kill {
    fn drop(&mut self) {
        let _ = Command::new("tmux")
            .args(["kill-session", "-t", &self.0])
            .output();
    }
}

#[test]
fn a_person_at_the_terminal_signs() {
    let dir = tempfile::tempdir().unwrap();
    let pki = TestPki::new();
    let leaf = pki.issue(&LeafSpec::individual(Usage::Sign));
    let key = p12::write_nca_file(&leaf, "Qwerty12", dir.path());
    let ca = dir.path().join("ca.pem");
    std::fs::write(&ca, pki.ca_bundle_pem()).unwrap();
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let data = dir.path().join("data");
    let session = format!("qoltanba-{}", std::process::id());
    let cmd = format!(
        "{} serve --listen 127.0.0.1:{port} --tls off --data-dir {} --trust-anchor {}",
        env!("CARGO_BIN_EXE_qoltanba"),
        data.display(),
        ca.display()
    );
    tmux(&[
        "new-session",
        "-d",
        "-s",
        &session,
        "-x",
        "200",
        "-y",
        "50",
        &cmd,
    ]);
    let _kill = Kill(session.clone());
    wait_for(&session, "serving the NCALayer protocol");

    let url = format!("ws://127.0.0.1:{port}");
    let client = std::thread::spawn(move || {
        let mut req = url.into_client_request().unwrap();
        req.headers_mut()
            .insert("Origin", "https://portal.example".parse().unwrap());
        let (mut ws, _) = tungstenite::connect(req).unwrap();
        ws.read().unwrap();
        ws.send(Message::text(
            r#"{"module":"kz.gov.pki.knca.commonUtils","method":"createCAdESFromBase64","args":["PKCS12","SIGNATURE","0KLQtdGB0YI=",true]}"#,
        ))
        .unwrap();
        let reply: serde_json::Value =
            serde_json::from_str(ws.read().unwrap().to_text().unwrap()).unwrap();
        reply
    });
    wait_for(
        &session,
        "https://portal.example wants to use your electronic signature",
    );
    tmux(&["send-keys", "-t", &session, "a", "Enter"]);
    wait_for(&session, "Key file (.p12)");
    tmux(&["send-keys", "-t", &session, key.to_str().unwrap(), "Enter"]);
    wait_for(&session, "Password:");
    tmux(&["send-keys", "-t", &session, "Qwerty12", "Enter"]);
    wait_for(&session, "Sign / share with this key?");
    let screen = tmux(&["capture-pane", "-p", "-t", &session]);
    assert!(
        screen.contains("ТЕСТОВ ТЕСТ ТЕСТОВИЧ") && screen.contains("123456789011"),
        "{screen}"
    );
    assert!(
        !screen.contains("Qwerty12"),
        "the password must not be echoed:\n{screen}"
    );
    tmux(&["send-keys", "-t", &session, "y", "Enter"]);
    let reply = client.join().unwrap();
    assert_eq!(reply["code"], "200", "{reply}");
    let der =
        qoltanba_sign::input::decode_binary(reply["responseObject"].as_str().unwrap().as_bytes())
            .unwrap();
    let sig = dir.path().join("t.p7s");
    std::fs::write(&sig, der).unwrap();
    let r = openssl::cms_verify(&sig, None, &ca);
    assert!(r.ok, "{}", r.output);
    // "Always" was remembered.
    let origins = std::fs::read_to_string(data.join("origins.json")).unwrap();
    assert!(origins.contains("https://portal.example"), "{origins}");
}

/// A page that leaves while its question is on the terminal frees it at once: the next request
/// from the same site is asked and answered without waiting for the abandoned one, which makes
/// no signature.
#[test]
fn a_page_that_leaves_mid_prompt_frees_the_terminal() {
    let dir = tempfile::tempdir().unwrap();
    let pki = TestPki::new();
    let leaf = pki.issue(&LeafSpec::individual(Usage::Sign));
    let key = p12::write_nca_file(&leaf, "Qwerty12", dir.path());
    let ca = dir.path().join("ca.pem");
    std::fs::write(&ca, pki.ca_bundle_pem()).unwrap();
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let data = dir.path().join("data");
    let session = format!("qoltanba-left-{}", std::process::id());
    let cmd = format!(
        "{} serve --listen 127.0.0.1:{port} --tls off --data-dir {} --trust-anchor {}",
        env!("CARGO_BIN_EXE_qoltanba"),
        data.display(),
        ca.display()
    );
    tmux(&[
        "new-session",
        "-d",
        "-s",
        &session,
        "-x",
        "200",
        "-y",
        "50",
        &cmd,
    ]);
    let _kill = Kill(session.clone());
    wait_for(&session, "serving the NCALayer protocol");
    let url = format!("ws://127.0.0.1:{port}");
    let request = r#"{"module":"kz.gov.pki.knca.commonUtils","method":"createCAdESFromBase64","args":["PKCS12","SIGNATURE","0KLQtdGB0YI=",true]}"#;
    let open = || {
        let mut req = url.as_str().into_client_request().unwrap();
        req.headers_mut()
            .insert("Origin", "https://portal.example".parse().unwrap());
        let (mut ws, _) = tungstenite::connect(req).unwrap();
        ws.read().unwrap();
        ws
    };
    // The first page asks, then leaves while its question is shown.
    let mut first = open();
    first.send(Message::text(request)).unwrap();
    wait_for(
        &session,
        "https://portal.example wants to use your electronic signature",
    );
    drop(first);
    wait_for(&session, "went away");
    // The same site asks again: its question comes at once.
    let mut second = open();
    second.send(Message::text(request)).unwrap();
    let start = Instant::now();
    loop {
        let screen = tmux(&["capture-pane", "-p", "-t", &session]);
        if screen
            .matches("wants to use your electronic signature")
            .count()
            >= 2
        {
            break;
        }
        assert!(start.elapsed() < Duration::from_secs(20), "{screen}");
        std::thread::sleep(Duration::from_millis(100));
    }
    tmux(&["send-keys", "-t", &session, "o", "Enter"]);
    wait_for(&session, "Key file (.p12)");
    tmux(&["send-keys", "-t", &session, key.to_str().unwrap(), "Enter"]);
    wait_for(&session, "Password:");
    tmux(&["send-keys", "-t", &session, "Qwerty12", "Enter"]);
    wait_for(&session, "Sign / share with this key?");
    tmux(&["send-keys", "-t", &session, "y", "Enter"]);
    let reply: serde_json::Value =
        serde_json::from_str(second.read().unwrap().to_text().unwrap()).unwrap();
    assert_eq!(reply["code"], "200", "{reply}");
    let der =
        qoltanba_sign::input::decode_binary(reply["responseObject"].as_str().unwrap().as_bytes())
            .unwrap();
    let sig = dir.path().join("t.p7s");
    std::fs::write(&sig, der).unwrap();
    let r = openssl::cms_verify(&sig, None, &ca);
    assert!(r.ok, "{}", r.output);
    // "Once" is not remembered; the abandoned page's question never was answered.
    assert!(
        !data.join("origins.json").is_file() || {
            let o = std::fs::read_to_string(data.join("origins.json")).unwrap();
            !o.contains("portal.example")
        }
    );
}
