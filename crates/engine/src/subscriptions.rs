//! Subscription cursors with credit: which partitions a subscription reads, where each stands,
//! how many bytes it may still be sent, and the next batches each may take. A front-end owns
//! the task that drives them and the frames that carry the batches (the native server's
//! PUSH); nothing here knows of either.
//!
//! Nothing is queued per consumer: a subscription is a set of cursors and a credit counter. A
//! consumer that grants no credit stops the reads; the data stays in the log.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use bytes::Bytes;
use memstream_batch::BatchHeader;
use memstream_log::LogError;
use memstream_names::Pattern;
use tokio::sync::Notify;

use crate::groups::Position;
use crate::streams::{read_off_runtime, Stream, StreamError, Streams};

/// Bytes a subscription may still be sent.
#[derive(Debug, Default)]
pub struct Credit {
    available: AtomicU64,
    changed: Notify,
}

impl Credit {
    /// Grants `bytes` more.
    pub fn add(&self, bytes: u64) {
        self.available.fetch_add(bytes, Ordering::AcqRel);
        self.changed.notify_one();
    }

    /// Bytes available now.
    pub fn available(&self) -> u64 {
        self.available.load(Ordering::Acquire)
    }

    /// Takes `bytes`, which the one task driving the subscription checked are available.
    pub fn take(&self, bytes: u64) {
        // Credit never goes below zero: pushes never exceed the credit granted.
        let before = self.available.fetch_sub(bytes, Ordering::AcqRel);
        debug_assert!(before >= bytes, "took {bytes} of {before} bytes of credit");
    }

    /// Waits until at least `bytes` are available.
    pub async fn wait_for(&self, bytes: u64) {
        loop {
            let notified = self.changed.notified();
            if self.available() >= bytes {
                return;
            }
            notified.await;
        }
    }
}

/// Where a subscription's partitions start.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StartAt {
    /// This offset (clamped to the retained range).
    Offset(u64),
    Earliest,
    Latest,
    /// The first batch whose max timestamp is at or after this (ms).
    Timestamp(u64),
}

/// One partition a subscription reads, and the next offset it sends.
pub struct Cursor {
    pub stream: Arc<Stream>,
    pub partition: u32,
    pub next: u64,
}

/// What a cursor's next read found.
pub enum CursorRead {
    /// Nothing new.
    Idle,
    /// Whole batches from `next`, within the budget; the cursor has moved past them.
    Batches {
        batches: Vec<Bytes>,
        bytes: u64,
        next_offset: u64,
    },
    /// The next batch needs this much credit.
    NeedCredit(u64),
    /// Retention passed the cursor: it moved to the new start.
    Skipped,
    /// The partition cannot go on (a corrupt batch, or one larger than any frame the
    /// subscriber accepts); the front-end tells the subscriber and drops the cursor.
    Stop(StreamError),
}

impl Cursor {
    /// The next batches, at most `budget` bytes (at least one batch if it fits `budget`),
    /// none larger than `batch_bytes_max`.
    pub async fn read(&mut self, budget: u64, batch_bytes_max: u64) -> CursorRead {
        let Ok(partition) = self.stream.partition(self.partition) else {
            return CursorRead::Idle;
        };
        let log = &partition.log;
        if log.end_offset() <= self.next {
            return CursorRead::Idle;
        }
        let fetched = match read_off_runtime(log, self.next, budget.max(1) as usize).await {
            Ok(fetched) => fetched,
            Err(LogError::OffsetOutOfRange { start, .. }) if self.next < start => {
                self.next = start;
                return CursorRead::Skipped;
            }
            Err(e) => return CursorRead::Stop(StreamError::from(e)),
        };
        let mut bytes = 0u64;
        let mut batches: Vec<Bytes> = Vec::new();
        for batch in fetched.batches {
            let len = batch.len() as u64;
            if batches.is_empty() && len > batch_bytes_max {
                return CursorRead::Stop(StreamError::BatchOverFrame {
                    offset: self.next,
                    len,
                    max: batch_bytes_max,
                });
            }
            if bytes.saturating_add(len) > budget {
                if batches.is_empty() {
                    return CursorRead::NeedCredit(len);
                }
                break;
            }
            bytes = bytes.saturating_add(len);
            batches.push(batch);
        }
        let Some(last) = batches.last() else {
            return CursorRead::Idle;
        };
        let next_offset = match BatchHeader::parse(last) {
            Ok(h) => h.next_offset(),
            Err(e) => {
                // The log checked it when it was stored: a batch that no longer parses is
                // corrupt in memory.
                return CursorRead::Stop(StreamError::Log(LogError::Corrupt {
                    segment: "memory".into(),
                    position: 0,
                    reason: format!("stored batch does not parse: {e}"),
                }));
            }
        };
        self.next = next_offset;
        // Counted as served only now: what a read returned beyond the credit is read again.
        log.served(&batches);
        CursorRead::Batches {
            batches,
            bytes,
            next_offset,
        }
    }

