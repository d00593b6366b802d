//! The dispatcher on its own: transcripts from tests/transcripts, origin approvals, filters and
//! lenient argument parsing. A scripted prompter stands in for the person.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use qoltanba_keys::{Secret, SigningKey, pkcs12};
use qoltanba_protocol::basics::BasicsSign;
use qoltanba_protocol::{
    ChainRule, Dispatcher, KeyFilter, KeyRequest, MemoryOriginStore, Mismatch, OriginDecision,
    OriginPolicy, PromptError, Prompter, Settings,
};
use qoltanba_testkit::p12;
use qoltanba_testkit::pki::{LeafSpec, Lifetime, TestPki, Usage, roles};
use serde_json::{Value, json};

struct Scripted {
    approve: bool,
    origin_answer: OriginDecision,
    origin_asks: AtomicUsize,
    key: Mutex<Option<Box<dyn SigningKey>>>,
}

impl Scripted {
    fn new(approve: bool, origin_answer: OriginDecision) -> Self {
        Self {
            approve,
            origin_answer,
            origin_asks: AtomicUsize::new(0),
            key: Mutex::new(None),
        }
    }
}

impl Prompter for Scripted {
    fn pick_key(&self, _: &KeyRequest<'_>) -> Result<Box<dyn SigningKey>, PromptError> {
        if !self.approve {
            return Err(PromptError::Cancelled);
        }
        self.key
            .lock()
            .unwrap()
            .take()
            .ok_or(PromptError::NoMatchingKey)
    }
    fn approve_origin(&self, _: &str) -> OriginDecision {
        self.origin_asks.fetch_add(1, Ordering::SeqCst);
        self.origin_answer
    }
}

fn dispatcher(approve: bool) -> Dispatcher {
    Dispatcher::new(
        Arc::new(Scripted::new(approve, OriginDecision::AllowOnce)),
        Arc::new(MemoryOriginStore::default()),
        Settings::default(),
    )
}

fn transcripts(dir: &Path, out: &mut Vec<PathBuf>) {
    for e in std::fs::read_dir(dir).unwrap().flatten() {
        let p = e.path();
        if p.is_dir() {
            transcripts(&p, out);
        } else if p.extension().is_some_and(|x| x == "json") {
            out.push(p);
        }
    }
}

#[test]
fn transcripts_match() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/transcripts");
    let mut files = Vec::new();
    transcripts(&root, &mut files);
    assert!(
        files.len() >= 20,
        "transcripts missing in {}",
        root.display()
    );
    for f in files {
        let case: Value = serde_json::from_slice(&std::fs::read(&f).unwrap()).unwrap();
        let d = dispatcher(case.get("approve").and_then(Value::as_bool).unwrap_or(true));
        let reply = d.handle(
            case["request"].as_str().unwrap(),
            Some("https://example.kz"),
        );
        let name = f.strip_prefix(&root).unwrap().display().to_string();
        match (case.get("reply"), reply) {
            (Some(Value::Null), r) => assert_eq!(r, None, "{name}"),
            (Some(Value::String(want)), Some(r)) if !want.starts_with('{') => {
                assert_eq!(&r, want, "{name}");
            }
            (Some(want), Some(r)) => {
                let got: Value = serde_json::from_str(&r).unwrap();
                assert_eq!(&got, want, "{name}");
            }
            (None, Some(r)) => {
                let got: Value = serde_json::from_str(&r).unwrap();
                for (k, v) in case["reply_has"].as_object().unwrap() {
                    assert_eq!(&got[k], v, "{name}: {k} in {got}");
                }
            }
            (_, None) => panic!("{name}: no reply"),
        }
    }
}

fn key_for(spec: &LeafSpec, pki: &TestPki) -> Box<dyn SigningKey> {
    let leaf = pki.issue(spec);
    let bytes = p12::write(
        &p12::Contents::of(&leaf),
        "x",
        p12::Protection::NcaLegacy,
        p12::Encoding::Der,
    );
    Box::new(
        pkcs12::open(&bytes, &Secret::new("x".into()))
            .unwrap()
            .keys
            .remove(0),
    )
}

const SIGN_CMS: &str = r#"{"module":"kz.gov.pki.knca.basics","method":"sign","args":{"format":"cms","data":"MTEK","signingParams":{"decode":true,"encapsulate":false},"signerParams":{"extKeyUsageOids":["1.3.6.1.5.5.7.3.4"],"chain":[]}}}"#;

