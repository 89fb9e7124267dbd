//! PRODUCE: check and append each batch, then answer at the durability asked for.
//!
//! Appends happen right here, in request order (so a connection's batches to one partition
//! keep their order). With `acks = durable` on a disk stream the response waits for the
//! fsync that covers the batch; that fsync is shared with every other append made before it
//! started (group commit).

use bytes::BytesMut;
use memstream_protocol::message::{
    Acks, Durability, ProduceRequest, ProduceResponse, ProduceResult,
};
use memstream_protocol::Frame;

use super::{now_ms, stream_error, Action, Context, Response};
use crate::streams::AppendLimits;
use crate::wire_errors::WireCode;

/// Appends the batches; the reply may wait for durability.
pub(crate) fn apply(produce: ProduceRequest, frame: &Frame, ctx: &Context<'_>) -> Action {
    let stream = match ctx.shared.engine.streams.get(&produce.stream) {
        Ok(stream) => stream,
        Err(e) if produce.acks == Acks::None => {
            tracing::debug!(error = %e, "produce with acks=none failed");
            return Action::NoReply;
        }
        Err(e) => return Action::Reply(stream_error(frame, &e).into()),
    };
    let now = now_ms();
    let cfg = ctx.shared.config.load();
    let limits = AppendLimits {
        decompressed_bytes_max: usize::try_from(cfg.streams.max_decompressed_batch_bytes)
            .unwrap_or(usize::MAX),
        producers_max: cfg.streams.max_producers_per_partition as usize,
    };
    let mut results = Vec::with_capacity(produce.batches.len());
    let mut wait_for = Vec::new();
    for batch in &produce.batches {
        let result = match stream.append(
            crate::translate::placement(batch.selector),
            &batch.batch,
            &limits,
            now,
        ) {
            Ok(appended) => {
                if produce.acks == Acks::Durable {
                    wait_for.push((results.len(), appended.partition, appended.last_offset));
                }
                ProduceResult {
                    partition: appended.partition,
                    error_code: 0,
                    base_offset: appended.base_offset,
                    durability: Durability::Written,
                }
            }
            Err(e) => {
                tracing::debug!(stream = %produce.stream, error = %e, "batch refused");
                ProduceResult {
                    partition: match batch.selector {
                        memstream_protocol::message::PartitionSelector::Explicit(p) => p,
                        _ => 0,
                    },
                    error_code: e.code().as_u16(),
                    base_offset: 0,
                    durability: Durability::None,
                }
            }
        };
        results.push(result);
    }
    if produce.acks == Acks::None {
        return Action::NoReply;
    }
    let reply = Frame::response(frame, bytes::Bytes::new());
    if wait_for.is_empty() {
        return Action::Reply(encode(&reply, results));
    }
    Action::Later(Box::pin(async move {
        for (index, partition, last_offset) in wait_for {
            let durable = match stream.partition(partition) {
                Ok(p) => p.log.wait_durable(last_offset).await,
                Err(e) => Err(memstream_log::LogError::Fenced {
                    reason: e.to_string(),
                }),
            };
            let result = &mut results[index];
            match durable {
                Ok(true) => result.durability = Durability::Durable,
                // A memory stream: written is as far as it goes.
                Ok(false) => {}
                Err(e) => {
                    let e = crate::streams::StreamError::from(e);
                    result.error_code = e.code().as_u16();
                }
            }
        }
        Some(encode(&reply, results))
    }))
}

fn encode(reply: &Frame, results: Vec<ProduceResult>) -> Response {
    let mut payload = BytesMut::new();
    ProduceResponse { results }.encode(&mut payload);
    Frame::response(reply, payload.freeze()).into()
}
