//! GROUP_LIST: every group name the principal may describe.

use bytes::BytesMut;
use memstream_engine::access::Action as Needs;
use memstream_protocol::message::GroupList;
use memstream_protocol::Frame;

use super::{allowed, Action, Context, Session};

/// Lists the groups.
pub(crate) fn apply(frame: &Frame, session: &Session, ctx: &Context<'_>) -> Action {
    let mut groups = ctx.shared.engine.groups.list();
    groups.retain(|g| allowed(ctx, session, Needs::DescribeGroup(g)).is_ok());
    let mut payload = BytesMut::new();
    GroupList { groups }.encode(&mut payload);
    Action::Reply(Frame::response(frame, payload.freeze()).into())
}
