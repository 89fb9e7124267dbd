//! The admin HTTP listener: the REST API under `/api/v1` (JSON, and the live view as
//! Server-Sent Events), `GET /metrics` (Prometheus text), `GET /health` and the web console
//! (`/`, [`console`]), on hyper (HTTP/1.1, keep-alive) with axum's router.
//!
//! The request path: [`run`] accepts a connection (TLS when `[admin.tls]` sets a
//! certificate) and [`serve_connection`] hands each request, with the connection's
//! [`Peer`] in its extensions, to the router of [`routes::router`]; a handler authenticates
//! its caller ([`auth::Caller`]: bearer token, HTTP basic or the client certificate, with
//! security on), checks the ACL its action needs, calls the engine, and answers JSON or an
//! [`error::ApiError`].
//!
//! Limits: `admin.max_connections` connections at once (one more is answered 503 and
//! closed, at most as many of those at once again; beyond that the socket is closed),
//! `admin.request_timeout_ms` for reading a request head and for each handler,
//! [`REQUEST_HEAD_BYTES_MAX`] for a request head (431) and `admin.max_request_body_bytes`
//! for a body (413).

mod auth;
mod config;
mod connections;
mod console;
mod error;
mod events;
mod groups;
mod node;
mod records;
mod routes;
mod security;
mod streams;

pub(crate) use routes::ROUTES;

use std::net::IpAddr;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use axum::body::Body;
use axum::http::{Request, Response};
use axum::response::IntoResponse as _;
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::TcpListener;

use crate::state::Shared;

/// Largest request head (request line plus headers) read from an admin client.
pub const REQUEST_HEAD_BYTES_MAX: usize = 8192;

/// The header that carries a request's id, both ways.
const REQUEST_ID: &str = "x-request-id";

/// Longest request id taken from a client; a longer or odd one is replaced by ours.
const REQUEST_ID_BYTES_MAX: usize = 64;

static NEXT_REQUEST: AtomicU64 = AtomicU64::new(1);

/// The client's `X-Request-Id` when it is short printable ASCII (a proxy's, to correlate
/// logs), else `a<n>`, unique for the process's life. Answered in the same header, and
/// logged with failed and slow requests.
fn request_id<B>(request: &Request<B>) -> String {
    let given = request
        .headers()
        .get(REQUEST_ID)
        .and_then(|v| v.to_str().ok())
        .filter(|v| {
            !v.is_empty()
                && v.len() <= REQUEST_ID_BYTES_MAX
                && v.bytes().all(|b| b.is_ascii_graphic())
        });
    match given {
        Some(id) => id.to_owned(),
        None => format!("a{}", NEXT_REQUEST.fetch_add(1, Ordering::Relaxed)),
    }
}

/// Who is on the other end of a connection, put in every request's extensions.
#[derive(Clone, Debug)]
pub(crate) struct Peer {
    /// The client's address.
    pub ip: IpAddr,
    /// The verified client certificate's name (mutual TLS).
    pub cert_name: Option<String>,
}

/// Serves admin requests until shutdown.
pub(crate) async fn run(listener: TcpListener, shared: Arc<Shared>) {
    let app = routes::router(shared.clone());
    let open = Arc::new(AtomicUsize::new(0));
    let refusing = Arc::new(AtomicUsize::new(0));
    let shutdown = shared.shutdown.clone();
    loop {
        let accepted = tokio::select! {
            () = shutdown.cancelled() => return,
            accepted = listener.accept() => accepted,
        };
        let Ok((stream, addr)) = accepted else {
            tokio::time::sleep(Duration::from_millis(50)).await;
            continue;
        };
        let cfg = shared.config.load();
        let max = cfg.admin.max_connections as usize;
        let timeout = Duration::from_millis(cfg.admin.request_timeout_ms);
        let over = open.load(Ordering::Relaxed) >= max;
        let counter = match over {
            false => open.clone(),
            // Over the limit: answered 503 by a bounded number of refusal tasks.
            true if refusing.load(Ordering::Relaxed) < max => refusing.clone(),
            true => continue,
        };
        counter.fetch_add(1, Ordering::Relaxed);
        let app = match over {
            false => app.clone(),
            true => routes::refusal(),
        };
        let shared = shared.clone();
        tokio::spawn(async move {
            let work = async {
                let ip = addr.ip();
                match shared.tls.admin.clone() {
                    None => {
                        let peer = Peer {
                            ip,
                            cert_name: None,
                        };
                        serve_connection(stream, peer, app, timeout, &shared).await;
                    }
                    Some(tls) => match tokio::time::timeout(timeout, tls.accept(stream)).await {
                        Ok(Ok((stream, cert_name))) => {
                            let peer = Peer { ip, cert_name };
                            serve_connection(stream, peer, app, timeout, &shared).await;
                        }
                        Ok(Err(e)) => {
                            tracing::warn!(peer = %addr, error = %e, "TLS refused on the admin listener (admin.tls): use https://");
                        }
                        Err(_) => tracing::debug!(peer = %addr, "admin TLS handshake timed out"),
                    },
                }
            };
            shared.metrics.admin_connection(1);
            work.await;
            shared.metrics.admin_connection(-1);
            counter.fetch_sub(1, Ordering::Relaxed);
        });
    }
}

/// Serves one connection's requests (HTTP/1.1 keep-alive) until the client closes, a
/// request head takes longer than `timeout`, or the server shuts down.
async fn serve_connection<S>(
    stream: S,
    peer: Peer,
    app: axum::Router,
    timeout: Duration,
    shared: &Shared,
) where
    S: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    let slow_ms = shared.config.load().log.slow_request_ms;
    let service = hyper::service::service_fn(move |request: Request<hyper::body::Incoming>| {
        let mut request = request.map(Body::new);
        request.extensions_mut().insert(peer.clone());
        let id = request_id(&request);
        let (method, path) = (request.method().clone(), request.uri().path().to_owned());
        let mut app = app.clone();
        let started = std::time::Instant::now();
        async move {
            let response = tower_service::Service::call(&mut app, request);
            let mut response = match tokio::time::timeout(timeout, response).await {
                Ok(Ok(response)) => response,
                Ok(Err(never)) => match never {},
                Err(_) => error::ApiError::timeout(timeout).into_response(),
            };
            let elapsed = started.elapsed();
            let status = response.status();
            if status.is_server_error()
                || (slow_ms > 0 && elapsed >= Duration::from_millis(slow_ms))
            {
                tracing::warn!(request_id = %id, %method, path, status = status.as_u16(), elapsed_ms = elapsed.as_millis() as u64, "admin request failed or slow");
            }
            if let Ok(value) = axum::http::HeaderValue::from_str(&id) {
                response.headers_mut().insert(REQUEST_ID, value);
            }
            Ok::<Response<Body>, std::convert::Infallible>(response)
        }
    });
    let connection = hyper::server::conn::http1::Builder::new()
        .timer(hyper_util::rt::TokioTimer::new())
        .header_read_timeout(timeout)
        .max_buf_size(REQUEST_HEAD_BYTES_MAX)
        .serve_connection(hyper_util::rt::TokioIo::new(stream), service);
    tokio::pin!(connection);
    tokio::select! {
        result = connection.as_mut() => {
            if let Err(e) = result {
                tracing::debug!(error = %e, "admin connection ended");
            }
        }
        () = shared.shutdown.cancelled() => {
            connection.as_mut().graceful_shutdown();
            let _ = tokio::time::timeout(timeout, connection).await;
        }
    }
}
