//! Every reply a page gets, and every failure on the way to one, typed: the one table that turns
//! each outcome into the reply shape of each NCALayer module (PROTOCOL.md §2.2–2.5). Pages get
//! NCALayer's codes and a short message (the `Display` text of the failure, never `Debug`);
//! detail goes to the local journal. The dispatcher builds result bodies (signatures, key
//! information) and never an envelope: success, failure, the accessory's fixed answers and the
//! frames that reach no module are all shaped here.

use qoltanba_keys::KeyError;
use qoltanba_sign::SignError;
use qoltanba_sign::cms::tsp::TspError;
use qoltanba_sign::xml::XmlError;
use serde_json::{Value, json};

use crate::calls::Accessory;
use crate::filter::Mismatch;

/// Why a call failed, kept typed from the key source to the reply.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Failure {
    /// The frame is not a call (not JSON, not an object, no method, a binary frame).
    #[error("request.invalid: {0}")]
    InvalidFrame(&'static str),
    /// The frame is JSON but not the shape of a call.
    #[error("request.invalid: not valid JSON ({0})")]
    NotJson(#[source] serde_json::Error),
    /// The module has no method of that name (or not with that many arguments).
    #[error("no such method: {0}")]
    UnknownMethod(String),
    /// The arguments do not fit the method.
    #[error(transparent)]
    InvalidParams(#[from] InvalidParams),
    /// The person refused, closed the window, or the page went away.
    #[error("cancelled by the user")]
    Cancelled,
    /// The request's time budget ran out (a prompt left open too long).
    #[error("the request took too long and was abandoned")]
    TimedOut,
    /// The admin's policy or the person refused the site.
    #[error("this site is not allowed to use the signing service")]
    OriginDenied,
    /// Too many prompts from the site.
    #[error("too many requests from this site; try again later")]
    RateLimited,
    /// Nobody can be asked here (no terminal, no display).
    #[error("cannot ask the user: {0}")]
    Unavailable(String),
    /// No key satisfies the request; the reasons of the keys that were there.
    #[error("no key satisfies the request{}", reasons_text(.0))]
    NoMatchingKey(Vec<String>),
    /// The request allows only tokens and none of those kinds is connected.
    #[error("no token of the allowed kinds is connected")]
    NoToken,
    /// The key store failed or refused the secret (wrong password, wrong PIN with tries left,
    /// PIN locked, token removed…).
    #[error(transparent)]
    Key(#[from] KeyError),
    /// The key opened does not meet the request.
    #[error("the chosen key does not meet the request: {0}")]
    Mismatch(Mismatch),
    /// The page sent data unusable as it stands (bad base64, not UTF-8, an empty hash…).
    #[error("{0}")]
    BadInput(&'static str),
    /// The page's XML cannot be signed or checked (malformed, hostile, too much work…).
    #[error(transparent)]
    Xml(XmlError),
    /// A signature could not be made or read.
    #[error(transparent)]
    Sign(#[from] SignError),
    /// The page asked for a timestamp and none is configured: no signature goes back without
    /// one.
    #[error("no timestamp: no timestamp authority is configured")]
    NoTsa,
    /// The page asked for a timestamp and none could be had (TSA unreachable, refused, a bad
    /// answer, or a CMS that cannot take one).
    #[error("{}", timestamp_text(.0))]
    Timestamp(#[source] TspError),
    /// The certificate is revoked (or unknown to its responder, or could not be checked and the
    /// policy refuses that).
    #[error("the certificate {0}")]
    Revoked(String),
    /// Not available in this product (files named by a page).
    #[error("{0}")]
    Unsupported(&'static str),
    /// The call's handler failed unexpectedly; the connection goes on.
    #[error("internal error")]
    Internal,
}

/// Arguments a method cannot take: which method, how NCALayer classes the fault, and what is
/// wrong (for the page's developer).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{details}")]
pub struct InvalidParams {
    /// The method called.
    pub method: String,
    /// NCALayer's class of the fault.
    pub kind: ParamsKind,
    /// What is wrong.
    pub details: String,
}

impl InvalidParams {
    /// Arguments of `kind` that `method` cannot take, and why.
    pub fn new(method: &str, kind: ParamsKind, details: impl Into<String>) -> Self {
        Self {
            method: method.to_owned(),
            kind,
            details: details.into(),
        }
    }
}

/// How NCALayer classes a call's bad arguments (the code `basics` replies with).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ParamsKind {
    /// The arguments are not the JSON object the method takes (`GENERAL_ERROR`).
    NotAnObject,
    /// A value of the wrong JSON type (`INVOCATION_ERROR`; commonUtils: argument type
    /// mismatch).
    WrongType,
    /// A value of the right type that the method cannot use (`INVALID_SIGNING_PARAMS`).
    Invalid,
}

impl Failure {
    /// A short stable name of the failure for records (history): no detail, no content.
    pub fn kind(&self) -> &'static str {
        match self {
            Self::InvalidFrame(_) | Self::NotJson(_) => "invalid_frame",
            Self::UnknownMethod(_) => "unknown_method",
            Self::InvalidParams(_) => "invalid_params",
            Self::Cancelled => "cancelled",
            Self::TimedOut => "timed_out",
            Self::OriginDenied => "site_refused",
            Self::RateLimited => "rate_limited",
            Self::Unavailable(_) => "unavailable",
            Self::NoMatchingKey(_) => "no_matching_key",
            Self::NoToken => "no_token",
            Self::Key(KeyError::WrongPassword) => "wrong_password",
            Self::Key(KeyError::WrongPin { .. }) => "wrong_pin",
            Self::Key(KeyError::PinLocked) => "pin_locked",
            Self::Key(KeyError::TokenRemoved) => "token_removed",
            Self::Key(_) => "key_error",
            Self::Mismatch(_) => "key_does_not_fit",
            Self::BadInput(_) | Self::Xml(_) | Self::Timestamp(TspError::Cms(_)) => "bad_input",
            Self::Sign(_) => "sign_error",
            Self::NoTsa | Self::Timestamp(_) => "no_timestamp",
            Self::Revoked(_) => "revoked",
            Self::Unsupported(_) => "unsupported",
            Self::Internal => "internal",
        }
    }

    /// The page's data is at fault (basics: `INVALID_SIGNING_PARAMS`).
    fn is_bad_input(&self) -> bool {
        matches!(
            self,
            Self::BadInput(_) | Self::Xml(_) | Self::Timestamp(TspError::Cms(_))
        )
    }
}

fn reasons_text(reasons: &[String]) -> String {
    if reasons.is_empty() {
        String::new()
    } else {
        format!(" ({})", reasons.join("; "))
    }
}

fn timestamp_text(e: &TspError) -> String {
    match e {
        TspError::Cms(m) => format!("the CMS: {m}"),
        other => format!("no timestamp: {other}"),
    }
}

impl From<XmlError> for Failure {
    fn from(e: XmlError) -> Self {
        match e {
            XmlError::Key(k) => Self::Key(k),
            other => Self::Xml(other),
        }
    }
}

impl From<TspError> for Failure {
    fn from(e: TspError) -> Self {
        Self::Timestamp(e)
    }
}

/// The module a reply is shaped for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Module {
    /// `kz.gov.pki.knca.basics`: `{status, code, message, details}`.
    Basics,
    /// `kz.gov.pki.knca.commonUtils`: `{code, message}`.
    CommonUtils,
    /// The legacy applet API: `{result, errorCode}`.
    Applet,
}

/// The reply to a successful call of `module`: `result` in the module's envelope (`None`: a
/// method that returns nothing).
pub fn success(module: Module, result: Option<Value>) -> Value {
    match (module, result) {
        (Module::Basics, Some(r)) => json!({"status": true, "body": {"result": r}}),
        (Module::Basics, None) => json!({"status": true, "body": {}}),
        (Module::CommonUtils, Some(r)) => json!({"code": "200", "responseObject": r}),
        (Module::CommonUtils, None) => json!({"code": "200"}),
        (Module::Applet, r) => {
            json!({"result": r.unwrap_or_else(|| Value::String(String::new())), "errorCode": "NONE"})
        }
    }
}

/// The applet's answer for a signature that was read and does not verify: an answer, not a
/// failure of the call.
pub fn applet_not_valid() -> Value {
    json!({"result": "false", "errorCode": "SIGNATURE_VALIDATION_ERROR"})
}

/// The reply to a frame that names a module this service does not have.
pub fn module_not_found() -> Value {
    json!({"success": false, "errorCode": "MODULE_NOT_FOUND"})
}

/// The reply to a frame no module handles (not a call, a binary frame, a handler that failed):
/// NCALayer answers those in commonUtils' shape, whatever module the frame named.
pub fn unrouted(f: &Failure) -> String {
    reply(Module::CommonUtils, f).to_string()
}

/// The accessory module's answers (PROTOCOL.md §2.5).
pub fn accessory(call: Accessory) -> Value {
    let version = env!("CARGO_PKG_VERSION");
    match call {
        Accessory::GetBundles => json!({
            "kz.gov.pki.knca.basics": version,
            "kz.gov.pki.knca.commonUtils": version,
            "kz.gov.pki.ncalayerservices.accessory": version,
            "kz.qoltanba": version,
        }),
        Accessory::GetServices => json!({"services": [
            "kz.gov.pki.knca.basics", "kz.gov.pki.knca.commonUtils", "kz.gov.pki.ncalayerservices.accessory"
        ]}),
        Accessory::GetVersion => {
            json!({"result": {"version": "1.4"}, "product": "Qoltanba", "productVersion": version})
        }
        // Windows of the Java app that do not exist here (or are ours: settings, about); answer
        // so the socket stays in step.
        Accessory::ShowSettings | Accessory::ShowBundleManager | Accessory::Other => {
            success(Module::Basics, None)
        }
    }
}

/// The reply a page gets for `f` from `module`: the one place this mapping lives.
pub fn reply(module: Module, f: &Failure) -> Value {
    match module {
        Module::Basics => basics(f),
        Module::CommonUtils => match f {
            Failure::Cancelled => json!({"code": "500", "message": "action.canceled"}),
            Failure::UnknownMethod(m) => {
                json!({"code": "500", "message": format!("NoSuchMethodException {m}")})
            }
            Failure::InvalidParams(p) => json!({"code": "500", "message": format!(
                "java.lang.IllegalArgumentException: argument type mismatch. Method: {}", p.method)}),
            other => json!({"code": "500", "message": other.to_string()}),
        },
        Module::Applet => {
            let code = match f {
                Failure::Xml(_) => "XML_PARSE_EXCEPTION",
                _ => "COMMON",
            };
            let result = match f {
                Failure::UnknownMethod(m) => format!(
                    "Method not supported: {m} (the legacy applet API passed key passwords through web pages; use kz.gov.pki.knca.basics)"
                ),
                other => other.to_string(),
            };
            json!({"result": result, "errorCode": code})
        }
    }
}

fn basics(f: &Failure) -> Value {
    let (code, message, details) = match f {
        // NCALayer answers a cancel with success and an empty body (PROTOCOL.md §2.2).
        Failure::Cancelled => return success(Module::Basics, None),
        Failure::UnknownMethod(m) => (
            "GENERAL_ERROR",
            "General error.",
            format!("java.lang.IllegalArgumentException: {m} is not defined"),
        ),
        Failure::InvalidParams(p) => {
            let (code, message) = match p.kind {
                ParamsKind::NotAnObject => ("GENERAL_ERROR", "General error."),
                ParamsKind::WrongType => {
                    ("INVOCATION_ERROR", "An invoked method threw an exception.")
                }
                ParamsKind::Invalid => ("INVALID_SIGNING_PARAMS", "Invalid signing parameters."),
            };
            (code, message, p.details.clone())
        }
        bad if bad.is_bad_input() => (
            "INVALID_SIGNING_PARAMS",
            "Invalid signing parameters.",
            bad.to_string(),
        ),
        other => ("SIGNING_FAILURE", "Signing has failed.", other.to_string()),
    };
    json!({"status": false, "code": code, "message": message, "details": details})
}

#[cfg(test)]
mod tests {
    use super::*;

    fn all() -> Vec<Failure> {
        vec![
            Failure::Cancelled,
            Failure::TimedOut,
            Failure::OriginDenied,
            Failure::RateLimited,
            Failure::Unavailable("no display".into()),
            Failure::NoMatchingKey(vec!["the certificate has expired".into()]),
            Failure::NoToken,
            Failure::Key(KeyError::WrongPassword),
            Failure::Key(KeyError::WrongPin {
                tries_left: Some(1),
                few: true,
            }),
            Failure::Key(KeyError::PinLocked),
            Failure::Key(KeyError::TokenRemoved),
            Failure::Mismatch(Mismatch::Iin),
            Failure::BadInput("invalid base64 data"),
            Failure::Unsupported("files named by a page"),
            Failure::Timestamp(TspError::Unreachable(
                "the timestamp authority cannot be reached".into(),
            )),
            Failure::NoTsa,
            Failure::UnknownMethod("nope".into()),
            Failure::InvalidParams(InvalidParams::new("sign", ParamsKind::WrongType, "x")),
            Failure::InvalidFrame("binary frames are not supported"),
            Failure::Internal,
        ]
    }

    #[test]
    fn every_failure_has_each_modules_shape_and_no_debug_text() {
        for f in all() {
            let b = reply(Module::Basics, &f);
            let c = reply(Module::CommonUtils, &f);
            let a = reply(Module::Applet, &f);
            if matches!(f, Failure::Cancelled) {
                assert_eq!(b, json!({"status": true, "body": {}}));
                assert_eq!(c, json!({"code": "500", "message": "action.canceled"}));
            } else {
                assert_eq!(b["status"], false, "{f:?}");
                let code = b["code"].as_str().unwrap_or_default();
                assert!(
                    [
                        "SIGNING_FAILURE",
                        "INVALID_SIGNING_PARAMS",
                        "GENERAL_ERROR",
                        "INVOCATION_ERROR"
                    ]
                    .contains(&code),
                    "{f:?}"
                );
                assert_eq!(c["code"], "500");
            }
            assert!(a["errorCode"].is_string());
            for v in [&b, &c, &a] {
                let text = v.to_string();
                // Debug output of the enums would show their variant names and braces.
                for leak in ["WrongPin", "Mismatch(", "KeyError", "Some(", "tries_left"] {
                    assert!(!text.contains(leak), "{f:?} → {text}");
                }
            }
        }
    }

    #[test]
    fn the_wrong_pin_reply_says_tries_left() {
        let f = Failure::Key(KeyError::WrongPin {
            tries_left: Some(1),
            few: true,
        });
        let b = reply(Module::Basics, &f);
        assert_eq!(b["code"], "SIGNING_FAILURE");
        assert_eq!(
            b["details"],
            "wrong PIN (one try left: the next wrong PIN locks the token)"
        );
        let c = reply(Module::CommonUtils, &Failure::Key(KeyError::WrongPassword));
        assert_eq!(c, json!({"code": "500", "message": "wrong password"}));
        let n = reply(Module::Basics, &Failure::BadInput("invalid base64 data"));
        assert_eq!(n["code"], "INVALID_SIGNING_PARAMS");
    }

    /// The replies real pages match on, byte for byte as NCALayer sends them.
    #[test]
    fn unknown_methods_bad_arguments_and_bad_frames_read_as_ncalayers() {
        let unknown = Failure::UnknownMethod("nope".into());
        assert_eq!(
            reply(Module::CommonUtils, &unknown),
            json!({"code": "500", "message": "NoSuchMethodException nope"})
        );
        assert_eq!(
            reply(Module::Basics, &unknown),
            json!({"status": false, "code": "GENERAL_ERROR", "message": "General error.",
                "details": "java.lang.IllegalArgumentException: nope is not defined"})
        );
        assert_eq!(reply(Module::Applet, &unknown)["errorCode"], "COMMON");
        assert!(
            reply(Module::Applet, &unknown)["result"]
                .as_str()
                .unwrap()
                .starts_with("Method not supported: nope (")
        );
        let mismatch = Failure::InvalidParams(InvalidParams::new(
            "createCAdESFromBase64",
            ParamsKind::WrongType,
            "argument type mismatch",
        ));
        assert_eq!(
            reply(Module::CommonUtils, &mismatch),
            json!({"code": "500", "message":
                "java.lang.IllegalArgumentException: argument type mismatch. Method: createCAdESFromBase64"})
        );
        for (kind, code, message) in [
            (ParamsKind::NotAnObject, "GENERAL_ERROR", "General error."),
            (
                ParamsKind::WrongType,
                "INVOCATION_ERROR",
                "An invoked method threw an exception.",
            ),
            (
                ParamsKind::Invalid,
                "INVALID_SIGNING_PARAMS",
                "Invalid signing parameters.",
            ),
        ] {
            let f = Failure::InvalidParams(InvalidParams::new("sign", kind, "why"));
            assert_eq!(
                reply(Module::Basics, &f),
                json!({"status": false, "code": code, "message": message, "details": "why"})
            );
        }
        assert_eq!(
            unrouted(&Failure::InvalidFrame("binary frames are not supported")),
            r#"{"code":"500","message":"request.invalid: binary frames are not supported"}"#
        );
        assert_eq!(
            unrouted(&Failure::Internal),
            r#"{"code":"500","message":"internal error"}"#
        );
        assert_eq!(success(Module::CommonUtils, None), json!({"code": "200"}));
        assert_eq!(
            success(Module::Basics, Some(json!(["x"]))),
            json!({"status": true, "body": {"result": ["x"]}})
        );
        assert_eq!(
            success(Module::Applet, Some(json!(true))),
            json!({"result": true, "errorCode": "NONE"})
        );
        // A CMS that cannot take a timestamp is the page's input, as before.
        let cms = Failure::Timestamp(TspError::Cms("truncated".into()));
        assert_eq!(
            reply(Module::Basics, &cms)["code"],
            "INVALID_SIGNING_PARAMS"
        );
        assert_eq!(reply(Module::Basics, &cms)["details"], "the CMS: truncated");
    }
}
