//! Which sites may use the signing service: the admin policy (allow / deny lists, deny wins),
//! the person's remembered approvals, and a per-origin prompt limit.

use std::collections::{HashMap, HashSet, VecDeque};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use qoltanba_pki::CertificateDetails;

use crate::prompter::{
    AfterRefusal, CallContext, Choice, KeyRequest, Offer, OriginDecision, PromptError, Prompter,
    Refusal,
};

pub use crate::prompter::NO_ORIGIN;

/// An admin's origin rules. A pattern is one of:
///
/// * `*` — every origin, including `null` and clients that send none;
/// * `null` — the opaque origin (sandboxed frames, `file:` pages); `(no origin)` — clients that
///   send no `Origin` header (local programs);
/// * `scheme://*` — every host with that scheme, on any port (`http://*`);
/// * `scheme://host`, `scheme://*.domain` (the domain itself and every subdomain), optionally
///   with `:port` or `:*` — without a port only the scheme's default port matches;
/// * the same without `scheme://` (`*.egov.kz`, `egov.kz:8443`) — both `https` and `http`.
///
/// Hosts compare case-insensitively. A pattern that is none of these matches nothing.
#[derive(Debug, Clone, Default)]
pub struct OriginPolicy {
    /// Always allowed, no prompt.
    pub allow: Vec<String>,
    /// Refused without a prompt, before the WebSocket opens; wins over `allow`.
    pub deny: Vec<String>,
}

/// The policy's verdict.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// Allowed by the admin.
    Allowed,
    /// Denied by the admin.
    Denied,
    /// Up to the person.
    Ask,
}

/// An origin taken apart: scheme, host, port (the default one filled in).
struct Parts<'a> {
    scheme: String,
    host: &'a str,
    port: Option<u16>,
}

fn default_port(scheme: &str) -> Option<u16> {
    match scheme {
        "http" | "ws" => Some(80),
        "https" | "wss" => Some(443),
        _ => None,
    }
}

/// Splits `host[:port]`, minding `[v6]` literals. `Err` on a port that is not a number.
fn host_port(s: &str) -> Result<(&str, Option<&str>), ()> {
    if let Some(rest) = s.strip_prefix('[') {
        let (h, after) = rest.split_once(']').ok_or(())?;
        return match after {
            "" => Ok((h, None)),
            p => Ok((h, Some(p.strip_prefix(':').ok_or(())?))),
        };
    }
    Ok(match s.rsplit_once(':') {
        Some((h, p)) => (h, Some(p)),
        None => (s, None),
    })
}

fn parse_origin(origin: &str) -> Option<Parts<'_>> {
    let (scheme, rest) = origin.split_once("://")?;
    let scheme = scheme.to_ascii_lowercase();
    if rest.is_empty() || rest.contains('/') {
        return None;
    }
    let (host, port) = host_port(rest).ok()?;
    let port = match port {
        Some(p) => Some(p.parse().ok()?),
        None => default_port(&scheme),
    };
    Some(Parts { scheme, host, port })
}

fn matches(pattern: &str, origin: &str) -> bool {
    let pattern = pattern.trim();
    if pattern == "*" || pattern == origin {
        return true;
    }
    if pattern == "null" || pattern == NO_ORIGIN || origin == "null" || origin == NO_ORIGIN {
        return false;
    }
    let Some(o) = parse_origin(origin) else {
        return false;
    };
    let (schemes, rest): (Vec<String>, &str) = match pattern.split_once("://") {
        Some((s, r)) => (vec![s.to_ascii_lowercase()], r),
        None => (vec!["https".into(), "http".into()], pattern),
    };
    if !schemes.contains(&o.scheme) {
        return false;
    }
    if rest == "*" {
        return true;
    }
    let Ok((host, port)) = host_port(rest) else {
        return false;
    };
    let port_ok = match port {
        Some("*") => true,
        Some(p) => p.parse::<u16>().ok().is_some_and(|p| Some(p) == o.port),
        None => o.port == default_port(&o.scheme),
    };
    let o_host = o.host.to_ascii_lowercase();
    let host_ok = match host.strip_prefix("*.") {
        Some(domain) => {
            let domain = domain.to_ascii_lowercase();
            !domain.is_empty() && (o_host == domain || o_host.ends_with(&format!(".{domain}")))
        }
        None => o_host == host.to_ascii_lowercase(),
    };
    port_ok && host_ok
}

