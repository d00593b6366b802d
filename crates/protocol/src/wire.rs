//! Every failure on the way to a reply, typed, and the one table that turns each into the reply
//! shape of each NCALayer module (PROTOCOL.md §2.2–2.4). Pages get NCALayer's codes and a short
//! message (the `Display` text of the failure, never `Debug`); detail goes to the local journal.

use qoltanba_keys::KeyError;
use qoltanba_sign::SignError;
use serde_json::{Value, json};

use crate::filter::Mismatch;

/// Why a call failed, kept typed from the key source to the reply.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Failure {
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
    /// The page sent something unusable (bad base64, malformed XML, too much work).
    #[error("{0}")]
    BadInput(String),
    /// A signature could not be made.
    #[error(transparent)]
    Sign(#[from] SignError),
    /// The page asked for a timestamp and none could be had (TSA unreachable, refused, or a
    /// bad answer): no signature goes back without it.
    #[error("no timestamp: {0}")]
    Timestamp(String),
    /// The certificate is revoked (or unknown to its responder, or could not be checked and the
    /// policy refuses that).
    #[error("the certificate {0}")]
    Revoked(String),
    /// Not available in this product (files named by a page).
    #[error("{0}")]
    Unsupported(String),
}

impl Failure {
    /// A short stable name of the failure for records (history): no detail, no content.
    pub fn kind(&self) -> &'static str {
        match self {
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
            Self::BadInput(_) => "bad_input",
            Self::Sign(_) => "sign_error",
            Self::Timestamp(_) => "no_timestamp",
            Self::Revoked(_) => "revoked",
            Self::Unsupported(_) => "unsupported",
        }
    }
}

fn reasons_text(reasons: &[String]) -> String {
    if reasons.is_empty() {
        String::new()
    } else {
        format!(" ({})", reasons.join("; "))
    }
}

impl From<qoltanba_sign::xml::XmlError> for Failure {
    fn from(e: qoltanba_sign::xml::XmlError) -> Self {
        match e {
            qoltanba_sign::xml::XmlError::Key(k) => Self::Key(k),
            other => Self::BadInput(other.to_string()),
        }
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

/// The reply a page gets for `f` from `module`: the one place this mapping lives.
pub fn reply(module: Module, f: &Failure) -> Value {
    match module {
        Module::Basics => match f {
            // NCALayer answers a cancel with success and an empty body (PROTOCOL.md §2.2).
            Failure::Cancelled => json!({"status": true, "body": {}}),
            Failure::BadInput(d) => json!({"status": false, "code": "INVALID_SIGNING_PARAMS",
                "message": "Invalid signing parameters.", "details": d}),
            other => json!({"status": false, "code": "SIGNING_FAILURE",
                "message": "Signing has failed.", "details": other.to_string()}),
        },
        Module::CommonUtils => match f {
            Failure::Cancelled => json!({"code": "500", "message": "action.canceled"}),
            other => json!({"code": "500", "message": other.to_string()}),
        },
        Module::Applet => {
            let code = match f {
                Failure::BadInput(_) => "XML_PARSE_EXCEPTION",
                _ => "COMMON",
            };
            json!({"result": f.to_string(), "errorCode": code})
        }
    }
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
            Failure::BadInput("invalid base64 data".into()),
            Failure::Unsupported("files named by a page".into()),
            Failure::Timestamp("the timestamp authority cannot be reached".into()),
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
                    code == "SIGNING_FAILURE" || code == "INVALID_SIGNING_PARAMS",
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
        let n = reply(
            Module::Basics,
            &Failure::BadInput("invalid base64 data".into()),
        );
        assert_eq!(n["code"], "INVALID_SIGNING_PARAMS");
    }
}
