//! The dispatcher on its own: transcripts from tests/transcripts, origin approvals, filters and
//! lenient argument parsing. A scripted prompter stands in for the person.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use qoltanba_keys::{
    Candidate, KeyError, KeyProvider, KnownCertificate, Listing, Location, Secret, SecretKind,
    SigningKey, Tries, pkcs12,
};
use qoltanba_protocol::basics::BasicsSign;
use qoltanba_protocol::{
    AfterRefusal, CallContext, Cancel, ChainRule, Choice, Connection, Dispatcher, KeyFilter,
    KeyRequest, MemoryOriginStore, Mismatch, Offer, OriginDecision, OriginPolicy, PromptError,
    Prompter, Refusal, Settings,
};
use qoltanba_testkit::p12;
use qoltanba_testkit::pki::{LeafSpec, Lifetime, TestPki, Usage, roles};
use serde_json::{Value, json};

/// Key containers held in memory, offered with their certificates.
#[derive(Default)]
struct MemoryKeys(Mutex<Vec<(Vec<u8>, Arc<KnownCertificate>)>>);

impl MemoryKeys {
    fn set(&self, spec: &LeafSpec, pki: &TestPki) {
        let leaf = pki.issue(spec);
        let bytes = p12::write(
            &p12::Contents::of(&leaf),
            "x",
            p12::Protection::NcaLegacy,
            p12::Encoding::Der,
        );
        let cert = KnownCertificate::from_der(leaf.cert_der.clone(), Vec::new()).unwrap();
        *self.0.lock().unwrap() = vec![(bytes, Arc::new(cert))];
    }
}

impl KeyProvider for MemoryKeys {
    fn name(&self) -> &'static str {
        "memory"
    }
    fn candidates(&self) -> Listing {
        Listing {
            candidates: self
                .0
                .lock()
                .unwrap()
                .iter()
                .enumerate()
                .map(|(i, (_, c))| Candidate {
                    id: format!("mem:{i}"),
                    storage: "PKCS12".into(),
                    location: Location::File(format!("/mem/{i}.p12").into()),
                    certificate: Some(c.clone()),
                    secret: SecretKind::Password,
                    tries: Tries::default(),
                })
                .collect(),
            problems: vec![],
        }
    }
    fn open(&self, c: &Candidate, secret: &Secret) -> Result<Box<dyn SigningKey>, KeyError> {
        let i: usize = c.id.trim_start_matches("mem:").parse().unwrap();
        let bytes = self.0.lock().unwrap()[i].0.clone();
        Ok(Box::new(pkcs12::open(&bytes, secret)?.keys.remove(0)))
    }
}

/// Chooses the first offer (usable or not: the engine must catch a wrong choice), with the
/// password `x`; records what it was asked.
struct Scripted {
    approve: bool,
    origin_answer: OriginDecision,
    origin_asks: AtomicUsize,
    locales: Mutex<Vec<String>>,
    refusals: Mutex<Vec<String>>,
}

impl Scripted {
    fn new(approve: bool, origin_answer: OriginDecision) -> Self {
        Self {
            approve,
            origin_answer,
            origin_asks: AtomicUsize::new(0),
            locales: Mutex::default(),
            refusals: Mutex::default(),
        }
    }
}

impl Prompter for Scripted {
    fn approve_origin(&self, _: &CallContext) -> OriginDecision {
        self.origin_asks.fetch_add(1, Ordering::SeqCst);
        self.origin_answer
    }
    fn choose_key(
        &self,
        ctx: &CallContext,
        _: &KeyRequest<'_>,
        offers: &[Offer],
    ) -> Result<Choice, PromptError> {
        self.locales.lock().unwrap().push(ctx.locale.clone());
        if !self.approve {
            return Err(PromptError::Cancelled);
        }
        let o = offers.first().ok_or(PromptError::NoMatchingKey)?;
        Ok(Choice::Offer {
            id: o.candidate.id.clone(),
            secret: Secret::new("x".into()),
        })
    }
    fn refused(&self, _: &CallContext, _: &KeyRequest<'_>, why: &Refusal) -> AfterRefusal {
        self.refusals.lock().unwrap().push(why.to_string());
        AfterRefusal::GiveUp
    }
}

fn dispatcher(approve: bool) -> Dispatcher {
    Dispatcher::new(
        Arc::new(Scripted::new(approve, OriginDecision::AllowOnce)),
        Arc::new(MemoryOriginStore::default()),
        Settings::default(),
    )
}