impl OriginPolicy {
    /// The admin's verdict on an origin ([`crate::Origin::as_key`]).
    pub fn verdict(&self, origin: &str) -> Verdict {
        if self.deny.iter().any(|p| matches(p, origin)) {
            Verdict::Denied
        } else if self.allow.iter().any(|p| matches(p, origin)) {
            Verdict::Allowed
        } else {
            Verdict::Ask
        }
    }
}

/// Where approvals are remembered (a file in the data dir at the edge; memory in tests).
pub trait OriginStore: Send + Sync {
    /// True if the person allowed this origin before.
    fn is_remembered(&self, origin: &str) -> bool;
    /// Remembers an approval.
    fn remember(&self, origin: &str);
    /// True if the person refused this origin before ([`crate::OriginDecision::DenyAlways`]).
    fn is_refused(&self, _origin: &str) -> bool {
        false
    }
    /// Remembers a refusal (a store that keeps none asks again next time).
    fn remember_refusal(&self, _origin: &str) {}
}

/// An [`OriginStore`] in memory: approvals and refusals.
#[derive(Debug, Default)]
pub struct MemoryOriginStore {
    allowed: Mutex<HashSet<String>>,
    refused: Mutex<HashSet<String>>,
}

impl OriginStore for MemoryOriginStore {
    fn is_remembered(&self, origin: &str) -> bool {
        self.allowed.lock().is_ok_and(|s| s.contains(origin))
    }
    fn remember(&self, origin: &str) {
        if let Ok(mut s) = self.refused.lock() {
            s.remove(origin);
        }
        if let Ok(mut s) = self.allowed.lock() {
            s.insert(origin.to_owned());
        }
    }
    fn is_refused(&self, origin: &str) -> bool {
        self.refused.lock().is_ok_and(|s| s.contains(origin))
    }
    fn remember_refusal(&self, origin: &str) {
        if let Ok(mut s) = self.allowed.lock() {
            s.remove(origin);
        }
        if let Ok(mut s) = self.refused.lock() {
            s.insert(origin.to_owned());
        }
    }
}

/// Wraps an interactive prompter so that a page cannot flood the person with dialogs: one
/// origin gets at most `max` prompted calls per `window`, and one at a time (a second call from
/// the same site waits for the first to be over, or for its own page to go away).
pub struct RateLimited<P> {
    inner: P,
    max: usize,
    window: Duration,
    recent: Mutex<HashMap<String, VecDeque<Instant>>>,
    /// Origin → the call holding its one prompt slot.
    busy: Mutex<HashMap<String, u64>>,
    freed: std::sync::Condvar,
    /// Calls admitted (so one call's several questions count once).
    admitted: Mutex<HashSet<u64>>,
}

impl<P: Prompter> RateLimited<P> {
    /// `max` prompted calls per `window` per origin.
    pub fn new(inner: P, max: usize, window: Duration) -> Self {
        Self {
            inner,
            max,
            window,
            recent: Mutex::default(),
            busy: Mutex::default(),
            freed: std::sync::Condvar::new(),
            admitted: Mutex::default(),
        }
    }

    /// The wrapped prompter.
    pub fn inner(&self) -> &P {
        &self.inner
    }

    fn admit(&self, ctx: &CallContext) -> Result<(), PromptError> {
        if self
            .admitted
            .lock()
            .map_err(|_| PromptError::RateLimited)?
            .contains(&ctx.id)
        {
            return Ok(());
        }
        let origin = ctx.origin.as_key().to_owned();
        {
            let now = Instant::now();
            let mut recent = self.recent.lock().map_err(|_| PromptError::RateLimited)?;
            let q = recent.entry(origin.clone()).or_default();
            while q
                .front()
                .is_some_and(|t| now.duration_since(*t) > self.window)
            {
                q.pop_front();
            }
            if q.len() >= self.max {
                return Err(PromptError::RateLimited);
            }
            q.push_back(now);
        }
        // One at a time per origin: wait for the slot, giving up when this page goes away.
        let mut busy = self.busy.lock().map_err(|_| PromptError::RateLimited)?;
        while busy.contains_key(&origin) {
            if ctx.cancel.is_cancelled() {
                return Err(PromptError::Cancelled);
            }
            busy = self
                .freed
                .wait_timeout(busy, Duration::from_millis(100))
                .map_err(|_| PromptError::RateLimited)?
                .0;
        }
        busy.insert(origin, ctx.id);
        drop(busy);
        if let Ok(mut a) = self.admitted.lock() {
            a.insert(ctx.id);
        }
        Ok(())
    }
}

