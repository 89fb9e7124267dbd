//! The admin HTTP listener: `GET /metrics` (Prometheus text) and `GET /health`.
//!
//! With security on (`auth.enabled`), `/metrics` needs `Authorization: Bearer <token>` (from
//! `memstream token create`) or `Basic` (a user of the store), for a principal with DESCRIBE
//! on the cluster; otherwise 401 (no or bad credentials, after the failure delay) or 403.
//! `/health` stays open, for load balancers and orchestrators.
//!
//! A deliberately small HTTP/1.1 server: one request per connection, the request head bounded
//! by [`REQUEST_HEAD_BYTES_MAX`] and `admin.request_timeout_ms`, connections bounded by
//! `admin.max_connections`. Parsing is done by `httparse`, which never panics on bad input.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::TcpListener;

use std::net::IpAddr;

use memstream_engine::access::{Access, Action as Needs, Principal};

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
        let Ok((stream, peer)) = accepted else {
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
            let _ = tokio::time::timeout(timeout, async {
                match shared.tls.admin.clone() {
                    None => serve(stream, peer.ip(), None, &shared).await,
                    Some(tls) => match tls.accept(stream).await {
                        Ok((stream, cert_name)) => serve(stream, peer.ip(), cert_name, &shared).await,
                        Err(e) => {
                            tracing::warn!(%peer, error = %e, "TLS refused on the admin listener (admin.tls): use https://");
                            Ok(())
                        }
                    },
                }
            })
            .await;
            open.fetch_sub(1, Ordering::Relaxed);
        });
    }
}

/// Reads one request head, answers it, closes.
async fn serve<S: AsyncRead + AsyncWrite + Unpin>(
    mut stream: S,
    peer: IpAddr,
    cert_name: Option<String>,
    shared: &Shared,
) -> std::io::Result<()> {
    let mut buf = Vec::with_capacity(1024);
    let parsed = loop {
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
                let authorization = request
                    .headers
                    .iter()
                    .find(|h| h.name.eq_ignore_ascii_case("authorization"))
                    .and_then(|h| std::str::from_utf8(h.value).ok())
                    .map(str::to_owned);
                break Ok((
                    request.method.map(str::to_owned),
                    request.path.map(str::to_owned),
                    authorization,
                ));
            }
            Ok(httparse::Status::Partial) if buf.len() < REQUEST_HEAD_BYTES_MAX => continue,
            Ok(httparse::Status::Partial) => {
                break Err(Answer::text(
                    "431 Request Header Fields Too Large",
                    "request head too large\n",
                ))
            }
            Err(_) => break Err(Answer::text("400 Bad Request", "malformed request\n")),
        }
    };
    let answer = match parsed {
        Ok((method, path, authorization)) => {
            let who = Who {
                authorization,
                cert_name,
                peer,
            };
            route(method.as_deref(), path.as_deref(), who, shared).await
        }
        Err(answer) => answer,
    };
    let Answer {
        status,
        content_type,
        body,
        challenge,
    } = answer;
    let challenge = match challenge {
        true => "www-authenticate: Basic realm=\"memstream\", Bearer realm=\"memstream\"\r\n",
        false => "",
    };
    let head = format!(
        "HTTP/1.1 {status}\r\ncontent-type: {content_type}\r\ncontent-length: {}\r\n{challenge}connection: close\r\n\r\n",
        body.len()
    );
    stream.write_all(head.as_bytes()).await?;
    stream.write_all(body.as_bytes()).await?;
    stream.shutdown().await
}

/// One response.
struct Answer {
    status: &'static str,
    content_type: &'static str,
    body: String,
    /// Whether to ask for credentials (`WWW-Authenticate`).
    challenge: bool,
}

impl Answer {
    fn text(status: &'static str, body: &str) -> Answer {
        Answer {
            status,
            content_type: "text/plain",
            body: body.to_owned(),
            challenge: false,
        }
    }
}

/// Maps a request to its answer.
/// Who sent a request: its credentials, its client certificate's name, its address.
struct Who {
    authorization: Option<String>,
    cert_name: Option<String>,
    peer: IpAddr,
}