/// A dispatcher around `prompter` that offers one key file of a fresh test PKI.
fn with_key(prompter: Arc<Scripted>, spec: &LeafSpec) -> Dispatcher {
    let keys = Arc::new(MemoryKeys::default());
    keys.set(spec, &TestPki::new());
    Dispatcher::new(
        prompter,
        Arc::new(MemoryOriginStore::default()),
        Settings::default(),
    )
    .with_provider(keys)
}

/// One frame from a page at `origin` on a fresh connection.
fn handle(d: &Dispatcher, frame: &str, origin: Option<&str>) -> Option<String> {
    d.handle(frame, &Connection::new(origin), &Cancel::new())
}

fn ask(d: &Dispatcher, frame: &str, origin: Option<&str>) -> Value {
    serde_json::from_str(&handle(d, frame, origin).unwrap()).unwrap()
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
        let reply = handle(
            &d,
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
    let keys = Arc::new(MemoryKeys::default());
    keys.set(&LeafSpec::individual(Usage::Sign), &pki);
    let d = Dispatcher::new(
        prompter.clone(),
        store,
        Settings {
            origins: policy,
            ..Settings::default()
        },
    )
    .with_provider(keys.clone());

    for _ in 0..2 {
        let r = ask(&d, SIGN_CMS, Some("https://portal.kz"));
        assert_eq!(r["status"], true, "{r}");
    }
    assert_eq!(
        prompter.origin_asks.load(Ordering::SeqCst),
        1,
        "asked once, then remembered"
    );

    let r = ask(&d, SIGN_CMS, Some("https://idp.egov.kz"));
    assert_eq!(r["status"], true);
    assert_eq!(
        prompter.origin_asks.load(Ordering::SeqCst),
        1,
        "admin-allowed: no question"
    );

    let r = ask(&d, SIGN_CMS, Some("https://evil.example"));
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
    )
    .with_provider(keys);
    let r = ask(&d, SIGN_CMS, Some("https://portal.kz"));
    assert_eq!(r["code"], "SIGNING_FAILURE");
}

/// `Origin: null` (a sandboxed frame, a file: page) and no Origin at all (a local program) are
/// different callers: an approval of one never covers the other. Before, both were "null".
#[test]
fn the_null_origin_and_no_origin_are_approved_apart() {
    let prompter = Arc::new(Scripted::new(true, OriginDecision::AllowAlways));
    let d = with_key(prompter.clone(), &LeafSpec::individual(Usage::Sign));
    assert_eq!(ask(&d, SIGN_CMS, Some("null"))["status"], true);
    assert_eq!(prompter.origin_asks.load(Ordering::SeqCst), 1);
    assert_eq!(ask(&d, SIGN_CMS, Some("null"))["status"], true);
    assert_eq!(prompter.origin_asks.load(Ordering::SeqCst), 1, "remembered");
    assert_eq!(ask(&d, SIGN_CMS, None)["status"], true);
    assert_eq!(
        prompter.origin_asks.load(Ordering::SeqCst),
        2,
        "no Origin is not the null origin"
    );
    // And the admin can tell them apart.
    let d = Dispatcher::new(
        Arc::new(Scripted::new(true, OriginDecision::AllowOnce)),
        Arc::new(MemoryOriginStore::default()),
        Settings {
            origins: OriginPolicy {
                allow: vec![],
                deny: vec!["null".into()],
            },
            ..Settings::default()
        },
    );
    assert!(
        ask(&d, SIGN_CMS, Some("null"))["details"]
            .as_str()
            .unwrap()
            .contains("not allowed")
    );
    assert!(
        !ask(&d, SIGN_CMS, None)["details"]
            .as_str()
            .unwrap_or_default()
            .contains("not allowed")
    );
}

#[test]
fn a_prompter_that_chooses_a_key_that_does_not_fit_is_caught() {
    let prompter = Arc::new(Scripted::new(true, OriginDecision::AllowOnce));
    let d = with_key(prompter.clone(), &LeafSpec::individual(Usage::Auth));
    // The site wants a signing key (emailProtection); the person chose the AUTH key anyway,
    // which was offered disabled with its reason.
    let r = ask(&d, SIGN_CMS, None);
    assert_eq!(r["status"], false);
    let details = r["details"].as_str().unwrap();
    assert!(details.contains("does not meet"), "{r}");
    assert!(!details.contains("Eku("), "no Debug text to the page: {r}");
    assert_eq!(prompter.refusals.lock().unwrap().len(), 1);
}