#[test]
fn origins_are_asked_once_remembered_and_admin_rules_win() {
    let pki = TestPki::new();
    let prompter = Arc::new(Scripted::new(true, OriginDecision::AllowAlways));
    let store = Arc::new(MemoryOriginStore::default());
    let policy = OriginPolicy {
        allow: vec!["https://*.egov.kz".into()],
        deny: vec!["https://evil.example".into()],
    };
    let d = Dispatcher::new(
        prompter.clone(),
        store,
        Settings {
            trust_anchors: vec![],
            origins: policy,
        },
    );

    for _ in 0..2 {
        *prompter.key.lock().unwrap() = Some(key_for(&LeafSpec::individual(Usage::Sign), &pki));
        let r: Value =
            serde_json::from_str(&d.handle(SIGN_CMS, Some("https://portal.kz")).unwrap()).unwrap();
        assert_eq!(r["status"], true, "{r}");
    }
    assert_eq!(
        prompter.origin_asks.load(Ordering::SeqCst),
        1,
        "asked once, then remembered"
    );

    *prompter.key.lock().unwrap() = Some(key_for(&LeafSpec::individual(Usage::Sign), &pki));
    let r: Value =
        serde_json::from_str(&d.handle(SIGN_CMS, Some("https://idp.egov.kz")).unwrap()).unwrap();
    assert_eq!(r["status"], true);
    assert_eq!(
        prompter.origin_asks.load(Ordering::SeqCst),
        1,
        "admin-allowed: no question"
    );

    let r: Value =
        serde_json::from_str(&d.handle(SIGN_CMS, Some("https://evil.example")).unwrap()).unwrap();
    assert_eq!(r["status"], false);
    assert!(r["details"].as_str().unwrap().contains("not allowed"));
    assert_eq!(
        prompter.origin_asks.load(Ordering::SeqCst),
        1,
        "admin-denied: refused without a prompt"
    );

    // A person who says no.
    let no = Arc::new(Scripted::new(true, OriginDecision::Deny));
    let d = Dispatcher::new(
        no,
        Arc::new(MemoryOriginStore::default()),
        Settings::default(),
    );
    let r: Value =
        serde_json::from_str(&d.handle(SIGN_CMS, Some("https://portal.kz")).unwrap()).unwrap();
    assert_eq!(r["code"], "SIGNING_FAILURE");
}

#[test]
fn a_prompter_that_returns_the_wrong_key_is_caught() {
    let pki = TestPki::new();
    let prompter = Arc::new(Scripted::new(true, OriginDecision::AllowOnce));
    *prompter.key.lock().unwrap() = Some(key_for(&LeafSpec::individual(Usage::Auth), &pki));
    let d = Dispatcher::new(
        prompter,
        Arc::new(MemoryOriginStore::default()),
        Settings::default(),
    );
    // The site wants a signing key (emailProtection); the person chose an AUTH key.
    let r: Value = serde_json::from_str(&d.handle(SIGN_CMS, None).unwrap()).unwrap();
    assert_eq!(r["status"], false);
    assert!(
        r["details"].as_str().unwrap().contains("does not meet"),
        "{r}"
    );
}

