//! Revocation before signing through the server: the key's certificate names a real OCSP
//! responder (`openssl ocsp`) and CRL; a revoked certificate is refused with the reason unless
//! the request allows revoked ones; a good one signs, with the CRL answering once the responder
//! is down; with both down the policy decides, and nothing waits past the timeout.

use std::time::{Duration, Instant};

use tungstenite::Message;

use crate::harness::{Options, start};

type Ws = tungstenite::WebSocket<tungstenite::stream::MaybeTlsStream<std::net::TcpStream>>;

fn ask(url: &str, frame: &str) -> serde_json::Value {
    let (mut ws, _): (Ws, _) = tungstenite::connect(url).unwrap();
    ws.read().unwrap();
    ws.send(Message::text(frame)).unwrap();
    serde_json::from_str(ws.read().unwrap().to_text().unwrap()).unwrap()
}

const SIGN: &str = r#"{"module":"kz.gov.pki.knca.basics","method":"sign","args":{"allowedStorages":["PKCS12"],"format":"cms","data":"MTEK","signingParams":{"decode":true,"encapsulate":true},"signerParams":{"extKeyUsageOids":["1.3.6.1.5.5.7.3.4"]}}}"#;
const SIGN_ALLOW_REVOKED: &str = r#"{"module":"kz.gov.pki.knca.basics","method":"sign","args":{"allowedStorages":["PKCS12"],"format":"cms","data":"MTEK","signingParams":{"decode":true,"encapsulate":true,"allowRevoked":true},"signerParams":{"extKeyUsageOids":["1.3.6.1.5.5.7.3.4"]}}}"#;

#[test]
fn a_revoked_certificate_is_refused_before_signing() {
    let server = start(&Options {
        revocation: Some(true),
        ..Options::default()
    });
    let r = ask(&server.url, SIGN);
    assert_eq!(r["status"], false, "{r}");
    let details = r["details"].as_str().unwrap();
    assert!(
        details.contains("revoked") && details.contains("keyCompromise"),
        "{details}"
    );
    let commons = r#"{"module":"kz.gov.pki.knca.commonUtils","method":"createCAdESFromBase64","args":["PKCS12","SIGNATURE","MTEK",true]}"#;
    let r = ask(&server.url, commons);
    assert_eq!(r["code"], "500", "{r}");
    let r = ask(&server.url, SIGN_ALLOW_REVOKED);
    assert_eq!(r["status"], true, "{r}");
}

#[test]
fn a_good_certificate_signs_with_the_crl_as_fallback_and_the_policy_decides_offline() {
    let mut server = start(&Options {
        revocation: Some(false),
        policy: Some("[revocation]\nwhen_unchecked = \"refuse\"\ntimeout_secs = 2\n"),
        ..Options::default()
    });
    assert_eq!(ask(&server.url, SIGN)["status"], true);
    let rev = server.revocation.as_mut().unwrap();
    rev.stop_ocsp();
    // The answer was cached until nextUpdate; a fresh server has to ask again.
    assert_eq!(ask(&server.url, SIGN)["status"], true);
    let mut fresh = start(&Options {
        revocation: Some(false),
        policy: Some("[revocation]\nwhen_unchecked = \"refuse\"\ntimeout_secs = 2\n"),
        ..Options::default()
    });
    let rev = fresh.revocation.as_mut().unwrap();
    rev.stop_ocsp();
    assert_eq!(
        ask(&fresh.url, SIGN)["status"],
        true,
        "the CRL should have answered"
    );
    let mut offline = start(&Options {
        revocation: Some(false),
        policy: Some("[revocation]\nwhen_unchecked = \"refuse\"\ntimeout_secs = 2\n"),
        ..Options::default()
    });
    let rev = offline.revocation.as_mut().unwrap();
    rev.stop_ocsp();
    rev.stop_crl();
    let t = Instant::now();
    let r = ask(&offline.url, SIGN);
    assert!(
        t.elapsed() < Duration::from_secs(10),
        "waited {:?}",
        t.elapsed()
    );
    assert_eq!(r["status"], false, "{r}");
    assert!(
        r["details"]
            .as_str()
            .unwrap()
            .contains("could not be checked"),
        "{r}"
    );
    drop(fresh);
}