/// `changeLocale` on one page's connection leaves the others alone; a basics request's own
/// locale wins for its call. Before, one global locale was shared by every connection.
#[test]
fn the_locale_belongs_to_the_connection() {
    let prompter = Arc::new(Scripted::new(true, OriginDecision::AllowOnce));
    let d = with_key(prompter.clone(), &LeafSpec::individual(Usage::Sign));
    let (a, b) = (Connection::new(None), Connection::new(None));
    let cancel = Cancel::new();
    let change =
        r#"{"module":"kz.gov.pki.knca.commonUtils","method":"changeLocale","args":["ru"]}"#;
    let info =
        r#"{"module":"kz.gov.pki.knca.commonUtils","method":"getKeyInfo","args":["PKCS12"]}"#;
    d.handle(change, &a, &cancel);
    d.handle(info, &a, &cancel);
    d.handle(info, &b, &cancel);
    let with_locale = SIGN_CMS.replace(r#""signerParams""#, r#""locale":"en","signerParams""#);
    d.handle(&with_locale, &a, &cancel);
    assert_eq!(*prompter.locales.lock().unwrap(), ["ru", "kk", "en"]);
}

/// A page that went away gets no signature, and its prompt is never opened.
#[test]
fn a_call_whose_page_left_is_not_signed() {
    let prompter = Arc::new(Scripted::new(true, OriginDecision::AllowOnce));
    let d = with_key(prompter.clone(), &LeafSpec::individual(Usage::Sign));
    let cancel = Cancel::new();
    cancel.cancel();
    let r: Value =
        serde_json::from_str(&d.handle(SIGN_CMS, &Connection::new(None), &cancel).unwrap())
            .unwrap();
    assert_eq!(
        r,
        json!({"status": true, "body": {}}),
        "a cancel, not a signature"
    );
    assert!(prompter.locales.lock().unwrap().is_empty(), "never asked");
    cancel.fire(qoltanba_protocol::CancelReason::TimedOut);
    let later = Cancel::new();
    later.fire(qoltanba_protocol::CancelReason::TimedOut);
    let r: Value =
        serde_json::from_str(&d.handle(SIGN_CMS, &Connection::new(None), &later).unwrap()).unwrap();
    assert!(r["details"].as_str().unwrap().contains("too long"), "{r}");
}

/// Verification is work any page can demand: it is admitted like signing.
#[test]
fn verification_needs_the_sites_admission() {
    let refuse = Arc::new(Scripted::new(true, OriginDecision::Deny));
    let d = Dispatcher::new(
        refuse.clone(),
        Arc::new(MemoryOriginStore::default()),
        Settings::default(),
    );
    let verify_xml = r#"{"method":"verifyXml","args":["<a/>"]}"#;
    let verify_cms = r#"{"method":"verifyCMSSignature","args":["MIIB","MTEK"]}"#;
    for frame in [verify_xml, verify_cms] {
        let r = ask(&d, frame, Some("https://stranger.example"));
        assert_eq!(r["errorCode"], "COMMON", "{r}");
        assert!(r["result"].as_str().unwrap().contains("not allowed"), "{r}");
    }
    assert_eq!(refuse.origin_asks.load(Ordering::SeqCst), 2);
    // Allowed: the work is done (and this document has no signature).
    let d = dispatcher(true);
    let r = ask(&d, verify_xml, Some("https://stranger.example"));
    assert_eq!(r["errorCode"], "XML_PARSE_EXCEPTION", "{r}");
    assert!(r["result"].as_str().unwrap().contains("no XML signature"));
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
    assert_eq!(b.locale, None);
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
        if let Some(reply) = String::from_utf8(b).ok().and_then(|t| handle(&d, &t, None)) {
            assert!(!reply.is_empty());
        }
    }
}

/// A window that polls: asks for a fresh list a few times (a token plugged in meanwhile),
/// then chooses the newest offer. Records the serials it saw and whether it was asked to show
/// a panel.
struct Polling {
    origin_asks: AtomicUsize,
    refreshes: usize,
    seen: Mutex<Vec<Vec<String>>>,
    keys: Arc<MemoryKeys>,
    pki: TestPki,
    shown: AtomicUsize,
}

