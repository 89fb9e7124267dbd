//! Produce: each partition's batches are checked once and appended as they came, right at
//! dispatch (so a connection's pipelined requests keep their order); `acks = -1` answers
//! once the batches are durable on a disk stream (the native `durable` level); `acks = 0`
//! gets no response, as in Kafka. Idempotent batches go through the engine's producer state,
//! shared with native producers: a retried batch is answered with its original offset.

use std::sync::Arc;

use bytes::Bytes;
use memstream_engine::streams::{Placement, Stream, StreamError};
use memstream_kafka_wire::produce::{self, PartitionResponse, ProduceRequest, TopicResponse};
use memstream_kafka_wire::ErrorCode;

use super::{allowed, denied_message, now_ms, Action, Conn, Pending, Reply};
use crate::errors::{log_code, stream_code};
use crate::server::Context;

/// A partition's outcome, and the offset to wait for when durability was asked for.
struct Outcome {
    response: PartitionResponse,
    durable_wait: Option<(Arc<Stream>, u32, u64)>,
}

pub(super) fn handle(
    req: ProduceRequest,
    ctx: &Arc<Context>,
    conn: &Conn,
    reply: Reply,
) -> Option<Pending> {
    let refuse = if req.transactional_id.is_some() {
        Some((
            ErrorCode::INVALID_REQUEST,
            "transactions are not supported by this broker",
        ))
    } else if !matches!(req.acks, -1..=1) {
        Some((ErrorCode::INVALID_REQUIRED_ACKS, "acks must be -1, 0 or 1"))
    } else {
        None
    };
    if let Some((code, why)) = &refuse {
        tracing::info!(code = code.name(), why, "produce refused");
    }
    let limits = ctx.settings.append_limits();
    let now = now_ms();
    let mut topics = Vec::with_capacity(req.topics.len());
    for topic in req.topics {
        let permitted = allowed(ctx, &conn.session, Action::Produce(&topic.name));
        let stream = ctx.engine.streams.get(&topic.name);
        let mut partitions = Vec::with_capacity(topic.partitions.len());
        for data in topic.partitions {
            let outcome = match (&refuse, &stream) {
                (Some((code, why)), _) => failed(data.index, *code, why.to_string()),
                (None, _) if !permitted => failed(
                    data.index,
                    ErrorCode::TOPIC_AUTHORIZATION_FAILED,
                    denied_message("topic", &topic.name),
                ),
                (None, Err(e)) => failed(data.index, stream_code(e), e.to_string()),
                (None, Ok(stream)) => {
                    append(stream, data.index, data.records, &limits, now, req.acks)
                }
            };
            partitions.push(outcome);
        }
        topics.push((topic.name, partitions));
    }
    if req.acks == 0 {
        return None;
    }
    Some(Box::pin(async move {
        let mut out = Vec::with_capacity(topics.len());
        for (name, partitions) in topics {
            let mut responses = Vec::with_capacity(partitions.len());
            for Outcome {
                mut response,
                durable_wait,
            } in partitions
            {
                if let Some((stream, partition, last_offset)) = durable_wait {
                    if let Ok(p) = stream.partition(partition) {
                        if let Err(e) = p.log.wait_durable(last_offset).await {
                            response.error = log_code(&e);
                            response.error_message = Some(e.to_string());
                        }
                    }
                }
                responses.push(response);
            }
            out.push(TopicResponse {
                name,
                partitions: responses,
            });
        }
        let mut w = reply.writer();
        produce::encode(&mut w, reply.version(), &out);
        Some(reply.finish(w))
    }))
}

fn failed(index: i32, error: ErrorCode, message: String) -> Outcome {
    Outcome {
        response: PartitionResponse {
            index,
            error,
            base_offset: -1,
            log_append_time_ms: -1,
            log_start_offset: -1,
            error_message: Some(message),
        },
        durable_wait: None,
    }
}

/// Appends every batch in `records` to partition `index` of `stream`.
fn append(
    stream: &Arc<Stream>,
    index: i32,
    records: Option<Bytes>,
    limits: &memstream_engine::streams::AppendLimits,
    now: u64,
    acks: i16,
) -> Outcome {
    let Ok(partition) = u32::try_from(index) else {
        return failed(
            index,
            ErrorCode::UNKNOWN_TOPIC_OR_PARTITION,
            format!("no partition {index}"),
        );
    };
    let Some(records) = records.filter(|r| !r.is_empty()) else {
        return failed(
            index,
            ErrorCode::CORRUPT_MESSAGE,
            "no record batch".to_owned(),
        );
    };
    let batches = match split_batches(records) {
        Ok(batches) => batches,
        Err(message) => return failed(index, ErrorCode::CORRUPT_MESSAGE, message),
    };
    let mut first = None;
    let mut last = 0;
    for batch in &batches {
        match stream.append(Placement::Partition(partition), batch, limits, now) {
            Ok(appended) => {
                first.get_or_insert(appended.base_offset);
                last = appended.last_offset;
            }
            Err(e) => {
                log_refusal(stream.name(), partition, &e);
                return failed(index, stream_code(&e), e.to_string());
            }
        }
    }
    let log_start_offset = stream
        .partition(partition)
        .map_or(-1, |p| p.log.start_offset() as i64);
    Outcome {
        response: PartitionResponse {
            index,
            error: ErrorCode::NONE,
            base_offset: first.map_or(-1, |o| o as i64),
            log_append_time_ms: -1,
            log_start_offset,
            error_message: None,
        },
        durable_wait: (acks == -1).then(|| (stream.clone(), partition, last)),
    }
}

fn log_refusal(stream: &str, partition: u32, e: &StreamError) {
    match e {
        StreamError::OutOfOrderSequence { .. } | StreamError::UnknownProducer { .. } => {
            tracing::debug!(stream, partition, error = %e, "batch refused");
        }
        _ => tracing::info!(stream, partition, error = %e, "batch refused"),
    }
}

/// The batches in a partition's records: each is `base_offset: INT64, batch_length: INT32`
/// and `batch_length` more bytes. (Kafka clients send one batch per partition; more are
/// accepted and appended in order.)
fn split_batches(mut records: Bytes) -> Result<Vec<Bytes>, String> {
    let mut out = Vec::with_capacity(1);
    while !records.is_empty() {
        let len = records
            .get(8..12)
            .and_then(|b| <[u8; 4]>::try_from(b).ok())
            .map(i32::from_be_bytes)
            .and_then(|n| usize::try_from(n).ok())
            .and_then(|n| n.checked_add(12))
            .filter(|&n| n <= records.len())
            .ok_or_else(|| format!("a record batch is truncated ({} bytes left)", records.len()))?;
        out.push(records.split_to(len));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn batches_are_split_by_their_lengths() {
        let mut two = Vec::new();
        for body in [&b"abc"[..], &b"de"[..]] {
            two.extend(0i64.to_be_bytes());
            two.extend((body.len() as i32).to_be_bytes());
            two.extend(body);
        }
        let batches = split_batches(Bytes::from(two)).unwrap();
        assert_eq!(batches.len(), 2);
        assert_eq!(batches[1].len(), 14);
        assert!(split_batches(Bytes::from_static(&[0; 11])).is_err());
        let mut short = vec![0u8; 8];
        short.extend(100i32.to_be_bytes());
        assert!(split_batches(Bytes::from(short)).is_err());
    }
}
