//! STREAM_CREATE: validate, store the definition, open the partitions.

use bytes::Bytes;
use memstream_protocol::message::CreateStream;
use memstream_protocol::Frame;

use super::{blocking, stream_error, Action, Context};

/// Creates the stream on a blocking thread (it writes and fsyncs files).
pub(crate) fn apply(create: CreateStream, frame: &Frame, ctx: &Context<'_>) -> Action {
    let shared = ctx.shared.clone();
    let reply = Frame::response(frame, Bytes::new());
    Action::Later(Box::pin(async move {
        let cfg = shared.config.load();
        let streams = shared.engine.streams.clone();
        let created = blocking(move || {
            let new = crate::translate::new_stream(create);
            streams.create(&new, &cfg.streams, cfg.network.max_frame_bytes)
        })
        .await;
        Some(
            match created {
                Ok(_) => reply,
                Err(e) => stream_error(&reply, &e),
            }
            .into(),
        )
    }))
}
