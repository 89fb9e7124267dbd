//! Fetch: whole stored batches from each partition asked for, sent as stored (a fetch from
//! the middle of a batch returns the whole batch; the client skips the records before its
//! offset). `max_bytes` and each `partition_max_bytes` bound the response, except that the
//! first batch is always sent so a consumer can get past a batch larger than its limits
//! (KIP-74). With fewer than `min_bytes` available the request waits, up to `max_wait_ms`
//! (capped by `streams.fetch_max_wait_ms`), for any of its partitions to grow, then reads once
//! more. Only read_uncommitted exists here (no transactions), so read_committed reads the same.

use std::sync::Arc;
use std::time::Duration;

use futures_util::stream::{FuturesUnordered, StreamExt};
use memstream_engine::streams::read_off_runtime;
use memstream_kafka_wire::fetch::{self, FetchRequest, PartitionData, TopicData};
use memstream_kafka_wire::ErrorCode;
use memstream_log::Partition;

use super::{Pending, Reply};
use crate::errors::{log_code, stream_code};
use crate::server::Context;

/// One partition asked for, resolved to its log (or to the error answering it).
struct Wanted {
    index: i32,
    offset: i64,
    max_bytes: usize,
    log: Result<Partition, ErrorCode>,
}

pub(super) fn handle(req: FetchRequest, ctx: &Arc<Context>, reply: Reply) -> Option<Pending> {
    let topics: Vec<(String, Vec<Wanted>)> = req
        .topics
        .into_iter()
        .map(|t| {
            let stream = ctx.engine.streams.get(&t.topic);
            let wanted = t
                .partitions
                .into_iter()
                .map(|p| Wanted {
                    index: p.partition,
                    offset: p.fetch_offset,
                    max_bytes: usize::try_from(p.partition_max_bytes).unwrap_or(0),
                    log: match &stream {
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
            // The first batch of the response goes out whatever its size.
            let budget = if total == 0 { room.max(1) } else { room };
            let data = read_one(w, budget).await;
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
        Ok(fetched) => PartitionData {
            partition_index: w.index,
            error: ErrorCode::NONE,
            high_watermark: fetched.end_offset as i64,
            last_stable_offset: fetched.end_offset as i64,
            log_start_offset: fetched.start_offset as i64,
            records: fetched.batches,
        },
        Err(e) => {
            tracing::debug!(offset, error = %e, "kafka fetch read failed");
            empty(log_code(&e), Some(log))
        }
    }
}