impl<P: Prompter> Prompter for RateLimited<P> {
    fn approve_origin(&self, ctx: &CallContext) -> OriginDecision {
        if self.admit(ctx).is_err() {
            return OriginDecision::Deny;
        }
        self.inner.approve_origin(ctx)
    }

    fn choose_key(
        &self,
        ctx: &CallContext,
        request: &KeyRequest<'_>,
        offers: &[Offer],
    ) -> Result<Choice, PromptError> {
        self.admit(ctx)?;
        self.inner.choose_key(ctx, request, offers)
    }

    fn refused(&self, ctx: &CallContext, request: &KeyRequest<'_>, why: &Refusal) -> AfterRefusal {
        self.inner.refused(ctx, request, why)
    }

    fn confirm(
        &self,
        ctx: &CallContext,
        request: &KeyRequest<'_>,
        details: &CertificateDetails,
    ) -> bool {
        self.inner.confirm(ctx, request, details)
    }

    fn done(&self, ctx: &CallContext) {
        self.inner.done(ctx);
        let was_admitted = self.admitted.lock().is_ok_and(|mut a| a.remove(&ctx.id));
        if was_admitted && let Ok(mut b) = self.busy.lock() {
            b.retain(|_, id| *id != ctx.id);
            self.freed.notify_all();
        }
    }

