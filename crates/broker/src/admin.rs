//! The admin HTTP listener: `GET /metrics` (Prometheus text) and `GET /health`.
//!
//! A deliberately small HTTP/1.1 server: one request per connection, the request head bounded
//! by [`REQUEST_HEAD_BYTES_MAX`] and `admin.request_timeout_ms`, connections bounded by
//! `admin.max_connections`. Parsing is done by `httparse`, which never panics on bad input.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

use crate::state::Shared;

/// Largest request head (request line plus headers) read from an admin client.
pub const REQUEST_HEAD_BYTES_MAX: usize = 8192;
/// Most headers parsed in one request.
const HEADERS_MAX: usize = 32;

/// Serves admin requests until shutdown.
pub(crate) async fn run(listener: TcpListener, shared: Arc<Shared>) {
    let open = Arc::new(AtomicUsize::new(0));
    let shutdown = shared.shutdown.clone();
    loop {
        let accepted = tokio::select! {
            () = shutdown.cancelled() => return,
            accepted = listener.accept() => accepted,
        };
        let Ok((stream, _peer)) = accepted else {
            tokio::time::sleep(Duration::from_millis(50)).await;
            continue;
        };
        let cfg = shared.config.load();
        if open.load(Ordering::Relaxed) >= cfg.admin.max_connections as usize {
            // Over the limit: close at once, HTTP clients retry.
            continue;
        }
        open.fetch_add(1, Ordering::Relaxed);
        let timeout = Duration::from_millis(cfg.admin.request_timeout_ms);
        let (shared, open) = (shared.clone(), open.clone());
        tokio::spawn(async move {
            let _ = tokio::time::timeout(timeout, serve(stream, &shared)).await;
            open.fetch_sub(1, Ordering::Relaxed);
        });
    }
}

/// Reads one request head, answers it, closes.
async fn serve(mut stream: TcpStream, shared: &Shared) -> std::io::Result<()> {
    let mut buf = Vec::with_capacity(1024);
    let (status, content_type, body) = loop {
        let mut chunk = [0u8; 1024];
        let n = stream.read(&mut chunk).await?;
        if n == 0 {
            return Ok(());
        }
        buf.extend_from_slice(&chunk[..n]);
        let mut headers = [httparse::EMPTY_HEADER; HEADERS_MAX];
        let mut request = httparse::Request::new(&mut headers);
        match request.parse(&buf) {
            Ok(httparse::Status::Complete(_)) => {
                break route(request.method, request.path, shared);
            }
            Ok(httparse::Status::Partial) if buf.len() < REQUEST_HEAD_BYTES_MAX => continue,
            Ok(httparse::Status::Partial) => {
                break (
                    "431 Request Header Fields Too Large",
                    "text/plain",
                    "request head too large\n".to_owned(),
                )
            }
            Err(_) => {
                break (
                    "400 Bad Request",
                    "text/plain",
                    "malformed request\n".to_owned(),
                )
            }
        }
    };
    let head = format!(
        "HTTP/1.1 {status}\r\ncontent-type: {content_type}\r\ncontent-length: {}\r\nconnection: close\r\n\r\n",
        body.len()
    );
    stream.write_all(head.as_bytes()).await?;
    stream.write_all(body.as_bytes()).await?;
    stream.shutdown().await
}

/// Maps a request to (status, content type, body).
fn route(
    method: Option<&str>,
    path: Option<&str>,
    shared: &Shared,
) -> (&'static str, &'static str, String) {
    let path = path.unwrap_or("/").split('?').next().unwrap_or("/");
    match (method, path) {
        (Some("GET"), "/metrics") => ("200 OK", "text/plain; version=0.0.4; charset=utf-8", {
            let mut text = shared.metrics.render()
                + &shared.engine.streams.render_sync_metrics()
                + &shared.engine.groups.render_metrics();
            shared.kafka_metrics.render(&mut text);
            text
        }),
        (Some("GET"), "/health") if shared.shutdown.is_cancelled() => (
            "503 Service Unavailable",
            "text/plain",
            "shutting down\n".to_owned(),
        ),
        (Some("GET"), "/health") => ("200 OK", "text/plain", "ok\n".to_owned()),
        (Some("GET"), _) => ("404 Not Found", "text/plain", "not found\n".to_owned()),
        _ => (
            "405 Method Not Allowed",
            "text/plain",
            "only GET is supported\n".to_owned(),
        ),
    }
}
