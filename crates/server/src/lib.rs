//! The thin async edge of Qoltanba: a WebSocket server that speaks NCALayer's protocol on
//! `127.0.0.1:13579` (PROTOCOL.md §1), over TLS with a per-install local certificate ([`tls`]).
//!
//! It accepts loopback peers only, checks `Host` (DNS rebinding) and refuses origins the admin
//! denies before the upgrade, answers a plain `GET` with a small status page, sends the greeting,
//! echoes heartbeats at once (even while a request waits for a person), handles one request at a
//! time per connection in order on a blocking thread, and never sends anything unsolicited.
//! All protocol logic lives in [`qoltanba_protocol::Dispatcher`]; what is kept on the computer
//! (paths, settings, the admin policy, history, site decisions, trust stores) in
//! `qoltanba_local`. Besides the socket: the engine builder ([`engine`]) that `qoltanba serve`
//! and the desktop app start, the local TLS certificate ([`tls`]), and the blocking HTTP
//! clients of the TSA and the revocation check ([`tsa`], [`revocation`]).
// Denied, not forbidden: memory.rs calls glibc's malloc_trim, the one exception.
#![deny(unsafe_code)]

mod conn;
pub mod engine;
mod fetch;
mod memory;
pub mod port;
pub mod revocation;
pub mod tls;
pub mod tsa;

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use qoltanba_protocol::Dispatcher;
use tokio::net::TcpListener;
use tokio::sync::{Semaphore, watch};
use tokio::task::JoinSet;
use tokio_rustls::TlsAcceptor;
use tokio_rustls::rustls;

/// The port NCALayer listens on.
pub const DEFAULT_PORT: u16 = 13579;
/// Default largest WebSocket message: a 50 MB document as base64 inside JSON is ~67 MB.
pub const DEFAULT_MAX_MESSAGE: usize = 96 << 20;

/// Server limits and options.
#[derive(Clone)]
pub struct ServerOptions {
    /// TLS configuration; `None` serves plain `ws://` (tests, or behind another terminator).
    pub tls: Option<Arc<rustls::ServerConfig>>,
    /// Largest message accepted; larger ones close that connection (1009).
    pub max_message: usize,
    /// Most connections at once; more wait in the accept queue.
    pub max_connections: usize,
    /// A connection with no frame for this long is closed.
    pub idle_timeout: Duration,
    /// Time allowed for the TLS and HTTP handshakes.
    pub handshake_timeout: Duration,
    /// Longest one request may take, prompts included; then the page gets a time-out error
    /// and the prompt closes.
    pub request_timeout: Duration,
    /// Most bytes of requests one connection may have waiting (received, not yet handled);
    /// more closes that connection (1008), so a page cannot queue gigabytes.
    pub max_pending_bytes: usize,
}

impl Default for ServerOptions {
    fn default() -> Self {
        Self {
            tls: None,
            max_message: DEFAULT_MAX_MESSAGE,
            max_connections: 2048,
            idle_timeout: Duration::from_hours(1),
            handshake_timeout: Duration::from_secs(10),
            request_timeout: Duration::from_mins(10),
            max_pending_bytes: 2 * DEFAULT_MAX_MESSAGE,
        }
    }
}

/// Serves until `shutdown` turns true, then stops accepting and closes connections.
pub async fn serve(
    listener: TcpListener,
    dispatcher: Arc<Dispatcher>,
    options: ServerOptions,
    mut shutdown: watch::Receiver<bool>,
) -> std::io::Result<()> {
    let local: SocketAddr = listener.local_addr()?;
    let acceptor = options.tls.clone().map(TlsAcceptor::from);
    let slots = Arc::new(Semaphore::new(options.max_connections));
    let options = Arc::new(options);
    let mut tasks = JoinSet::new();
    loop {
        let permit = tokio::select! {
            p = slots.clone().acquire_owned() => match p { Ok(p) => p, Err(_) => break },
            _ = shutdown.changed() => break,
        };
        let accepted = tokio::select! {
            r = listener.accept() => r,
            _ = shutdown.changed() => break,
        };
        let Ok((stream, peer)) = accepted else {
            // Out of file descriptors and the like: back off instead of spinning.
            tokio::time::sleep(Duration::from_millis(50)).await;
            continue;
        };
        // Reap finished connection tasks so the set does not grow without bound.
        while tasks.try_join_next().is_some() {}
        if !peer.ip().is_loopback() {
            // PROTOCOL.md §1.1: loopback peers only.
            drop(stream);
            continue;
        }
        let dispatcher = dispatcher.clone();
        let acceptor = acceptor.clone();
        let options = options.clone();
        let shutdown = shutdown.clone();
        tasks.spawn(async move {
            let _permit = permit;
            let _ = stream.set_nodelay(true);
            conn::handle(stream, acceptor, dispatcher, options, local, shutdown).await;
        });
    }
    tasks.shutdown().await;
    Ok(())
}