async fn route(method: Option<&str>, path: Option<&str>, who: Who, shared: &Shared) -> Answer {
    let path = path.unwrap_or("/").split('?').next().unwrap_or("/");
    match (method, path) {
        (Some("GET"), "/metrics") => {
            if let Err(refused) = authorize(who, shared).await {
                return refused;
            }
            let mut text = shared.metrics.render()
                + &shared.engine.streams.render_sync_metrics()
                + &shared.engine.groups.render_metrics()
                + &shared.engine.access.render_metrics();
            shared.kafka_metrics.render(&mut text);
            Answer {
                status: "200 OK",
                content_type: "text/plain; version=0.0.4; charset=utf-8",
                body: text,
                challenge: false,
            }
        }
        (Some("GET"), "/health") if shared.shutdown.is_cancelled() => {
            Answer::text("503 Service Unavailable", "shutting down\n")
        }
        (Some("GET"), "/health") => Answer::text("200 OK", "ok\n"),
        (Some("GET"), _) => Answer::text("404 Not Found", "not found\n"),
        _ => Answer::text("405 Method Not Allowed", "only GET is supported\n"),
    }
}

/// With security on: a bearer token or HTTP basic credentials of a principal with DESCRIBE
/// on the cluster. A failure waits the failure delay and is logged with the peer.
async fn authorize(who: Who, shared: &Shared) -> Result<(), Answer> {
    let access = shared.engine.access.clone();
    if !access.enabled() {
        return Ok(());
    }
    let Who {
        authorization,
        cert_name,
        peer,
    } = who;
    let unauthorized = || Answer {
        challenge: true,
        ..Answer::text("401 Unauthorized", "authentication required\n")
    };
    let Some(value) = authorization else {
        // Mutual TLS: the client certificate is the login.
        if let Some(name) = cert_name {
            return permitted(&access, Principal::user(name), peer);
        }
        return Err(unauthorized());
    };
    let check = {
        let access = access.clone();
        move || -> Result<Principal, String> {
            let now = access.clock_ms();
            if let Some(token) = value.strip_prefix("Bearer ") {
                return access.check_token(token.trim(), peer, now, crate::writer::now_ms());
            }
            let Some(basic) = value.strip_prefix("Basic ") else {
                return Err("an Authorization header that is neither Bearer nor Basic".into());
            };
            let decoded = base64_decode(basic.trim()).ok_or("Basic credentials not in base64")?;
            let text = String::from_utf8(decoded).map_err(|_| "Basic credentials not UTF-8")?;
            let (user, password) = text
                .split_once(':')
                .ok_or("Basic credentials without a colon")?;
            access
                .check_password(user, password.as_bytes(), peer, now)
                .map_err(|f| f.to_string())
        }
    };
    // A password costs a PBKDF2 derivation: off the runtime.
    let checked = tokio::task::spawn_blocking(check)
        .await
        .unwrap_or_else(|_| Err("the check failed".into()));
    match checked {
        Ok(principal) => permitted(&access, principal, peer),
        Err(why) => {
            tracing::warn!(%peer, reason = %why, "admin authentication failed");
            tokio::time::sleep(access.failure_delay()).await;
            Err(unauthorized())
        }
    }
}

/// Whether `principal` may read the admin endpoints: DESCRIBE on the cluster.
fn permitted(access: &Access, principal: Principal, peer: IpAddr) -> Result<(), Answer> {
    let session = access.session(Some(principal), peer);
    access
        .check(&session, Needs::DescribeCluster)
        .map_err(|denied| {
            tracing::info!(%peer, %denied, "admin request denied by ACL");
            Answer::text("403 Forbidden", &format!("{denied}\n"))
        })
}

/// Standard base64 (RFC 4648, with padding), as HTTP basic sends it.
fn base64_decode(text: &str) -> Option<Vec<u8>> {
    use base64::Engine as _;
    base64::engine::general_purpose::STANDARD.decode(text).ok()
}
