//! `kz.gov.pki.knca.basics` `sign` arguments (PROTOCOL.md §2.2), parsed leniently the way real
//! pages send them: booleans as strings, `allowedStorages` null / array / comma string, `data` a
//! string or an array.

use serde_json::{Map, Value};

use crate::filter::{ChainRule, KeyFilter};
use crate::wire::{InvalidParams, ParamsKind};

/// Output format.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// CMS / CAdES (PEM in the reply).
    Cms,
    /// Enveloped XMLDSig.
    Xml,
    /// A bare signature value (base64).
    Raw,
}

impl Format {
    /// The name the protocol uses.
    pub fn name(self) -> &'static str {
        match self {
            Self::Cms => "cms",
            Self::Xml => "xml",
            Self::Raw => "raw",
        }
    }
}

/// A parsed `basics.sign` call. (The protocol's parameters are flags, hence the bools.)
#[derive(Debug, Clone)]
#[allow(clippy::struct_excessive_bools)]
pub struct BasicsSign {
    /// Allowed storages; empty = all.
    pub storages: Vec<String>,
    /// Output format.
    pub format: Format,
    /// The documents.
    pub data: Vec<String>,
    /// `decode`: data is base64.
    pub decode: bool,
    /// `encapsulate` (default true): attached CMS.
    pub encapsulate: bool,
    /// `digested`: data is already a hash.
    pub digested: bool,
    /// `tsaProfile` present: a timestamp is wanted.
    pub timestamp: bool,
    /// `outputCert` (raw): also return the certificate.
    pub output_cert: bool,
    /// Key conditions from `signerParams` and the test flags.
    pub filter: KeyFilter,
    /// `locale`, when the page sent one (it wins over the connection's for this call).
    pub locale: Option<String>,
    /// `logo`: the site's PNG, when it sent a valid one ([`crate::logo::check`]); anything
    /// else is dropped and the call goes on without it.
    pub logo: Option<Vec<u8>>,
}

fn err(kind: ParamsKind, details: impl Into<String>) -> InvalidParams {
    InvalidParams::new("sign", kind, details)
}

fn flag(
    obj: Option<&Map<String, Value>>,
    name: &str,
    default: bool,
) -> Result<bool, InvalidParams> {
    match obj.and_then(|o| o.get(name)) {
        None | Some(Value::Null) => Ok(default),
        Some(Value::Bool(b)) => Ok(*b),
        Some(Value::String(s)) if s.eq_ignore_ascii_case("true") => Ok(true),
        Some(Value::String(s)) if s.eq_ignore_ascii_case("false") => Ok(false),
        Some(_) => Err(err(
            ParamsKind::WrongType,
            format!("\"{name}\" is not a boolean"),
        )),
    }
}

fn opt_string(obj: &Map<String, Value>, name: &str) -> Result<Option<String>, InvalidParams> {
    match obj.get(name) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) if s.trim().is_empty() => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.trim().to_owned())),
        Some(_) => Err(err(
            ParamsKind::WrongType,
            format!("signerParams.{name} is not a string"),
        )),
    }
}

/// Decodes PEM certificates from `signerParams.chain`.
fn chain_certs(list: &[Value]) -> Result<Vec<Vec<u8>>, InvalidParams> {
    let mut out = Vec::new();
    for v in list {
        let pem = v
            .as_str()
            .ok_or_else(|| err(ParamsKind::Invalid, "signerParams.chain holds a non-string"))?;
        let certs = qoltanba_sign::input::decode_certificates(pem.as_bytes()).map_err(|_| {
            err(
                ParamsKind::Invalid,
                "signerParams.chain holds an invalid certificate",
            )
        })?;
        out.extend(certs);
    }
    Ok(out)
}

