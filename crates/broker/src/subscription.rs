//! Push subscriptions, the native front-end's side: a future per subscription, run on the
//! connection's writer task, drives the engine's cursors (`memstream_engine::subscriptions`)
//! and turns what they read into PUSH frames, never beyond the credit the client granted.

use std::collections::HashMap;
use std::sync::Arc;

use bytes::{Bytes, BytesMut};
use futures_util::stream::{FuturesUnordered, StreamExt};
use memstream_engine::subscriptions::{Credit, Cursor, CursorRead, Cursors, StartAt};
use memstream_protocol::message::{
    OffsetSpec, PartitionOffset, PushError, PushHeader, ALL_PARTITIONS,
};
use memstream_protocol::pattern::Pattern;
use memstream_protocol::{ErrorBody, ErrorCode, Flags, Frame, Opcode};

use crate::streams::Streams;
use crate::wire_errors::WireCode;
use crate::writer::Response;
use crate::writer::{Closed, PusherHandle, WriteQueue};

/// A running subscription; dropping it stops it.
pub(crate) struct Subscription {
    pub credit: Arc<Credit>,
    _pusher: Option<PusherHandle>,
}

impl std::fmt::Debug for Subscription {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Subscription")
            .field("credit", &self.credit.available())
            .finish()
    }
}

/// What a subscription reads and where it sends.
pub(crate) struct Spec {
    pub id: u32,
    pub pattern: Pattern,
    pub partition: u32,
    pub from: OffsetSpec,
    /// Partitions that start at a given offset instead of at `from`.
    pub positions: HashMap<(String, u32), u64>,
    /// Most batch bytes in one PUSH (the frame limit less headers).
    pub push_bytes_max: u64,
    /// The streams the subscriber may read (a pattern skips the others).
    pub readable: memstream_engine::subscriptions::Readable,
    /// The server's counters (credit stalls).
    pub metrics: Arc<crate::metrics::Metrics>,
}

fn start_at(from: OffsetSpec) -> StartAt {
    match from {
        OffsetSpec::Offset(o) => StartAt::Offset(o),
        OffsetSpec::Earliest => StartAt::Earliest,
        OffsetSpec::Latest => StartAt::Latest,
        OffsetSpec::Timestamp(ts) => StartAt::Timestamp(ts),
    }
}

impl Subscription {
    /// Starts pushing. Returns where each partition matched now starts.
    pub fn start(
        spec: Spec,
        streams: Arc<Streams>,
        credit_bytes: u32,
        queue: WriteQueue,
    ) -> (Subscription, Vec<PartitionOffset>) {
        let credit = Arc::new(Credit::default());
        credit.add(u64::from(credit_bytes));
        let partition = (spec.partition != ALL_PARTITIONS).then_some(spec.partition);
        let cursors = Cursors::open(
            &streams,
            spec.pattern.clone(),
            partition,
            start_at(spec.from),
            spec.positions.clone(),
            spec.readable.clone(),
        );
        let matched = cursors
            .positions()
            .into_iter()
            .map(|p| PartitionOffset {
                stream: p.stream,
                partition: p.partition,
                offset: p.offset.unwrap_or_default(),
            })
            .collect();
        let pusher = run(spec, streams, credit.clone(), queue.clone(), cursors);
        // A closed queue means the connection is going away; nothing is pushed then.
        let pusher = queue.run_on_writer(pusher).ok();
        (
            Subscription {
                credit,
                _pusher: pusher,
            },
            matched,
        )
    }
}

/// What one pass over the cursors found.
enum Pass {
    Pushed,
    /// Data is waiting but needs this much credit.
    NeedCredit(u64),
    Idle,
    Closed,
}

async fn run(
    spec: Spec,
    streams: Arc<Streams>,
    credit: Arc<Credit>,
    queue: WriteQueue,
    mut cursors: Cursors,
) {
    let mut created = streams.watch_created();
    created.mark_unchanged();
    let wildcard = cursors.is_wildcard();
    // New streams for a pattern, new partitions of a stream for a whole-stream subscription.
    let watches = cursors.watches_created();
    loop {
        if retire_deleted(&spec, &queue, &mut cursors).await.is_err() {
            return;
        }
        if cursors.cursors.is_empty() && !wildcard {
            // The stream was deleted (or every partition stopped): nothing will ever come.
            return;
        }
        let mut rescan = false;
        match push_once(&spec, &credit, &queue, &mut cursors.cursors).await {
            Pass::Pushed => continue,
            Pass::Closed => return,
            Pass::NeedCredit(bytes) => {
                spec.metrics.credit_stall();
                tokio::select! {
                    () = credit.wait_for(bytes) => {}
                    Ok(()) = created.changed(), if watches => rescan = true,
                }
            }
            Pass::Idle => {
                let mut arrivals: FuturesUnordered<_> = cursors
                    .cursors
                    .iter()
                    .map(|c| {
                        let mut rx = c
                            .stream
                            .partition(c.partition)
                            .map(|p| p.log.subscribe())
                            .ok();
                        let next = c.next;
                        async move {
                            if let Some(rx) = rx.as_mut() {
                                let _ = rx.wait_for(|&end| end > next).await;
                            } else {
                                std::future::pending::<()>().await;
                            }
                        }
                    })
                    .collect();
                tokio::select! {
                    Some(()) = arrivals.next(), if !arrivals.is_empty() => {}
                    Ok(()) = created.changed(), if watches => rescan = true,
                }
            }
        }
        if rescan {
            cursors.add_new_streams(&streams);
        }
    }
}

