//! FETCH: whole stored batches from one partition, sent without copying; optionally waits
//! for new records (long poll).

use std::time::Duration;

use bytes::BytesMut;
use memstream_log::Fetched;
use memstream_protocol::message::{FetchRequest, FetchResponseHeader, OffsetSpec};
use memstream_protocol::Frame;

use super::{stream_error, Action, Context, Response};
use crate::streams::{Stream, StreamError};

/// Reads now, or waits for records up to `max_wait_ms` (capped by `streams.fetch_max_wait_ms`).
pub(crate) fn apply(fetch: FetchRequest, frame: &Frame, ctx: &Context<'_>) -> Action {
    let stream = match ctx.shared.streams.get(&fetch.stream) {
        Ok(stream) => stream,
        Err(e) => return Action::Reply(stream_error(frame, &e).into()),
    };
    let cap = ctx.shared.config.load().streams.fetch_max_wait_ms;
    let wait = Duration::from_millis(u64::from(fetch.max_wait_ms).min(cap));
    // The response must fit the client's frame limit: header, fetch header and batches.
    let room = ctx.limits.max_frame_bytes as usize
        - memstream_protocol::HEADER_LEN
        - memstream_protocol::message::FETCH_RESPONSE_HEADER_LEN;
    let fetch = FetchRequest {
        max_bytes: fetch.max_bytes.min(room as u32),
        ..fetch
    };
    let reply = Frame::response(frame, bytes::Bytes::new());
    let first = match read(&stream, &fetch) {
        Ok(fetched) => fetched,
        Err(e) => return Action::Reply(stream_error(frame, &e).into()),
    };
    if !first.batches.is_empty() || wait.is_zero() {
        return Action::Reply(respond(&reply, fetch.partition, first));
    }
    // Nothing yet: wait for the end offset to move, then read once more.
    Action::Later(Box::pin(async move {
        let Ok(partition) = stream.partition(fetch.partition) else {
            return Some(respond(&reply, fetch.partition, first));
        };
        let mut changes = partition.log.subscribe();
        let from = first.next_offset;
        let _ = tokio::time::timeout(wait, changes.wait_for(|&end| end > from)).await;
        let next = FetchRequest {
            from: OffsetSpec::Offset(from),
            ..fetch
        };
        Some(match read(&stream, &next) {
            Ok(fetched) => respond(&reply, next.partition, fetched),
            Err(e) => stream_error(&reply, &e).into(),
        })
    }))
}

/// Resolves the start offset and reads.
fn read(stream: &Stream, fetch: &FetchRequest) -> Result<Fetched, StreamError> {
    let log = &stream.partition(fetch.partition)?.log;
    let offset = match fetch.from {
        OffsetSpec::Offset(o) => o,
        OffsetSpec::Earliest => log.start_offset(),
        OffsetSpec::Latest => log.end_offset(),
        OffsetSpec::Timestamp(ts) => log.offset_for_timestamp(ts),
    };
    Ok(log.read(offset, fetch.max_bytes as usize)?)
}

fn respond(reply: &Frame, partition: u32, fetched: Fetched) -> Response {
    let batches_len: usize = fetched.batches.iter().map(bytes::Bytes::len).sum();
    let mut payload =
        BytesMut::with_capacity(memstream_protocol::message::FETCH_RESPONSE_HEADER_LEN);
    FetchResponseHeader {
        partition,
        start_offset: fetched.start_offset,
        end_offset: fetched.end_offset,
        next_offset: fetched.next_offset,
        batches_len: batches_len as u32,
    }
    .encode(&mut payload);
    Response {
        frame: Frame::response(reply, payload.freeze()),
        tail: fetched.batches,
    }
}
