//! OFFSET_COMMIT: store positions durably before answering. The offset store writes every
//! commit waiting at the same moment with one fsync (group commit); this handler only waits.

use bytes::Bytes;
use memstream_protocol::message::CommitOffsets;
use memstream_protocol::{ErrorCode, Frame};

use super::{Action, Context};
use crate::groups::GroupError;
use crate::wire_errors::WireCode;

/// Checks and queues the commit; answers once it is durable.
pub(crate) fn apply(commit: CommitOffsets, frame: &Frame, ctx: &Context<'_>) -> Action {
    let reply = Frame::response(frame, Bytes::new());
    let durable = match ctx.shared.engine.groups.commit(
        &crate::translate::offset_commit(commit),
        &ctx.shared.engine.streams,
    ) {
        Ok(durable) => durable,
        Err(e) => {
            return Action::Reply(Frame::error_response(frame, e.code(), &e.to_string()).into())
        }
    };
    Action::Later(Box::pin(async move {
        Some(
            match durable.await {
                Ok(Ok(())) => reply,
                Ok(Err(e)) => {
                    let e = GroupError::Storage(e);
                    Frame::error_response(&reply, e.code(), &e.to_string())
                }
                Err(_) => Frame::error_response(
                    &reply,
                    ErrorCode::ShuttingDown,
                    "the offset store stopped before the commit was written",
                ),
            }
            .into(),
        )
    }))
}
