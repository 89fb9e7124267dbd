//! GROUP_LIST: every group name.

use bytes::BytesMut;
use memstream_protocol::message::GroupList;
use memstream_protocol::Frame;

use super::{Action, Context};

/// Lists the groups.
pub(crate) fn apply(frame: &Frame, ctx: &Context<'_>) -> Action {
    let mut payload = BytesMut::new();
    GroupList {
        groups: ctx.shared.engine.groups.list(),
    }
    .encode(&mut payload);
    Action::Reply(Frame::response(frame, payload.freeze()).into())
}
