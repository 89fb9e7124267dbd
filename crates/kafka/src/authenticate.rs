//! Authentication on a SASL listener (`auth.enabled`), before any other request: Kafka's
//! SaslHandshake then SaslAuthenticate (v1 handshake, what librdkafka and the Java client
//! send), or SaslHandshake v0 then raw length-prefixed SASL tokens (kafka-python). ApiVersions
//! is answered too; any other request closes the connection, as Kafka's authenticator does.
//!
//! The exchange runs one request at a time (clients do not pipeline it), under
//! `auth.max_unauthenticated_request_bytes` per request and `network.handshake_timeout_ms`
//! for the whole of it. A failed login is answered with SASL_AUTHENTICATION_FAILED (raw
//! tokens: the connection is closed) after `auth.failure_delay_ms`, the same for a wrong
//! password and an unknown user, and logged with the peer address.

use std::collections::VecDeque;
use std::net::SocketAddr;
use std::sync::Arc;

use bytes::{BufMut, Bytes, BytesMut};
use futures_util::StreamExt;
use memstream_engine::access::login::{Login, Step};
use memstream_engine::access::{Principal, Session};
use memstream_kafka_wire::api::key;
use memstream_kafka_wire::sasl_authenticate::{self, SaslAuthenticateResponse};
use memstream_kafka_wire::sasl_handshake::{self, SaslHandshakeResponse};
use memstream_kafka_wire::{request, ErrorCode, Request};
use tokio::io::{AsyncRead, AsyncWrite};
use tokio_util::codec::{FramedRead, LengthDelimitedCodec};

use crate::handler::{self, Conn};
use crate::server::Context;