    /// Whether the cursor's stream was deleted.
    pub fn is_deleted(&self) -> bool {
        self.stream
            .partition(self.partition)
            .map_or(true, |p| p.log.is_closed())
    }
}

/// Which streams a subscription may read (its principal's ACLs); a pattern skips the others.
pub type Readable = std::sync::Arc<dyn Fn(&str) -> bool + Send + Sync>;

/// The cursors of one subscription: a stream name or pattern, one partition or all.
pub struct Cursors {
    readable: Readable,
    pattern: Pattern,
    partition: Option<u32>,
    /// Partitions that start at a given offset instead of at the subscription's `from`.
    positions: HashMap<(String, u32), u64>,
    /// Streams already read, with their id and how many of their partitions have cursors (so
    /// a pattern adds each stream once, and partitions a stream gains are added; a stream
    /// deleted and created again is new once its cursors are retired).
    known: HashMap<String, (u64, u32)>,
    pub cursors: Vec<Cursor>,
}

impl Cursors {
    /// Cursors over every partition matching now.
    pub fn open(
        streams: &Streams,
        pattern: Pattern,
        partition: Option<u32>,
        from: StartAt,
        positions: HashMap<(String, u32), u64>,
        readable: Readable,
    ) -> Cursors {
        let mut set = Cursors {
            readable,
            pattern,
            partition,
            positions,
            known: HashMap::new(),
            cursors: Vec::new(),
        };
        for stream in streams.matching(&set.pattern) {
            set.add(&stream, from);
        }
        set
    }

    /// Where each cursor stands.
    pub fn positions(&self) -> Vec<Position> {
        self.cursors
            .iter()
            .map(|c| Position {
                stream: c.stream.name().to_owned(),
                partition: c.partition,
                offset: Some(c.next),
                committed: Some(c.next),
                metadata: None,
            })
            .collect()
    }

    /// Whether the subscription names a pattern (and so picks up new streams).
    pub fn is_wildcard(&self) -> bool {
        self.pattern.is_wildcard()
    }

    /// Whether [`add_new_streams`](Self::add_new_streams) can find anything when
    /// [`Streams::watch_created`] changes: new streams for a pattern, new partitions for a
    /// subscription to every partition.
    pub fn watches_created(&self) -> bool {
        self.is_wildcard() || self.partition.is_none()
    }

    /// Adds cursors for streams created since and for partitions the known streams gained
    /// (both read from their start).
    pub fn add_new_streams(&mut self, streams: &Streams) {
        for stream in streams.matching(&self.pattern) {
            self.add(&stream, StartAt::Earliest);
        }
    }

    /// Removes and returns the cursors whose stream was deleted.
    pub fn take_deleted(&mut self) -> Vec<Cursor> {
        if !self.cursors.iter().any(Cursor::is_deleted) {
            return Vec::new();
        }
        let (gone, kept): (Vec<Cursor>, Vec<Cursor>) = std::mem::take(&mut self.cursors)
            .into_iter()
            .partition(Cursor::is_deleted);
        self.cursors = kept;
        for c in &gone {
            // A stream of that name created later is a new stream for a pattern.
            self.known.remove(c.stream.name());
        }
        gone
    }

    fn add(&mut self, stream: &Arc<Stream>, from: StartAt) {
        if !(self.readable)(stream.name()) {
            return;
        }
        let partitions = stream.partitions();
        let count = partitions.len() as u32;
        let (first, from) = match self.known.get(stream.name()) {
            None => (0, from),
            // New partitions of a stream already read: nothing in them was seen.
            Some(&(id, seen)) if id == stream.id() && seen < count => (seen, StartAt::Earliest),
            // Known as it is, or another stream of that name whose predecessor's cursors
            // are not retired yet.
            Some(_) => return,
        };
        self.known
            .insert(stream.name().to_owned(), (stream.id(), count));
        for (p, sp) in partitions.iter().enumerate().skip(first as usize) {
            let p = p as u32;
            if self.partition.is_some_and(|only| only != p) {
                continue;
            }
            let log = &sp.log;
            let listed = self.positions.get(&(stream.name().to_owned(), p)).copied();
            let next = match listed.map_or(from, StartAt::Offset) {
                StartAt::Offset(o) => o.clamp(log.start_offset(), log.end_offset()),
                StartAt::Earliest => log.start_offset(),
                StartAt::Latest => log.end_offset(),
                StartAt::Timestamp(ts) => log.offset_for_timestamp(ts),
            };
            self.cursors.push(Cursor {
                stream: stream.clone(),
                partition: p,
                next,
            });
        }
    }
}
