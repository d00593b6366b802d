//! The dispatcher: one text frame in, at most one text frame out (PROTOCOL.md §8). All mapping
//! from errors to the three reply shapes lives here.

use std::sync::{Arc, Mutex};

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use qoltanba_keys::SigningKey;
use qoltanba_sign::cms::{self, CmsOptions, DetachedContent, VerifyOptions};
use qoltanba_sign::xml::{self, Parent, Tbs, XmlSignOptions, XmlVerifyOptions};
use qoltanba_sign::{DigestAlgorithm, SignError};
use serde_json::{Value, json};
use time::OffsetDateTime;

use crate::basics::{BasicsSign, Format};
use crate::calls::{Call, CommonCall, CommonParseError, Incoming, parse_frame};
use crate::filter::{KeyFilter, Mismatch};
use crate::origin::{NO_ORIGIN, OriginPolicy, OriginStore, Verdict};
use crate::prompter::{KeyRequest, OriginDecision, PromptError, Prompter, Purpose, TokenStorages};

/// The greeting sent on connect, byte for byte (PROTOCOL.md §1.3).
pub const GREETING: &str = r#"{"result":{"version":"1.4"}}"#;
/// The heartbeat text, echoed as it is.
pub const HEARTBEAT: &str = "--heartbeat--";

/// What the dispatcher needs besides the prompter.
#[derive(Debug, Clone, Default)]
pub struct Settings {
    /// Trust anchors for key filters and verification (DER).
    pub trust_anchors: Vec<Vec<u8>>,
    /// Admin origin rules.
    pub origins: OriginPolicy,
}

/// Turns frames into replies.
pub struct Dispatcher {
    prompter: Arc<dyn Prompter>,
    tokens: Option<Arc<dyn TokenStorages>>,
    store: Arc<dyn OriginStore>,
    settings: Settings,
    locale: Mutex<String>,
}

/// A failure on the way to a signature, before it is shaped for a module.
#[derive(Debug)]
enum Failure {
    Prompt(PromptError),
    Mismatch(Mismatch),
    BadInput(String),
    Sign(String),
    Unsupported(String),
}

impl Failure {
    fn message(&self) -> String {
        match self {
            Self::Prompt(p) => p.to_string(),
            Self::Mismatch(m) => format!("the chosen key does not meet the request ({m:?})"),
            Self::BadInput(s) | Self::Sign(s) | Self::Unsupported(s) => s.clone(),
        }
    }
}

impl From<SignError> for Failure {
    fn from(e: SignError) -> Self {
        Self::Sign(e.to_string())
    }
}

impl From<xml::XmlError> for Failure {
    fn from(e: xml::XmlError) -> Self {
        match e {
            xml::XmlError::Key(k) => Self::Sign(k.to_string()),
            other => Self::BadInput(other.to_string()),
        }
    }
}

fn b64(data: &str) -> Result<Vec<u8>, Failure> {
    let clean: String = data.chars().filter(|c| !c.is_ascii_whitespace()).collect();
    STANDARD
        .decode(clean.as_bytes())
        .map_err(|_| Failure::BadInput("invalid base64 data".into()))
}

fn pem_cms(der: &[u8]) -> String {
    pem("CMS", der)
}

fn pem(label: &str, der: &[u8]) -> String {
    let b = STANDARD.encode(der);
    let mut out = format!("-----BEGIN {label}-----\n");
    for chunk in b.as_bytes().chunks(64) {
        out.push_str(std::str::from_utf8(chunk).unwrap_or_default());
        out.push('\n');
    }
    out.push_str("-----END ");
    out.push_str(label);
    out.push_str("-----\n");
    out
}

fn summary_of_xml(text: &str) -> String {
    let collapsed: String = text.split_whitespace().collect::<Vec<_>>().join(" ");
    let mut s: String = collapsed.chars().take(200).collect();
    if collapsed.chars().count() > 200 {
        s.push('…');
    }
    s
}

