//! GROUP_JOIN: become (or stay) a member; answered when the rebalance completes.

use bytes::BytesMut;
use memstream_protocol::message::JoinGroup;
use memstream_protocol::{ErrorCode, Frame};

use super::{Action, Context};

/// Joins and waits for the next generation's assignment.
pub(crate) fn apply(join: JoinGroup, frame: &Frame, ctx: &Context<'_>) -> Action {
    let cfg = ctx.shared.config.load();
    let joined = ctx
        .shared
        .groups
        .join(join, ctx.queue.clone(), &ctx.shared.streams, &cfg.groups);
    let rx = match joined {
        Ok(rx) => rx,
        Err(e) => {
            return Action::Reply(Frame::error_response(frame, e.code(), &e.to_string()).into())
        }
    };
    let reply = Frame::response(frame, bytes::Bytes::new());
    Action::Later(Box::pin(async move {
        Some(
            match rx.await {
                Ok(Ok(joined)) => {
                    let mut payload = BytesMut::new();
                    joined.encode(&mut payload);
                    Frame::response(&reply, payload.freeze())
                }
                Ok(Err(e)) => Frame::error_response(&reply, e.code(), &e.to_string()),
                Err(_) => {
                    Frame::error_response(&reply, ErrorCode::ShuttingDown, "the group went away")
                }
            }
            .into(),
        )
    }))
}
