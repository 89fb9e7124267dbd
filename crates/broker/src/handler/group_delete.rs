//! GROUP_DELETE: remove an empty group and its committed offsets.

use bytes::Bytes;
use memstream_protocol::message::StreamRef;
use memstream_protocol::{ErrorCode, Frame};

use super::{Action, Context};
use crate::groups::GroupError;
use crate::wire_errors::WireCode;

/// Deletes the group; answers once the deletion is durable.
pub(crate) fn apply(group: StreamRef, frame: &Frame, ctx: &Context<'_>) -> Action {
    let reply = Frame::response(frame, Bytes::new());
    let durable = match ctx.shared.engine.groups.delete(&group.name) {
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
                    "the offset store stopped before the deletion was written",
                ),
            }
            .into(),
        )
    }))
}
