//! AUTH: one step of a SCRAM login over the engine's user store (see docs/protocol.md,
//! "Authentication"). The native protocol offers SCRAM-SHA-256 and SCRAM-SHA-512 only: the
//! password never crosses the wire, and the server's side of SCRAM is a few HMACs, cheap
//! enough to run on the connection's task. A failure is answered after the failure delay
//! with AUTHENTICATION_FAILED, the same for a wrong password and an unknown user; the
//! connection may try again, within the per-address throttle.

use std::sync::Arc;

use bytes::BytesMut;
use memstream_engine::access::login::{Step, PLAIN};
use memstream_protocol::message::{AuthRequest, AuthResponse};
use memstream_protocol::{ErrorCode, Frame};

use super::{Action, Context, Session};

/// The mechanisms a HELLO response lists when security is on.
pub(crate) fn mechanisms(ctx: &Context<'_>, tls: bool) -> Vec<String> {
    let access = &ctx.shared.engine.access;
    if !access.enabled() {
        return Vec::new();
    }
    access
        .mechanisms(tls)
        .into_iter()
        .filter(|m| *m != PLAIN)
        .map(str::to_owned)
        .collect()
}

pub(crate) fn apply(
    auth: AuthRequest,
    frame: &Frame,
    session: &mut Session,
    ctx: &Context<'_>,
) -> Action {
    let error =
        |code, message: &str| Action::Reply(Frame::error_response(frame, code, message).into());
    let access = &ctx.shared.engine.access;
    if !access.enabled() {
        return error(
            ErrorCode::InvalidArgument,
            "authentication is off on this server (auth.enabled = false)",
        );
    }
    if session.principal.is_some() {
        return error(
            ErrorCode::InvalidArgument,
            "this connection is already authenticated",
        );
    }
    let peer = session
        .peer
        .unwrap_or(std::net::IpAddr::V4(std::net::Ipv4Addr::UNSPECIFIED));
    let offered = mechanisms(ctx, session.tls);
    let mut login = match session.login.take() {
        Some((login, mechanism)) if mechanism == auth.mechanism => login,
        _ if !offered.contains(&auth.mechanism) => {
            access
                .counters
                .failures
                .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            tracing::warn!(?peer, mechanism = %auth.mechanism, "native login with a mechanism not offered");
            let message = format!(
                "mechanism {:?} is not offered (offered: {})",
                auth.mechanism,
                offered.join(", ")
            );
            return error(ErrorCode::AuthenticationFailed, &message);
        }
        _ => match access.login(&auth.mechanism, peer, session.tls) {
            Ok(login) => login,
            Err(e) => return error(ErrorCode::AuthenticationFailed, &e.to_string()),
        },
    };
    let reply = |done: bool, data: Vec<u8>| {
        let mut payload = BytesMut::new();
        AuthResponse {
            done,
            data: data.into(),
        }
        .encode(&mut payload);
        Action::Reply(Frame::response(frame, payload.freeze()).into())
    };
    match login.step(access, &auth.data, access.clock_ms()) {
        Step::Challenge(challenge) => {
            session.login = Some((login, auth.mechanism));
            reply(false, challenge)
        }
        Step::Success { message, principal } => {
            tracing::info!(?peer, %principal, client = %session.client_name, mechanism = %auth.mechanism, "native client authenticated");
            session.principal = Some(Arc::new(access.session(Some(principal), peer)));
            reply(true, message)
        }
        Step::Failure(failure) => {
            tracing::warn!(?peer, client = %session.client_name, mechanism = %auth.mechanism, reason = %failure, "native authentication failed");
            let delay = access.failure_delay();
            let refused = Frame::error_response(
                frame,
                ErrorCode::AuthenticationFailed,
                "authentication failed",
            );
            Action::Later(Box::pin(async move {
                tokio::time::sleep(delay).await;
                Some(refused.into())
            }))
        }
    }
}
