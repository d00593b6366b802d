//! One connection: TLS, the HTTP request head, then either the status page or the WebSocket.

use std::net::SocketAddr;
use std::sync::Arc;

use futures_util::{SinkExt, StreamExt};
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};

use qoltanba_protocol::origin::Verdict;
use qoltanba_protocol::wire::{self, Failure};
use qoltanba_protocol::{
    Cancel, CancelReason, Connection, Dispatcher, GREETING, HEARTBEAT, Origin,
};
use tokio::io::{AsyncBufReadExt, AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt, BufReader};
use tokio::net::TcpStream;
use tokio::sync::{mpsc, watch};
use tokio_rustls::TlsAcceptor;
use tokio_tungstenite::WebSocketStream;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::handshake::derive_accept_key;
use tokio_tungstenite::tungstenite::protocol::CloseFrame;
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;
use tokio_tungstenite::tungstenite::protocol::{Role, WebSocketConfig};

use crate::ServerOptions;

/// Work for a connection's worker, kept in arrival order.
enum Job {
    /// A text frame for the dispatcher.
    Request(String),
    /// A reply decided at the edge (a binary frame), sent in its turn.
    Reply(String),
}

/// Largest HTTP request head read before the upgrade.
const MAX_HEAD: usize = 16 * 1024;

pub(crate) async fn handle(
    stream: TcpStream,
    acceptor: Option<TlsAcceptor>,
    dispatcher: Arc<Dispatcher>,
    options: Arc<ServerOptions>,
    local: SocketAddr,
    shutdown: watch::Receiver<bool>,
) {
    match acceptor {
        Some(acc) => {
            let Ok(Ok(tls)) =
                tokio::time::timeout(options.handshake_timeout, acc.accept(stream)).await
            else {
                return;
            };
            serve_http(tls, dispatcher, options, local, shutdown).await;
        }
        None => serve_http(stream, dispatcher, options, local, shutdown).await,
    }
}

struct Head {
    method: String,
    path: String,
    host: Option<String>,
    origin: Option<String>,
    upgrade: bool,
    ws_key: Option<String>,
    accept_json: bool,
}

async fn read_head<S: AsyncRead + Unpin>(r: &mut BufReader<S>) -> Option<Head> {
    let mut buf = Vec::with_capacity(1024);
    loop {
        // Bounded before it grows: a line without a newline stops at MAX_HEAD + 1 bytes.
        let room = (MAX_HEAD + 1).saturating_sub(buf.len()) as u64;
        let n = (&mut *r)
            .take(room)
            .read_until(b'\n', &mut buf)
            .await
            .ok()?;
        if n == 0 || buf.len() > MAX_HEAD {
            return None;
        }
        if buf.ends_with(b"\r\n\r\n") || buf.ends_with(b"\n\n") {
            break;
        }
    }
    let mut headers = [httparse::EMPTY_HEADER; 48];
    let mut req = httparse::Request::new(&mut headers);
    req.parse(&buf).ok()?;
    let get = |name: &str| {
        req.headers
            .iter()
            .find(|h| h.name.eq_ignore_ascii_case(name))
            .and_then(|h| std::str::from_utf8(h.value).ok())
            .map(|v| v.trim().to_owned())
    };
    let upgrade = get("upgrade").is_some_and(|u| u.eq_ignore_ascii_case("websocket"));
    Some(Head {
        method: req.method?.to_owned(),
        path: req.path?.to_owned(),
        host: get("host"),
        origin: get("origin"),
        upgrade,
        ws_key: get("sec-websocket-key"),
        accept_json: get("accept").is_some_and(|a| a.contains("application/json")),
    })
}

/// `Host` must name this loopback listener, so a rebinding attack (evil.example resolving to
/// 127.0.0.1) is refused.
fn host_ok(host: Option<&str>, local: SocketAddr) -> bool {
    let Some(host) = host else { return false };
    let port = local.port();
    ["127.0.0.1", "localhost", "[::1]"]
        .iter()
        .any(|h| host.eq_ignore_ascii_case(h) || host.eq_ignore_ascii_case(&format!("{h}:{port}")))
}

