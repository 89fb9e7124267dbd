//! GROUP_DESCRIBE: members, assignments, committed offsets and lag per partition.

use bytes::BytesMut;
use memstream_protocol::message::StreamRef;
use memstream_protocol::Frame;

use super::{Action, Context};
use crate::wire_errors::WireCode;

/// Describes the group.
pub(crate) fn apply(group: StreamRef, frame: &Frame, ctx: &Context<'_>) -> Action {
    let reply = match ctx
        .shared
        .engine
        .groups
        .describe(&group.name, &ctx.shared.engine.streams)
    {
        Ok(description) => {
            let mut payload = BytesMut::new();
            crate::translate::group_description(description).encode(&mut payload);
            Frame::response(frame, payload.freeze())
        }
        Err(e) => Frame::error_response(frame, e.code(), &e.to_string()),
    };
    Action::Reply(reply.into())
}
