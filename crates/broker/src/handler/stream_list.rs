//! STREAM_LIST: every stream the principal may describe, with its partition count and
//! storage.

use bytes::BytesMut;
use memstream_engine::access::Action as Needs;
use memstream_protocol::Frame;

use super::{allowed, Action, Context, Session};

/// Lists the streams.
pub(crate) fn apply(frame: &Frame, session: &Session, ctx: &Context<'_>) -> Action {
    let mut streams = ctx.shared.engine.streams.list();
    streams.retain(|s| allowed(ctx, session, Needs::DescribeStream(&s.name)).is_ok());
    let mut payload = BytesMut::new();
    crate::translate::stream_list(streams).encode(&mut payload);
    Action::Reply(Frame::response(frame, payload.freeze()).into())
}
