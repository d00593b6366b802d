//! Incoming frames parsed into typed calls, once, at the boundary (PROTOCOL.md §2).

use serde_json::{Map, Value};

/// Module names.
pub mod modules {
    /// The current API.
    pub const BASICS: &str = "kz.gov.pki.knca.basics";
    /// The 2018 API.
    pub const COMMON_UTILS: &str = "kz.gov.pki.knca.commonUtils";
    /// The legacy applet API (also: no module at all).
    pub const APPLET: &str = "kz.gov.pki.knca.applet.Applet";
    /// Service queries.
    pub const ACCESSORY: &str = "kz.gov.pki.ncalayerservices.accessory";
}

/// One incoming text frame.
#[derive(Debug, Clone, PartialEq)]
pub enum Incoming {
    /// `--heartbeat--`: echoed.
    Heartbeat,
    /// A bare `{}`: a keep-alive some clients send; no reply (PROTOCOL.md §1.4).
    KeepAlive,
    /// A call to a module.
    Call(Call),
    /// Not a JSON object with a method.
    Invalid(String),
}

/// A call, by module.
#[derive(Debug, Clone, PartialEq)]
pub enum Call {
    /// `kz.gov.pki.knca.basics`.
    Basics {
        /// Method name (`sign`).
        method: String,
        /// The `args` value as sent (must be an object for `sign`).
        args: Option<Value>,
    },
    /// `kz.gov.pki.knca.commonUtils`.
    CommonUtils {
        /// Method name.
        method: String,
        /// Positional arguments (`None` when the key is absent).
        args: Option<Value>,
        /// Optional `uuid`, echoed in the reply.
        uuid: Option<Value>,
    },
    /// Legacy applet API.
    Applet {
        /// Method name.
        method: String,
        /// Positional arguments.
        args: Vec<Value>,
    },
    /// `kz.gov.pki.ncalayerservices.accessory`.
    Accessory {
        /// Method name.
        method: String,
    },
    /// Any other module (`kz.digiflow.mobile.extensions`, third-party bundles…).
    UnknownModule(String),
}

/// Parses one text frame.
pub fn parse_frame(text: &str) -> Incoming {
    if text == "--heartbeat--" {
        return Incoming::Heartbeat;
    }
    let value: Value = match serde_json::from_str(text) {
        Ok(v) => v,
        Err(e) => return Incoming::Invalid(format!("not valid JSON ({e})")),
    };
    let Value::Object(obj) = value else {
        return Incoming::Invalid("the request is not a JSON object".into());
    };
    if obj.is_empty() {
        return Incoming::KeepAlive;
    }
    parse_object(obj)
}

fn parse_object(mut obj: Map<String, Value>) -> Incoming {
    let module = match obj.remove("module") {
        None | Some(Value::Null) => None,
        Some(Value::String(m)) => Some(m),
        Some(_) => return Incoming::Invalid("\"module\" is not a string".into()),
    };
    let method = match obj.remove("method") {
        Some(Value::String(m)) => m,
        Some(_) => return Incoming::Invalid("\"method\" is not a string".into()),
        None => String::new(),
    };
    let args = obj.remove("args");
    let call = match module.as_deref() {
        Some(modules::BASICS) => Call::Basics { method, args },
        Some(modules::COMMON_UTILS) => Call::CommonUtils {
            method,
            args,
            uuid: obj.remove("uuid"),
        },
        None | Some(modules::APPLET) => {
            if method.is_empty() {
                return Incoming::Invalid("the request has no \"method\"".into());
            }
            let args = match args {
                Some(Value::Array(a)) => a,
                None | Some(Value::Null) => Vec::new(),
                Some(other) => vec![other],
            };
            Call::Applet { method, args }
        }
        Some(modules::ACCESSORY) => Call::Accessory { method },
        Some(other) => Call::UnknownModule(other.to_owned()),
    };
    Incoming::Call(call)
}

/// commonUtils `keyType`: any string other than the two names means "all keys" (PROTOCOL.md
/// §2.1); a non-string is a type mismatch.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyType {
    /// `SIGNATURE`.
    Signature,
    /// `AUTHENTICATION`.
    Authentication,
    /// Anything else.
    Any,
}

impl KeyType {
    fn parse(s: &str) -> Self {
        match s {
            "SIGNATURE" => Self::Signature,
            "AUTHENTICATION" => Self::Authentication,
            _ => Self::Any,
        }
    }
    /// As a [`crate::KeyFilter::signing_key`] value.
    pub fn as_filter(self) -> Option<bool> {
        match self {
            Self::Signature => Some(true),
            Self::Authentication => Some(false),
            Self::Any => None,
        }
    }
}

