//! A SoftHSM2 token as `AKKaztokenStore` (mapped in the test policy): the real js-client signs
//! on it through basics and commonUtils; wrong PIN, a token pulled out, and the server goes on.

use tungstenite::Message;

use crate::harness::{Options, js_dir, start};

fn ws(
    url: &str,
) -> tungstenite::WebSocket<tungstenite::stream::MaybeTlsStream<std::net::TcpStream>> {
    let (mut ws, _) = tungstenite::connect(url).unwrap();
    ws.read().unwrap();
    ws
}

fn ask(
    ws: &mut tungstenite::WebSocket<tungstenite::stream::MaybeTlsStream<std::net::TcpStream>>,
    frame: &str,
) -> serde_json::Value {
    ws.send(Message::text(frame)).unwrap();
    serde_json::from_str(ws.read().unwrap().to_text().unwrap()).unwrap()
}

const TOKEN_SIGN: &str = r#"{"module":"kz.gov.pki.knca.basics","method":"sign","args":{"allowedStorages":["AKKaztokenStore"],"format":"cms","data":"MTEK","signingParams":{"decode":true,"encapsulate":true},"signerParams":{"extKeyUsageOids":["1.3.6.1.5.5.7.3.4"]}}}"#;
const FILE_SIGN: &str = r#"{"module":"kz.gov.pki.knca.basics","method":"sign","args":{"allowedStorages":["PKCS12"],"format":"cms","data":"MTEK","signingParams":{"decode":true,"encapsulate":true},"signerParams":{"extKeyUsageOids":["1.3.6.1.5.5.7.3.4"]}}}"#;

/// The js-client's `token` mode against `url`: getActiveTokens, then a basics and a
/// commonUtils signature with keys of `storage`.
fn js_client_token_mode(url: &str, storage: &str) -> serde_json::Value {
    let out = std::process::Command::new("node")
        .current_dir(js_dir())
        .args([
            "run.mjs",
            "--url",
            url,
            "--mode",
            "token",
            "--storage",
            storage,
        ])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

#[test]
fn js_client_signs_on_the_token() {
    let server = start(&Options {
        token_pin: Some("123456"),
        ..Options::default()
    });
    let r = js_client_token_mode(&server.url, "AKKaztokenStore");
    assert_eq!(
        r["getActiveTokens"]["ok"],
        serde_json::json!(["AKKaztokenStore"]),
        "{r}"
    );
    let token_cert = &server.token_leaf.as_ref().unwrap().cert_der;
    for name in ["basicsToken", "cadesToken"] {
        let text = r[name]["ok"]
            .as_str()
            .unwrap_or_else(|| panic!("{name}: {}", r[name]));
        server.assert_cms(name, text, None);
        // Signed by the token's certificate, not the file key.
        let der = qoltanba_sign::input::decode_binary(text.as_bytes()).unwrap();
        assert!(
            der.windows(token_cert.len())
                .any(|w| w == token_cert.as_slice()),
            "{name}"
        );
    }
}

#[test]
fn wrong_pin_is_reported_and_the_server_goes_on() {
    let server = start(&Options {
        token_pin: Some("000000"),
        ..Options::default()
    });
    let mut c = ws(&server.url);
    let r = ask(&mut c, TOKEN_SIGN);
    assert_eq!(r["status"], false);
    eprintln!("wrong PIN: {}", r["details"]);
    assert!(r["details"].as_str().unwrap().contains("wrong PIN"), "{r}");
    assert_eq!(ask(&mut c, FILE_SIGN)["status"], true);
}

#[test]
fn a_token_pulled_out_gives_a_clear_error_and_files_still_work() {
    let server = start(&Options {
        token_pin: Some("123456"),
        ..Options::default()
    });
    let mut c = ws(&server.url);
    assert_eq!(ask(&mut c, TOKEN_SIGN)["status"], true);
    server.softhsm.as_ref().unwrap().delete_token("kaztoken-1");
    let r = ask(&mut c, TOKEN_SIGN);
    assert_eq!(r["status"], false, "{r}");
    let details = r["details"].as_str().unwrap();
    eprintln!("pulled-out token: {details}");
    assert!(
        details.contains("token") && !details.contains("panic"),
        "{details}"
    );
    assert_eq!(ask(&mut c, FILE_SIGN)["status"], true);
    let tokens = ask(
        &mut c,
        r#"{"module":"kz.gov.pki.knca.commonUtils","method":"getActiveTokens"}"#,
    );
    assert_eq!(tokens["responseObject"], serde_json::json!([]));
}

/// The OS store: a key in an NSS database (made with certutil, filled with pk12util) is offered
/// to the real js-client's `PKCS12` requests, NSS signs, openssl verifies; with a database
/// password, the password is asked and checked by NSS.
#[test]
fn js_client_signs_with_a_key_from_the_os_store() {
    for password in [None, Some("Дерекқор-1")] {
        let server = start(&Options {
            os_store: Some(password),
            ..Options::default()
        });
        let r = js_client_token_mode(&server.url, "PKCS12");
        // The OS store is not a token.
        assert_eq!(r["getActiveTokens"]["ok"], serde_json::json!([]), "{r}");
        for name in ["basicsToken", "cadesToken"] {
            let text = r[name]["ok"]
                .as_str()
                .unwrap_or_else(|| panic!("{password:?} {name}: {}", r[name]));
            server.assert_cms(name, text, None);
            let der = qoltanba_sign::input::decode_binary(text.as_bytes()).unwrap();
            let cert = &server.leaf.cert_der;
            assert!(
                der.windows(cert.len()).any(|w| w == cert.as_slice()),
                "{name}"
            );
        }
    }
}

/// A wrong NSS database password is the page's error, and the server goes on.
#[test]
fn a_wrong_os_store_password_is_reported() {
    let server = start(&Options {
        os_store: Some(Some("right-one")),
        ..Options::default()
    });
    // The unattended file knows "right-one": change the database's password with certutil
    // before the server first opens it.
    let db = server.nss.as_ref().unwrap();
    let old = server.file("old.pw", b"right-one");
    let new = server.file("new.pw", b"changed-2");
    let out = std::process::Command::new("certutil")
        .args(["-W", "-d", &format!("sql:{}", db.path.display())])
        .args(["-f", old.to_str().unwrap(), "-@", new.to_str().unwrap()])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let mut c = ws(&server.url);
    let r = ask(&mut c, FILE_SIGN);
    assert_eq!(r["status"], false, "{r}");
    assert!(
        r["details"].as_str().unwrap().contains("wrong password"),
        "{r}"
    );
    assert!(!r.to_string().contains("right-one"));
    // Still serving.
    let r = ask(
        &mut c,
        r#"{"module":"kz.gov.pki.knca.commonUtils","method":"getActiveTokens"}"#,
    );
    assert_eq!(r["code"], "200", "{r}");
}
