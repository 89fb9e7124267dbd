//! GROUP_HEARTBEAT: keep the membership alive; learn about rebalances.

use bytes::Bytes;
use memstream_protocol::message::Heartbeat;
use memstream_protocol::Frame;

use super::{Action, Context};
use crate::wire_errors::WireCode;

/// Records the heartbeat.
pub(crate) fn apply(hb: Heartbeat, frame: &Frame, ctx: &Context<'_>) -> Action {
    let reply = match ctx
        .shared
        .engine
        .groups
        .heartbeat(&hb.group, &hb.member_id, hb.generation)
    {
        Ok(()) => Frame::response(frame, Bytes::new()),
        Err(e) => Frame::error_response(frame, e.code(), &e.to_string()),
    };
    Action::Reply(reply.into())
}
