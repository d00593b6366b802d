//! Malformed frames, many connections, limits, Host and Origin checks: the server keeps serving.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::Duration;

use tungstenite::client::IntoClientRequest;
use tungstenite::{Message, WebSocket, stream::MaybeTlsStream};

use crate::harness::{Options, start};

type Ws = WebSocket<MaybeTlsStream<TcpStream>>;

fn connect(url: &str, origin: Option<&str>) -> Result<Ws, tungstenite::Error> {
    let mut req = url.into_client_request().unwrap();
    if let Some(o) = origin {
        req.headers_mut().insert("Origin", o.parse().unwrap());
    }
    let (mut ws, _) = tungstenite::connect(req)?;
    if let MaybeTlsStream::Plain(s) = ws.get_mut() {
        s.set_read_timeout(Some(Duration::from_secs(20))).unwrap();
    }
    let greeting = ws.read().unwrap();
    assert_eq!(greeting, Message::text(r#"{"result":{"version":"1.4"}}"#));
    Ok(ws)
}

fn ask(ws: &mut Ws, frame: Message) -> serde_json::Value {
    ws.send(frame).unwrap();
    match ws.read().unwrap() {
        Message::Text(t) => {
            serde_json::from_str(t.as_str()).unwrap_or_else(|_| serde_json::json!(t.as_str()))
        }
        other => panic!("unexpected {other:?}"),
    }
}

const TOKENS: &str = r#"{"module":"kz.gov.pki.knca.commonUtils","method":"getActiveTokens"}"#;

#[test]
fn malformed_frames_get_protocol_errors_and_the_connection_goes_on() {
    let server = start(&Options::default());
    let mut ws = connect(&server.url, None).unwrap();
    assert_eq!(
        ask(&mut ws, Message::text("--heartbeat--")),
        "--heartbeat--"
    );
    let r = ask(&mut ws, Message::text("{not json"));
    assert_eq!(r["code"], "500");
    assert!(
        r["message"]
            .as_str()
            .unwrap()
            .starts_with("request.invalid")
    );
    let r = ask(&mut ws, Message::binary(vec![1, 2, 3]));
    assert!(r["message"].as_str().unwrap().contains("binary"));
    let r = ask(
        &mut ws,
        Message::text(r#"{"module":"kz.digiflow.mobile.extensions","method":"getVersion"}"#),
    );
    assert_eq!(
        r,
        serde_json::json!({"success": false, "errorCode": "MODULE_NOT_FOUND"})
    );
    let r = ask(
        &mut ws,
        Message::text(
            r#"{"module":"kz.gov.pki.knca.commonUtils","method":"createCAdESFromBase64","args":[1,2,3,4]}"#,
        ),
    );
    assert_eq!(
        r["message"],
        "java.lang.IllegalArgumentException: argument type mismatch. Method: createCAdESFromBase64"
    );
    let r = ask(
        &mut ws,
        Message::text(
            r#"{"module":"kz.gov.pki.knca.commonUtils","method":"nope","args":[],"uuid":"u-1"}"#,
        ),
    );
    assert_eq!(
        r,
        serde_json::json!({"code": "500", "message": "NoSuchMethodException nope", "uuid": "u-1"})
    );
    let r = ask(
        &mut ws,
        Message::text(
            r#"{"module":"kz.gov.pki.knca.basics","method":"sign","args":{"format":"cms","data":"MTEK","signingParams":555}}"#,
        ),
    );
    assert_eq!(r["code"], "INVOCATION_ERROR");
    assert_eq!(r["status"], false);
    let r = ask(
        &mut ws,
        Message::text(r#"{"module":"kz.gov.pki.knca.basics","method":"sign","args":[1]}"#),
    );
    assert_eq!(r["code"], "GENERAL_ERROR");
    let r = ask(
        &mut ws,
        Message::text(r#"{"method":"getKeys","args":["PKCS12","/k.p12","pw","ALL"]}"#),
    );
    assert_eq!(
        r["errorCode"], "COMMON",
        "the legacy API never takes passwords from pages"
    );
    // `{}` is a keep-alive: no reply, so the next reply belongs to the next request.
    ws.send(Message::text("{}")).unwrap();
    assert_eq!(
        ask(&mut ws, Message::text(TOKENS)),
        serde_json::json!({"code": "200", "responseObject": []})
    );
    // 60 MB in one frame: read, answered, and the connection still serves.
    let big = format!(
        r#"{{"module":"x.y","method":"z","args":["{}"]}}"#,
        "A".repeat(60_000_000)
    );
    assert_eq!(
        ask(&mut ws, Message::text(big))["errorCode"],
        "MODULE_NOT_FOUND"
    );
    assert_eq!(ask(&mut ws, Message::text(TOKENS))["code"], "200");
}

#[test]
fn oversized_message_closes_only_that_connection() {
    let server = start(&Options {
        extra_args: &["--max-message", "1000000"],
        ..Options::default()
    });
    let mut other = connect(&server.url, None).unwrap();
    let mut ws = connect(&server.url, None).unwrap();
    // The server may reset the connection while the frame is still being sent.
    let sent = ws.send(Message::text("x".repeat(2_000_000)));
    let closed = sent.is_err() || matches!(ws.read(), Err(_) | Ok(Message::Close(_)));
    assert!(closed, "an oversized message must end that connection");
    assert_eq!(ask(&mut other, Message::text(TOKENS))["code"], "200");
    let mut fresh = connect(&server.url, None).unwrap();
    assert_eq!(ask(&mut fresh, Message::text(TOKENS))["code"], "200");
}

#[test]
fn five_hundred_connections_then_a_normal_request() {
    let server = start(&Options::default());
    let mut all = Vec::new();
    for _ in 0..500 {
        all.push(connect(&server.url, None).unwrap());
    }
    let mut ws = connect(&server.url, None).unwrap();
    assert_eq!(ask(&mut ws, Message::text(TOKENS))["code"], "200");
    // The old ones are still alive.
    assert_eq!(
        ask(&mut all[0], Message::text("--heartbeat--")),
        "--heartbeat--"
    );
    assert_eq!(ask(&mut all[499], Message::text(TOKENS))["code"], "200");
}

fn http(port: u16, request: &str) -> String {
    let mut s = TcpStream::connect(("127.0.0.1", port)).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    s.write_all(request.as_bytes()).unwrap();
    let mut out = String::new();
    let _ = s.read_to_string(&mut out);
    out
}

#[test]
fn status_page_host_check_and_origin_policy() {
    let server = start(&Options {
        policy: Some(
            "[origins]\nallow = [\"https://*.egov.kz\"]\ndeny = [\"https://evil.example\"]\n",
        ),
        ..Options::default()
    });
    let p = server.port;
    let page = http(p, &format!("GET / HTTP/1.1\r\nHost: 127.0.0.1:{p}\r\n\r\n"));
    assert!(
        page.starts_with("HTTP/1.1 200") && page.contains("Qoltanba"),
        "{page}"
    );
    let status = http(
        p,
        &format!(
            "GET /status HTTP/1.1\r\nHost: localhost:{p}\r\nOrigin: https://idp.egov.kz\r\n\r\n"
        ),
    );
    assert!(status.contains(r#""origin_policy":"allowed""#), "{status}");
    assert!(status.contains("Access-Control-Allow-Origin: *"));
    // DNS rebinding: a foreign Host is refused.
    let rebind = http(
        p,
        &format!("GET / HTTP/1.1\r\nHost: evil.example:{p}\r\n\r\n"),
    );
    assert!(rebind.starts_with("HTTP/1.1 403"), "{rebind}");
    // An origin the admin denies cannot even open the socket.
    assert!(connect(&server.url, Some("https://evil.example")).is_err());
    let mut ws = connect(&server.url, Some("https://idp.egov.kz")).unwrap();
    assert_eq!(ask(&mut ws, Message::text(TOKENS))["code"], "200");
}

#[test]
fn heartbeats_are_answered_while_a_request_waits_for_the_person() {
    let server = start(&Options {
        delay_ms: 1500,
        ..Options::default()
    });
    let mut ws = connect(&server.url, None).unwrap();
    let sign = r#"{"module":"kz.gov.pki.knca.commonUtils","method":"createCAdESFromBase64","args":["PKCS12","SIGNATURE","MTEK",false]}"#;
    ws.send(Message::text(sign)).unwrap();
    ws.send(Message::text("--heartbeat--")).unwrap();
    // The echo arrives first, the signature after the "person" answered; nothing else.
    assert_eq!(ws.read().unwrap(), Message::text("--heartbeat--"));
    let reply = ws.read().unwrap();
    let v: serde_json::Value = serde_json::from_str(reply.to_text().unwrap()).unwrap();
    assert_eq!(v["code"], "200", "{v}");
    // Requests sent back to back are answered one by one, in order.
    ws.send(Message::text(TOKENS)).unwrap();
    ws.send(Message::text(
        r#"{"module":"kz.gov.pki.knca.commonUtils","method":"changeLocale","args":["ru"]}"#,
    ))
    .unwrap();
    let first: serde_json::Value =
        serde_json::from_str(ws.read().unwrap().to_text().unwrap()).unwrap();
    let second: serde_json::Value =
        serde_json::from_str(ws.read().unwrap().to_text().unwrap()).unwrap();
    assert_eq!(
        first,
        serde_json::json!({"code": "200", "responseObject": []})
    );
    assert_eq!(second, serde_json::json!({"code": "200"}));
}

#[test]
fn a_taken_port_names_its_holder() {
    let server = start(&Options::default());
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_qoltanba"))
        .args([
            "serve",
            "--tls",
            "off",
            "--listen",
            &format!("127.0.0.1:{}", server.port),
        ])
        .args([
            "--data-dir",
            server.dir.path().join("data2").to_str().unwrap(),
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains(&format!(
            "port {} is already in use by qoltanba",
            server.port
        )),
        "{err}"
    );
}

#[test]
fn remembered_origins_can_be_listed_and_revoked() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("origins.json"),
        r#"["https://a.kz","https://b.kz"]"#,
    )
    .unwrap();
    let run = |args: &[&str]| {
        std::process::Command::new(env!("CARGO_BIN_EXE_qoltanba"))
            .args(args)
            .args(["--data-dir", dir.path().to_str().unwrap()])
            .output()
            .unwrap()
    };
    let out = run(&["origins", "list"]);
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        "https://a.kz\nhttps://b.kz\n"
    );
    assert!(run(&["origins", "revoke", "https://a.kz"]).status.success());
    assert_eq!(
        String::from_utf8_lossy(&run(&["origins", "list"]).stdout),
        "https://b.kz\n"
    );
    assert_eq!(
        run(&["origins", "revoke", "https://a.kz"]).status.code(),
        Some(1)
    );
}

/// The README's own example, `deny = ["http://*"]`, matched nothing before: every plain-http
/// site is refused before the WebSocket opens and `/status` says denied.
#[test]
fn the_readme_policy_denies_every_plain_http_site() {
    let server = start(&Options {
        policy: Some("[origins]\nallow = [\"https://*.egov.kz\"]\ndeny = [\"http://*\"]\n"),
        ..Options::default()
    });
    let p = server.port;
    for origin in [
        "http://evil.example",
        "http://localhost:8080",
        "http://egov.kz",
    ] {
        assert!(
            connect(&server.url, Some(origin)).is_err(),
            "{origin} opened the socket"
        );
        let status = http(
            p,
            &format!("GET /status HTTP/1.1\r\nHost: 127.0.0.1:{p}\r\nOrigin: {origin}\r\n\r\n"),
        );
        assert!(status.contains(r#""origin_policy":"denied""#), "{status}");
    }
    let mut ws = connect(&server.url, Some("https://idp.egov.kz")).unwrap();
    assert_eq!(ask(&mut ws, Message::text(TOKENS))["code"], "200");
}

/// An HTTP request head is bounded before it grows: a line with no end is cut off after
/// 16 KiB, not buffered whole.
#[test]
fn an_endless_request_head_is_cut_off() {
    let server = start(&Options::default());
    let mut s = TcpStream::connect(("127.0.0.1", server.port)).unwrap();
    s.set_write_timeout(Some(Duration::from_secs(10))).unwrap();
    s.write_all(b"GET / HTTP/1.1\r\nX-Long: ").unwrap();
    let chunk = vec![b'a'; 64 * 1024];
    let mut sent = 0usize;
    let cut = loop {
        if s.write_all(&chunk).is_err() {
            break true;
        }
        sent += chunk.len();
        if sent >= 64 << 20 {
            break false;
        }
    };
    assert!(cut, "the server read {} MiB of one header line", sent >> 20);
    // And goes on serving.
    let mut ws = connect(&server.url, None).unwrap();
    assert_eq!(ask(&mut ws, Message::text(TOKENS))["code"], "200");
}

/// A page cannot queue more than twice the message limit: past it, that connection closes.
#[test]
fn a_connection_that_queues_too_much_is_closed() {
    let server = start(&Options {
        delay_ms: 3000,
        extra_args: &["--max-message", "200000"],
        ..Options::default()
    });
    let mut ws = connect(&server.url, None).unwrap();
    let data = "A".repeat(150_000);
    let sign = format!(
        r#"{{"module":"kz.gov.pki.knca.commonUtils","method":"createCAdESFromBase64","args":["PKCS12","SIGNATURE","{data}",false]}}"#
    );
    let mut closed = false;
    for _ in 0..6 {
        if ws.send(Message::text(sign.clone())).is_err() {
            closed = true;
            break;
        }
    }
    if !closed {
        closed = loop {
            match ws.read() {
                Ok(Message::Close(f)) => {
                    assert_eq!(f.map(|f| u16::from(f.code)), Some(1008));
                    break true;
                }
                Ok(_) => {}
                // A read time-out: nothing was closed.
                Err(_) => break false,
            }
        };
    }
    assert!(closed);
    let mut other = connect(&server.url, None).unwrap();
    assert_eq!(ask(&mut other, Message::text(TOKENS))["code"], "200");
}
