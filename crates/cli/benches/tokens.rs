//! Token signatures per second through the server (basics.sign, CMS, on a SoftHSM2 token mapped
//! to AKKaztokenStore; each request logs in and signs on the token) against `pkcs11-tool
//! --sign` on the same token (a process per signature, login included).
//! `cargo bench -p qoltanba --features unattended --bench tokens`
#![allow(
    missing_docs,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::print_stdout
)]
#![allow(clippy::cast_precision_loss)]

use std::process::{Command, Stdio};
use std::time::Instant;

use qoltanba_testkit::p12;
use qoltanba_testkit::pki::{LeafSpec, TestPki, Usage};
use qoltanba_testkit::softhsm::SoftHsm;
use tungstenite::Message;

fn main() {
    let dir = tempfile::tempdir().unwrap();
    let pki = TestPki::new();
    let leaf = pki.issue(&LeafSpec::individual(Usage::Sign));
    let file_key = p12::write_nca_file(&leaf, "Qwerty12", dir.path());
    let hsm = SoftHsm::new();
    hsm.init_token("bench", "123456");
    hsm.import("bench", "123456", &leaf, "01");
    let module = hsm.module.to_str().unwrap().to_owned();
    let u = dir.path().join("u.toml");
    std::fs::write(
        &u,
        format!(
            "approve = true\n[[keys]]\nfile = {:?}\npassword = \"Qwerty12\"\n[[tokens]]\nmodule = {module:?}\npin = \"123456\"\n",
            file_key.to_str().unwrap()
        ),
    )
    .unwrap();
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&u, std::fs::Permissions::from_mode(0o600)).unwrap();
    }
    let policy = dir.path().join("policy.toml");
    std::fs::write(
        &policy,
        format!("[[tokens]]\nstorage = \"AKKaztokenStore\"\nmodule = {module:?}\n"),
    )
    .unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_qoltanba"))
        .args([
            "serve",
            "--listen",
            "127.0.0.1:0",
            "--tls",
            "off",
            "--unattended",
        ])
        .arg(&u)
        .args([
            "--policy",
            policy.to_str().unwrap(),
            "--data-dir",
            dir.path().join("d").to_str().unwrap(),
        ])
        .env("SOFTHSM2_CONF", &hsm.conf)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let url = qoltanba_testkit::listening_url(&mut child);
    let (mut ws, _) = tungstenite::connect(url.as_str()).unwrap();
    ws.read().unwrap();
    let req = r#"{"module":"kz.gov.pki.knca.basics","method":"sign","args":{"allowedStorages":["AKKaztokenStore"],"format":"cms","data":"MTEK","signingParams":{"decode":true,"encapsulate":false},"signerParams":{"extKeyUsageOids":[]}}}"#;
    let n = 200;
    for _ in 0..10 {
        ws.send(Message::text(req)).unwrap();
        ws.read().unwrap();
    }
    let t = Instant::now();
    for _ in 0..n {
        ws.send(Message::text(req)).unwrap();
        assert!(
            ws.read()
                .unwrap()
                .to_text()
                .unwrap()
                .contains(r#""status":true"#)
        );
    }
    let server_rate = f64::from(n) / t.elapsed().as_secs_f64();
    let _ = child.kill();
    let _ = child.wait();

    let input = dir.path().join("in");
    std::fs::write(&input, b"1").unwrap();
    let out = dir.path().join("out");
    let m = 50;
    let t = Instant::now();
    for _ in 0..m {
        hsm.pkcs11_tool_sign("bench", "123456", "01", &input, &out);
    }
    let tool_rate = f64::from(m) / t.elapsed().as_secs_f64();
    println!(
        "token CMS signatures through the server (login + sign per request): {server_rate:.0}/s"
    );
    println!(
        "pkcs11-tool --sign SHA256-RSA-PKCS (a process per signature):       {tool_rate:.0}/s"
    );
}
