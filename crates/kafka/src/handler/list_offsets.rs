//! ListOffsets: earliest (-2), latest (-1), or the first record at or after a timestamp
//! (found through the log's time index, then the exact record inside its batch).

use std::sync::Arc;

use memstream_batch::{BatchHeader, RecordIter};
use memstream_engine::streams::read_off_runtime;
use memstream_kafka_wire::list_offsets::{
    self, ListOffsetsRequest, PartitionOffset, TopicOffsets, EARLIEST, LATEST,
};
use memstream_kafka_wire::ErrorCode;
use memstream_log::Partition;

use super::{allowed, Action, Conn, Pending, Reply};
use crate::errors::stream_code;
use crate::server::Context;

pub(super) fn handle(
    req: ListOffsetsRequest,
    ctx: &Arc<Context>,
    conn: &Conn,
    reply: Reply,
) -> Option<Pending> {
    // Kafka: DESCRIBE on each topic.
    let permitted: Vec<bool> = req
        .topics
        .iter()
        .map(|t| allowed(ctx, &conn.session, Action::DescribeStream(&t.name)))
        .collect();
    let ctx = ctx.clone();
    Some(Box::pin(async move {
        let mut topics = Vec::with_capacity(req.topics.len());
        for (topic, permitted) in req.topics.into_iter().zip(permitted) {
            let stream = ctx.engine.streams.get(&topic.name);
            let mut partitions = Vec::with_capacity(topic.partitions.len());
            for (index, timestamp) in topic.partitions {
                let log = match &stream {
                    _ if !permitted => Err(ErrorCode::TOPIC_AUTHORIZATION_FAILED),
                    Err(e) => Err(stream_code(e)),
                    Ok(s) => u32::try_from(index)
                        .ok()
                        .and_then(|i| s.partition(i).ok())
                        .map(|p| p.log.clone())
                        .ok_or(ErrorCode::UNKNOWN_TOPIC_OR_PARTITION),
                };
                let answer = match log {
                    Err(error) => PartitionOffset {
                        index,
                        error,
                        timestamp: -1,
                        offset: -1,
                    },
                    Ok(log) => {
                        lookup(
                            &log,
                            index,
                            timestamp,
                            ctx.settings.append_limits().decompressed_bytes_max,
                        )
                        .await
                    }
                };
                partitions.push(answer);
            }
            topics.push(TopicOffsets {
                name: topic.name,
                partitions,
            });
        }
        let mut w = reply.writer();
        list_offsets::encode(&mut w, reply.version(), &topics);
        Some(reply.finish(w))
    }))
}

async fn lookup(
    log: &Partition,
    index: i32,
    timestamp: i64,
    decompressed_max: usize,
) -> PartitionOffset {
    let found = |offset: i64, timestamp: i64| PartitionOffset {
        index,
        error: ErrorCode::NONE,
        timestamp,
        offset,
    };
    match timestamp {
        LATEST => found(log.end_offset() as i64, -1),
        EARLIEST => found(log.start_offset() as i64, -1),
        ts if ts >= 0 => {
            let ts = ts as u64;
            let batch_start = log.offset_for_timestamp(ts);
            match first_at_or_after(log, batch_start, ts, decompressed_max).await {
                Some((offset, at)) => found(offset as i64, at as i64),
                // No record that late: Kafka answers -1 / -1.
                None => found(-1, -1),
            }
        }
        _ => PartitionOffset {
            index,
            error: ErrorCode::INVALID_REQUEST,
            timestamp: -1,
            offset: -1,
        },
    }
}

/// The first record at or after `from` whose timestamp is at least `ts`: its offset and
/// timestamp. Reads batch by batch from `from` (the index points at the right batch, so this
/// is normally one batch).
async fn first_at_or_after(
    log: &Partition,
    mut from: u64,
    ts: u64,
    decompressed_max: usize,
) -> Option<(u64, u64)> {
    loop {
        if from >= log.end_offset() {
            return None;
        }
        let fetched = read_off_runtime(log, from, 1).await.ok()?;
        let batch = fetched.batches.first()?;
        let header = BatchHeader::parse(batch).ok()?;
        if header.max_timestamp_ms >= ts {
            let records = memstream_batch::records(batch, &header, decompressed_max).ok()?;
            for record in RecordIter::new(&records, &header) {
                let record = record.ok()?;
                let offset = header
                    .base_offset
                    .checked_add(u64::from(record.offset_delta))?;
                if offset >= from && record.timestamp_ms >= ts {
                    return Some((offset, record.timestamp_ms));
                }
            }
        }
        from = header.next_offset().max(from.checked_add(1)?);
    }
}
