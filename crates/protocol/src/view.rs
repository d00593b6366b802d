//! What a prompt shows, as data: one view of a call that every prompter renders (the desktop
//! window receives it as JSON, the terminal prints it). Built here from the call and its
//! offers, so that the window and the terminal show the same things: the purpose, each key
//! with its certificate's fields, why it cannot be used, and its chain state (checked once per
//! offer against the trust anchors). Everything a page sent is plain text in it; renderers show
//! it as text only. Codes are enums, serialized as the `snake_case` names `ui/i18n` translates.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use qoltanba_keys::{KeyError, KnownCertificate, Location, SecretKind};
use qoltanba_pki::chain::{ChainStatus, check};
use qoltanba_pki::{CertificateDetails, KeyKind, Lang, ValidityStatus};
use serde::Serialize;
use time::OffsetDateTime;

use crate::filter::Mismatch;
use crate::prompter::{CallContext, KeyRequest, Offer, Origin, Purpose, Refusal};

/// What a prompt shows.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PromptView {
    /// Changes whenever the view does (a window re-renders then); set by the prompter.
    pub version: u64,
    /// What is asked.
    pub kind: PromptKind,
    /// The page's origin as sent; empty for a local program that sent none.
    pub origin: String,
    /// The call's language (`kk`, `ru`, `en`).
    pub locale: String,
    /// The protocol method.
    pub method: String,
    /// What the key is for.
    pub purpose: PurposeView,
    /// The keys, usable or disabled with their reason.
    pub offers: Vec<OfferView>,
    /// The site accepts key files (a file may be opened).
    pub allows_files: bool,
    /// Why the last choice was refused.
    pub error: Option<ErrorView>,
    /// How many choices were refused so far: a window, busy since it sent an answer, takes
    /// input again when this changes (or the call ends).
    pub refusals: u32,
    /// The site's logo: a PNG the engine decoded and checked, base64 (shown as an image).
    pub logo: Option<String>,
}

/// The question of a prompt.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum PromptKind {
    /// May this site use the signing service?
    Origin,
    /// Which key, with its password or PIN?
    Sign,
}

/// What the key is wanted for.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Default)]
#[allow(clippy::struct_excessive_bools)] // flat data for renderers
pub struct PurposeView {
    /// Only the certificate is read (nothing is signed).
    pub read_certificate: bool,
    /// `cms`, `xml`, `raw` (empty when nothing is signed).
    pub format: String,
    /// A summary of each document (its text when short and printable, the fields of a form).
    pub documents: Vec<String>,
    /// Each document's size in bytes.
    pub sizes: Vec<usize>,
    /// The document goes inside the signature.
    pub attached: bool,
    /// The page sent a hash, not the document.
    pub hash_only: bool,
    /// A timestamp from the timestamp authority is added.
    pub timestamped: bool,
}

/// One key offered.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[allow(clippy::struct_excessive_bools)] // flat data for renderers
pub struct OfferView {
    /// The candidate's id (what a choice names).
    pub id: String,
    /// The protocol's storage name (`PKCS12`, `AKKaztokenStore`…).
    pub storage: String,
    /// Where the key is.
    pub source: Source,
    /// A file's name, a token's label, the OS store's name.
    pub place: String,
    /// Where the key is, in full, for a line of text (a file's path, `token "label"`).
    pub location: String,
    /// What opens it.
    pub secret: SecretView,
    /// The token counts wrong PINs: few tries left.
    pub few_tries: bool,
    /// One PIN try left before the token locks.
    pub final_try: bool,
    /// The PIN is locked.
    pub locked: bool,
    /// It can be chosen.
    pub usable: bool,
    /// Why it does not meet the request.
    pub reason: Option<Reason>,
    /// The person's default certificate (chosen first).
    pub is_default: bool,
    /// Its certificate, when known before it is opened.
    pub details: Option<DetailsView>,
}

/// Where a key is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Source {
    /// A key file.
    File,
    /// A PKCS#11 token.
    Token,
    /// The OS certificate store.
    Os,
}

/// What opens a key.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum SecretView {
    /// A key file's password.
    Password,
    /// A token's PIN.
    Pin,
    /// Nothing asked here (the OS store asks by itself, or needs nothing).
    None,
}

