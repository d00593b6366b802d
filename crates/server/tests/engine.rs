//! The engine embedded by a second program (this test), as the desktop app will: built with
//! one call around its own prompter, bound, served, driven over a real WebSocket. The key file
//! the "person" picks is opened by the engine, remembered in settings.toml, and offered with
//! its certificate next time; the signature verifies with openssl.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use futures_util::{SinkExt, StreamExt};
use qoltanba_keys::{Location, Secret};
use qoltanba_protocol::{
    AfterRefusal, CallContext, Choice, KeyRequest, Offer, OriginDecision, PromptError, Prompter,
    Refusal,
};
use qoltanba_server::engine::{Engine, EngineConfig};
use qoltanba_testkit::pki::{LeafSpec, TestPki, Usage};
use qoltanba_testkit::{openssl, p12};
use tokio_tungstenite::tungstenite::Message;

/// Picks the key file the first time, the remembered offer after that.
struct Person {
    file: PathBuf,
    seen: Mutex<Vec<Vec<String>>>,
}

impl Prompter for Person {
    fn approve_origin(&self, _: &CallContext) -> OriginDecision {
        OriginDecision::AllowOnce
    }
    fn choose_key(
        &self,
        _: &CallContext,
        _: &KeyRequest<'_>,
        offers: &[Offer],
    ) -> Result<Choice, PromptError> {
        self.seen.lock().unwrap().push(
            offers
                .iter()
                .map(|o| {
                    o.candidate
                        .certificate
                        .as_ref()
                        .and_then(|c| c.details.full_name.clone())
                        .unwrap_or_default()
                })
                .collect(),
        );
        let remembered = offers
            .iter()
            .find(|o| matches!(&o.candidate.location, Location::File(_)) && o.usable());
        Ok(match remembered {
            Some(o) => Choice::Offer {
                id: o.candidate.id.clone(),
                secret: Secret::new("Qwerty12".into()),
            },
            None => Choice::File {
                path: self.file.clone(),
                secret: Secret::new("Qwerty12".into()),
            },
        })
    }
    fn refused(&self, _: &CallContext, _: &KeyRequest<'_>, why: &Refusal) -> AfterRefusal {
        panic!("refused: {why}")
    }
}

