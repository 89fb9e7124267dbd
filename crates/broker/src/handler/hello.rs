//! HELLO: negotiates the protocol version and announces the connection's limits.

use std::ops::RangeInclusive;

use bytes::BytesMut;
use memstream_protocol::{ErrorCode, Frame, HelloRequest, HelloResponse, Limits};

use super::{Action, Context, Response, Session};

/// Protocol versions this server speaks.
pub(crate) const SUPPORTED_VERSIONS: RangeInclusive<u8> = 1..=1;

/// Completes the handshake, or refuses it.
pub(crate) fn apply(
    hello: HelloRequest,
    frame: &Frame,
    session: &mut Session,
    ctx: &Context<'_>,
) -> Action {
    if session.version.is_some() {
        return Action::Reply(Response::from(Frame::error_response(
            frame,
            ErrorCode::AlreadyHandshaken,
            "HELLO was already completed on this connection",
        )));
    }
    let Some(version) = hello.negotiate(SUPPORTED_VERSIONS) else {
        ctx.shared.metrics.handshake_failed();
        let message = format!(
            "client speaks versions {}..={}, server speaks {}..={}",
            hello.min_version,
            hello.max_version,
            SUPPORTED_VERSIONS.start(),
            SUPPORTED_VERSIONS.end()
        );
        return Action::Fatal(
            Frame::error_response(frame, ErrorCode::UnsupportedVersion, &message),
            ErrorCode::UnsupportedVersion,
        );
    };
    session.version = Some(version);
    session.client_name = hello.client_name;
    session.peer_max_frame_bytes = hello.max_frame_bytes;
    let access = &ctx.shared.engine.access;
    let peer = session
        .peer
        .unwrap_or(std::net::IpAddr::V4(std::net::Ipv4Addr::UNSPECIFIED));
    let cert = session
        .cert_name
        .as_deref()
        .map(memstream_engine::access::Principal::user);
    let auth_mechanisms = match cert {
        // Mutual TLS: the certificate is the login.
        Some(_) => Vec::new(),
        None => super::auth::mechanisms(ctx, session.tls),
    };
    if auth_mechanisms.is_empty() {
        // The client certificate's principal, or security off (`User:ANONYMOUS`).
        session.principal = Some(std::sync::Arc::new(access.session(cert, peer)));
    }
    ctx.shared.metrics.handshake_ok();
    let response = HelloResponse {
        version,
        server_name: ctx.shared.info.name.to_owned(),
        server_version: ctx.shared.info.version.to_owned(),
        server_id: ctx.shared.info.node_id,
        limits: Limits {
            max_frame_bytes: ctx.limits.max_frame_bytes,
            max_in_flight_requests: u64::from(ctx.limits.max_in_flight_requests),
            max_write_queue_bytes: ctx.limits.max_write_queue_bytes,
            idle_timeout_ms: ctx.limits.idle_timeout_ms,
        },
        auth_mechanisms,
    };
    let mut payload = BytesMut::new();
    response.encode(&mut payload);
    Action::Reply(Frame::response(frame, payload.freeze()).into())
}