/// Why a key does not meet the request.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Reason {
    /// The site wants an authentication key.
    AuthWanted,
    /// The site wants a signing key.
    SignWanted,
    /// The certificate lacks a role (extended key usage) the site wants.
    Role,
    /// Another ИИН than the site's.
    Iin,
    /// Another БИН than the site's.
    Bin,
    /// Another serial number than the site's.
    Serial,
    /// Not the kind of key the call wants.
    KeyType,
    /// Expired.
    Expired,
    /// Not valid yet.
    NotYetValid,
    /// Not issued under the chain the site wants.
    Chain,
    /// A storage the site does not allow.
    Storage,
}

impl Reason {
    /// Every reason (for translation checks).
    pub const ALL: [Self; 11] = [
        Self::AuthWanted,
        Self::SignWanted,
        Self::Role,
        Self::Iin,
        Self::Bin,
        Self::Serial,
        Self::KeyType,
        Self::Expired,
        Self::NotYetValid,
        Self::Chain,
        Self::Storage,
    ];

    /// The reason of a mismatch.
    pub fn of(m: &Mismatch) -> Self {
        match m {
            Mismatch::Eku(o) if o == qoltanba_pki::oid::EKU_CLIENT_AUTH => Self::AuthWanted,
            Mismatch::Eku(o) if o == qoltanba_pki::oid::EKU_EMAIL_PROTECTION => Self::SignWanted,
            Mismatch::Eku(_) => Self::Role,
            Mismatch::Iin => Self::Iin,
            Mismatch::Bin => Self::Bin,
            Mismatch::Serial => Self::Serial,
            Mismatch::KeyType => Self::KeyType,
            Mismatch::Validity(ValidityStatus::Expired) => Self::Expired,
            Mismatch::Validity(_) => Self::NotYetValid,
            Mismatch::Chain(_) => Self::Chain,
            Mismatch::Storage(_) => Self::Storage,
        }
    }
}

/// A certificate as a prompt shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DetailsView {
    /// ФИО (else the subject's common name).
    pub full_name: String,
    /// ИИН.
    pub iin: String,
    /// БИН.
    pub bin: String,
    /// The organisation.
    pub organization: String,
    /// The e-mail address.
    pub email: String,
    /// The roles, named in the call's language.
    pub roles: Vec<String>,
    /// Authentication, signing, both.
    pub kind: Kind,
    /// Valid from (`dd.mm.yyyy`).
    pub not_before: String,
    /// Valid to (`dd.mm.yyyy`).
    pub not_after: String,
    /// The issuer's common name.
    pub issuer: String,
    /// The serial number (lower-case hex).
    pub serial: String,
    /// The key's algorithm.
    pub algorithm: String,
    /// The chain to the trust anchors.
    pub chain: ChainState,
    /// Every field of the certificate, for the details view: (translation key, value), the
    /// empty ones left out.
    pub fields: Vec<(&'static str, String)>,
}

/// What a certificate's key is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Kind {
    /// Authentication.
    Auth,
    /// Signing.
    Sign,
    /// Both.
    Both,
    /// Neither said.
    Unknown,
}

/// A certificate's chain state.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ChainState {
    /// It leads to a trust anchor.
    Trusted,
    /// It does not (or is malformed).
    Untrusted,
    /// There are no trust anchors to check against.
    NotChecked,
    /// Its algorithms cannot be checked here.
    Unsupported,
}

impl ChainState {
    /// Every state (for translation checks).
    pub const ALL: [Self; 4] = [
        Self::Trusted,
        Self::Untrusted,
        Self::NotChecked,
        Self::Unsupported,
    ];

    /// The chain state of `k` now, against `anchors`.
    pub fn of(k: &KnownCertificate, anchors: &[Vec<u8>]) -> Self {
        match check(&k.der, &k.chain, anchors, OffsetDateTime::now_utc()).status {
            ChainStatus::Trusted => Self::Trusted,
            ChainStatus::NotChecked => Self::NotChecked,
            ChainStatus::Untrusted | ChainStatus::Malformed(_) => Self::Untrusted,
            _ => Self::Unsupported,
        }
    }
}

/// Why the last choice was refused.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ErrorView {
    /// What went wrong, for translation.
    pub code: ErrorCode,
    /// The PIN tries left, when the token says.
    pub tries_left: Option<u32>,
    /// English detail for the cases without a translation.
    pub detail: String,
}

/// Why a choice was refused, for translation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ErrorCode {
    /// The password does not open the file.
    WrongPassword,
    /// The token refused the PIN.
    WrongPin,
    /// The PIN is locked.
    PinLocked,
    /// The token was pulled out.
    TokenRemoved,
    /// The key is no longer there.
    NotFound,
    /// The key opened but does not meet the request.
    DoesNotFit,
    /// Anything else (the detail says).
    Other,
}

