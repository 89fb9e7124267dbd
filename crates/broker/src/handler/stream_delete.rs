//! STREAM_DELETE: forget the stream and remove its data.

use bytes::Bytes;
use memstream_protocol::message::StreamRef;
use memstream_protocol::{ErrorCode, Frame};

use super::{stream_error, Action, Context};

/// Deletes the stream on a blocking thread (it removes files).
pub(crate) fn apply(stream: StreamRef, frame: &Frame, ctx: &Context<'_>) -> Action {
    let streams = ctx.shared.streams.clone();
    let reply = Frame::response(frame, Bytes::new());
    Action::Later(Box::pin(async move {
        let deleted = tokio::task::spawn_blocking(move || streams.delete(&stream.name)).await;
        Some(
            match deleted {
                Ok(Ok(())) => reply,
                Ok(Err(e)) => stream_error(&reply, &e),
                Err(e) => Frame::error_response(&reply, ErrorCode::Internal, &e.to_string()),
            }
            .into(),
        )
    }))
}
