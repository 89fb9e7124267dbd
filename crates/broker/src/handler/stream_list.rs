//! STREAM_LIST: every stream with its partition count and storage.

use bytes::BytesMut;
use memstream_protocol::Frame;

use super::{Action, Context};

/// Lists the streams.
pub(crate) fn apply(frame: &Frame, ctx: &Context<'_>) -> Action {
    let mut payload = BytesMut::new();
    crate::translate::stream_list(ctx.shared.engine.streams.list()).encode(&mut payload);
    Action::Reply(Frame::response(frame, payload.freeze()).into())
}