fn summary_of_bytes(data: &[u8]) -> String {
    match std::str::from_utf8(data) {
        Ok(t) if t.len() <= 200 && !t.chars().any(char::is_control) => {
            format!("{} bytes: {t}", data.len())
        }
        _ => format!("{} bytes", data.len()),
    }
}

impl Dispatcher {
    /// A dispatcher with its prompter, approval store and settings.
    pub fn new(
        prompter: Arc<dyn Prompter>,
        store: Arc<dyn OriginStore>,
        settings: Settings,
    ) -> Self {
        Self {
            prompter,
            tokens: None,
            store,
            settings,
            locale: Mutex::new("kk".into()),
        }
    }

    /// Adds the token directory that `getActiveTokens` reports.
    #[must_use]
    pub fn with_tokens(mut self, tokens: Arc<dyn TokenStorages>) -> Self {
        self.tokens = Some(tokens);
        self
    }

    /// The settings in force.
    pub fn settings(&self) -> &Settings {
        &self.settings
    }

    /// Handles one text frame from a page at `origin`. `None`: send nothing (keep-alive `{}`).
    pub fn handle(&self, frame: &str, origin: Option<&str>) -> Option<String> {
        let reply = match parse_frame(frame) {
            Incoming::Heartbeat => return Some(HEARTBEAT.to_owned()),
            Incoming::KeepAlive => return None,
            Incoming::Invalid(why) => {
                json!({"code": "500", "message": format!("request.invalid: {why}")})
            }
            Incoming::Call(Call::UnknownModule(_)) => {
                json!({"success": false, "errorCode": "MODULE_NOT_FOUND"})
            }
            Incoming::Call(Call::CommonUtils { method, args, uuid }) => {
                let mut r = self.common_utils(&method, args.as_ref(), origin);
                if let (Some(u), Value::Object(o)) = (uuid, &mut r) {
                    o.insert("uuid".into(), u);
                }
                r
            }
            Incoming::Call(Call::Basics { method, args }) => {
                self.basics(&method, args.as_ref(), origin)
            }
            Incoming::Call(Call::Applet { method, args }) => self.applet(&method, &args),
            Incoming::Call(Call::Accessory { method }) => accessory(&method),
        };
        Some(reply.to_string())
    }

    /// Admin policy, remembered approvals, then the person.
    fn admit(&self, origin: Option<&str>) -> Result<(), Failure> {
        let origin = origin.unwrap_or(NO_ORIGIN);
        match self.settings.origins.verdict(origin) {
            Verdict::Denied => Err(Failure::Prompt(PromptError::OriginDenied)),
            Verdict::Allowed => Ok(()),
            Verdict::Ask if self.store.is_remembered(origin) => Ok(()),
            Verdict::Ask => match self.prompter.approve_origin(origin) {
                OriginDecision::AllowAlways => {
                    self.store.remember(origin);
                    Ok(())
                }
                OriginDecision::AllowOnce => Ok(()),
                OriginDecision::Deny => Err(Failure::Prompt(PromptError::OriginDenied)),
            },
        }
    }

    /// Gets a key through the prompter and re-checks it against the filter.
    fn key(&self, request: &KeyRequest<'_>) -> Result<Box<dyn SigningKey>, Failure> {
        self.admit(request.origin)?;
        let key = self.prompter.pick_key(request).map_err(Failure::Prompt)?;
        request
            .filter
            .check(
                key.as_ref(),
                &self.settings.trust_anchors,
                OffsetDateTime::now_utc(),
            )
            .map_err(Failure::Mismatch)?;
        Ok(key)
    }

