//! Fetch: whole stored batches from each partition asked for, sent as stored (a fetch from
//! the middle of a batch returns the whole batch; the client skips the records before its
//! offset). `max_bytes` and each `partition_max_bytes` bound the response, except that the
//! first batch of the first partition with data is always sent so a consumer can get past a
//! batch larger than its limits (KIP-74); a later partition whose next batch does not fit the
//! room left sends nothing this time. With fewer than `min_bytes` available the request waits, up to `max_wait_ms`
//! (capped by `streams.fetch_max_wait_ms`), for any of its partitions to grow, then reads once
//! more. Only read_uncommitted exists here (no transactions), so read_committed reads the same.

use std::sync::Arc;
use std::time::Duration;

use futures_util::stream::{FuturesUnordered, StreamExt};
use memstream_engine::streams::read_off_runtime;
use memstream_kafka_wire::fetch::{self, FetchRequest, PartitionData, TopicData};
use memstream_kafka_wire::ErrorCode;
use memstream_log::Partition;

use super::{allowed, Action, Conn, Pending, Reply};
use crate::errors::{log_code, stream_code};
use crate::server::Context;

/// One partition asked for, resolved to its log (or to the error answering it).
struct Wanted {
    index: i32,
    offset: i64,
    max_bytes: usize,
    log: Result<Partition, ErrorCode>,
}

pub(super) fn handle(
    req: FetchRequest,
    ctx: &Arc<Context>,
    conn: &Conn,
    reply: Reply,
) -> Option<Pending> {
    let topics: Vec<(String, Vec<Wanted>)> = req
        .topics
        .into_iter()
        .map(|t| {
            let permitted = allowed(ctx, &conn.session, Action::Consume(&t.topic));
            let stream = ctx.engine.streams.get(&t.topic);
            let wanted = t
                .partitions
                .into_iter()
                .map(|p| Wanted {
                    index: p.partition,
                    offset: p.fetch_offset,
                    max_bytes: usize::try_from(p.partition_max_bytes).unwrap_or(0),
                    log: match &stream {
                        _ if !permitted => Err(ErrorCode::TOPIC_AUTHORIZATION_FAILED),
                        Err(e) => Err(stream_code(e)),
                        Ok(s) => u32::try_from(p.partition)
                            .ok()
                            .and_then(|i| s.partition(i).ok())
                            .map(|sp| sp.log.clone())
                            .ok_or(ErrorCode::UNKNOWN_TOPIC_OR_PARTITION),
                    },
                })
                .collect();
            (t.topic, wanted)
        })
        .collect();
    let cap = ctx.settings.fetch_max_wait_ms();
    let wait = Duration::from_millis(u64::try_from(req.max_wait_ms).unwrap_or(0).min(cap));
    let min_bytes = usize::try_from(req.min_bytes).unwrap_or(0);
    let max_bytes = usize::try_from(req.max_bytes).unwrap_or(0);
    let shutdown = ctx.shutdown.clone();
    Some(Box::pin(async move {
        let (mut data, mut bytes) = read_all(&topics, max_bytes).await;
        let deadline = tokio::time::Instant::now() + wait;
        // An error (an unknown partition, an offset out of range) is answered at once.
        while bytes < min_bytes.max(1)
            && !wait.is_zero()
            && !shutdown.is_cancelled()
            && !has_error(&data)
        {
            // Wait for any partition to grow past the end the last read saw, then read again.
            let mut grown: FuturesUnordered<_> = topics
                .iter()
                .zip(&data)
                .flat_map(|((_, wanted), read)| wanted.iter().zip(&read.partitions))
                .filter_map(|(w, read)| {
                    let log = w.log.as_ref().ok()?;
                    let seen = u64::try_from(read.high_watermark).ok()?;
                    let mut rx = log.subscribe();
                    Some(async move {
                        let _ = rx.wait_for(|&end| end > seen).await;
                    })
                })
                .collect();
            if grown.is_empty() {
                // Nothing asked for: wait out the poll as Kafka does.
                tokio::select! {
                    () = tokio::time::sleep_until(deadline) => {}
                    () = shutdown.cancelled() => {}
                }
                break;
            }
            tokio::select! {
                _ = grown.next() => {}
                () = tokio::time::sleep_until(deadline) => break,
                () = shutdown.cancelled() => break,
            }
            drop(grown);
            (data, bytes) = read_all(&topics, max_bytes).await;
        }
        let mut w = reply.writer();
        fetch::encode(&mut w, reply.version(), ErrorCode::NONE, &data);
        Some(reply.finish(w))
    }))
}

fn has_error(data: &[TopicData]) -> bool {
    data.iter()
        .flat_map(|t| &t.partitions)
        .any(|p| p.error != ErrorCode::NONE)
}

/// Reads every partition within the byte budgets; returns the response data and its bytes.
async fn read_all(topics: &[(String, Vec<Wanted>)], max_bytes: usize) -> (Vec<TopicData>, usize) {
    let mut total = 0usize;
    let mut out = Vec::with_capacity(topics.len());
    for (name, wanted) in topics {
        let mut partitions = Vec::with_capacity(wanted.len());
        for w in wanted {
            let room = max_bytes.saturating_sub(total).min(w.max_bytes);
            // The first batch of the response goes out whatever its size (KIP-74); in a
            // later partition only what fits the room left does, as in Kafka. The log
            // returns at least one batch, so drop what exceeds the budget.
            let first = total == 0;
            let mut data = read_one(w, if first { room.max(1) } else { room }).await;
            if !first {
                keep_within(&mut data.records, room);
            }
            total = total.saturating_add(data.records.iter().map(bytes::Bytes::len).sum());
            partitions.push(data);
        }
        out.push(TopicData {
            topic: name.clone(),
            partitions,
        });
    }
    (out, total)
}

