//! GROUP_LEAVE: leave the group; the others rebalance.

use bytes::Bytes;
use memstream_protocol::message::LeaveGroup;
use memstream_protocol::Frame;

use super::{Action, Context};
use crate::wire_errors::WireCode;

/// Removes the member.
pub(crate) fn apply(leave: LeaveGroup, frame: &Frame, ctx: &Context<'_>) -> Action {
    let reply = match ctx.shared.engine.groups.leave(
        &leave.group,
        &leave.member_id,
        &ctx.shared.engine.streams,
    ) {
        Ok(()) => Frame::response(frame, Bytes::new()),
        Err(e) => Frame::error_response(frame, e.code(), &e.to_string()),
    };
    Action::Reply(reply.into())
}