    /// A key for a commonUtils call: one storage, the `keyType` filter, what it is for.
    fn common_key(
        &self,
        origin: Option<&str>,
        method: &str,
        storage: &str,
        key_type: crate::calls::KeyType,
        purpose: Purpose,
    ) -> Result<Box<dyn SigningKey>, Failure> {
        let filter = KeyFilter {
            signing_key: key_type.as_filter(),
            ..KeyFilter::default()
        };
        let locale = self.locale();
        self.key(&KeyRequest {
            origin,
            method,
            purpose,
            filter: &filter,
            storages: &[storage.to_owned()],
            locale: &locale,
        })
    }

    fn locale(&self) -> String {
        self.locale
            .lock()
            .map_or_else(|_| "kk".into(), |l| l.clone())
    }

    // ---- commonUtils (PROTOCOL.md §2.3) ------------------------------------------------------

    fn common_utils(&self, method: &str, args: Option<&Value>, origin: Option<&str>) -> Value {
        let call = match CommonCall::parse(method, args) {
            Ok(c) => c,
            Err(CommonParseError::NoSuchMethod) => {
                return json!({"code": "500", "message": format!("NoSuchMethodException {method}")});
            }
            Err(CommonParseError::TypeMismatch) => {
                return json!({"code": "500", "message": format!("java.lang.IllegalArgumentException: argument type mismatch. Method: {method}")});
            }
        };
        match self.common_call(method, call, origin) {
            Ok(Some(obj)) => json!({"code": "200", "responseObject": obj}),
            Ok(None) => json!({"code": "200"}),
            Err(Failure::Prompt(PromptError::Cancelled)) => {
                json!({"code": "500", "message": "action.canceled"})
            }
            Err(e) => json!({"code": "500", "message": e.message()}),
        }
    }

    #[allow(clippy::too_many_lines)] // one arm per method, each short
    fn common_call(
        &self,
        method: &str,
        call: CommonCall,
        origin: Option<&str>,
    ) -> Result<Option<Value>, Failure> {
        let locale = self.locale();
        let storages = |s: &str| vec![s.to_owned()];
        match call {
            // Only hardware storages with a token present; PKCS12 is never listed (§2.1).
            CommonCall::GetActiveTokens => {
                let active = self
                    .tokens
                    .as_ref()
                    .map(|t| t.active_storages())
                    .unwrap_or_default();
                Ok(Some(json!(active)))
            }
            CommonCall::ChangeLocale { locale } => {
                if let Ok(mut l) = self.locale.lock() {
                    *l = locale;
                }
                Ok(None)
            }
            CommonCall::GetKeyInfo { storage } => {
                let filter = KeyFilter::default();
                let st = storages(&storage);
                let key = self.key(&KeyRequest {
                    origin,
                    method,
                    purpose: Purpose::ReadCertificate,
                    filter: &filter,
                    storages: &st,
                    locale: &locale,
                })?;
                Ok(Some(key_info(key.as_ref())))
            }
            CommonCall::CreateCades {
                storage,
                key_type,
                data,
                attached,
                timestamp,
            } => {
                if timestamp {
                    return Err(Failure::Unsupported(
                        "timestamps (CAdES-T) are not available yet".into(),
                    ));
                }
                let content = b64(&data)?;
                let key = self.common_key(
                    origin,
                    method,
                    &storage,
                    key_type,
                    Purpose::Sign {
                        format: "cms",
                        documents: vec![summary_of_bytes(&content)],
                        attached,
                        hash_only: false,
                        timestamp_unavailable: false,
                    },
                )?;
                let der = if attached {
                    cms::sign_attached(key.as_ref(), &content, &CmsOptions::default())?
                } else {
                    cms::sign_detached(key.as_ref(), &content, &CmsOptions::default())?
                };
                Ok(Some(Value::String(STANDARD.encode(der))))
            }
            CommonCall::CreateCadesHash {
                storage,
                key_type,
                hash,
            } => {
                let digest = b64(&hash)?;
                if digest.is_empty() {
                    return Err(Failure::BadInput("the hash is empty".into()));
                }
                let key = self.common_key(
                    origin,
                    method,
                    &storage,
                    key_type,
                    Purpose::Sign {
                        format: "cms",
                        documents: vec![format!("hash {}", hex::encode(&digest))],
                        attached: false,
                        hash_only: true,
                        timestamp_unavailable: false,
                    },
                )?;
                let der = cms::sign_digest(key.as_ref(), &digest, &CmsOptions::default())?
                    .to_detached_der()?;
                Ok(Some(Value::String(STANDARD.encode(der))))
            }
            CommonCall::SignXml {
                storage,
                key_type,
                xmls,
                tbs_xpath,
                parent_xpath,
                many,
            } => {
                // Refuse malformed documents before asking anyone anything.
                for x in &xmls {
                    xml::parse(x)?;
                }
                let key = self.common_key(
                    origin,
                    method,
                    &storage,
                    key_type,
                    Purpose::Sign {
                        format: "xml",
                        documents: xmls.iter().map(|x| summary_of_xml(x)).collect(),
                        attached: true,
                        hash_only: false,
                        timestamp_unavailable: false,
                    },
                )?;
                let opts = XmlSignOptions {
                    tbs: Tbs::XPath(&tbs_xpath),
                    parent: Parent::XPath(&parent_xpath),
                };
                let docs: Vec<&str> = xmls.iter().map(String::as_str).collect();
                let signed = xml::sign_many(key.as_ref(), &docs, &opts)?;
                Ok(Some(if many {
                    json!(signed)
                } else {
                    Value::String(signed.into_iter().next().unwrap_or_default())
                }))
            }
            CommonCall::ApplyCadesT => Err(Failure::Unsupported(
                "timestamps (CAdES-T) are not available yet".into(),
            )),
            // Local paths are never revealed to, nor taken from, web pages.
            CommonCall::ShowFileChooser => Err(Failure::Prompt(PromptError::Cancelled)),
            CommonCall::FromFile => Err(Failure::Unsupported(
                "signing files named by a web page is not allowed".into(),
            )),
        }
    }

