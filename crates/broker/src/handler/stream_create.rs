//! STREAM_CREATE: validate, store the definition, open the partitions.

use bytes::Bytes;
use memstream_protocol::message::CreateStream;
use memstream_protocol::{ErrorCode, Frame};

use super::{stream_error, Action, Context};

/// Creates the stream on a blocking thread (it writes and fsyncs files).
pub(crate) fn apply(create: CreateStream, frame: &Frame, ctx: &Context<'_>) -> Action {
    let shared = ctx.shared.clone();
    let reply = Frame::response(frame, Bytes::new());
    Action::Later(Box::pin(async move {
        let cfg = shared.config.load();
        let streams = shared.streams.clone();
        let created = tokio::task::spawn_blocking(move || streams.create(&create, &cfg)).await;
        Some(
            match created {
                Ok(Ok(_)) => reply,
                Ok(Err(e)) => stream_error(&reply, &e),
                Err(e) => Frame::error_response(&reply, ErrorCode::Internal, &e.to_string()),
            }
            .into(),
        )
    }))
}
