//! Incoming frames parsed into typed calls, once, at the boundary (PROTOCOL.md §2): the frame,
//! then each module's method and arguments. What cannot be parsed is a [`Failure`]
//! (`InvalidFrame`, `UnknownMethod`, `InvalidParams`) that [`crate::wire`] shapes for the module.

use qoltanba_sign::DigestAlgorithm;
use serde_json::{Map, Value};

use crate::wire::{Failure, InvalidParams, ParamsKind};

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
#[derive(Debug)]
pub enum Incoming {
    /// `--heartbeat--`: echoed.
    Heartbeat,
    /// A bare `{}`: a keep-alive some clients send; no reply (PROTOCOL.md §1.4).
    KeepAlive,
    /// A call to a module.
    Call(Call),
    /// Not a JSON object with a method ([`Failure::InvalidFrame`], [`Failure::NotJson`]).
    Invalid(Failure),
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
    Accessory(Accessory),
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
        Err(e) => return Incoming::Invalid(Failure::NotJson(e)),
    };
    let Value::Object(obj) = value else {
        return Incoming::Invalid(Failure::InvalidFrame("the request is not a JSON object"));
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
        Some(_) => return Incoming::Invalid(Failure::InvalidFrame("\"module\" is not a string")),
    };
    let method = match obj.remove("method") {
        Some(Value::String(m)) => m,
        Some(_) => return Incoming::Invalid(Failure::InvalidFrame("\"method\" is not a string")),
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
                return Incoming::Invalid(Failure::InvalidFrame("the request has no \"method\""));
            }
            let args = match args {
                Some(Value::Array(a)) => a,
                None | Some(Value::Null) => Vec::new(),
                Some(other) => vec![other],
            };
            Call::Applet { method, args }
        }
        Some(modules::ACCESSORY) => Call::Accessory(Accessory::parse(&method)),
        Some(other) => Call::UnknownModule(other.to_owned()),
    };
    Incoming::Call(call)
}

/// An accessory query (PROTOCOL.md §2.5).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Accessory {
    /// `getBundles`: the modules and their versions.
    GetBundles,
    /// `getServices`: the module names.
    GetServices,
    /// `getVersion`: the product and protocol versions.
    GetVersion,
    /// `showSettings`: the settings window.
    ShowSettings,
    /// `showBundleManager`: the Java app's bundle manager; the about window here.
    ShowBundleManager,
    /// Any other method (windows of the Java app that do not exist here).
    Other,
}

impl Accessory {
    fn parse(method: &str) -> Self {
        match method {
            "getBundles" => Self::GetBundles,
            "getServices" => Self::GetServices,
            "getVersion" => Self::GetVersion,
            "showSettings" => Self::ShowSettings,
            "showBundleManager" => Self::ShowBundleManager,
            _ => Self::Other,
        }
    }
}

/// A legacy applet call this product answers (PROTOCOL.md §2.4). The other methods of that API
/// take the keystore password from the web page and are refused ([`Failure::UnknownMethod`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AppletCall {
    /// `getHash(data, alg)`: a digest of the text.
    GetHash {
        /// The text hashed (its UTF-8 bytes).
        data: String,
        /// `SHA1` or `SHA256` (the default).
        digest: DigestAlgorithm,
    },
    /// `verifyXml(xml, idAttr)`.
    VerifyXml {
        /// The signed document.
        xml: String,
        /// The ID attribute's name, when the page named one.
        id_attr: Option<String>,
    },
    /// `verifyCMSSignature(cms, data)`.
    VerifyCms {
        /// The signature, base64 or PEM.
        signature: String,
        /// The detached content, when the page sent some.
        data: Option<String>,
    },
    /// `setLocale(locale)` (no locale: nothing changes).
    SetLocale {
        /// `kk`, `ru`, `en`.
        locale: Option<String>,
    },
}

impl AppletCall {
    /// Matches `method` and its positional `args`.
    pub fn parse(method: &str, args: &[Value]) -> Result<Self, Failure> {
        let arg = |i: usize| args.get(i).and_then(Value::as_str);
        let missing = |what: &str| {
            Failure::InvalidParams(InvalidParams::new(
                method,
                ParamsKind::Invalid,
                format!("{method} needs {what}"),
            ))
        };
        Ok(match method {
            "getHash" => {
                let data = arg(0).ok_or_else(|| missing("data"))?.to_owned();
                let digest = match arg(1).unwrap_or("SHA256") {
                    "SHA1" => DigestAlgorithm::Sha1,
                    "SHA256" => DigestAlgorithm::Sha256,
                    other => {
                        return Err(Failure::InvalidParams(InvalidParams::new(
                            method,
                            ParamsKind::Invalid,
                            format!("unsupported digest {other}"),
                        )));
                    }
                };
                Self::GetHash { data, digest }
            }
            "verifyXml" => Self::VerifyXml {
                xml: arg(0).ok_or_else(|| missing("xml"))?.to_owned(),
                id_attr: arg(1).filter(|s| !s.is_empty()).map(str::to_owned),
            },
            "verifyCMSSignature" => Self::VerifyCms {
                signature: arg(0).ok_or_else(|| missing("a signature"))?.to_owned(),
                data: arg(1).filter(|d| !d.is_empty()).map(str::to_owned),
            },
            "setLocale" => Self::SetLocale {
                locale: arg(0).map(str::to_owned),
            },
            _ => return Err(Failure::UnknownMethod(method.to_owned())),
        })
    }
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

fn mismatch(method: &str) -> Failure {
    Failure::InvalidParams(InvalidParams::new(
        method,
        ParamsKind::WrongType,
        "argument type mismatch",
    ))
}

fn s(method: &str, v: &Value) -> Result<String, Failure> {
    v.as_str()
        .map(str::to_owned)
        .ok_or_else(|| mismatch(method))
}

fn b(method: &str, v: &Value) -> Result<bool, Failure> {
    match v {
        Value::Bool(b) => Ok(*b),
        _ => Err(mismatch(method)),
    }
}

impl CommonCall {
    /// Matches `method` and `args`.
    pub fn parse(method: &str, args: Option<&Value>) -> Result<Self, Failure> {
        let s = |v: &Value| s(method, v);
        let b = |v: &Value| b(method, v);
        let empty = Vec::new();
        let args: &Vec<Value> = match args {
            None | Some(Value::Null) => &empty,
            Some(Value::Array(a)) => a,
            Some(_) => return Err(mismatch(method)),
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
                xmls: xmls.iter().map(&s).collect::<Result<_, _>>()?,
                tbs_xpath: s(tbs)?,
                parent_xpath: s(parent)?,
                many: true,
            },
            ("signXmls", [_, _, _, _, _]) => return Err(mismatch(method)),
            ("changeLocale", [l]) => Self::ChangeLocale { locale: s(l)? },
            ("applyCAdEST", [_, _, c]) => Self::ApplyCadesT { cms: s(c)? },
            ("showFileChooser", [_, _]) => Self::ShowFileChooser,
            ("createCAdESFromFile" | "createCMSSignatureFromFile", [_, _, _, _]) => Self::FromFile,
            _ => return Err(Failure::UnknownMethod(method.to_owned())),
        })
    }
}