    // ---- basics (PROTOCOL.md §2.2) -----------------------------------------------------------

    fn basics(&self, method: &str, args: Option<&Value>, origin: Option<&str>) -> Value {
        if method != "sign" {
            return json!({"status": false, "code": "GENERAL_ERROR", "message": "General error.",
                "details": format!("java.lang.IllegalArgumentException: {method} is not defined")});
        }
        let call = match BasicsSign::parse(args) {
            Ok(c) => c,
            Err(e) => {
                let message = match e.code {
                    "INVOCATION_ERROR" => "An invoked method threw an exception.",
                    "GENERAL_ERROR" => "General error.",
                    _ => "Invalid signing parameters.",
                };
                return json!({"status": false, "code": e.code, "message": message, "details": e.details});
            }
        };
        match self.basics_sign(&call, origin) {
            Ok(result) => json!({"status": true, "body": {"result": result}}),
            Err(Failure::Prompt(PromptError::Cancelled)) => json!({"status": true, "body": {}}),
            Err(Failure::BadInput(d)) => {
                json!({"status": false, "code": "INVALID_SIGNING_PARAMS", "message": "Invalid signing parameters.", "details": d})
            }
            Err(e) => {
                json!({"status": false, "code": "SIGNING_FAILURE", "message": "Signing has failed.", "details": e.message()})
            }
        }
    }