    fn show(&self, panel: crate::prompter::Panel) -> bool {
        self.inner.show(panel)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::filter::KeyFilter;
    use crate::prompter::{Cancel, Origin, Purpose};

    struct Refuse;
    impl Prompter for Refuse {
        fn approve_origin(&self, _: &CallContext) -> OriginDecision {
            OriginDecision::AllowOnce
        }
        fn choose_key(
            &self,
            _: &CallContext,
            _: &KeyRequest<'_>,
            _: &[Offer],
        ) -> Result<Choice, PromptError> {
            Err(PromptError::Cancelled)
        }
        fn refused(&self, _: &CallContext, _: &KeyRequest<'_>, _: &Refusal) -> AfterRefusal {
            AfterRefusal::GiveUp
        }
    }

    fn ctx(origin: &str) -> CallContext {
        CallContext::new(Origin::Header(origin.into()), "kk".into(), Cancel::new())
    }

    #[test]
    fn prompts_are_rate_limited_per_origin() {
        let p = RateLimited::new(Refuse, 2, Duration::from_mins(1));
        let filter = KeyFilter::default();
        let req = KeyRequest {
            method: "sign",
            purpose: Purpose::ReadCertificate,
            filter: &filter,
            storages: &[],
            logo: None,
        };
        let ask = |c: &CallContext| {
            let r = p.choose_key(c, &req, &[]).err();
            p.done(c);
            r
        };
        assert_eq!(ask(&ctx("https://a.kz")), Some(PromptError::Cancelled));
        // One call asking twice counts once.
        let c = ctx("https://a.kz");
        assert_eq!(
            p.choose_key(&c, &req, &[]).err(),
            Some(PromptError::Cancelled)
        );
        assert_eq!(
            p.choose_key(&c, &req, &[]).err(),
            Some(PromptError::Cancelled)
        );
        p.done(&c);
        // A third call from the same site within the window is refused without asking.
        assert_eq!(ask(&ctx("https://a.kz")), Some(PromptError::RateLimited));
        assert_eq!(p.approve_origin(&ctx("https://a.kz")), OriginDecision::Deny);
        // Other sites are not affected.
        assert_eq!(ask(&ctx("https://b.kz")), Some(PromptError::Cancelled));
    }

    #[test]
    fn a_second_prompt_waits_for_the_first_and_a_page_that_left_frees_the_slot() {
        let p = std::sync::Arc::new(RateLimited::new(Refuse, 100, Duration::from_mins(1)));
        let filter = KeyFilter::default();
        let req = KeyRequest {
            method: "sign",
            purpose: Purpose::ReadCertificate,
            filter: &filter,
            storages: &[],
            logo: None,
        };
        let first = ctx("https://a.kz");
        assert!(p.choose_key(&first, &req, &[]).is_err()); // holds the slot until done
        let second = ctx("https://a.kz");
        let cancel = second.cancel.clone();
        let p2 = p.clone();
        let waiter = std::thread::spawn(move || {
            let filter = KeyFilter::default();
            let req = KeyRequest {
                method: "sign",
                purpose: Purpose::ReadCertificate,
                filter: &filter,
                storages: &[],
                logo: None,
            };
            p2.choose_key(&second, &req, &[]).err()
        });
        std::thread::sleep(Duration::from_millis(150));
        assert!(!waiter.is_finished(), "the second prompt must wait");
        cancel.cancel();
        assert_eq!(waiter.join().ok().flatten(), Some(PromptError::Cancelled));
        p.done(&first);
        // Freed: a third call gets the slot at once.
        let third = ctx("https://a.kz");
        assert_eq!(
            p.choose_key(&third, &req, &[]).err(),
            Some(PromptError::Cancelled)
        );
        p.done(&third);
    }

    #[test]
    fn patterns() {
        let p = OriginPolicy {
            allow: vec!["https://*.egov.kz".into(), "https://sigex.kz".into()],
            deny: vec!["https://bad.egov.kz".into()],
        };
        assert_eq!(p.verdict("https://egov.kz"), Verdict::Allowed);
        assert_eq!(p.verdict("https://idp.egov.kz"), Verdict::Allowed);
        assert_eq!(p.verdict("https://bad.egov.kz"), Verdict::Denied);
        assert_eq!(p.verdict("http://idp.egov.kz"), Verdict::Ask);
        assert_eq!(p.verdict("https://notegov.kz"), Verdict::Ask);
        assert_eq!(p.verdict("https://SIGEX.kz"), Verdict::Allowed);
        // A different port is a different origin unless the pattern says so.
        assert_eq!(p.verdict("https://sigex.kz:8443"), Verdict::Ask);
        assert_eq!(p.verdict("https://sigex.kz:443"), Verdict::Allowed);
        let all = OriginPolicy {
            allow: vec![],
            deny: vec!["*".into()],
        };
        assert_eq!(all.verdict("null"), Verdict::Denied);
        assert_eq!(all.verdict(NO_ORIGIN), Verdict::Denied);
    }

    /// The README's own example (`deny = ["http://*"]`) matched nothing before.
    #[test]
    fn scheme_wildcards_bare_domains_and_ports() {
        let p = OriginPolicy {
            allow: vec![
                "*.gov.kz".into(),
                "https://portal.example:8443".into(),
                "https://dev.example:*".into(),
            ],
            deny: vec!["http://*".into()],
        };
        assert_eq!(p.verdict("http://evil.example"), Verdict::Denied);
        assert_eq!(p.verdict("http://localhost:8080"), Verdict::Denied);
        assert_eq!(p.verdict("http://egov.gov.kz"), Verdict::Denied);
        assert_eq!(p.verdict("https://egov.gov.kz"), Verdict::Allowed);
        assert_eq!(p.verdict("https://gov.kz"), Verdict::Allowed);
        assert_eq!(p.verdict("https://xgov.kz"), Verdict::Ask);
        assert_eq!(p.verdict("https://portal.example:8443"), Verdict::Allowed);
        assert_eq!(p.verdict("https://portal.example"), Verdict::Ask);
        assert_eq!(p.verdict("https://dev.example:3000"), Verdict::Allowed);
        assert_eq!(p.verdict("https://dev.example"), Verdict::Allowed);
        // Opaque and absent origins are matched only by name or by `*`.
        assert_eq!(p.verdict("null"), Verdict::Ask);
        assert_eq!(p.verdict(NO_ORIGIN), Verdict::Ask);
        let named = OriginPolicy {
            allow: vec![NO_ORIGIN.into()],
            deny: vec!["null".into()],
        };
        assert_eq!(named.verdict("null"), Verdict::Denied);
        assert_eq!(named.verdict(NO_ORIGIN), Verdict::Allowed);
        // Garbage neither matches nor panics.
        assert_eq!(p.verdict("https://[::1"), Verdict::Ask);
        assert_eq!(p.verdict("https://a.kz:99999"), Verdict::Ask);
        assert_eq!(p.verdict(""), Verdict::Ask);
    }
}