#[test]
fn a_second_program_embeds_the_engine() {
    let dir = tempfile::tempdir().unwrap();
    let pki = TestPki::new();
    let leaf = pki.issue(&LeafSpec::individual(Usage::Sign));
    let key = p12::write_nca_file(&leaf, "Qwerty12", dir.path());
    let ca = dir.path().join("ca.pem");
    std::fs::write(&ca, pki.ca_bundle_pem()).unwrap();
    let person = Arc::new(Person {
        file: key.clone(),
        seen: Mutex::default(),
    });
    let data = dir.path().join("data");
    let config = EngineConfig {
        listen: "127.0.0.1:0".parse().unwrap(),
        tls: false,
        trust_anchors: vec![ca.clone()],
        data_dir: Some(data.clone()),
        ..EngineConfig::default()
    };
    let engine = Engine::build(&config, person.clone()).unwrap();
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let replies = runtime.block_on(async move {
        let listener = engine.bind().await.unwrap();
        let url = format!("ws://{}", listener.local_addr().unwrap());
        let (tx, rx) = tokio::sync::watch::channel(false);
        let server = tokio::spawn(engine.run(listener, rx));
        let (mut ws, _) = tokio_tungstenite::connect_async(url).await.unwrap();
        ws.next().await.unwrap().unwrap(); // greeting
        let mut replies = Vec::new();
        for _ in 0..2 {
            ws.send(Message::text(r#"{"module":"kz.gov.pki.knca.commonUtils","method":"createCAdESFromBase64","args":["PKCS12","SIGNATURE","MTEK",false]}"#)).await.unwrap();
            let r = ws.next().await.unwrap().unwrap();
            replies.push(serde_json::from_str::<serde_json::Value>(r.to_text().unwrap()).unwrap());
        }
        let _ = tx.send(true);
        let _ = server.await;
        replies
    });
    for r in &replies {
        assert_eq!(r["code"], "200", "{r}");
    }
    let der = base64::Engine::decode(
        &base64::engine::general_purpose::STANDARD,
        replies[1]["responseObject"].as_str().unwrap(),
    )
    .unwrap();
    let sig = dir.path().join("s.p7s");
    let content = dir.path().join("c.txt");
    std::fs::write(&sig, der).unwrap();
    std::fs::write(&content, b"11\n").unwrap();
    let v = openssl::cms_verify(&sig, Some(&content), &ca);
    assert!(v.ok, "{}", v.output);
    // Remembered by path, with no password anywhere.
    let settings = std::fs::read_to_string(data.join("settings.toml")).unwrap();
    assert!(settings.contains("key_files"), "{settings}");
    assert!(!settings.contains("Qwerty12"));
    let seen = person.seen.lock().unwrap();
    assert!(
        seen[0].is_empty(),
        "nothing offered the first time: {seen:?}"
    );
    assert_eq!(
        seen[1],
        ["ТЕСТОВ ТЕСТ ТЕСТОВИЧ"],
        "offered with its holder next time"
    );
}

/// Waits for the page to go away (or its time to run out), as a person who never answers.
struct Silent;

impl Prompter for Silent {
    fn approve_origin(&self, _: &CallContext) -> OriginDecision {
        OriginDecision::AllowOnce
    }
    fn choose_key(
        &self,
        ctx: &CallContext,
        _: &KeyRequest<'_>,
        _: &[Offer],
    ) -> Result<Choice, PromptError> {
        assert!(
            ctx.cancel.wait(std::time::Duration::from_secs(30)),
            "the request's time budget never fired"
        );
        Err(PromptError::Cancelled)
    }
    fn refused(&self, _: &CallContext, _: &KeyRequest<'_>, _: &Refusal) -> AfterRefusal {
        AfterRefusal::GiveUp
    }
}

/// A prompt left open past the request's time budget closes, and the page gets a time-out
/// error in its module's shape (not a cancel, not silence); the connection goes on.
#[test]
fn a_request_past_its_time_budget_gets_a_time_out_error() {
    let dir = tempfile::tempdir().unwrap();
    let config = EngineConfig {
        listen: "127.0.0.1:0".parse().unwrap(),
        tls: false,
        data_dir: Some(dir.path().to_owned()),
        request_timeout: std::time::Duration::from_millis(300),
        ..EngineConfig::default()
    };
    let engine = Engine::build(&config, Arc::new(Silent)).unwrap();
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let (basics, common, after) = runtime.block_on(async move {
        let listener = engine.bind().await.unwrap();
        let url = format!("ws://{}", listener.local_addr().unwrap());
        let (tx, rx) = tokio::sync::watch::channel(false);
        let server = tokio::spawn(engine.run(listener, rx));
        let (mut ws, _) = tokio_tungstenite::connect_async(url).await.unwrap();
        ws.next().await.unwrap().unwrap();
        let mut ask = async |frame: &str| {
            ws.send(Message::text(frame.to_owned())).await.unwrap();
            let r = ws.next().await.unwrap().unwrap();
            serde_json::from_str::<serde_json::Value>(r.to_text().unwrap()).unwrap()
        };
        let basics = ask(r#"{"module":"kz.gov.pki.knca.basics","method":"sign","args":{"format":"cms","data":"MTEK","signingParams":{"decode":true}}}"#).await;
        let common = ask(r#"{"module":"kz.gov.pki.knca.commonUtils","method":"getKeyInfo","args":["PKCS12"]}"#).await;
        let after = ask(r#"{"module":"kz.gov.pki.knca.commonUtils","method":"getActiveTokens"}"#).await;
        let _ = tx.send(true);
        let _ = server.await;
        (basics, common, after)
    });
    assert_eq!(basics["code"], "SIGNING_FAILURE", "{basics}");
    assert!(
        basics["details"].as_str().unwrap().contains("too long"),
        "{basics}"
    );
    assert_eq!(common["code"], "500");
    assert!(
        common["message"].as_str().unwrap().contains("too long"),
        "{common}"
    );
    assert_eq!(after["code"], "200");
}
