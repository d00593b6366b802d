//! `kz.gov.pki.knca.commonUtils` (PROTOCOL.md §2.3): positional arguments, `{code,
//! responseObject}` replies.

use qoltanba_sign::cms::{self, CmsOptions};
use qoltanba_sign::xml::{self, Parent, Tbs, XmlSignOptions};
use serde_json::Value;

use super::output::{b64, base64, key_info, preview_of_xml, summary_of_bytes};
use super::{Connection, Dispatcher};
use crate::calls::{CommonCall, KeyType};
use crate::filter::KeyFilter;
use crate::prompter::{CallContext, KeyRequest, Purpose};
use crate::wire::{Failure, Module, reply, success};

impl Dispatcher {
    pub(super) fn common_utils(
        &self,
        ctx: &CallContext,
        conn: &Connection,
        method: &str,
        args: Option<&Value>,
    ) -> Value {
        let call = match CommonCall::parse(method, args) {
            Ok(c) => c,
            Err(f) => return reply(Module::CommonUtils, &f),
        };
        match self.common_call(ctx, conn, method, call) {
            Ok(result) => success(Module::CommonUtils, result),
            Err(f) => {
                self.log_failure(ctx, method, &f);
                reply(Module::CommonUtils, &f)
            }
        }
    }

    /// A key from one storage with the `keyType` filter.
    fn common_key(
        &self,
        ctx: &CallContext,
        method: &str,
        storage: &str,
        key_type: KeyType,
        purpose: Purpose,
    ) -> Result<Box<dyn qoltanba_keys::SigningKey>, Failure> {
        let filter = KeyFilter {
            signing_key: key_type.as_filter(),
            ..KeyFilter::default()
        };
        self.key(
            ctx,
            &KeyRequest {
                method,
                purpose,
                filter: &filter,
                storages: &[storage.to_owned()],
                logo: None,
            },
        )
    }

    #[allow(clippy::too_many_lines)] // one arm per method, each short
    fn common_call(
        &self,
        ctx: &CallContext,
        conn: &Connection,
        method: &str,
        call: CommonCall,
    ) -> Result<Option<Value>, Failure> {
        match call {
            // Only hardware storages with a token present; PKCS12 is never listed (§2.1).
            CommonCall::GetActiveTokens => {
                let active = self
                    .tokens
                    .as_ref()
                    .map(|t| t.active_storages())
                    .unwrap_or_default();
                Ok(Some(Value::from(active)))
            }
            CommonCall::ChangeLocale { locale } => {
                conn.set_locale(&locale);
                Ok(None)
            }
            CommonCall::GetKeyInfo { storage } => {
                let filter = KeyFilter::default();
                let key = self.key(
                    ctx,
                    &KeyRequest {
                        method,
                        purpose: Purpose::ReadCertificate,
                        filter: &filter,
                        storages: &[storage],
                        logo: None,
                    },
                )?;
                Ok(Some(key_info(key.as_ref())))
            }
            CommonCall::CreateCades {
                storage,
                key_type,
                data,
                attached,
                timestamp,
            } => {
                if timestamp && self.tsa.is_none() {
                    return Err(Failure::NoTsa);
                }
                let content = b64(&data)?;
                let key = self.common_key(
                    ctx,
                    method,
                    &storage,
                    key_type,
                    Purpose::Sign {
                        format: "cms",
                        documents: vec![summary_of_bytes(&content)],
                        sizes: vec![content.len()],
                        attached,
                        hash_only: false,
                        timestamped: timestamp,
                    },
                )?;
                let der = if attached {
                    cms::sign_attached(key.as_ref(), &content, &CmsOptions::default())?
                } else {
                    cms::sign_detached(key.as_ref(), &content, &CmsOptions::default())?
                };
                let der = if timestamp {
                    self.stamp(&der, Some(0))?
                } else {
                    der
                };
                self.log_signed(ctx, method, "cms", &[content.len()], key.as_ref());
                Ok(Some(Value::String(base64(&der))))
            }
            CommonCall::CreateCadesHash {
                storage,
                key_type,
                hash,
            } => {
                let digest = b64(&hash)?;
                if digest.is_empty() {
                    return Err(Failure::BadInput("the hash is empty"));
                }
                let key = self.common_key(
                    ctx,
                    method,
                    &storage,
                    key_type,
                    Purpose::Sign {
                        format: "cms",
                        documents: vec![format!("hash {}", hex::encode(&digest))],
                        sizes: vec![digest.len()],
                        attached: false,
                        hash_only: true,
                        timestamped: false,
                    },
                )?;
                let der = cms::sign_digest(key.as_ref(), &digest, &CmsOptions::default())?
                    .to_detached_der()?;
                self.log_signed(ctx, method, "cms", &[digest.len()], key.as_ref());
                Ok(Some(Value::String(base64(&der))))
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
                let previews = xmls
                    .iter()
                    .map(|x| xml::parse(x).map(|d| preview_of_xml(&d)))
                    .collect::<Result<Vec<_>, _>>()?;
                let key = self.common_key(
                    ctx,
                    method,
                    &storage,
                    key_type,
                    Purpose::Sign {
                        format: "xml",
                        documents: previews,
                        sizes: xmls.iter().map(String::len).collect(),
                        attached: true,
                        hash_only: false,
                        timestamped: false,
                    },
                )?;
                let opts = XmlSignOptions {
                    tbs: Tbs::XPath(&tbs_xpath),
                    parent: Parent::XPath(&parent_xpath),
                };
                let docs: Vec<&str> = xmls.iter().map(String::as_str).collect();
                let signed = xml::sign_many(key.as_ref(), &docs, &opts)?;
                let sizes: Vec<usize> = xmls.iter().map(String::len).collect();
                self.log_signed(ctx, method, "xml", &sizes, key.as_ref());
                Ok(Some(if many {
                    Value::from(signed)
                } else {
                    Value::String(signed.into_iter().next().unwrap_or_default())
                }))
            }
            CommonCall::ApplyCadesT { cms } => {
                // No key is needed to timestamp signatures already made, but only an admitted
                // site may have the TSA asked on its behalf.
                let der = b64(&cms)?;
                let admitted = self.admit(ctx);
                self.prompter.done(ctx);
                admitted?;
                let stamped = self.stamp(&der, None)?;
                Ok(Some(Value::String(base64(&stamped))))
            }
            // Local paths are never revealed to, nor taken from, web pages.
            CommonCall::ShowFileChooser => Err(Failure::Cancelled),
            CommonCall::FromFile => Err(Failure::Unsupported(
                "signing files named by a web page is not allowed",
            )),
        }
    }
}
