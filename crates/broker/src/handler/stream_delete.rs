//! STREAM_DELETE: forget the stream, remove its data, and drop the groups' offsets of it.

use bytes::Bytes;
use memstream_protocol::message::StreamRef;
use memstream_protocol::Frame;

use super::{blocking, stream_error, Action, Context};

/// Deletes the stream on a blocking thread (it removes files).
pub(crate) fn apply(stream: StreamRef, frame: &Frame, ctx: &Context<'_>) -> Action {
    let shared = ctx.shared.clone();
    let reply = Frame::response(frame, Bytes::new());
    Action::Later(Box::pin(async move {
        let name = stream.name;
        let streams = shared.engine.streams.clone();
        let deleted = blocking({
            let name = name.clone();
            move || streams.delete(&name)
        })
        .await;
        Some(
            match deleted {
                Ok(id) => {
                    shared.engine.groups.forget_stream(&name, id);
                    reply
                }
                Err(e) => stream_error(&reply, &e),
            }
            .into(),
        )
    }))
}
