//! GROUP_DELETE: remove an empty group and its committed offsets.

use memstream_protocol::message::StreamRef;
use memstream_protocol::Frame;

use super::{when_durable, Action, Context};

/// Deletes the group; answers once the deletion is durable.
pub(crate) fn apply(group: StreamRef, frame: &Frame, ctx: &Context<'_>) -> Action {
    when_durable(frame, ctx.shared.engine.groups.delete(&group.name))
}