#[test]
fn filters() {
    let pki = TestPki::new();
    let now = time::OffsetDateTime::now_utc();
    let anchors = vec![pki.root.cert_der.clone()];
    let ceo = key_for(&LeafSpec::legal_entity(Usage::Sign, roles::CEO), &pki);
    let f = |eku: &[&str]| KeyFilter {
        eku_oids: eku.iter().map(|s| (*s).to_owned()).collect(),
        ..KeyFilter::default()
    };
    // The leaf's chain: leaf → nca (not in the key file) → root. Give nca through chain rule.
    let with_nca = ChainRule::Given(vec![pki.nca.cert_der.clone(), pki.root.cert_der.clone()]);
    let ok = KeyFilter {
        chain: with_nca.clone(),
        ..f(&["1.3.6.1.5.5.7.3.4", "1.2.398.3.3.4.1.2.1"])
    };
    assert_eq!(ok.check(ceo.as_ref(), &anchors, now), Ok(()));
    let person = KeyFilter {
        chain: ChainRule::None,
        ..f(&["1.2.398.3.3.4.1.1"])
    };
    assert_eq!(
        person.check(ceo.as_ref(), &anchors, now),
        Err(Mismatch::Eku("1.2.398.3.3.4.1.1".into()))
    );
    let bin = KeyFilter {
        bin: Some("123456789021".into()),
        chain: ChainRule::None,
        ..KeyFilter::default()
    };
    assert_eq!(bin.check(ceo.as_ref(), &anchors, now), Ok(()));
    let iin = KeyFilter {
        iin: Some("000000000000".into()),
        chain: ChainRule::None,
        ..KeyFilter::default()
    };
    assert_eq!(iin.check(ceo.as_ref(), &anchors, now), Err(Mismatch::Iin));
    let serial = KeyFilter {
        serial: Some(ceo.details().serial.to_lowercase()),
        chain: ChainRule::None,
        ..KeyFilter::default()
    };
    assert_eq!(serial.check(ceo.as_ref(), &anchors, now), Ok(()));
    let auth = KeyFilter {
        signing_key: Some(false),
        chain: ChainRule::None,
        ..KeyFilter::default()
    };
    assert_eq!(
        auth.check(ceo.as_ref(), &anchors, now),
        Err(Mismatch::KeyType)
    );
    // Other CA → not trusted by the configured anchors.
    let other = TestPki::new();
    let configured = KeyFilter::default();
    assert!(matches!(
        configured.check(
            ceo.as_ref(),
            std::slice::from_ref(&other.root.cert_der),
            now
        ),
        Err(Mismatch::Chain(_))
    ));
    // No anchors configured at all (trust update not run): the chain is not checked.
    assert_eq!(configured.check(ceo.as_ref(), &[], now), Ok(()));
    // Expired: refused unless allowExpired.
    let old = key_for(
        &LeafSpec::individual(Usage::Sign).with_lifetime(Lifetime::Expired),
        &pki,
    );
    let strict = KeyFilter {
        chain: ChainRule::None,
        ..KeyFilter::default()
    };
    assert!(matches!(
        strict.check(old.as_ref(), &anchors, now),
        Err(Mismatch::Validity(_))
    ));
    let lenient = KeyFilter {
        chain: ChainRule::None,
        allow_expired: true,
        ..KeyFilter::default()
    };
    assert_eq!(lenient.check(old.as_ref(), &anchors, now), Ok(()));
}

#[test]
fn basics_arguments_are_read_leniently() {
    let args = json!({
        "allowedStorages": "PKCS12, AKKaztokenStore",
        "format": "cms",
        "data": ["MTEK", "MjIK"],
        "signingParams": {"decode": "true", "encapsulate": "false", "digested": false, "tsaProfile": {}},
        "signerParams": {"extKeyUsageOids": ["1.3.6.1.5.5.7.3.4"], "iin": "", "bin": "123456789021", "serialNumber": null, "chain": []},
        "locale": "ru"
    });
    let b = BasicsSign::parse(Some(&args)).unwrap();
    assert_eq!(b.storages, vec!["PKCS12", "AKKaztokenStore"]);
    assert!(b.decode && !b.encapsulate && !b.digested && b.timestamp);
    assert_eq!(b.data.len(), 2);
    assert_eq!(b.filter.iin, None);
    assert_eq!(b.filter.bin.as_deref(), Some("123456789021"));
    assert_eq!(b.filter.chain, ChainRule::None);
    // Defaults: attached, no timestamp when tsaProfile is absent, locale kk.
    let b = BasicsSign::parse(Some(&json!({"format": "xml", "data": "<a/>"}))).unwrap();
    assert!(b.encapsulate && !b.timestamp);
    assert_eq!(b.locale, "kk");
    assert_eq!(b.filter.chain, ChainRule::Configured);
    assert!(BasicsSign::parse(Some(&json!({"format": "cms", "data": []}))).is_err());
    assert!(
        BasicsSign::parse(Some(
            &json!({"format": "cms", "data": "x", "signingParams": {"decode": 7}})
        ))
        .is_err()
    );
}

/// A smoke fuzz of the dispatcher: every transcript request, mutated, gets at most one reply and
/// never a panic.
#[test]
fn mutated_frames_never_panic() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/transcripts");
    let mut files = Vec::new();
    transcripts(&root, &mut files);
    let frames: Vec<String> = files
        .iter()
        .map(|f| {
            serde_json::from_slice::<Value>(&std::fs::read(f).unwrap()).unwrap()["request"]
                .as_str()
                .unwrap()
                .to_owned()
        })
        .collect();
    let d = dispatcher(false);
    let mut state: u64 = 0x1234_5678_9abc_def1;
    let mut next = move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    };
    for i in 0..4000 {
        let mut b = frames[i % frames.len()].clone().into_bytes();
        let at = usize::try_from(next() % b.len() as u64).unwrap();
        b[at] = b"{}[]\":,0aA\\"[usize::try_from(next() % 11).unwrap()];
        if let Some(reply) = String::from_utf8(b).ok().and_then(|t| d.handle(&t, None)) {
            assert!(!reply.is_empty());
        }
    }
}