impl ErrorCode {
    /// Every code (for translation checks).
    pub const ALL: [Self; 7] = [
        Self::WrongPassword,
        Self::WrongPin,
        Self::PinLocked,
        Self::TokenRemoved,
        Self::NotFound,
        Self::DoesNotFit,
        Self::Other,
    ];
}

impl ErrorView {
    /// Why `why` refused the choice.
    pub fn of(why: &Refusal) -> Self {
        let (code, tries_left) = match why {
            Refusal::Key(KeyError::WrongPassword) => (ErrorCode::WrongPassword, None),
            Refusal::Key(KeyError::WrongPin { tries_left, .. }) => {
                (ErrorCode::WrongPin, *tries_left)
            }
            Refusal::Key(KeyError::PinLocked) => (ErrorCode::PinLocked, None),
            Refusal::Key(KeyError::TokenRemoved) => (ErrorCode::TokenRemoved, None),
            Refusal::Key(KeyError::NotFound(_)) => (ErrorCode::NotFound, None),
            Refusal::Mismatch(_) => (ErrorCode::DoesNotFit, None),
            _ => (ErrorCode::Other, None),
        };
        Self {
            code,
            tries_left,
            detail: why.to_string(),
        }
    }
}

/// The product's language for a locale (`kk` unless `ru` or `en`).
pub fn lang(locale: &str) -> Lang {
    match locale {
        "ru" => Lang::Ru,
        "en" => Lang::En,
        _ => Lang::Kk,
    }
}

fn date(t: OffsetDateTime) -> String {
    format!("{:02}.{:02}.{}", t.day(), u8::from(t.month()), t.year())
}

fn opt(v: Option<&String>) -> String {
    v.cloned().unwrap_or_default()
}

/// Every field, in the order the details view shows them; empty ones are left out.
fn fields(d: &CertificateDetails, lang: Lang) -> Vec<(&'static str, String)> {
    let dt = |t: OffsetDateTime| {
        format!(
            "{} {:02}:{:02}:{:02} UTC",
            date(t),
            t.hour(),
            t.minute(),
            t.second()
        )
    };
    let all = [
        ("field.full_name", opt(d.full_name.as_ref())),
        ("field.surname", opt(d.surname.as_ref())),
        ("field.given_name", opt(d.given_name.as_ref())),
        ("field.patronymic", opt(d.patronymic.as_ref())),
        ("cert.iin", opt(d.iin.as_ref())),
        ("cert.bin", opt(d.bin.as_ref())),
        ("field.organization", opt(d.organization.as_ref())),
        ("field.email", opt(d.email.as_ref())),
        ("field.country", opt(d.country.as_ref())),
        ("field.locality", opt(d.locality.as_ref())),
        ("field.state", opt(d.state.as_ref())),
        ("field.subject_cn", opt(d.subject_cn.as_ref())),
        ("field.subject_dn", d.subject_dn.clone()),
        ("field.issuer_dn", d.issuer_dn.clone()),
        ("field.serial", d.serial.to_lowercase()),
        ("field.not_before", dt(d.not_before)),
        ("field.not_after", dt(d.not_after)),
        ("field.algorithm", d.key_algorithm.label()),
        ("field.key_usage", d.key_usage.join(", ")),
        ("field.ext_key_usage", d.ext_key_usage.join(", ")),
        (
            "field.roles",
            d.roles
                .iter()
                .map(|r| r.name(lang).to_owned())
                .chain(d.unknown_roles.iter().cloned())
                .collect::<Vec<_>>()
                .join(", "),
        ),
        ("field.policies", d.policies.join(", ")),
        ("field.subject_key_id", opt(d.subject_key_id.as_ref())),
        ("field.authority_key_id", opt(d.authority_key_id.as_ref())),
        ("field.sha256", d.sha256_fingerprint.clone()),
    ];
    all.into_iter().filter(|(_, v)| !v.is_empty()).collect()
}

