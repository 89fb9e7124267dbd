//! OFFSET_FETCH: committed positions of a group.

use bytes::BytesMut;
use memstream_protocol::message::{FetchOffsets, Offsets};
use memstream_protocol::Frame;

use super::{Action, Context};

/// Reads the offsets.
pub(crate) fn apply(fetch: FetchOffsets, frame: &Frame, ctx: &Context<'_>) -> Action {
    let partitions = crate::translate::partition_refs(fetch.partitions);
    let positions = ctx.shared.engine.groups.fetch_offsets(
        &fetch.group,
        &partitions,
        &ctx.shared.engine.streams,
    );
    let offsets = crate::translate::partition_offsets(positions);
    let mut payload = BytesMut::new();
    Offsets { offsets }.encode(&mut payload);
    Action::Reply(Frame::response(frame, payload.freeze()).into())
}