/// A commonUtils method with its arguments, chosen by name and number of arguments as the Java
/// dispatcher does (PROTOCOL.md §2.3).
#[derive(Debug, Clone, PartialEq)]
pub enum CommonCall {
    /// `getActiveTokens()`.
    GetActiveTokens,
    /// `getKeyInfo(storage)`.
    GetKeyInfo {
        /// Storage name.
        storage: String,
    },
    /// `createCAdESFromBase64(storage, keyType, data, attached)` and
    /// `createCMSSignatureFromBase64` (`timestamp: true`).
    CreateCades {
        /// Storage name.
        storage: String,
        /// Key type.
        key_type: KeyType,
        /// Base64 content.
        data: String,
        /// Attached.
        attached: bool,
        /// The CAdES-T variant.
        timestamp: bool,
    },
    /// `createCAdESFromBase64Hash(storage, keyType, hash)`.
    CreateCadesHash {
        /// Storage name.
        storage: String,
        /// Key type.
        key_type: KeyType,
        /// Base64 SHA-256 digest.
        hash: String,
    },
    /// `signXml(storage, keyType, xml, tbsXPath, parentXPath)`.
    SignXml {
        /// Storage name.
        storage: String,
        /// Key type.
        key_type: KeyType,
        /// The documents (one for signXml).
        xmls: Vec<String>,
        /// tbsElementXPath (`""` = whole document).
        tbs_xpath: String,
        /// signatureParentElementXPath (`""` = root).
        parent_xpath: String,
        /// `signXmls`: reply with an array.
        many: bool,
    },
    /// `changeLocale(locale)`.
    ChangeLocale {
        /// `kk`, `ru`, `en`.
        locale: String,
    },
    /// `applyCAdEST(storage, keyType, cms)`: a timestamp for each signer of `cms` (base64).
    ApplyCadesT {
        /// The CMS, base64.
        cms: String,
    },
    /// `showFileChooser(ext, dir)`.
    ShowFileChooser,
    /// `createCAdESFromFile` / `createCMSSignatureFromFile`: a page naming local files.
    FromFile,
}

/// Why a commonUtils call could not be matched.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CommonParseError {
    /// No method of that name and arity.
    NoSuchMethod,
    /// An argument of the wrong JSON type.
    TypeMismatch,
}

fn s(v: &Value) -> Result<String, CommonParseError> {
    v.as_str()
        .map(str::to_owned)
        .ok_or(CommonParseError::TypeMismatch)
}

fn b(v: &Value) -> Result<bool, CommonParseError> {
    match v {
        Value::Bool(b) => Ok(*b),
        _ => Err(CommonParseError::TypeMismatch),
    }
}

impl CommonCall {
    /// Matches `method` and `args`.
    pub fn parse(method: &str, args: Option<&Value>) -> Result<Self, CommonParseError> {
        use CommonParseError::NoSuchMethod;
        let empty = Vec::new();
        let args: &Vec<Value> = match args {
            None | Some(Value::Null) => &empty,
            Some(Value::Array(a)) => a,
            Some(_) => return Err(CommonParseError::TypeMismatch),
        };
        Ok(match (method, args.as_slice()) {
            ("getActiveTokens", []) => Self::GetActiveTokens,
            ("getKeyInfo", [st]) => Self::GetKeyInfo { storage: s(st)? },
            ("createCAdESFromBase64" | "createCMSSignatureFromBase64", [st, kt, data, att]) => {
                Self::CreateCades {
                    storage: s(st)?,
                    key_type: KeyType::parse(&s(kt)?),
                    data: s(data)?,
                    attached: b(att)?,
                    timestamp: method == "createCMSSignatureFromBase64",
                }
            }
            ("createCAdESFromBase64Hash", [st, kt, hash]) => Self::CreateCadesHash {
                storage: s(st)?,
                key_type: KeyType::parse(&s(kt)?),
                hash: s(hash)?,
            },
            ("signXml", [st, kt, xml, tbs, parent]) => Self::SignXml {
                storage: s(st)?,
                key_type: KeyType::parse(&s(kt)?),
                xmls: vec![s(xml)?],
                tbs_xpath: s(tbs)?,
                parent_xpath: s(parent)?,
                many: false,
            },
            ("signXmls", [st, kt, Value::Array(xmls), tbs, parent]) => Self::SignXml {
                storage: s(st)?,
                key_type: KeyType::parse(&s(kt)?),
                xmls: xmls.iter().map(s).collect::<Result<_, _>>()?,
                tbs_xpath: s(tbs)?,
                parent_xpath: s(parent)?,
                many: true,
            },
            ("signXmls", [_, _, _, _, _]) => return Err(CommonParseError::TypeMismatch),
            ("changeLocale", [l]) => Self::ChangeLocale { locale: s(l)? },
            ("applyCAdEST", [_, _, c]) => Self::ApplyCadesT { cms: s(c)? },
            ("showFileChooser", [_, _]) => Self::ShowFileChooser,
            ("createCAdESFromFile" | "createCMSSignatureFromFile", [_, _, _, _]) => Self::FromFile,
            _ => return Err(NoSuchMethod),
        })
    }
}
