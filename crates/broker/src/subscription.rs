//! Push subscriptions: a task per subscription reads its partitions from the log and pushes
//! batches to the connection, never beyond the credit the client granted.
//!
//! Nothing is queued per consumer: a subscription is a set of cursors (stream, partition,
//! next offset) and a credit counter. A consumer that stops granting credit stops the reads;
//! the data stays in the log, where retention bounds it.

use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use bytes::{Bytes, BytesMut};
use futures_util::stream::{FuturesUnordered, StreamExt};
use memstream_log::LogError;
use memstream_protocol::batch::BatchHeader;
use memstream_protocol::message::{
    OffsetSpec, PartitionOffset, PushError, PushHeader, ALL_PARTITIONS,
};
use memstream_protocol::pattern::Pattern;
use memstream_protocol::{ErrorBody, ErrorCode, Flags, Frame, Opcode};
use tokio::sync::Notify;
use tokio_util::task::AbortOnDropHandle;

use crate::connection::writer::{Closed, WriteQueue};
use crate::handler::Response;
use crate::streams::{read_off_runtime, Stream, StreamError, Streams};
use crate::wire_errors::WireCode;

/// Bytes the subscription may still push.
#[derive(Debug, Default)]
pub(crate) struct Credit {
    available: AtomicU64,
    changed: Notify,
}

impl Credit {
    /// Grants `bytes` more.
    pub fn add(&self, bytes: u64) {
        self.available.fetch_add(bytes, Ordering::AcqRel);
        self.changed.notify_one();
    }

    fn available(&self) -> u64 {
        self.available.load(Ordering::Acquire)
    }

    fn take(&self, bytes: u64) {
        // Only the subscription's own task takes, after checking what is available: credit
        // never goes below zero (pushes never exceed the credit granted).
        let before = self.available.fetch_sub(bytes, Ordering::AcqRel);
        debug_assert!(before >= bytes, "took {bytes} of {before} bytes of credit");
    }

    /// Waits until at least `bytes` are available.
    async fn wait_for(&self, bytes: u64) {
        loop {
            let notified = self.changed.notified();
            if self.available() >= bytes {
                return;
            }
            notified.await;
        }
    }
}

/// A running subscription; dropping it stops the task.
pub(crate) struct Subscription {
    pub credit: Arc<Credit>,
    _task: AbortOnDropHandle<()>,
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
}

struct Cursor {
    stream: Arc<Stream>,
    partition: u32,
    next: u64,
    /// Set when the partition cannot go on (a corrupt batch, one no frame can carry): the
    /// client was told and the cursor is dropped after this pass.
    stopped: bool,
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
        let mut known = HashSet::new();
        let mut cursors = Vec::new();
        for stream in streams.matching(&spec.pattern) {
            add_cursors(&mut cursors, &mut known, &stream, &spec, spec.from);
        }
        let matched = cursors
            .iter()
            .map(|c| PartitionOffset {
                stream: c.stream.name().to_owned(),
                partition: c.partition,
                offset: c.next,
            })
            .collect();
        let task = tokio::spawn(run(spec, streams, credit.clone(), queue, cursors, known));
        (
            Subscription {
                credit,
                _task: AbortOnDropHandle::new(task),
            },
            matched,
        )
    }
}

/// Adds a cursor for each of `stream`'s partitions the subscription reads: at its listed
/// position when the client gave one, otherwise at `from`.
fn add_cursors(
    cursors: &mut Vec<Cursor>,
    known: &mut HashSet<String>,
    stream: &Arc<Stream>,
    spec: &Spec,
    from: OffsetSpec,
) {
    if !known.insert(stream.name().to_owned()) {
        return;
    }
    for (p, sp) in stream.partitions().iter().enumerate() {
        let p = p as u32;
        if spec.partition != ALL_PARTITIONS && spec.partition != p {
            continue;
        }
        let log = &sp.log;
        let listed = spec.positions.get(&(stream.name().to_owned(), p)).copied();
        let next = match listed.map_or(from, OffsetSpec::Offset) {
            OffsetSpec::Offset(o) => o.clamp(log.start_offset(), log.end_offset()),
            OffsetSpec::Earliest => log.start_offset(),
            OffsetSpec::Latest => log.end_offset(),
            OffsetSpec::Timestamp(ts) => log.offset_for_timestamp(ts),
        };
        cursors.push(Cursor {
            stream: stream.clone(),
            partition: p,
            next,
            stopped: false,
        });
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
    mut cursors: Vec<Cursor>,
    mut known: HashSet<String>,
) {
    let mut created = streams.watch_created();
    created.mark_unchanged();
    let wildcard = spec.pattern.is_wildcard();
    loop {
        if retire_deleted(&spec, &queue, &mut cursors, &mut known)
            .await
            .is_err()
        {
            return;
        }
        if cursors.is_empty() && !wildcard {
            // The stream was deleted: nothing will ever come.
            return;
        }
        let mut rescan = false;
        match push_once(&spec, &credit, &queue, &mut cursors).await {
            Pass::Pushed => continue,
            Pass::Closed => return,
            Pass::NeedCredit(bytes) => {
                tokio::select! {
                    () = credit.wait_for(bytes) => {}
                    Ok(()) = created.changed(), if wildcard => rescan = true,
                }
            }
            Pass::Idle => {
                let mut arrivals: FuturesUnordered<_> = cursors
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
                    Ok(()) = created.changed(), if wildcard => rescan = true,
                }
            }
        }
        if rescan {
            // New streams are read from their start.
            for stream in streams.matching(&spec.pattern) {
                add_cursors(
                    &mut cursors,
                    &mut known,
                    &stream,
                    &spec,
                    OffsetSpec::Earliest,
                );
            }
        }
    }
}