impl Prompter for Polling {
    fn approve_origin(&self, _: &CallContext) -> OriginDecision {
        self.origin_asks.fetch_add(1, Ordering::SeqCst);
        OriginDecision::DenyAlways
    }
    fn choose_key(
        &self,
        _: &CallContext,
        _: &KeyRequest<'_>,
        offers: &[Offer],
    ) -> Result<Choice, PromptError> {
        let mut seen = self.seen.lock().unwrap();
        seen.push(
            offers
                .iter()
                .filter_map(|o| {
                    o.candidate
                        .certificate
                        .as_ref()
                        .map(|c| c.details.serial.clone())
                })
                .collect(),
        );
        if seen.len() == 2 {
            // Something changed while the window was open.
            self.keys.set(&LeafSpec::individual(Usage::Sign), &self.pki);
        }
        if seen.len() <= self.refreshes {
            return Ok(Choice::Refresh);
        }
        Ok(Choice::Offer {
            id: offers[0].candidate.id.clone(),
            secret: Secret::new("x".into()),
        })
    }
    fn refused(&self, _: &CallContext, _: &KeyRequest<'_>, _: &Refusal) -> AfterRefusal {
        AfterRefusal::GiveUp
    }
    fn show(&self, _: qoltanba_protocol::Panel) -> bool {
        self.shown.fetch_add(1, Ordering::SeqCst);
        true
    }
}

/// Refreshing the list is not an attempt (more refreshes than `MAX_ATTEMPTS` still sign), and
/// each refresh lists the keys again: a key that changed while the window was open is offered.
#[test]
fn a_window_may_refresh_the_offers_without_using_up_attempts() {
    let pki = TestPki::new();
    let keys = Arc::new(MemoryKeys::default());
    keys.set(&LeafSpec::individual(Usage::Sign), &pki);
    let prompter = Arc::new(Polling {
        origin_asks: AtomicUsize::new(0),
        refreshes: qoltanba_protocol::MAX_ATTEMPTS + 3,
        seen: Mutex::default(),
        keys: keys.clone(),
        pki: TestPki::new(),
        shown: AtomicUsize::new(0),
    });
    let d = Dispatcher::new(
        prompter.clone(),
        Arc::new(MemoryOriginStore::default()),
        Settings {
            origins: OriginPolicy {
                allow: vec!["https://portal.kz".into()],
                deny: vec![],
            },
            ..Settings::default()
        },
    )
    .with_provider(keys);
    let r = ask(&d, SIGN_CMS, Some("https://portal.kz"));
    assert_eq!(r["status"], true, "{r}");
    let seen = prompter.seen.lock().unwrap();
    assert_eq!(seen.len(), qoltanba_protocol::MAX_ATTEMPTS + 4);
    assert_ne!(seen[0], seen[2], "the changed key was not listed again");
}

/// «Refuse» remembered: the site is refused without a question until the person revokes it;
/// accessory showSettings opens the window only for a site that was admitted.
#[test]
fn a_remembered_refusal_is_not_asked_again_and_only_admitted_sites_open_windows() {
    let keys = Arc::new(MemoryKeys::default());
    keys.set(&LeafSpec::individual(Usage::Sign), &TestPki::new());
    let prompter = Arc::new(Polling {
        origin_asks: AtomicUsize::new(0),
        refreshes: 0,
        seen: Mutex::default(),
        keys: keys.clone(),
        pki: TestPki::new(),
        shown: AtomicUsize::new(0),
    });
    let store = Arc::new(MemoryOriginStore::default());
    let d = Dispatcher::new(
        prompter.clone(),
        store,
        Settings {
            origins: OriginPolicy {
                allow: vec!["https://portal.kz".into()],
                deny: vec![],
            },
            ..Settings::default()
        },
    )
    .with_provider(keys);
    let show = r#"{"module":"kz.gov.pki.ncalayerservices.accessory","method":"showSettings"}"#;
    ask(&d, show, Some("https://stranger.example"));
    assert_eq!(
        prompter.shown.load(Ordering::SeqCst),
        0,
        "a stranger opened a window"
    );
    ask(&d, show, Some("https://portal.kz"));
    assert_eq!(prompter.shown.load(Ordering::SeqCst), 1);
    for _ in 0..3 {
        let r = ask(&d, SIGN_CMS, Some("https://stranger.example"));
        assert_eq!(r["status"], false, "{r}");
    }
    assert_eq!(
        prompter.origin_asks.load(Ordering::SeqCst),
        1,
        "asked again after a refusal"
    );
    // A refused site still opens no window.
    ask(&d, show, Some("https://stranger.example"));
    assert_eq!(prompter.shown.load(Ordering::SeqCst), 1);
}
