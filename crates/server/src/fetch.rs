//! Plain-HTTP fetching for the TSA and revocation clients: one agent shape (a time limit, HTTP
//! errors as statuses) and a size-bounded body.

use std::io::Read as _;
use std::time::Duration;

/// An agent whose every exchange ends within `timeout_secs` (at least 1).
pub(crate) fn agent(timeout_secs: u64) -> ureq::Agent {
    ureq::Agent::config_builder()
        .timeout_global(Some(Duration::from_secs(timeout_secs.max(1))))
        .http_status_as_error(false)
        .build()
        .into()
}

/// The body of a successful answer from `url`, at most `max` bytes.
pub(crate) fn body(
    mut resp: ureq::http::Response<ureq::Body>,
    url: &str,
    max: u64,
) -> Result<Vec<u8>, String> {
    let status = resp.status();
    if !status.is_success() {
        return Err(format!("{url} answered HTTP {status}"));
    }
    let mut out = Vec::new();
    resp.body_mut()
        .as_reader()
        .take(max)
        .read_to_end(&mut out)
        .map_err(|e| format!("{url}: {e}"))?;
    Ok(out)
}
