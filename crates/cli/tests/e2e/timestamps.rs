//! CAdES-T through the server with its TSA (`openssl ts -reply` over HTTP): applyCAdEST adds a
//! timestamp to each signer of a CMS the page already has; with the TSA answering garbage or
//! not at all the page gets an error in the module's shape — never a signature without the
//! timestamp it asked for — and nothing waits past the configured timeout.

use std::time::{Duration, Instant};

use qoltanba_testkit::tsa::Mode;
use tungstenite::Message;

use crate::harness::{Options, start};

type Ws = tungstenite::WebSocket<tungstenite::stream::MaybeTlsStream<std::net::TcpStream>>;

fn ws(url: &str) -> Ws {
    let (mut ws, _) = tungstenite::connect(url).unwrap();
    ws.read().unwrap();
    ws
}

fn ask(ws: &mut Ws, frame: &str) -> serde_json::Value {
    ws.send(Message::text(frame)).unwrap();
    serde_json::from_str(ws.read().unwrap().to_text().unwrap()).unwrap()
}

const CADES_BES: &str = r#"{"module":"kz.gov.pki.knca.commonUtils","method":"createCAdESFromBase64","args":["PKCS12","SIGNATURE","MTEK",true]}"#;
const BASICS_TSP: &str = r#"{"module":"kz.gov.pki.knca.basics","method":"sign","args":{"allowedStorages":["PKCS12"],"format":"cms","data":"MTEK","signingParams":{"decode":true,"encapsulate":true,"tsaProfile":{}},"signerParams":{"extKeyUsageOids":["1.3.6.1.5.5.7.3.4"]}}}"#;

fn apply(cms: &str) -> String {
    serde_json::json!({"module":"kz.gov.pki.knca.commonUtils","method":"applyCAdEST","args":["PKCS12","SIGNATURE",cms]}).to_string()
}

#[test]
fn apply_cades_t_timestamps_every_signer_and_keeps_the_content() {
    let server = start(&Options::default());
    let mut c = ws(&server.url);
    let bes = ask(&mut c, CADES_BES);
    let bes = bes["responseObject"].as_str().unwrap().to_owned();
    let t = ask(&mut c, &apply(&bes));
    assert_eq!(t["code"], "200", "{t}");
    let stamped = t["responseObject"].as_str().unwrap();
    server.assert_cms("applied", stamped, None);
    server.assert_timestamped("applied", stamped);
    let der = qoltanba_sign::input::decode_binary(stamped.as_bytes()).unwrap();
    assert_eq!(
        qoltanba_sign::cms::attached_content(&der).unwrap().unwrap(),
        b"11\n"
    );
    // A signer that has one already is not stamped again.
    let stamps = server.tsa.served.load(std::sync::atomic::Ordering::SeqCst);
    let again = ask(&mut c, &apply(stamped));
    assert_eq!(again["responseObject"].as_str().unwrap(), stamped);
    assert_eq!(
        server.tsa.served.load(std::sync::atomic::Ordering::SeqCst),
        stamps
    );
    // Not a CMS: a clear error.
    let bad = ask(&mut c, &apply("TUlJ"));
    assert_eq!(bad["code"], "500", "{bad}");
}

#[test]
fn a_tsa_that_fails_gives_an_error_never_a_signature_without_the_timestamp() {
    let server = start(&Options {
        policy: Some("[tsa]\ntimeout_secs = 2\n"),
        ..Options::default()
    });
    let mut c = ws(&server.url);
    assert_eq!(ask(&mut c, BASICS_TSP)["status"], true);
    server.tsa.set_mode(Mode::Garbage);
    let r = ask(&mut c, BASICS_TSP);
    assert_eq!(r["status"], false, "{r}");
    assert_eq!(r["code"], "SIGNING_FAILURE");
    assert!(
        r["details"].as_str().unwrap().contains("no timestamp"),
        "{r}"
    );
    let tsp = r#"{"module":"kz.gov.pki.knca.commonUtils","method":"createCMSSignatureFromBase64","args":["PKCS12","SIGNATURE","MTEK",true]}"#;
    let r = ask(&mut c, tsp);
    assert_eq!(r["code"], "500", "{r}");
    assert!(r.get("responseObject").is_none(), "{r}");
    // Silent: the call ends after the timeout with a clear error; the server goes on.
    server.tsa.set_mode(Mode::Silent);
    let start = Instant::now();
    let r = ask(&mut c, BASICS_TSP);
    let took = start.elapsed();
    assert_eq!(r["status"], false, "{r}");
    assert!(took < Duration::from_secs(10), "waited {took:?}");
    eprintln!("TSA silent: {} after {took:?}", r["details"]);
    assert!(
        r["details"].as_str().unwrap().contains("cannot be reached"),
        "{r}"
    );
    // Without tsaProfile the TSA is not needed.
    let no_tsp = BASICS_TSP.replace(r#","tsaProfile":{}"#, "");
    assert_eq!(ask(&mut c, &no_tsp)["status"], true);
}