/// Drops the cursors of partitions whose stream was deleted, telling the client with an empty
/// PUSH flagged END_OF_STREAM for each. (A deleted log's arrival watch never fires again, so
/// keeping the cursor would spin.)
async fn retire_deleted(
    spec: &Spec,
    queue: &WriteQueue,
    cursors: &mut Vec<Cursor>,
    known: &mut HashSet<String>,
) -> Result<(), Closed> {
    let deleted = |c: &Cursor| {
        c.stream
            .partition(c.partition)
            .map_or(true, |p| p.log.is_closed())
    };
    if !cursors.iter().any(deleted) {
        return Ok(());
    }
    let (gone, kept): (Vec<Cursor>, Vec<Cursor>) = std::mem::take(cursors)
        .into_iter()
        .partition(|c| deleted(c));
    *cursors = kept;
    for cursor in gone {
        // A stream of that name created later is a new stream for a pattern subscription.
        known.remove(cursor.stream.name());
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

/// Tells the client that `cursor`'s partition stopped at its position, and why, and marks
/// the cursor for removal: a condition that will not change is reported once, never retried
/// in a loop.
async fn stop(
    spec: &Spec,
    queue: &WriteQueue,
    cursor: &mut Cursor,
    code: ErrorCode,
    message: String,
) -> Result<(), Closed> {
    tracing::warn!(
        subscription = spec.id, stream = cursor.stream.name(), partition = cursor.partition,
        offset = cursor.next, code = code.name(), %message,
        "subscription stopped pushing a partition"
    );
    cursor.stopped = true;
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

/// Pushes at most one frame per cursor that has data and enough credit.
async fn push_once(
    spec: &Spec,
    credit: &Credit,
    queue: &WriteQueue,
    cursors: &mut Vec<Cursor>,
) -> Pass {
    let result = push_cursors(spec, credit, queue, cursors).await;
    cursors.retain(|c| !c.stopped);
    result
}

async fn push_cursors(
    spec: &Spec,
    credit: &Credit,
    queue: &WriteQueue,
    cursors: &mut [Cursor],
) -> Pass {
    let mut result = Pass::Idle;
    for cursor in cursors.iter_mut() {
        let Ok(partition) = cursor.stream.partition(cursor.partition) else {
            continue;
        };
        let log = &partition.log;
        if log.end_offset() <= cursor.next {
            continue;
        }
        let budget = credit.available().min(spec.push_bytes_max);
        let fetched = match read_off_runtime(log, cursor.next, budget.max(1) as usize).await {
            Ok(fetched) => fetched,
            Err(LogError::OffsetOutOfRange { start, .. }) if cursor.next < start => {
                // Retention passed us: go on from the new start.
                cursor.next = start;
                result = Pass::Pushed;
                continue;
            }
            Err(e) => {
                let e = StreamError::from(e);
                if stop(spec, queue, cursor, e.code(), e.to_string())
                    .await
                    .is_err()
                {
                    return Pass::Closed;
                }
                result = Pass::Pushed;
                continue;
            }
        };
        let mut bytes = 0u64;
        let mut batches: Vec<Bytes> = Vec::new();
        for batch in fetched.batches {
            if batches.is_empty() && batch.len() as u64 > spec.push_bytes_max {
                // No credit makes this fit: the stream's batch limit keeps stored batches
                // within every frame limit the server allows, so this is a smaller limit
                // than the batch was stored under.
                let message = format!(
                    "the batch at offset {} is {} bytes; this connection's PUSH frames carry at \
                     most {} bytes of batches",
                    cursor.next,
                    batch.len(),
                    spec.push_bytes_max
                );
                if stop(spec, queue, cursor, ErrorCode::MessageTooLarge, message)
                    .await
                    .is_err()
                {
                    return Pass::Closed;
                }
                result = Pass::Pushed;
                break;
            }
            if bytes + batch.len() as u64 > budget {
                if batches.is_empty() {
                    let need = batch.len() as u64;
                    result = match result {
                        Pass::NeedCredit(n) => Pass::NeedCredit(n.min(need)),
                        Pass::Idle => Pass::NeedCredit(need),
                        other => other,
                    };
                }
                break;
            }
            bytes += batch.len() as u64;
            batches.push(batch);
        }
        let Some(last) = batches.last() else {
            continue;
        };
        let next_offset = match BatchHeader::parse(last) {
            Ok(h) => h.next_offset(),
            Err(e) => {
                // The log checked it; a batch that no longer parses is corrupt in memory.
                let message = format!("stored batch does not parse: {e}");
                if stop(spec, queue, cursor, ErrorCode::CorruptData, message)
                    .await
                    .is_err()
                {
                    return Pass::Closed;
                }
                result = Pass::Pushed;
                continue;
            }
        };
        credit.take(bytes);
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
        if queue
            .send(Response {
                frame,
                tail: batches,
            })
            .await
            .is_err()
        {
            return Pass::Closed;
        }
        cursor.next = next_offset;
        result = Pass::Pushed;
    }
    result
}