    fn basics_sign(&self, call: &BasicsSign, origin: Option<&str>) -> Result<Value, Failure> {
        let docs: Vec<Vec<u8>> = call
            .data
            .iter()
            .map(|d| {
                if call.decode {
                    b64(d)
                } else {
                    Ok(d.as_bytes().to_vec())
                }
            })
            .collect::<Result<_, _>>()?;
        if call.digested && call.format != Format::Cms {
            return Err(Failure::BadInput(format!(
                "digested data is supported for cms only, not {}",
                call.format.name()
            )));
        }
        let xml_texts: Vec<&str> = if call.format == Format::Xml {
            docs.iter()
                .map(|d| {
                    std::str::from_utf8(d)
                        .map_err(|_| Failure::BadInput("the XML is not UTF-8".into()))
                })
                .collect::<Result<_, _>>()?
        } else {
            Vec::new()
        };
        for x in &xml_texts {
            xml::parse(x)?;
        }
        let summaries = match call.format {
            Format::Xml => xml_texts.iter().map(|x| summary_of_xml(x)).collect(),
            _ if call.digested => docs
                .iter()
                .map(|d| format!("hash {}", hex::encode(d)))
                .collect(),
            _ => docs.iter().map(|d| summary_of_bytes(d)).collect(),
        };
        let key = self.key(&KeyRequest {
            origin,
            method: "basics.sign",
            purpose: Purpose::Sign {
                format: call.format.name(),
                documents: summaries,
                attached: call.encapsulate && call.format == Format::Cms,
                hash_only: call.digested,
                timestamp_unavailable: call.timestamp,
            },
            filter: &call.filter,
            storages: &call.storages,
            locale: &call.locale,
        })?;
        let key = key.as_ref();
        let opts = CmsOptions::default();
        let results: Vec<String> = match call.format {
            Format::Cms => docs
                .iter()
                .map(|d| {
                    let der = if call.digested {
                        cms::sign_digest(key, d, &opts)?.to_detached_der()?
                    } else if call.encapsulate {
                        cms::sign_attached(key, d, &opts)?
                    } else {
                        cms::sign_detached(key, d, &opts)?
                    };
                    Ok(pem_cms(&der))
                })
                .collect::<Result<_, Failure>>()?,
            Format::Xml => xml::sign_many(key, &xml_texts, &XmlSignOptions::default())?,
            Format::Raw => {
                let alg = key
                    .default_signature_algorithm()
                    .map_err(|e| Failure::Sign(e.to_string()))?;
                docs.iter()
                    .map(|d| {
                        key.sign(alg, d)
                            .map(|s| STANDARD.encode(s))
                            .map_err(|e| Failure::Sign(e.to_string()))
                    })
                    .collect::<Result<_, _>>()?
            }
        };
        if call.format == Format::Raw && call.output_cert {
            return Ok(
                json!({"signatures": results, "certificate": pem("CERTIFICATE", key.certificate_der())}),
            );
        }
        Ok(json!(results))
    }

    // ---- legacy applet (PROTOCOL.md §2.4) ----------------------------------------------------

    fn applet(&self, method: &str, args: &[Value]) -> Value {
        let ok = |result: Value| json!({"result": result, "errorCode": "NONE"});
        let fail = |code: &str, result: &str| json!({"result": result, "errorCode": code});
        let arg = |i: usize| args.get(i).and_then(Value::as_str);
        match method {
            "getHash" => {
                let (Some(data), alg) = (arg(0), arg(1).unwrap_or("SHA256")) else {
                    return fail("COMMON", "getHash needs data");
                };
                let digest = match alg {
                    "SHA1" => DigestAlgorithm::Sha1,
                    "SHA256" => DigestAlgorithm::Sha256,
                    other => return fail("COMMON", &format!("unsupported digest {other}")),
                };
                ok(Value::String(
                    STANDARD.encode(digest.digest(data.as_bytes())),
                ))
            }
            "verifyXml" => {
                let Some(doc) = arg(0) else {
                    return fail("COMMON", "verifyXml needs xml");
                };
                let opts = XmlVerifyOptions {
                    trust_anchors: self.settings.trust_anchors.clone(),
                    now: None,
                    id_attr: arg(1).filter(|s| !s.is_empty()).map(str::to_owned),
                };
                match xml::verify(doc, &opts) {
                    Ok(r) if r.valid => ok(Value::Bool(true)),
                    Ok(_) => fail("SIGNATURE_VALIDATION_ERROR", "false"),
                    Err(e) => fail("XML_PARSE_EXCEPTION", &e.to_string()),
                }
            }
            "verifyCMSSignature" => {
                let (Some(sig), data) = (arg(0), arg(1)) else {
                    return fail("COMMON", "verifyCMSSignature needs a signature");
                };
                let Ok(der) = qoltanba_sign::input::decode_binary(sig.as_bytes()) else {
                    return fail("COMMON", "invalid base64 signature");
                };
                let content = match data.filter(|d| !d.is_empty()) {
                    Some(d) => DetachedContent::Bytes(d.as_bytes()),
                    None => DetachedContent::None,
                };
                let opts = VerifyOptions {
                    trust_anchors: self.settings.trust_anchors.clone(),
                    now: None,
                };
                match cms::verify(&der, content, &opts) {
                    Ok(r) if r.valid => ok(Value::Bool(true)),
                    Ok(_) => fail("SIGNATURE_VALIDATION_ERROR", "false"),
                    Err(e) => fail("COMMON", &e.to_string()),
                }
            }
            "setLocale" => {
                if let (Some(l), Ok(mut cur)) = (arg(0), self.locale.lock()) {
                    l.clone_into(&mut cur);
                }
                ok(Value::String(String::new()))
            }
            // Everything else in this API takes the keystore password from the web page.
            _ => fail(
                "COMMON",
                &format!(
                    "Method not supported: {method} (the legacy applet API passed key passwords through web pages; use kz.gov.pki.knca.basics)"
                ),
            ),
        }
    }
}

