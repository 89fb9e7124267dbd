//! STREAM_DESCRIBE: settings and per-partition offsets and sizes.

use bytes::BytesMut;
use memstream_protocol::message::StreamRef;
use memstream_protocol::Frame;

use super::{stream_error, Action, Context};

/// Describes one stream.
pub(crate) fn apply(stream: StreamRef, frame: &Frame, ctx: &Context<'_>) -> Action {
    let response = match ctx.shared.engine.streams.describe(&stream.name) {
        Ok(description) => {
            let mut payload = BytesMut::new();
            crate::translate::description(description).encode(&mut payload);
            Frame::response(frame, payload.freeze())
        }
        Err(e) => stream_error(frame, &e),
    };
    Action::Reply(response.into())
}