async fn respond<S: AsyncWrite + Unpin>(
    s: &mut S,
    status: &str,
    ctype: &str,
    body: &str,
    cors: bool,
) {
    let cors = if cors {
        "Access-Control-Allow-Origin: *\r\n"
    } else {
        ""
    };
    let msg = format!(
        "HTTP/1.1 {status}\r\nContent-Type: {ctype}\r\nContent-Length: {}\r\n{cors}Cache-Control: no-store\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    let _ = s.write_all(msg.as_bytes()).await;
    let _ = s.shutdown().await;
}

async fn serve_http<S: AsyncRead + AsyncWrite + Unpin + Send + 'static>(
    stream: S,
    dispatcher: Arc<Dispatcher>,
    options: Arc<ServerOptions>,
    local: SocketAddr,
    shutdown: watch::Receiver<bool>,
) {
    let mut reader = BufReader::new(stream);
    let Ok(Some(head)) =
        tokio::time::timeout(options.handshake_timeout, read_head(&mut reader)).await
    else {
        return;
    };
    if !host_ok(head.host.as_deref(), local) {
        respond(
            reader.get_mut(),
            "403 Forbidden",
            "text/plain",
            "Host not allowed\n",
            false,
        )
        .await;
        return;
    }
    let origin = head.origin.clone().filter(|o| !o.is_empty());
    let verdict = dispatcher
        .settings()
        .origins
        .verdict(Origin::from_header(origin.as_deref()).as_key());
    if !head.upgrade {
        status_page(reader.get_mut(), &head, origin.as_deref(), verdict).await;
        return;
    }
    if verdict == Verdict::Denied {
        respond(
            reader.get_mut(),
            "403 Forbidden",
            "text/plain",
            "Origin not allowed by policy\n",
            false,
        )
        .await;
        return;
    }
    let Some(key) = head.ws_key.as_deref() else {
        respond(
            reader.get_mut(),
            "400 Bad Request",
            "text/plain",
            "Missing Sec-WebSocket-Key\n",
            false,
        )
        .await;
        return;
    };
    let accept = derive_accept_key(key.as_bytes());
    let reply = format!(
        "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: {accept}\r\n\r\n"
    );
    if reader.get_mut().write_all(reply.as_bytes()).await.is_err() {
        return;
    }
    let config = WebSocketConfig::default()
        .max_message_size(Some(options.max_message))
        .max_frame_size(Some(options.max_message));
    let ws = WebSocketStream::from_raw_socket(reader, Role::Server, Some(config)).await;
    websocket(ws, dispatcher, options, origin, shutdown).await;
}

async fn status_page<S: AsyncWrite + Unpin>(
    s: &mut S,
    head: &Head,
    origin: Option<&str>,
    verdict: Verdict,
) {
    if head.method != "GET" && head.method != "HEAD" {
        respond(
            s,
            "405 Method Not Allowed",
            "text/plain",
            "GET only\n",
            false,
        )
        .await;
        return;
    }
    let allowed = match verdict {
        Verdict::Allowed => "allowed",
        Verdict::Denied => "denied",
        Verdict::Ask => "ask",
    };
    let version = env!("CARGO_PKG_VERSION");
    let json = serde_json::json!({
        "product": "Qoltanba",
        "version": version,
        "protocol": "NCALayer 1.4",
        "origin": origin,
        "origin_policy": allowed,
    })
    .to_string();
    if head.accept_json || head.path.starts_with("/status") {
        respond(s, "200 OK", "application/json", &json, true).await;
    } else {
        let body = format!(
            "<!doctype html><meta charset=utf-8><title>Qoltanba</title>\
             <h1>Qoltanba {version}</h1><p>The signing service is running (NCALayer protocol 1.4).</p>\
             <p>Your site's access: {allowed}.</p>\n"
        );
        respond(s, "200 OK", "text/html; charset=utf-8", &body, true).await;
    }
}

