//! SUBSCRIBE: start pushing a stream's (or a pattern's) partitions on the frame's stream id.

use std::sync::Arc;

use bytes::BytesMut;
use memstream_protocol::message::{Subscribe, Subscribed};
use memstream_protocol::pattern::Pattern;
use memstream_protocol::{ErrorCode, Frame, HEADER_LEN};

use super::{Action, Context, Session};
use crate::subscription::{Spec, Subscription};
use crate::wire_errors::WireCode;

/// Room for the PUSH header (stream name and fixed fields) inside a frame.
const PUSH_HEADER_BYTES_MAX: u64 = 512;

/// Which streams the subscriber may read: decided by the ACLs as each stream is matched.
fn readable(ctx: &Context<'_>, session: &Session) -> memstream_engine::subscriptions::Readable {
    let access = ctx.shared.engine.access.clone();
    match session.principal.clone() {
        Some(principal) => Arc::new(move |stream: &str| {
            access
                .check(
                    &principal,
                    memstream_engine::access::Action::Consume(stream),
                )
                .is_ok()
        }),
        None => Arc::new(move |_: &str| !access.enabled()),
    }
}

/// Starts the subscription on the connection's writer task.
pub(crate) fn apply(
    subscribe: Subscribe,
    frame: &Frame,
    session: &mut Session,
    ctx: &Context<'_>,
) -> Action {
    let error =
        |code, message: &str| Action::Reply(Frame::error_response(frame, code, message).into());
    if frame.stream_id == 0 {
        return error(
            ErrorCode::InvalidArgument,
            "a subscription needs a non-zero stream id",
        );
    }
    let max = ctx.shared.config.load().network.max_subscriptions as usize;
    if session.subscriptions.len() >= max {
        return error(
            ErrorCode::LimitReached,
            &format!("the connection holds network.max_subscriptions = {max} subscriptions"),
        );
    }
    if session.subscriptions.contains_key(&frame.stream_id) {
        return error(
            ErrorCode::SubscriptionExists,
            "this stream id already carries a subscription",
        );
    }
    let pattern = match Pattern::parse(&subscribe.pattern) {
        Ok(pattern) => pattern,
        Err(reason) => return error(ErrorCode::InvalidStreamName, reason),
    };
    if !pattern.is_wildcard() {
        if let Err(e) = ctx.shared.engine.streams.get(pattern.as_str()) {
            return error(e.code(), &e.to_string());
        }
    }
    let spec = Spec {
        id: frame.stream_id,
        pattern,
        partition: subscribe.partition,
        from: subscribe.from,
        positions: subscribe
            .positions
            .into_iter()
            .map(|p| ((p.stream, p.partition), p.offset))
            .collect(),
        push_bytes_max: u64::from(session.send_limit(ctx.limits))
            .saturating_sub(HEADER_LEN as u64 + PUSH_HEADER_BYTES_MAX)
            .max(1),
        readable: readable(ctx, session),
        metrics: ctx.shared.metrics.clone(),
    };
    let (subscription, positions) = Subscription::start(
        spec,
        ctx.shared.engine.streams.clone(),
        subscribe.credit_bytes,
        ctx.queue.clone(),
    );
    session.subscriptions.insert(frame.stream_id, subscription);
    let mut payload = BytesMut::new();
    Subscribed { positions }.encode(&mut payload);
    Action::Reply(Frame::response(frame, payload.freeze()).into())
}
