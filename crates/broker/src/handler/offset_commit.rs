//! OFFSET_COMMIT: store positions durably before answering. The offset store writes every
//! commit waiting at the same moment with one fsync (group commit); this handler only waits.

use memstream_protocol::message::CommitOffsets;
use memstream_protocol::Frame;

use super::{when_durable, Action, Context};

/// Checks and queues the commit; answers once it is durable.
pub(crate) fn apply(commit: CommitOffsets, frame: &Frame, ctx: &Context<'_>) -> Action {
    let commit = crate::translate::offset_commit(commit);
    when_durable(
        frame,
        ctx.shared
            .engine
            .groups
            .commit(&commit, &ctx.shared.engine.streams),
    )
}