impl BasicsSign {
    /// Parses the `args` object (one field after another, as PROTOCOL.md §2.2 lists them).
    #[allow(clippy::too_many_lines)]
    pub fn parse(args: Option<&Value>) -> Result<Self, InvalidParams> {
        let Some(Value::Object(obj)) = args else {
            return Err(err(
                ParamsKind::NotAnObject,
                "sign demands arguments as a JSON object",
            ));
        };
        let format = match obj.get("format").and_then(Value::as_str) {
            Some("cms") => Format::Cms,
            Some("xml") => Format::Xml,
            Some("raw") => Format::Raw,
            _ => {
                return Err(err(
                    ParamsKind::Invalid,
                    "format must be \"cms\", \"xml\" or \"raw\"",
                ));
            }
        };
        let data = match obj.get("data") {
            Some(Value::String(s)) => vec![s.clone()],
            Some(Value::Array(a)) if !a.is_empty() => a
                .iter()
                .map(|v| v.as_str().map(str::to_owned))
                .collect::<Option<Vec<_>>>()
                .ok_or_else(|| err(ParamsKind::Invalid, "data must hold strings"))?,
            _ => {
                return Err(err(
                    ParamsKind::Invalid,
                    "data must be a string or a non-empty array",
                ));
            }
        };
        let storages = match obj.get("allowedStorages") {
            None | Some(Value::Null) => Vec::new(),
            Some(Value::Array(a)) => a
                .iter()
                .filter_map(Value::as_str)
                .map(str::to_owned)
                .collect(),
            Some(Value::String(s)) => s
                .split(',')
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(str::to_owned)
                .collect(),
            Some(_) => {
                return Err(err(
                    ParamsKind::WrongType,
                    "allowedStorages is not an array",
                ));
            }
        };
        let sp = match obj.get("signingParams") {
            None | Some(Value::Null) => None,
            Some(Value::Object(o)) => Some(o),
            Some(_) => {
                return Err(err(
                    ParamsKind::WrongType,
                    "JSONObject[\"signingParams\"] is not a JSONObject.",
                ));
            }
        };
        let timestamp = sp
            .and_then(|o| o.get("tsaProfile"))
            .is_some_and(|v| !v.is_null());
        let signer = match obj.get("signerParams") {
            None | Some(Value::Null) => None,
            Some(Value::Object(o)) => Some(o),
            Some(_) => {
                return Err(err(
                    ParamsKind::WrongType,
                    "JSONObject[\"signerParams\"] is not a JSONObject.",
                ));
            }
        };
        let mut filter = KeyFilter {
            allow_expired: flag(sp, "allowExpired", false)?,
            allow_revoked: flag(sp, "allowRevoked", false)?,
            ..KeyFilter::default()
        };
        if let Some(sig) = signer {
            filter.eku_oids = match sig.get("extKeyUsageOids") {
                None | Some(Value::Null) => Vec::new(),
                Some(Value::Array(a)) => a
                    .iter()
                    .map(|v| v.as_str().map(str::to_owned))
                    .collect::<Option<Vec<_>>>()
                    .ok_or_else(|| err(ParamsKind::Invalid, "extKeyUsageOids must hold strings"))?,
                Some(_) => {
                    return Err(err(
                        ParamsKind::WrongType,
                        "extKeyUsageOids is not an array",
                    ));
                }
            };
            filter.iin = opt_string(sig, "iin")?;
            filter.bin = opt_string(sig, "bin")?;
            filter.serial = opt_string(sig, "serialNumber")?;
            filter.chain = match sig.get("chain") {
                None | Some(Value::Null) => ChainRule::Configured,
                Some(Value::Array(a)) if a.is_empty() => ChainRule::None,
                Some(Value::Array(a)) => ChainRule::Given(chain_certs(a)?),
                Some(_) => {
                    return Err(err(
                        ParamsKind::WrongType,
                        "signerParams.chain is not an array",
                    ));
                }
            };
        }
        if obj
            .get("logo")
            .and_then(Value::as_str)
            .is_some_and(|l| l.len() > 50_000)
        {
            return Err(err(
                ParamsKind::Invalid,
                "logo is longer than 50000 characters",
            ));
        }
        let digested = flag(sp, "digested", false)?;
        if digested && format != Format::Cms {
            return Err(err(
                ParamsKind::Invalid,
                format!(
                    "digested data is supported for cms only, not {}",
                    format.name()
                ),
            ));
        }
        Ok(Self {
            storages,
            format,
            data,
            decode: flag(sp, "decode", false)?,
            encapsulate: flag(sp, "encapsulate", true)?,
            digested,
            timestamp,
            output_cert: flag(sp, "outputCert", false)?,
            filter,
            locale: obj
                .get("locale")
                .and_then(Value::as_str)
                .filter(|l| !l.is_empty())
                .map(str::to_owned),
            logo: obj
                .get("logo")
                .and_then(Value::as_str)
                .and_then(|l| crate::logo::check(l).ok()),
        })
    }
}