async fn websocket<S: AsyncRead + AsyncWrite + Unpin + Send + 'static>(
    ws: WebSocketStream<S>,
    dispatcher: Arc<Dispatcher>,
    options: Arc<ServerOptions>,
    origin: Option<String>,
    mut shutdown: watch::Receiver<bool>,
) {
    let (mut sink, mut stream) = ws.split();
    let (out_tx, mut out_rx) = mpsc::channel::<Message>(32);
    let (req_tx, req_rx) = mpsc::channel::<Job>(16);

    // Writer: the only place that sends, so frames never interleave.
    let writer = tokio::spawn(async move {
        while let Some(m) = out_rx.recv().await {
            let close = matches!(m, Message::Close(_));
            if sink.send(m).await.is_err() || close {
                break;
            }
        }
        let _ = sink.close().await;
    });
    if out_tx.send(Message::text(GREETING)).await.is_err() {
        return;
    }

    // The page's connection: its origin and locale; `gone` fires when it closes.
    let conn = Arc::new(Connection::new(origin.as_deref()));
    let gone = Cancel::new();
    let current: Arc<Mutex<Option<Cancel>>> = Arc::default();
    let pending = Arc::new(AtomicUsize::new(0));
    // Worker: one request at a time, in order, on a blocking thread (prompts and signing block).

    let worker = tokio::spawn(work(
        req_rx,
        out_tx.clone(),
        dispatcher,
        conn,
        Abandon {
            gone: gone.clone(),
            current: current.clone(),
        },
        pending.clone(),
        options.request_timeout,
    ));

    loop {
        let next = tokio::select! {
            m = tokio::time::timeout(options.idle_timeout, stream.next()) => m,
            _ = shutdown.changed() => break,
        };
        // Idle, closed, or a protocol error (e.g. a message over the limit): end this one
        // connection only.
        let Ok(Some(Ok(msg))) = next else { break };
        match msg {
            Message::Text(t) if t.as_str() == HEARTBEAT => {
                // Answered at once, even while a request is waiting for a person.
                if out_tx.send(Message::text(HEARTBEAT)).await.is_err() {
                    break;
                }
            }
            Message::Text(t) => {
                // The byte budget: requests waiting to be handled.
                let queued = pending.fetch_add(t.len(), Ordering::Relaxed) + t.len();
                if queued > options.max_pending_bytes {
                    let _ = out_tx
                        .send(Message::Close(Some(CloseFrame {
                            code: CloseCode::Policy,
                            reason: "too much data waiting".into(),
                        })))
                        .await;
                    break;
                }
                if req_tx
                    .send(Job::Request(t.as_str().to_owned()))
                    .await
                    .is_err()
                {
                    break;
                }
            }
            Message::Binary(_) => {
                let r = wire::unrouted(&Failure::InvalidFrame("binary frames are not supported"));
                if req_tx.send(Job::Reply(r)).await.is_err() {
                    break;
                }
            }
            Message::Close(_) => break,
            Message::Ping(_) | Message::Pong(_) | Message::Frame(_) => {}
        }
    }
    drop(req_tx);
    // The page left (or the server is stopping): the request in hand is abandoned — its prompt
    // closes and no signature is made — and queued ones are dropped.
    gone.cancel();
    if let Some(c) = current.lock().ok().and_then(|mut c| c.take()) {
        c.cancel();
    }
    let _ = worker.await;
    let _ = out_tx.send(Message::Close(None)).await;
    drop(out_tx);
    let _ = writer.await;
}

/// What abandons a connection's work: `gone` fires when the page leaves; `current` is the
/// cancel signal of the request in hand.
struct Abandon {
    gone: Cancel,
    current: Arc<Mutex<Option<Cancel>>>,
}

/// The connection's worker: one request at a time, in order, each on a blocking thread with
/// its own cancel signal, fired when the page leaves or the request's time is up.
async fn work(
    mut req_rx: mpsc::Receiver<Job>,
    out_tx: mpsc::Sender<Message>,
    dispatcher: Arc<Dispatcher>,
    conn: Arc<Connection>,
    abandon: Abandon,
    pending: Arc<AtomicUsize>,
    timeout: std::time::Duration,
) {
    while let Some(job) = req_rx.recv().await {
        let text = match job {
            Job::Request(t) => t,
            Job::Reply(r) => {
                if out_tx.send(Message::text(r)).await.is_err() {
                    break;
                }
                continue;
            }
        };
        pending.fetch_sub(text.len(), Ordering::Relaxed);
        let _size = crate::memory::Request::new(text.len());
        // A page that left gets nothing more done for it.
        if abandon.gone.is_cancelled() {
            break;
        }
        let cancel = Cancel::new();
        if let Ok(mut c) = abandon.current.lock() {
            *c = Some(cancel.clone());
        }
        if abandon.gone.is_cancelled() {
            cancel.cancel();
        }
        let (d, c, k) = (dispatcher.clone(), conn.clone(), cancel.clone());
        let mut job = tokio::task::spawn_blocking(move || d.handle(&text, &c, &k));
        let reply = if let Ok(r) = tokio::time::timeout(timeout, &mut job).await {
            r
        } else {
            // Time is up: the prompt closes and the call ends with a time-out error.
            cancel.fire(CancelReason::TimedOut);
            job.await
        };
        if let Ok(mut c) = abandon.current.lock() {
            *c = None;
        }
        let reply = match reply {
            Ok(r) => r,
            // A panic in a handler must not take the connection's order with it.
            Err(_) => Some(wire::unrouted(&Failure::Internal)),
        };
        if let Some(r) = reply
            && out_tx.send(Message::text(r)).await.is_err()
        {
            break;
        }
    }
}