/// `getKeyInfo`'s object (`NLCommonBundle` `KeyInfo`): dates as epoch-millisecond strings.
fn key_info(key: &dyn SigningKey) -> Value {
    let d = key.details();
    let ms = |t: OffsetDateTime| (t.unix_timestamp_nanos() / 1_000_000).to_string();
    let algorithm = match d.key_algorithm {
        qoltanba_pki::KeyAlgorithm::Rsa { .. } => "RSA".to_owned(),
        qoltanba_pki::KeyAlgorithm::Gost2004 => "ECGOST34310".to_owned(),
        qoltanba_pki::KeyAlgorithm::Gost2015_256 | qoltanba_pki::KeyAlgorithm::Gost2015_512 => {
            "ECGOST3410-2015".to_owned()
        }
        ref other => other.label(),
    };
    json!({
        "alias": key.alias(),
        "keyId": d.subject_key_id.clone().unwrap_or_default(),
        "algorithm": algorithm,
        "subjectCn": d.subject_cn.clone().unwrap_or_default(),
        "subjectDn": d.subject_dn_compact,
        "issuerCn": d.issuer_cn.clone().unwrap_or_default(),
        "issuerDn": d.issuer_dn_compact,
        "serialNumber": d.serial.to_lowercase(),
        "certNotAfter": ms(d.not_after),
        "certNotBefore": ms(d.not_before),
        "authorityKeyIdentifier": d.authority_key_id.clone().unwrap_or_default(),
        "pem": pem("CERTIFICATE", key.certificate_der()),
    })
}

/// `kz.gov.pki.ncalayerservices.accessory` (PROTOCOL.md §2.5).
fn accessory(method: &str) -> Value {
    let version = env!("CARGO_PKG_VERSION");
    match method {
        "getBundles" => json!({
            "kz.gov.pki.knca.basics": version,
            "kz.gov.pki.knca.commonUtils": version,
            "kz.gov.pki.ncalayerservices.accessory": version,
            "kz.qoltanba": version,
        }),
        "getServices" => json!({"services": [
            "kz.gov.pki.knca.basics", "kz.gov.pki.knca.commonUtils", "kz.gov.pki.ncalayerservices.accessory"
        ]}),
        "getVersion" => {
            json!({"result": {"version": "1.4"}, "product": "Qoltanba", "productVersion": version})
        }
        // Windows of the Java app that do not exist here; answer so the socket stays in step.
        _ => json!({"status": true, "body": {}}),
    }
}
