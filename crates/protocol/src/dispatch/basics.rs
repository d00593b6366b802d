//! `kz.gov.pki.knca.basics` (PROTOCOL.md §2.2): `sign` with named parameters, `{status, body}`
//! replies.

use qoltanba_sign::cms::{self, CmsOptions};
use qoltanba_sign::xml::{self, XmlSignOptions};
use serde_json::Value;

use super::Dispatcher;
use super::output::{b64, base64, pem, preview_of_xml, raw_with_certificate, summary_of_bytes};
use crate::basics::{BasicsSign, Format};
use crate::prompter::{CallContext, KeyRequest, Purpose};
use crate::wire::{Failure, Module, reply, success};

impl Dispatcher {
    pub(super) fn basics(
        &self,
        method: &str,
        args: Option<&Value>,
        ctx: &dyn Fn(Option<&str>) -> CallContext,
    ) -> Value {
        let outcome = if method == "sign" {
            BasicsSign::parse(args).map_err(Failure::from)
        } else {
            Err(Failure::UnknownMethod(method.to_owned()))
        };
        let call = match outcome {
            Ok(c) => c,
            Err(f) => return reply(Module::Basics, &f),
        };
        // The request's own locale wins for its window.
        let ctx = ctx(call.locale.as_deref());
        match self.basics_sign(&ctx, &call) {
            Ok(result) => success(Module::Basics, Some(result)),
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
        let xml_texts: Vec<&str> = if call.format == Format::Xml {
            docs.iter()
                .map(|d| {
                    std::str::from_utf8(d).map_err(|_| Failure::BadInput("the XML is not UTF-8"))
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
            return Err(Failure::NoTsa);
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
            return Ok(raw_with_certificate(
                &results,
                &pem("CERTIFICATE", key.certificate_der()),
            ));
        }
        Ok(Value::from(results))
    }
}
