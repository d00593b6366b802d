//! The legacy applet API (PROTOCOL.md §2.4): hashes and verification. Verification is work any
//! page can demand, so it is admitted like signing and bounded by [`crate::Limits`].

use qoltanba_sign::cms::{self, DetachedContent, VerifyOptions};
use qoltanba_sign::xml::{self, XmlVerifyOptions};
use serde_json::Value;

use super::output::base64;
use super::{Connection, Dispatcher};
use crate::calls::AppletCall;
use crate::prompter::CallContext;
use crate::wire::{self, Failure, Module, reply, success};

/// What an applet call found: a result, or a signature that does not verify.
enum Found {
    Result(Value),
    NotValid,
}

impl Dispatcher {
    pub(super) fn applet(
        &self,
        ctx: &CallContext,
        conn: &Connection,
        method: &str,
        args: &[Value],
    ) -> Value {
        let outcome = AppletCall::parse(method, args).and_then(|call| match call {
            AppletCall::GetHash { data, digest } => Ok(Found::Result(Value::String(base64(
                &digest.digest(data.as_bytes()),
            )))),
            AppletCall::SetLocale { locale } => {
                if let Some(l) = locale {
                    conn.set_locale(&l);
                }
                Ok(Found::Result(Value::String(String::new())))
            }
            AppletCall::VerifyXml { xml, id_attr } => {
                self.admit_and_finish(ctx, method).and_then(|()| {
                    let opts = XmlVerifyOptions {
                        trust_anchors: self.settings.trust_anchors.clone(),
                        now: None,
                        id_attr,
                        limits: self.settings.limits.xml,
                    };
                    let report = xml::verify(&xml, &opts)?;
                    Ok(valid_or_not(report.valid))
                })
            }
            AppletCall::VerifyCms { signature, data } => {
                self.admit_and_finish(ctx, method).and_then(|()| {
                    let der = qoltanba_sign::input::decode_binary(signature.as_bytes())
                        .map_err(|_| Failure::BadInput("invalid base64 signature"))?;
                    let content = match &data {
                        Some(d) => DetachedContent::Bytes(d.as_bytes()),
                        None => DetachedContent::None,
                    };
                    let opts = VerifyOptions {
                        trust_anchors: self.settings.trust_anchors.clone(),
                        now: None,
                        limits: self.settings.limits.cms,
                    };
                    let report = cms::verify(&der, content, &opts)?;
                    Ok(valid_or_not(report.valid))
                })
            }
        });
        match outcome {
            Ok(Found::Result(r)) => success(Module::Applet, Some(r)),
            Ok(Found::NotValid) => wire::applet_not_valid(),
            Err(f) => reply(Module::Applet, &f),
        }
    }

    /// Admission for a call that asks no key (a refusal goes to the journal; what the page's
    /// document holds does not).
    fn admit_and_finish(&self, ctx: &CallContext, method: &str) -> Result<(), Failure> {
        let r = self.admit(ctx);
        self.prompter.done(ctx);
        if let Err(f) = &r {
            self.log_failure(ctx, method, f);
        }
        r
    }
}

fn valid_or_not(valid: bool) -> Found {
    if valid {
        Found::Result(Value::Bool(true))
    } else {
        Found::NotValid
    }
}
