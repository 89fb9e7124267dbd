//! One Kafka connection: read size-prefixed requests (at most `kafka.max_request_bytes`
//! each), dispatch them, and write the responses in request order, as Kafka requires.
//!
//! Requests are pipelined up to `kafka.max_in_flight_requests`: each dispatch returns a
//! future (appends happen at dispatch, in request order; waits for durability, long polls and
//! blocking work happen in the future), the futures run concurrently in a `FuturesOrdered`,
//! and the responses that are ready together go out in one vectored write. A request that
//! cannot be decoded, an unknown API key, or a size over the limit closes the connection (as
//! Kafka brokers do), with a log line and `memstream_kafka_malformed_requests_total`.
//!
//! With `auth.enabled` the listener is SASL: the connection first authenticates
//! ([`crate::authenticate`]), one request at a time under the smaller
//! `auth.max_unauthenticated_request_bytes`, then runs as above as its principal.

use std::collections::VecDeque;
use std::net::SocketAddr;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use futures_util::stream::{FuturesOrdered, StreamExt};
use futures_util::FutureExt;
use tokio_util::codec::{FramedRead, LengthDelimitedCodec};

use crate::authenticate::authenticate;
use crate::handler::{self, Conn};
use crate::server::Context;

/// Serves `socket` until the peer closes, a request is malformed, or the server shuts down.
pub(crate) async fn serve<S: memstream_net::tls::Stream>(
    socket: S,
    peer: SocketAddr,
    cert_name: Option<String>,
    tls: bool,
    ctx: Arc<Context>,
) {
    ctx.metrics.connection_opened();
    let end = run(socket, peer, cert_name, tls, &ctx).await;
    ctx.metrics.connection_closed();
    tracing::debug!(%peer, end, "kafka connection closed");
}

async fn run<S: memstream_net::tls::Stream>(
    socket: S,
    peer: SocketAddr,
    cert_name: Option<String>,
    tls: bool,
    ctx: &Arc<Context>,
) -> &'static str {
    let cfg = ctx.settings.kafka();
    let (read, mut write) = tokio::io::split(socket);
    let access = &ctx.engine.access;
    // A verified client certificate is the login (an SSL listener with client auth), else
    // with security on the listener is SASL.
    let cert = cert_name.map(memstream_engine::access::Principal::user);
    let sasl = access.enabled() && cert.is_none();
    let first_limit = match sasl {
        true => ctx.settings.auth().max_unauthenticated_request_bytes,
        false => cfg.max_request_bytes,
    };
    let codec = LengthDelimitedCodec::builder()
        .length_field_length(4)
        .max_frame_length(first_limit as usize)
        .new_codec();
    let mut requests = FramedRead::with_capacity(read, codec, 64 << 10);
    let registered = ctx.connections.register(
        memstream_net::registry::Protocol::Kafka,
        Some(peer),
        tls,
        wall_ms(),
    );
    let entry = registered.conn().clone();
    let mut conn = Conn {
        id: entry.id,
        peer,
        tls,
        session: Arc::new(access.session(cert, peer.ip())),
    };
    if sasl {
        let limit = Duration::from_millis(ctx.settings.handshake_timeout_ms());
        let login = authenticate(&mut requests, &mut write, &conn, ctx);
        conn.session = tokio::select! {
            () = ctx.shutdown.cancelled() => return "shutdown before authenticating",
            outcome = tokio::time::timeout(limit, login) => match outcome {
                Ok(Ok(session)) => Arc::new(session),
                Ok(Err(end)) => return end,
                Err(_) => {
                    access.counters.failures.fetch_add(1, Ordering::Relaxed);
                    tracing::warn!(%peer, timeout_ms = limit.as_millis() as u64, "kafka client did not authenticate within network.handshake_timeout_ms; closing the connection");
                    return "authentication timed out";
                }
            },
        };
        requests
            .decoder_mut()
            .set_max_frame_length(cfg.max_request_bytes as usize);
    }
    entry.set_principal(&conn.session.principal().to_string());
    let mut named = false;
    let mut in_flight = FuturesOrdered::new();
    let max_in_flight = cfg.max_in_flight_requests.max(1) as usize;
    let mut out: VecDeque<Bytes> = VecDeque::new();
    let mut reading = true;
    loop {
        if !reading && in_flight.is_empty() {
            return "peer closed";
        }
        tokio::select! {
            biased;
            () = ctx.shutdown.cancelled(), if reading => {
                // Stop reading; answer what was asked (long polls end at shutdown).
                reading = false;
            }
            () = entry.closed(), if reading => {
                tracing::info!(%peer, "kafka connection closed by an administrator");
                reading = false;
            }
            Some(response) = in_flight.next(), if !in_flight.is_empty() => {
                queue(&mut out, response);
                // Responses already finished behind this one share the write.
                while let Some(Some(response)) = in_flight.next().now_or_never() {
                    queue(&mut out, response);
                }
                let bytes: usize = out.iter().map(Bytes::len).sum();
                if let Err(e) = memstream_net::write_chunks(&mut write, &mut out).await {
                    tracing::debug!(%peer, error = %e, "kafka write failed");
                    return "write failed";
                }
                ctx.metrics.bytes_out(bytes);
                entry.wrote(bytes);
            }
            request = requests.next(), if reading && in_flight.len() < max_in_flight => {
                match request {
                    None => reading = false,
                    // The codec reports a size over the limit as InvalidData; anything else
                    // is the socket failing (a reset by the client), not a bad request.
                    Some(Err(e)) if e.kind() == std::io::ErrorKind::InvalidData => {
                        ctx.metrics.malformed();
                        if !tls && requests.read_buffer().first() == Some(&memstream_net::tls::HANDSHAKE_RECORD) {
                            tracing::warn!(%peer, "a TLS client connected to the Kafka listener, which has no TLS: set kafka.tls.cert_file, or use security.protocol=PLAINTEXT or SASL_PLAINTEXT");
                            return "TLS on a plaintext listener";
                        }
                        tracing::warn!(%peer, error = %e, limit = cfg.max_request_bytes, "kafka request refused (kafka.max_request_bytes); closing the connection");
                        return "request too large";
                    }
                    Some(Err(e)) => {
                        tracing::debug!(%peer, error = %e, "kafka read failed");
                        return "read failed";
                    }
                    Some(Ok(frame)) => {
                        let frame = frame.freeze();
                        entry.request_in(frame.len() + 4);
                        if !named {
                            named = true;
                            if let Some(client_id) = client_id(&frame) {
                                entry.set_client(client_id);
                            }
                        }
                        match handler::dispatch(frame, ctx, &conn) {
                            Ok(Some(response)) => in_flight.push_back(response),
                            Ok(None) => {}
                            Err(e) => {
                                ctx.metrics.malformed();
                                tracing::warn!(%peer, error = %e, "malformed kafka request; closing the connection");
                                return "malformed request";
                            }
                        }
                    }
                }
            }
        }
    }
}

/// The `client.id` of a request header (v1 and later: after the API key, version and
/// correlation id, a nullable INT16-length string).
fn client_id(frame: &[u8]) -> Option<&str> {
    let len = i16::from_be_bytes(frame.get(8..10)?.try_into().ok()?);
    let len = usize::try_from(len).ok()?;
    std::str::from_utf8(frame.get(10..10 + len)?).ok()
}

fn wall_ms() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
}

fn queue(out: &mut VecDeque<Bytes>, response: Option<Vec<Bytes>>) {
    if let Some(chunks) = response {
        out.extend(chunks);
    }
}
