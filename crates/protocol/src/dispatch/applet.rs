//! The legacy applet API (PROTOCOL.md §2.4): hashes and verification. Verification is work any
//! page can demand, so it is admitted like signing and bounded by [`crate::Limits`].

use qoltanba_sign::DigestAlgorithm;
use qoltanba_sign::cms::{self, DetachedContent, VerifyOptions};
use qoltanba_sign::xml::{self, XmlVerifyOptions};
use serde_json::{Value, json};

use super::output::base64;
use super::{Connection, Dispatcher};
use crate::prompter::CallContext;
use crate::wire::{Failure, Module, reply};

impl Dispatcher {
    pub(super) fn applet(
        &self,
        ctx: &CallContext,
        conn: &Connection,
        method: &str,
        args: &[Value],
    ) -> Value {
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
                ok(Value::String(base64(&digest.digest(data.as_bytes()))))
            }
            "verifyXml" => {
                let Some(doc) = arg(0) else {
                    return fail("COMMON", "verifyXml needs xml");
                };
                if let Err(f) = self.admit_and_finish(ctx) {
                    return self.applet_failure(ctx, method, &f);
                }
                let opts = XmlVerifyOptions {
                    trust_anchors: self.settings.trust_anchors.clone(),
                    now: None,
                    id_attr: arg(1).filter(|s| !s.is_empty()).map(str::to_owned),
                    limits: self.settings.limits.xml,
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
                if let Err(f) = self.admit_and_finish(ctx) {
                    return self.applet_failure(ctx, method, &f);
                }
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
                    limits: self.settings.limits.cms,
                };
                match cms::verify(&der, content, &opts) {
                    Ok(r) if r.valid => ok(Value::Bool(true)),
                    Ok(_) => fail("SIGNATURE_VALIDATION_ERROR", "false"),
                    Err(e) => fail("COMMON", &e.to_string()),
                }
            }
            "setLocale" => {
                if let Some(l) = arg(0) {
                    conn.set_locale(l);
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

    /// Admission for a call that asks no key.
    fn admit_and_finish(&self, ctx: &CallContext) -> Result<(), Failure> {
        let r = self.admit(ctx);
        self.prompter.done(ctx);
        r
    }

    fn applet_failure(&self, ctx: &CallContext, method: &str, f: &Failure) -> Value {
        self.log_failure(ctx, method, f);
        reply(Module::Applet, f)
    }
}
