//! FETCH: whole stored batches from one partition, sent without copying; optionally waits
//! for new records (long poll).

use std::time::Duration;

use bytes::BytesMut;
use memstream_log::{Fetched, Partition, Read};
use memstream_protocol::batch::BatchHeader;
use memstream_protocol::message::{FetchRequest, FetchResponseHeader, OffsetSpec};
use memstream_protocol::{ErrorCode, Frame};

use super::{blocking, stream_error, Action, Context, Response, Session};
use crate::streams::{read_off_runtime, Stream, StreamError};

/// Reads now, or waits for records up to `max_wait_ms` (capped by `streams.fetch_max_wait_ms`).
pub(crate) fn apply(
    fetch: FetchRequest,
    frame: &Frame,
    session: &Session,
    ctx: &Context<'_>,
) -> Action {
    let stream = match ctx.shared.engine.streams.get(&fetch.stream) {
        Ok(stream) => stream,
        Err(e) => return Action::Reply(stream_error(frame, &e).into()),
    };
    let cap = ctx.shared.config.load().streams.fetch_max_wait_ms;
    let wait = Duration::from_millis(u64::from(fetch.max_wait_ms).min(cap));
    // The response must fit the connection's frame limit (the client's, when it announced a
    // smaller one than the server's): header, fetch header and batches.
    let room = (session.send_limit(ctx.limits) as usize)
        .saturating_sub(memstream_protocol::HEADER_LEN)
        .saturating_sub(memstream_protocol::message::FETCH_RESPONSE_HEADER_LEN);
    let fetch = FetchRequest {
        max_bytes: fetch.max_bytes.min(room as u32),
        ..fetch
    };
    let reply = Frame::response(frame, bytes::Bytes::new());
    let (log, offset) = match position(&stream, &fetch) {
        Ok(found) => found,
        Err(e) => return Action::Reply(stream_error(frame, &e).into()),
    };
    let max_bytes = fetch.max_bytes as usize;
    let first = match log.begin_read(offset, max_bytes) {
        Ok(Read::Done(fetched)) => fetched,
        // Older records are in a sealed segment file: read them where blocking is allowed.
        Ok(Read::Sealed(sealed)) => {
            return Action::Later(Box::pin(async move {
                Some(
                    match blocking(move || sealed.finish().map_err(StreamError::from)).await {
                        Ok(fetched) => respond(&reply, &log, fetch.partition, fetched, room),
                        Err(e) => stream_error(&reply, &e).into(),
                    },
                )
            }))
        }
        Err(e) => return Action::Reply(stream_error(frame, &e.into()).into()),
    };
    if !first.batches.is_empty() || wait.is_zero() {
        return Action::Reply(respond(&reply, &log, fetch.partition, first, room));
    }
    // Nothing yet: wait for the end offset to move, then read once more.
    Action::Later(Box::pin(async move {
        let mut changes = log.subscribe();
        let from = first.next_offset;
        let _ = tokio::time::timeout(wait, changes.wait_for(|&end| end > from)).await;
        Some(match read_off_runtime(&log, from, max_bytes).await {
            Ok(fetched) => respond(&reply, &log, fetch.partition, fetched, room),
            Err(e) => stream_error(&reply, &e.into()).into(),
        })
    }))
}

/// The partition's log and the offset the fetch starts at.
fn position(stream: &Stream, fetch: &FetchRequest) -> Result<(Partition, u64), StreamError> {
    let log = &stream.partition(fetch.partition)?.log;
    let offset = match fetch.from {
        OffsetSpec::Offset(o) => o,
        OffsetSpec::Earliest => log.start_offset(),
        OffsetSpec::Latest => log.end_offset(),
        OffsetSpec::Timestamp(ts) => log.offset_for_timestamp(ts),
    };
    Ok((log.clone(), offset))
}

/// The response, or MESSAGE_TOO_LARGE when the first batch alone (the log returns at least
/// one) would take the frame past the connection's limit of `room` bytes of batches.
fn respond(
    reply: &Frame,
    log: &Partition,
    partition: u32,
    fetched: Fetched,
    room: usize,
) -> Response {
    let batches_len: usize = fetched.batches.iter().map(bytes::Bytes::len).sum();
    if batches_len > room {
        let offset = fetched
            .batches
            .first()
            .and_then(|b| BatchHeader::parse(b).ok())
            .map_or(0, |h| h.base_offset);
        let message = format!(
            "the batch at offset {offset} is {batches_len} bytes; this connection's frames carry \
             at most {room} bytes of batches"
        );
        return Frame::error_response(reply, ErrorCode::MessageTooLarge, &message).into();
    }
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
    log.served(&fetched.batches);
    Response {
        frame: Frame::response(reply, payload.freeze()),
        tail: fetched.batches,
    }
}
