//! Which sites may use the signing service: the admin policy (allow / deny lists, which win),
//! the person's remembered approvals, and a per-origin prompt rate limit.

use std::collections::{HashMap, HashSet, VecDeque};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use qoltanba_keys::SigningKey;

use crate::prompter::{KeyRequest, OriginDecision, PromptError, Prompter};

/// The origin used for clients that send none (Node, native apps).
pub const NO_ORIGIN: &str = "null";

/// An admin's origin rules. Patterns are exact origins (`https://egov.kz`) or a wildcard host
/// (`https://*.egov.kz`, which also matches `https://egov.kz`); `*` matches everything.
#[derive(Debug, Clone, Default)]
pub struct OriginPolicy {
    /// Always allowed, no prompt.
    pub allow: Vec<String>,
    /// Refused without a prompt; wins over `allow`.
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

fn matches(pattern: &str, origin: &str) -> bool {
    if pattern == "*" || pattern.eq_ignore_ascii_case(origin) {
        return true;
    }
    let Some((scheme, host)) = pattern.split_once("://*.") else {
        return false;
    };
    let Some((o_scheme, o_host)) = origin.split_once("://") else {
        return false;
    };
    scheme.eq_ignore_ascii_case(o_scheme)
        && (o_host.eq_ignore_ascii_case(host)
            || o_host
                .to_ascii_lowercase()
                .ends_with(&format!(".{}", host.to_ascii_lowercase())))
}

impl OriginPolicy {
    /// The admin's verdict on an origin.
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
}

/// An [`OriginStore`] in memory.
#[derive(Debug, Default)]
pub struct MemoryOriginStore(Mutex<HashSet<String>>);

impl OriginStore for MemoryOriginStore {
    fn is_remembered(&self, origin: &str) -> bool {
        self.0.lock().is_ok_and(|s| s.contains(origin))
    }
    fn remember(&self, origin: &str) {
        if let Ok(mut s) = self.0.lock() {
            s.insert(origin.to_owned());
        }
    }
}

/// Wraps an interactive prompter so that one origin gets at most `max` prompts per `window`
/// and one prompt at a time: a page cannot flood the person with dialogs.
pub struct RateLimited<P> {
    inner: P,
    max: usize,
    window: Duration,
    recent: Mutex<HashMap<String, VecDeque<Instant>>>,
    busy: Mutex<HashSet<String>>,
}

impl<P: Prompter> RateLimited<P> {
    /// `max` prompts per `window` per origin.
    pub fn new(inner: P, max: usize, window: Duration) -> Self {
        Self {
            inner,
            max,
            window,
            recent: Mutex::default(),
            busy: Mutex::default(),
        }
    }

    fn admit(&self, origin: &str) -> Result<(), PromptError> {
        let now = Instant::now();
        let mut recent = self.recent.lock().map_err(|_| PromptError::RateLimited)?;
        let q = recent.entry(origin.to_owned()).or_default();
        while q
            .front()
            .is_some_and(|t| now.duration_since(*t) > self.window)
        {
            q.pop_front();
        }
        if q.len() >= self.max {
            return Err(PromptError::RateLimited);
        }
        let mut busy = self.busy.lock().map_err(|_| PromptError::RateLimited)?;
        if !busy.insert(origin.to_owned()) {
            return Err(PromptError::RateLimited);
        }
        q.push_back(now);
        Ok(())
    }

    fn done(&self, origin: &str) {
        if let Ok(mut b) = self.busy.lock() {
            b.remove(origin);
        }
    }
}

impl<P: Prompter> Prompter for RateLimited<P> {
    fn pick_key(&self, request: &KeyRequest<'_>) -> Result<Box<dyn SigningKey>, PromptError> {
        let origin = request.origin.unwrap_or(NO_ORIGIN);
        self.admit(origin)?;
        let r = self.inner.pick_key(request);
        self.done(origin);
        r
    }

    fn approve_origin(&self, origin: &str) -> OriginDecision {
        if self.admit(origin).is_err() {
            return OriginDecision::Deny;
        }
        let d = self.inner.approve_origin(origin);
        self.done(origin);
        d
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::filter::KeyFilter;
    use crate::prompter::Purpose;

    struct Refuse;
    impl Prompter for Refuse {
        fn pick_key(&self, _: &KeyRequest<'_>) -> Result<Box<dyn SigningKey>, PromptError> {
            Err(PromptError::Cancelled)
        }
        fn approve_origin(&self, _: &str) -> OriginDecision {
            OriginDecision::AllowOnce
        }
    }

    #[test]
    fn prompts_are_rate_limited_per_origin() {
        let p = RateLimited::new(Refuse, 2, Duration::from_mins(1));
        let filter = KeyFilter::default();
        let req = |origin| KeyRequest {
            origin: Some(origin),
            method: "sign",
            purpose: Purpose::ReadCertificate,
            filter: &filter,
            storages: &[],
            locale: "kk",
        };
        assert_eq!(
            p.pick_key(&req("https://a.kz")).err(),
            Some(PromptError::Cancelled)
        );
        assert_eq!(
            p.pick_key(&req("https://a.kz")).err(),
            Some(PromptError::Cancelled)
        );
        // A third prompt from the same site within the window is refused without asking.
        assert_eq!(
            p.pick_key(&req("https://a.kz")).err(),
            Some(PromptError::RateLimited)
        );
        assert_eq!(p.approve_origin("https://a.kz"), OriginDecision::Deny);
        // Other sites are not affected.
        assert_eq!(
            p.pick_key(&req("https://b.kz")).err(),
            Some(PromptError::Cancelled)
        );
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
        let all = OriginPolicy {
            allow: vec![],
            deny: vec!["*".into()],
        };
        assert_eq!(all.verdict("null"), Verdict::Denied);
    }
}
