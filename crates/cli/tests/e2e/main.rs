//! End to end: `qoltanba serve` (built with the test-only `unattended` feature) driven by the
//! real `ncalayer-js-client` from npm in Node, over ws and wss, by raw WebSocket clients for
//! robustness, and by headless Chromium. Every signature is checked with openssl / xmlsec1.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
#![allow(clippy::cast_possible_truncation, clippy::needless_pass_by_value)]

mod browser;
mod harness;
mod js_client;
mod revocation;
mod robustness;
mod terminal;
mod timestamps;
mod tokens;
