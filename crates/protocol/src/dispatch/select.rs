//! Choosing a key: gather the candidates of every provider the request allows, mark those that
//! do not fit with their reason, let the person choose and give the secret, open the key here
//! (never in the prompter), re-check it, and on a refusal tell the person and ask again, a
//! bounded number of times.

use std::sync::Arc;

use qoltanba_keys::{KeyError, KeyFiles, KeyProvider, STORAGE_PKCS12, SigningKey};
use time::OffsetDateTime;

use crate::filter::Mismatch;
use crate::prompter::{
    AfterRefusal, CallContext, CancelReason, Choice, KeyRequest, Offer, PromptError, Prompter,
    Refusal,
};
use crate::wire::Failure;

/// Most choices one request may try (wrong passwords, keys that do not fit) before it fails.
pub const MAX_ATTEMPTS: usize = 5;

/// Where keys come from.
pub(super) struct Sources<'a> {
    pub(super) providers: &'a [Arc<dyn KeyProvider>],
    pub(super) files: Option<&'a KeyFiles>,
    pub(super) anchors: &'a [Vec<u8>],
}

/// The failure for a call whose cancel signal fired.
pub(super) fn cancelled(ctx: &CallContext) -> Failure {
    match ctx.cancel.reason() {
        Some(CancelReason::TimedOut) => Failure::TimedOut,
        _ => Failure::Cancelled,
    }
}

/// Every candidate of an allowed storage, with its provider's index and its fit.
fn offers(src: &Sources<'_>, request: &KeyRequest<'_>) -> Vec<(usize, Offer)> {
    let now = OffsetDateTime::now_utc();
    let mut out = Vec::new();
    for (i, p) in src.providers.iter().enumerate() {
        if !request.storages.is_empty() && !request.storages.iter().any(|s| p.may_offer(s)) {
            continue;
        }
        for candidate in p.candidates().candidates {
            if !request.allows(&candidate.storage) {
                continue;
            }
            let fit = candidate.certificate.as_ref().map_or(Ok(()), |k| {
                request
                    .filter
                    .check_certificate(&k.details, &k.der, &k.chain, src.anchors, now)
            });
            out.push((i, Offer { candidate, fit }));
        }
    }
    out
}

/// "No key": a token-only request with no token of its kinds gets the clearer error; otherwise
/// the reasons of the keys that were there (no names, no paths: the page must not learn which
/// keys a person has).
fn no_key(request: &KeyRequest<'_>, offers: &[Offer]) -> Failure {
    let wants_tokens = request.storages.iter().any(|s| s != STORAGE_PKCS12);
    if wants_tokens && offers.iter().all(|o| o.candidate.storage == STORAGE_PKCS12) {
        return Failure::NoToken;
    }
    let mut reasons: Vec<String> = offers
        .iter()
        .filter_map(|o| o.fit.as_ref().err().map(ToString::to_string))
        .collect();
    reasons.sort();
    reasons.dedup();
    Failure::NoMatchingKey(reasons)
}

/// An opened key and the certificate (DER) its offer was checked with, if any.
type Opened<'o> = (Box<dyn SigningKey>, Option<&'o [u8]>);

/// Opens the chosen key. With it comes the certificate the offer was already checked with (if
/// any), so that a key that opens with that very certificate is not checked twice.
fn open<'o>(
    src: &Sources<'_>,
    request: &KeyRequest<'_>,
    offers: &'o [(usize, Offer)],
    choice: Choice,
) -> Result<Opened<'o>, Refusal> {
    match choice {
        Choice::Offer { id, secret } => {
            let (i, offer) = offers
                .iter()
                .find(|(_, o)| o.candidate.id == id)
                .ok_or(Refusal::UnknownChoice)?;
            if let Err(m) = &offer.fit {
                return Err(Refusal::Mismatch(m.clone()));
            }
            if offer.candidate.tries.locked {
                return Err(Refusal::Key(KeyError::PinLocked));
            }
            let checked = offer
                .candidate
                .certificate
                .as_ref()
                .map(|c| c.der.as_slice());
            Ok((src.providers[*i].open(&offer.candidate, &secret)?, checked))
        }
        Choice::Refresh => Err(Refusal::UnknownChoice),
        Choice::File { path, secret } => {
            if !request.allows(STORAGE_PKCS12) {
                return Err(Refusal::Mismatch(Mismatch::Storage("key files".into())));
            }
            let files = src.files.ok_or_else(|| {
                Refusal::Key(KeyError::NotFound("key files are not offered here".into()))
            })?;
            Ok((files.open_path(&path, &secret)?, None))
        }
    }
}

/// Runs the choice until a key opens and fits, the person gives up, or the page leaves.
pub(super) fn choose(
    src: &Sources<'_>,
    prompter: &dyn Prompter,
    ctx: &CallContext,
    request: &KeyRequest<'_>,
) -> Result<Box<dyn SigningKey>, Failure> {
    let mut last: Option<Refusal> = None;
    let mut attempts = 0;
    // Refreshes are not attempts; the request's time budget (its cancel signal) bounds them.
    while attempts < MAX_ATTEMPTS {
        if ctx.cancel.is_cancelled() {
            return Err(cancelled(ctx));
        }
        let offers = offers(src, request);
        let shown: Vec<Offer> = offers.iter().map(|(_, o)| o.clone()).collect();
        let choice = prompter.choose_key(ctx, request, &shown);
        if ctx.cancel.is_cancelled() {
            return Err(cancelled(ctx));
        }
        let choice = match choice {
            Ok(Choice::Refresh) => continue,
            Ok(c) => c,
            Err(PromptError::NoMatchingKey) => return Err(no_key(request, &shown)),
            Err(PromptError::RateLimited) => return Err(Failure::RateLimited),
            Err(PromptError::Unavailable(why)) => return Err(Failure::Unavailable(why)),
            Err(_) => return Err(Failure::Cancelled),
        };
        attempts += 1;
        let refusal = match open(src, request, &offers, choice) {
            Ok((key, checked)) => {
                let fit = if checked == Some(key.certificate_der()) {
                    // The offer was checked with this very certificate a moment ago.
                    Ok(())
                } else {
                    let now = OffsetDateTime::now_utc();
                    request.filter.check(key.as_ref(), src.anchors, now)
                };
                match fit {
                    Ok(()) if prompter.confirm(ctx, request, key.details()) => return Ok(key),
                    Ok(()) if ctx.cancel.is_cancelled() => return Err(cancelled(ctx)),
                    Ok(()) => return Err(Failure::Cancelled),
                    Err(m) => Refusal::Mismatch(m),
                }
            }
            Err(r) => r,
        };
        let after = prompter.refused(ctx, request, &refusal);
        last = Some(refusal);
        if after == AfterRefusal::GiveUp {
            break;
        }
    }
    Err(match last {
        Some(Refusal::Key(k)) => Failure::Key(k),
        Some(Refusal::Mismatch(m)) => Failure::Mismatch(m),
        Some(_) | None => Failure::NoMatchingKey(Vec::new()),
    })
}