/// Tells the client of each partition whose stream was deleted, with an empty PUSH flagged
/// END_OF_STREAM. (A deleted log's arrival watch never fires again, so keeping the cursor
/// would spin.)
async fn retire_deleted(
    spec: &Spec,
    queue: &WriteQueue,
    cursors: &mut Cursors,
) -> Result<(), Closed> {
    for cursor in cursors.take_deleted() {
        let mut payload = BytesMut::new();
        PushHeader {
            stream: cursor.stream.name().to_owned(),
            partition: cursor.partition,
            next_offset: cursor.next,
            batches_len: 0,
        }
        .encode(&mut payload);
        let frame = Frame {
            stream_id: spec.id,
            flags: Flags::END_OF_STREAM,
            ..Frame::request(Opcode::Push, 0, payload.freeze())
        };
        queue.send(frame).await?;
    }
    Ok(())
}

/// Tells the client that `cursor`'s partition stopped at its position, and why: a condition
/// that will not change is reported once, never retried in a loop.
async fn stop(
    spec: &Spec,
    queue: &WriteQueue,
    cursor: &Cursor,
    code: ErrorCode,
    message: String,
) -> Result<(), Closed> {
    tracing::warn!(
        subscription = spec.id, stream = cursor.stream.name(), partition = cursor.partition,
        offset = cursor.next, code = code.name(), %message,
        "subscription stopped pushing a partition"
    );
    let mut payload = BytesMut::new();
    PushError {
        stream: cursor.stream.name().to_owned(),
        partition: cursor.partition,
        next_offset: cursor.next,
        error: ErrorBody::new(code, &message),
    }
    .encode(&mut payload);
    let frame = Frame {
        stream_id: spec.id,
        flags: Flags::ERROR,
        ..Frame::request(Opcode::Push, 0, payload.freeze())
    };
    queue.send(frame).await
}

/// Pushes at most one frame per cursor that has data and enough credit; drops the cursors
/// that stopped.
async fn push_once(
    spec: &Spec,
    credit: &Credit,
    queue: &WriteQueue,
    cursors: &mut Vec<Cursor>,
) -> Pass {
    let mut result = Pass::Idle;
    let mut stopped = Vec::new();
    for (i, cursor) in cursors.iter_mut().enumerate() {
        let budget = credit.available().min(spec.push_bytes_max);
        let (batches, bytes, next_offset) = match cursor.read(budget, spec.push_bytes_max).await {
            CursorRead::Idle => continue,
            CursorRead::Skipped => {
                result = Pass::Pushed;
                continue;
            }
            CursorRead::NeedCredit(need) => {
                result = match result {
                    Pass::NeedCredit(n) => Pass::NeedCredit(n.min(need)),
                    Pass::Idle => Pass::NeedCredit(need),
                    other => other,
                };
                continue;
            }
            CursorRead::Stop(e) => {
                if stop(spec, queue, cursor, e.code(), e.to_string())
                    .await
                    .is_err()
                {
                    return Pass::Closed;
                }
                stopped.push(i);
                result = Pass::Pushed;
                continue;
            }
            CursorRead::Batches {
                batches,
                bytes,
                next_offset,
            } => (batches, bytes, next_offset),
        };
        credit.take(bytes);
        if push(spec, queue, cursor, batches, bytes, next_offset)
            .await
            .is_err()
        {
            return Pass::Closed;
        }
        result = Pass::Pushed;
    }
    for i in stopped.into_iter().rev() {
        cursors.remove(i);
    }
    result
}

/// One PUSH of `batches` (`bytes` in all) for `cursor`'s partition.
async fn push(
    spec: &Spec,
    queue: &WriteQueue,
    cursor: &Cursor,
    batches: Vec<Bytes>,
    bytes: u64,
    next_offset: u64,
) -> Result<(), Closed> {
    let mut payload = BytesMut::new();
    PushHeader {
        stream: cursor.stream.name().to_owned(),
        partition: cursor.partition,
        next_offset,
        batches_len: bytes as u32,
    }
    .encode(&mut payload);
    let frame = Frame {
        stream_id: spec.id,
        ..Frame::request(Opcode::Push, 0, payload.freeze())
    };
    queue
        .send(Response {
            frame,
            tail: batches,
        })
        .await
}
