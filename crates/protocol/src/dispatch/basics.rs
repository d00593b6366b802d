//! `kz.gov.pki.knca.basics` (PROTOCOL.md §2.2): `sign` with named parameters, `{status, body}`
//! replies.

use qoltanba_sign::cms::{self, CmsOptions};
use qoltanba_sign::xml::{self, XmlSignOptions};
use serde_json::{Value, json};

use super::Dispatcher;
use super::output::{b64, base64, pem, preview_of_xml, summary_of_bytes};
use crate::basics::{BasicsSign, Format};
use crate::prompter::{CallContext, KeyRequest, Purpose};
use crate::wire::{Failure, Module, reply};

impl Dispatcher {
    pub(super) fn basics(
        &self,
        method: &str,
        args: Option<&Value>,
        ctx: &dyn Fn(Option<&str>) -> CallContext,
    ) -> Value {
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
        // The request's own locale wins for its window.
        let ctx = ctx(call.locale.as_deref());
        match self.basics_sign(&ctx, &call) {
            Ok(result) => json!({"status": true, "body": {"result": result}}),
            Err(f) => {
                self.log_failure(&ctx, "basics.sign", &f);
                reply(Module::Basics, &f)
            }
        }
    }

    fn basics_sign(&self, ctx: &CallContext, call: &BasicsSign) -> Result<Value, Failure> {
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
        let previews = xml_texts
            .iter()
            .map(|x| xml::parse(x).map(|d| preview_of_xml(&d)))
            .collect::<Result<Vec<_>, _>>()?;
        let summaries = match call.format {
            Format::Xml => previews,
            _ if call.digested => docs
                .iter()
                .map(|d| format!("hash {}", hex::encode(d)))
                .collect(),
            _ => docs.iter().map(|d| summary_of_bytes(d)).collect(),
        };
        // tsaProfile asks for CAdES-T; a timestamp that cannot be had fails the call (before
        // anyone is asked, when no TSA is configured at all).
        let stamp = call.timestamp && call.format == Format::Cms;
        if stamp && self.tsa.is_none() {
            return Err(Failure::Timestamp(
                "no timestamp authority is configured".into(),
            ));
        }
        let key = self.key(
            ctx,
            &KeyRequest {
                method: "basics.sign",
                purpose: Purpose::Sign {
                    format: call.format.name(),
                    documents: summaries,
                    sizes: docs.iter().map(Vec::len).collect(),
                    attached: call.encapsulate && call.format == Format::Cms,
                    hash_only: call.digested,
                    timestamped: stamp,
                },
                filter: &call.filter,
                storages: &call.storages,
                logo: call.logo.as_deref(),
            },
        )?;
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
                    let der = if stamp {
                        self.stamp(&der, Some(0))?
                    } else {
                        der
                    };
                    Ok(pem("CMS", &der))
                })
                .collect::<Result<_, Failure>>()?,
            Format::Xml => xml::sign_many(key, &xml_texts, &XmlSignOptions::default())?,
            Format::Raw => {
                let alg = key.default_signature_algorithm()?;
                docs.iter()
                    .map(|d| key.sign(alg, d).map(|s| base64(&s)))
                    .collect::<Result<_, _>>()?
            }
        };
        let sizes: Vec<usize> = docs.iter().map(Vec::len).collect();
        self.log_signed(ctx, "basics.sign", call.format.name(), &sizes, key);
        if call.format == Format::Raw && call.output_cert {
            return Ok(
                json!({"signatures": results, "certificate": pem("CERTIFICATE", key.certificate_der())}),
            );
        }
        Ok(json!(results))
    }
}