/// How the tokens travel after the handshake.
enum Tokens {
    /// No handshake yet.
    None,
    /// Inside SaslAuthenticate requests (handshake v1).
    Framed(Login, &'static str),
    /// As raw size-prefixed frames (handshake v0).
    Raw(Login, &'static str),
}

/// Runs the exchange; `Ok` is the logged-in session, `Err` why the connection ends.
pub(crate) async fn authenticate<R, W>(
    requests: &mut FramedRead<R, LengthDelimitedCodec>,
    write: &mut W,
    conn: &Conn,
    ctx: &Arc<Context>,
) -> Result<Session, &'static str>
where
    R: AsyncRead + Unpin,
    W: AsyncWrite + Unpin,
{
    let access = &ctx.engine.access;
    let peer = conn.peer;
    let mut tokens = Tokens::None;
    loop {
        let frame = match requests.next().await {
            None => return Err("peer closed before authenticating"),
            Some(Err(e)) if e.kind() == std::io::ErrorKind::InvalidData => {
                ctx.metrics.malformed();
                tracing::warn!(%peer, limit = ctx.settings.auth().max_unauthenticated_request_bytes, "kafka request before authentication over auth.max_unauthenticated_request_bytes; closing the connection");
                return Err("unauthenticated request too large");
            }
            Some(Err(_)) => return Err("read failed"),
            Some(Ok(frame)) => frame.freeze(),
        };
        let len = frame.len();
        if let Tokens::Raw(..) = &tokens {
            let Tokens::Raw(login, mechanism) = std::mem::replace(&mut tokens, Tokens::None) else {
                continue;
            };
            let (login, step) = step(ctx, login, frame).await?;
            match finish(step, ctx, peer, mechanism).await {
                Outcome::Continue(challenge) => {
                    send(write, vec![raw(&challenge)]).await?;
                    tokens = Tokens::Raw(login, mechanism);
                }
                Outcome::Done(message, principal) => {
                    send(write, vec![raw(&message)]).await?;
                    return Ok(access.session(Some(principal), peer.ip()));
                }
                Outcome::Failed(_) => return Err("authentication failed"),
            }
            continue;
        }
        let api_key = memstream_kafka_wire::header::peek(&frame).map(|(k, _, _)| k);
        if api_key == Some(key::API_VERSIONS) {
            match handler::dispatch(frame, ctx, conn) {
                Ok(Some(pending)) => {
                    if let Some(chunks) = pending.await {
                        send(write, chunks).await?;
                    }
                    continue;
                }
                Ok(None) => continue,
                Err(e) => {
                    ctx.metrics.malformed();
                    tracing::warn!(%peer, error = %e, "malformed kafka request; closing the connection");
                    return Err("malformed request");
                }
            }
        }
        let (header, spec, request) = match request::decode(frame) {
            Ok(decoded) => decoded,
            Err(e) => {
                ctx.metrics.malformed();
                tracing::warn!(%peer, error = %e, "malformed kafka request before authentication; closing the connection");
                return Err("malformed request");
            }
        };
        ctx.metrics.request(header.api_key, len);
        let reply = handler::Reply::new(spec, header.api_version, header.correlation_id);
        match (request, std::mem::replace(&mut tokens, Tokens::None)) {
            (Request::SaslHandshake(req), Tokens::None) => {
                let offered = access.mechanisms(conn.tls);
                let mechanisms = offered.iter().map(|m| m.to_string()).collect();
                match access.login(&req.mechanism, peer.ip(), conn.tls) {
                    Ok(login) => {
                        let mechanism = offered
                            .into_iter()
                            .find(|m| *m == req.mechanism)
                            .unwrap_or("SASL");
                        let mut w = reply.writer();
                        let resp = SaslHandshakeResponse {
                            error_code: ErrorCode::NONE,
                            mechanisms,
                        };
                        sasl_handshake::encode(&mut w, reply.version(), &resp);
                        send(write, reply.finish(w)).await?;
                        tokens = match header.api_version {
                            0 => Tokens::Raw(login, mechanism),
                            _ => Tokens::Framed(login, mechanism),
                        };
                    }
                    Err(unsupported) => {
                        access
                            .counters
                            .failures
                            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                        tracing::warn!(%peer, error = %unsupported, "kafka SASL mechanism refused");
                        let mut w = reply.writer();
                        let resp = SaslHandshakeResponse {
                            error_code: ErrorCode::UNSUPPORTED_SASL_MECHANISM,
                            mechanisms,
                        };
                        sasl_handshake::encode(&mut w, reply.version(), &resp);
                        send(write, reply.finish(w)).await?;
                        return Err("unsupported SASL mechanism");
                    }
                }
            }
            (Request::SaslAuthenticate(req), Tokens::Framed(login, mechanism)) => {
                let (login, step) = step(ctx, login, req.auth_bytes).await?;
                let (resp, end) = match finish(step, ctx, peer, mechanism).await {
                    Outcome::Continue(challenge) => {
                        tokens = Tokens::Framed(login, mechanism);
                        (authenticated(ErrorCode::NONE, None, challenge), None)
                    }
                    Outcome::Done(message, principal) => (
                        authenticated(ErrorCode::NONE, None, message),
                        Some(Ok(access.session(Some(principal), peer.ip()))),
                    ),
                    Outcome::Failed(text) => (
                        authenticated(
                            ErrorCode::SASL_AUTHENTICATION_FAILED,
                            Some(text),
                            Vec::new(),
                        ),
                        Some(Err("authentication failed")),
                    ),
                };
                let mut w = reply.writer();
                sasl_authenticate::encode(&mut w, reply.version(), &resp);
                send(write, reply.finish(w)).await?;
                if let Some(end) = end {
                    return end;
                }
            }
            (Request::SaslAuthenticate(_) | Request::SaslHandshake(_), _) => {
                tracing::warn!(%peer, api_key = header.api_key, "kafka SASL request out of order; closing the connection");
                let mut w = reply.writer();
                if header.api_key == key::SASL_HANDSHAKE {
                    let resp = SaslHandshakeResponse {
                        error_code: ErrorCode::ILLEGAL_SASL_STATE,
                        mechanisms: Vec::new(),
                    };
                    sasl_handshake::encode(&mut w, reply.version(), &resp);
                } else {
                    let text = "SaslAuthenticate before a SaslHandshake".to_string();
                    let resp = authenticated(ErrorCode::ILLEGAL_SASL_STATE, Some(text), Vec::new());
                    sasl_authenticate::encode(&mut w, reply.version(), &resp);
                }
                send(write, reply.finish(w)).await?;
                return Err("SASL request out of order");
            }
            (_, _) => {
                tracing::warn!(
                    %peer,
                    api_key = header.api_key,
                    "kafka request before authentication (this listener is SASL: configure security.protocol=SASL_PLAINTEXT or SASL_SSL); closing the connection"
                );
                return Err("request before authentication");
            }
        }
    }
}

fn authenticated(
    error_code: ErrorCode,
    text: Option<String>,
    bytes: Vec<u8>,
) -> SaslAuthenticateResponse {
    SaslAuthenticateResponse {
        error_code,
        error_message: text,
        auth_bytes: Bytes::from(bytes),
        session_lifetime_ms: 0,
    }
}

/// Runs one login step on the blocking pool (PLAIN derives a key: `auth.scram_iterations`
/// rounds of PBKDF2).
async fn step(
    ctx: &Arc<Context>,
    mut login: Login,
    input: Bytes,
) -> Result<(Login, Step), &'static str> {
    let access = ctx.engine.access.clone();
    handler::blocking(move || {
        let now = access.clock_ms();
        let step = login.step(&access, &input, now);
        (login, step)
    })
    .await
    .ok_or("authentication task failed")
}

enum Outcome {
    Continue(Vec<u8>),
    Done(Vec<u8>, Principal),
    Failed(String),
}

/// Logs the step's result; a failure is answered after the failure delay.
async fn finish(step: Step, ctx: &Arc<Context>, peer: SocketAddr, mechanism: &str) -> Outcome {
    let access = &ctx.engine.access;
    match step {
        Step::Challenge(c) => Outcome::Continue(c),
        Step::Success { message, principal } => {
            tracing::info!(%peer, %principal, mechanism, "kafka client authenticated");
            Outcome::Done(message, principal)
        }
        Step::Failure(failure) => {
            tracing::warn!(%peer, mechanism, reason = %failure, "kafka authentication failed");
            tokio::time::sleep(access.failure_delay()).await;
            Outcome::Failed(format!(
                "Authentication failed during authentication due to invalid credentials with SASL mechanism {mechanism}"
            ))
        }
    }
}

/// A raw SASL token frame (after a v0 handshake).
fn raw(token: &[u8]) -> Bytes {
    let mut b = BytesMut::with_capacity(token.len().saturating_add(4));
    b.put_u32(u32::try_from(token.len()).unwrap_or(u32::MAX));
    b.put_slice(token);
    b.freeze()
}

async fn send<W: AsyncWrite + Unpin>(
    write: &mut W,
    chunks: Vec<Bytes>,
) -> Result<(), &'static str> {
    let mut out: VecDeque<Bytes> = chunks.into();
    memstream_net::write_chunks(write, &mut out)
        .await
        .map_err(|_| "write failed")
}