impl DetailsView {
    /// `d` as shown in `locale`, with its chain state.
    pub fn of(d: &CertificateDetails, locale: &str, chain: ChainState) -> Self {
        let lang = lang(locale);
        Self {
            chain,
            fields: fields(d, lang),
            full_name: d
                .full_name
                .clone()
                .or_else(|| d.subject_cn.clone())
                .unwrap_or_default(),
            iin: opt(d.iin.as_ref()),
            bin: opt(d.bin.as_ref()),
            organization: opt(d.organization.as_ref()),
            email: opt(d.email.as_ref()),
            roles: d.roles.iter().map(|r| r.name(lang).to_owned()).collect(),
            kind: match d.key_kind {
                KeyKind::Auth => Kind::Auth,
                KeyKind::Sign => Kind::Sign,
                KeyKind::Both => Kind::Both,
                KeyKind::Unknown => Kind::Unknown,
            },
            not_before: date(d.not_before),
            not_after: date(d.not_after),
            issuer: opt(d.issuer_cn.as_ref()),
            serial: d.serial.to_lowercase(),
            algorithm: d.key_algorithm.label(),
        }
    }
}

impl OfferView {
    /// `o` as shown in `locale`; `default` is the person's default certificate's id.
    pub fn of(o: &Offer, locale: &str, anchors: &[Vec<u8>], default: Option<&str>) -> Self {
        let c = &o.candidate;
        let (source, place) = match &c.location {
            Location::File(p) => (
                Source::File,
                p.file_name()
                    .map(|n| n.to_string_lossy().into_owned())
                    .unwrap_or_default(),
            ),
            Location::Token { label, .. } => (Source::Token, label.clone()),
            Location::OsStore { store, .. } => (Source::Os, store.clone()),
        };
        Self {
            id: c.id.clone(),
            storage: c.storage.clone(),
            source,
            place,
            location: c.location.describe(),
            secret: match c.secret {
                SecretKind::Password => SecretView::Password,
                SecretKind::Pin => SecretView::Pin,
                SecretKind::None => SecretView::None,
            },
            few_tries: c.tries.few,
            final_try: c.tries.final_try,
            locked: c.tries.locked,
            usable: o.usable(),
            reason: o.fit.as_ref().err().map(Reason::of),
            is_default: default == Some(c.id.as_str()),
            details: c
                .certificate
                .as_ref()
                .map(|k| DetailsView::of(&k.details, locale, ChainState::of(k, anchors))),
        }
    }
}

impl PurposeView {
    /// What `purpose` asks.
    pub fn of(purpose: &Purpose) -> Self {
        match purpose {
            Purpose::ReadCertificate => Self {
                read_certificate: true,
                ..Self::default()
            },
            Purpose::Sign {
                format,
                documents,
                sizes,
                attached,
                hash_only,
                timestamped,
            } => Self {
                read_certificate: false,
                format: (*format).to_owned(),
                documents: documents.clone(),
                sizes: sizes.clone(),
                attached: *attached,
                hash_only: *hash_only,
                timestamped: *timestamped,
            },
        }
    }
}

impl PromptView {
    /// The question whether the site of `ctx` may use the service, in `locale`.
    pub fn origin(ctx: &CallContext, locale: &str) -> Self {
        Self {
            version: 0,
            kind: PromptKind::Origin,
            origin: match &ctx.origin {
                Origin::Absent => String::new(),
                Origin::Header(h) => h.clone(),
            },
            locale: locale.to_owned(),
            method: String::new(),
            purpose: PurposeView::default(),
            offers: Vec::new(),
            allows_files: false,
            error: None,
            refusals: 0,
            logo: None,
        }
    }

    /// The choice of a key for `request` among `offers`, in `locale`: each certificate's chain
    /// checked against `anchors`; the person's `default` certificate first when it is usable.
    pub fn sign(
        ctx: &CallContext,
        locale: &str,
        request: &KeyRequest<'_>,
        offers: &[Offer],
        anchors: &[Vec<u8>],
        default: Option<&str>,
    ) -> Self {
        let mut offers: Vec<OfferView> = offers
            .iter()
            .map(|o| OfferView::of(o, locale, anchors, default))
            .collect();
        // The default certificate comes first (still with its password asked).
        offers.sort_by_key(|o| !(o.is_default && o.usable));
        Self {
            kind: PromptKind::Sign,
            method: request.method.to_owned(),
            purpose: PurposeView::of(&request.purpose),
            offers,
            allows_files: request.allows(qoltanba_keys::STORAGE_PKCS12),
            logo: request.logo.map(|png| STANDARD.encode(png)),
            ..Self::origin(ctx, locale)
        }
    }