/// Keeps the longest prefix of `batches` that fits in `budget` bytes.
fn keep_within(batches: &mut Vec<bytes::Bytes>, budget: usize) {
    let mut used = 0usize;
    let keep = batches
        .iter()
        .take_while(|b| {
            used = used.saturating_add(b.len());
            used <= budget
        })
        .count();
    batches.truncate(keep);
}

async fn read_one(w: &Wanted, budget: usize) -> PartitionData {
    let empty = |error: ErrorCode, log: Option<&Partition>| PartitionData {
        partition_index: w.index,
        error,
        high_watermark: log.map_or(-1, |l| l.end_offset() as i64),
        last_stable_offset: log.map_or(-1, |l| l.end_offset() as i64),
        log_start_offset: log.map_or(-1, |l| l.start_offset() as i64),
        records: Vec::new(),
    };
    let log = match &w.log {
        Ok(log) => log,
        Err(code) => return empty(*code, None),
    };
    let Ok(offset) = u64::try_from(w.offset) else {
        return empty(ErrorCode::OFFSET_OUT_OF_RANGE, Some(log));
    };
    if offset > log.end_offset() || offset < log.start_offset() {
        return empty(ErrorCode::OFFSET_OUT_OF_RANGE, Some(log));
    }
    if budget == 0 {
        return empty(ErrorCode::NONE, Some(log));
    }
    match read_off_runtime(log, offset, budget).await {
        Ok(fetched) => {
            log.served(&fetched.batches);
            PartitionData {
                partition_index: w.index,
                error: ErrorCode::NONE,
                high_watermark: fetched.end_offset as i64,
                last_stable_offset: fetched.end_offset as i64,
                log_start_offset: fetched.start_offset as i64,
                records: fetched.batches,
            }
        }
        Err(e) => {
            tracing::debug!(offset, error = %e, "kafka fetch read failed");
            empty(log_code(&e), Some(log))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use bytes::BytesMut;
    use memstream_batch::BatchBuilder;
    use memstream_log::LogConfig;

    /// A partition holding one batch of one record of `value_len` bytes.
    fn partition_with_batch(value_len: usize) -> Partition {
        let log = Partition::open_memory(LogConfig::default());
        let mut b = BatchBuilder::with_capacity(value_len + 128);
        b.push(1, None, &vec![7u8; value_len], &[]);
        let batch = b.finish(-1, -1, -1);
        log.append(BytesMut::from(&batch[..]), 1).unwrap();
        log
    }

    fn wanted(index: i32, log: &Partition, max_bytes: usize) -> Wanted {
        Wanted {
            index,
            offset: 0,
            max_bytes,
            log: Ok(log.clone()),
        }
    }

    /// librdkafka's test 0082 (fetch.max.bytes 1 MB over partitions holding 900 KiB
    /// batches): only the response's first batch may exceed `max_bytes`; a later partition
    /// whose first batch does not fit the room left sends nothing, as in Kafka, so the
    /// response stays within the client's `receive.message.max.bytes`.
    #[tokio::test]
    async fn only_the_first_batch_of_a_response_may_exceed_max_bytes() {
        let logs: Vec<Partition> = (0..3).map(|_| partition_with_batch(900 << 10)).collect();
        let topics = vec![(
            "t".to_string(),
            logs.iter()
                .enumerate()
                .map(|(i, log)| wanted(i as i32, log, 20_000_000))
                .collect::<Vec<_>>(),
        )];
        let (data, bytes) = read_all(&topics, 1_000_000).await;
        let parts = &data[0].partitions;
        assert_eq!(parts[0].records.len(), 1, "the first batch goes out");
        assert!(parts[1].records.is_empty() && parts[2].records.is_empty());
        assert!(bytes < 1_000_000, "{bytes}");
        // Each partition still reports its end so the client knows data is there.
        assert!(parts.iter().all(|p| p.high_watermark == 1));

        // With room for two, two go out; the first alone may exceed a tiny limit.
        let (_, bytes) = read_all(&topics, 2 * (900 << 10) + 1024).await;
        assert!(
            bytes > 1_000_000 && bytes <= 2 * (900 << 10) + 1024,
            "{bytes}"
        );
        let (data, _) = read_all(&topics, 10).await;
        let sent: usize = data[0].partitions.iter().map(|p| p.records.len()).sum();
        assert_eq!(sent, 1);
    }

    /// The partition limit binds a later partition too; a partition after an empty one
    /// counts as the first.
    #[tokio::test]
    async fn the_first_non_empty_partition_may_exceed_its_partition_limit() {
        let empty = Partition::open_memory(LogConfig::default());
        let big = partition_with_batch(4096);
        let other = partition_with_batch(4096);
        let topics = vec![(
            "t".to_string(),
            vec![
                wanted(0, &empty, 100),
                wanted(1, &big, 100),
                wanted(2, &other, 100),
            ],
        )];
        let (data, _) = read_all(&topics, 1 << 20).await;
        let counts: Vec<usize> = data[0].partitions.iter().map(|p| p.records.len()).collect();
        assert_eq!(counts, [0, 1, 0]);
    }
}
