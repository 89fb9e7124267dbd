//! OFFSET_COMMIT: store positions durably (fsync) before answering.

use bytes::Bytes;
use memstream_protocol::message::CommitOffsets;
use memstream_protocol::{ErrorCode, Frame};

use super::{Action, Context};

/// Commits on a blocking thread (it writes and fsyncs a file).
pub(crate) fn apply(commit: CommitOffsets, frame: &Frame, ctx: &Context<'_>) -> Action {
    let shared = ctx.shared.clone();
    let reply = Frame::response(frame, Bytes::new());
    Action::Later(Box::pin(async move {
        let done = tokio::task::spawn_blocking(move || shared.groups.commit(&commit)).await;
        Some(
            match done {
                Ok(Ok(())) => reply,
                Ok(Err(e)) => Frame::error_response(&reply, e.code(), &e.to_string()),
                Err(e) => Frame::error_response(&reply, ErrorCode::Internal, &e.to_string()),
            }
            .into(),
        )
    }))
}