    /// True when `other` shows the same (the versions aside).
    pub fn same_as(&self, other: &Self) -> bool {
        Self {
            version: other.version,
            ..self.clone()
        } == *other
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use qoltanba_keys::{Candidate, Tries};
    use qoltanba_testkit::pki::{LeafSpec, TestPki, Usage};
    use serde_json::json;

    use super::*;
    use crate::prompter::Cancel;

    fn offer(pki: &TestPki, id: &str, fit: Result<(), Mismatch>) -> Offer {
        let leaf = pki.issue(&LeafSpec::individual(Usage::Sign));
        let k = KnownCertificate::from_der(leaf.cert_der, vec![pki.nca.cert_der.clone()]).unwrap();
        Offer {
            candidate: Candidate {
                id: id.into(),
                storage: "PKCS12".into(),
                location: Location::File(format!("/keys/{id}.p12").into()),
                certificate: Some(Arc::new(k)),
                secret: SecretKind::Password,
                tries: Tries::default(),
            },
            fit,
        }
    }

    /// What the window reads: the names `ui/app.js` and `ui/i18n` use.
    #[test]
    fn a_sign_view_carries_each_offers_fields_reason_and_chain() {
        let pki = TestPki::new();
        let offers = [
            offer(&pki, "a", Err(Mismatch::Iin)),
            offer(&pki, "b", Ok(())),
        ];
        let ctx = CallContext::new(
            Origin::Header("https://egov.kz".into()),
            "ru".into(),
            Cancel::new(),
        );
        let filter = crate::KeyFilter::default();
        let request = KeyRequest {
            method: "basics.sign",
            purpose: Purpose::Sign {
                format: "cms",
                documents: vec!["hello".into()],
                sizes: vec![5],
                attached: true,
                hash_only: false,
                timestamped: false,
            },
            filter: &filter,
            storages: &[],
            logo: None,
        };
        let anchors = [pki.root.cert_der.clone()];
        let view = PromptView::sign(&ctx, "ru", &request, &offers, &anchors, Some("b"));
        let v = serde_json::to_value(&view).unwrap();
        assert_eq!(v["kind"], "sign");
        assert_eq!(v["origin"], "https://egov.kz");
        assert_eq!(v["purpose"]["format"], "cms");
        assert_eq!(v["allows_files"], true);
        // The usable default first; the other disabled with its reason.
        assert_eq!(v["offers"][0]["id"], "b");
        assert_eq!(v["offers"][0]["is_default"], true);
        assert_eq!(v["offers"][1]["reason"], "iin");
        assert_eq!(v["offers"][1]["usable"], false);
        let o = &v["offers"][0];
        assert_eq!(o["source"], "file");
        assert_eq!(o["place"], "b.p12");
        assert_eq!(o["location"], "/keys/b.p12");
        assert_eq!(o["secret"], "password");
        let d = &o["details"];
        assert_eq!(d["kind"], "sign");
        assert_eq!(d["chain"], "trusted");
        assert_eq!(d["iin"], "123456789011");
        assert_eq!(d["fields"][0][0], "field.full_name");
        // Roles in the call's language.
        assert!(d["roles"].as_array().is_some_and(|r| !r.is_empty()), "{d}");
        // No anchors: not checked; anchors of another PKI: not trusted.
        let none = PromptView::sign(&ctx, "ru", &request, &offers, &[], None);
        assert_eq!(
            none.offers[0].details.as_ref().unwrap().chain,
            ChainState::NotChecked
        );
        let other = TestPki::new();
        let foreign = [other.root.cert_der.clone()];
        let untrusted = PromptView::sign(&ctx, "ru", &request, &offers, &foreign, None);
        assert_eq!(
            untrusted.offers[0].details.as_ref().unwrap().chain,
            ChainState::Untrusted
        );
        // The same view again is the same; a refusal changes it.
        assert!(view.same_as(&view.clone()));
        let mut refused = view.clone();
        refused.error = Some(ErrorView::of(&Refusal::Key(KeyError::WrongPin {
            tries_left: Some(2),
            few: true,
        })));
        assert!(!view.same_as(&refused));
        assert_eq!(
            serde_json::to_value(refused.error).unwrap(),
            json!({"code": "wrong_pin", "tries_left": 2,
                "detail": "wrong PIN (2 tries left)"})
        );
        let origin = serde_json::to_value(PromptView::origin(&ctx, "kk")).unwrap();
        assert_eq!(origin["kind"], "origin");
        assert_eq!(origin["offers"], json!([]));
    }
}
