//! Idempotent producers: a retried batch is acknowledged with its original offset and not
//! stored twice.
//!
//! Per partition, for each producer id, the server remembers the epoch, the next expected
//! sequence number and the last few batches it appended ([`RECENT_BATCHES`]). A batch whose
//! `base_sequence` matches one of those is a duplicate; one that continues the sequence is
//! appended; anything else is `OUT_OF_ORDER_SEQUENCE`. A higher epoch starts the producer
//! afresh at sequence 0. A producer the partition does not know (never seen, evicted, or its
//! batches deleted by retention) must start at sequence 0, as in Kafka, or gets
//! `UNKNOWN_PRODUCER_ID`.
//!
//! The state is bounded: at most `streams.max_producers_per_partition` producers per
//! partition, the least recently used evicted first, and a producer whose last batch
//! retention deleted is dropped. It lives in memory and is rebuilt when a disk stream is
//! opened, from the batch headers of each partition's active segment (held in RAM after
//! recovery, so this reads no file).

use std::collections::{HashMap, VecDeque};

use memstream_batch::{sequence_after, BatchHeader};
use memstream_log::Partition;

/// Bytes read per step while rebuilding producer state from a log.
const RECOVERY_READ_BYTES: usize = 1 << 20;

/// Batches remembered per producer and partition, like Kafka's five in-flight batches.
pub const RECENT_BATCHES: usize = 5;

/// What to do with an incoming batch.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Check {
    /// Append it.
    Append,
    /// Already appended at this base offset: acknowledge without storing.
    Duplicate(u64),
    /// Sequence gap or an old epoch.
    OutOfOrder {
        /// What the server expected.
        expected: i32,
    },
    /// The producer is not known here and does not start at sequence 0.
    UnknownProducer,
}

#[derive(Debug, Clone, Copy)]
struct Appended {
    base_sequence: i32,
    base_offset: u64,
}

#[derive(Debug)]
struct ProducerState {
    epoch: i16,
    next_sequence: i32,
    recent: VecDeque<Appended>,
    /// Offset of the last record appended: retention past it drops the state.
    last_offset: u64,
    /// Value of the partition's use counter when last used (least recently used goes first).
    last_used: u64,
}

/// Producer states of one partition.
#[derive(Debug, Default)]
pub struct Producers {
    states: HashMap<i64, ProducerState>,
    uses: u64,
}

impl Producers {
    /// The producer state that `log`'s tail implies: every batch of the active segment with
    /// a producer id, in order, as if it had just been appended (at most `max` producers).
    pub fn recover(log: &Partition, max: usize) -> Producers {
        let mut producers = Producers::default();
        let mut offset = log.tail_offset();
        while let Ok(fetched) = log.read(offset, RECOVERY_READ_BYTES) {
            for batch in &fetched.batches {
                let Ok(h) = BatchHeader::parse(batch) else {
                    continue;
                };
                if h.is_idempotent() {
                    producers.record(&h, h.base_offset, max);
                }
            }
            if fetched.batches.is_empty() || fetched.next_offset <= offset {
                break;
            }
            offset = fetched.next_offset;
        }
        producers
    }

    /// Producers remembered.
    #[cfg(test)]
    fn len(&self) -> usize {
        self.states.len()
    }

    /// Classifies a batch from the idempotent producer `producer_id`.
    pub fn check(&self, producer_id: i64, epoch: i16, base_sequence: i32) -> Check {
        let Some(state) = self.states.get(&producer_id) else {
            return if base_sequence == 0 {
                Check::Append
            } else {
                Check::UnknownProducer
            };
        };
        if epoch > state.epoch {
            return if base_sequence == 0 {
                Check::Append
            } else {
                Check::OutOfOrder { expected: 0 }
            };
        }
        if epoch < state.epoch {
            return Check::OutOfOrder {
                expected: state.next_sequence,
            };
        }
        if let Some(seen) = state
            .recent
            .iter()
            .find(|b| b.base_sequence == base_sequence)
        {
            return Check::Duplicate(seen.base_offset);
        }
        if base_sequence == state.next_sequence {
            Check::Append
        } else {
            Check::OutOfOrder {
                expected: state.next_sequence,
            }
        }
    }

    /// Records the appended batch `h`, stored at `base_offset`; keeps at most `max`
    /// producers, evicting the least recently used.
    pub fn record(&mut self, h: &BatchHeader, base_offset: u64, max: usize) {
        self.uses += 1;
        let uses = self.uses;
        if !self.states.contains_key(&h.producer_id) && self.states.len() >= max.max(1) {
            let lru = self
                .states
                .iter()
                .min_by_key(|(_, s)| s.last_used)
                .map(|(id, _)| *id);
            if let Some(id) = lru {
                self.states.remove(&id);
                tracing::debug!(
                    producer_id = id,
                    "producer state evicted (least recently used)"
                );
            }
        }
        let state = self.states.entry(h.producer_id).or_insert(ProducerState {
            epoch: h.producer_epoch,
            next_sequence: h.base_sequence,
            recent: VecDeque::new(),
            last_offset: base_offset,
            last_used: uses,
        });
        if h.producer_epoch > state.epoch {
            state.epoch = h.producer_epoch;
            state.recent.clear();
        }
        state.next_sequence = sequence_after(h.base_sequence, h.record_count);
        state.last_offset = base_offset.saturating_add(u64::from(h.last_offset_delta));
        state.last_used = uses;
        if state.recent.len() == RECENT_BATCHES {
            state.recent.pop_front();
        }
        state.recent.push_back(Appended {
            base_sequence: h.base_sequence,
            base_offset,
        });
    }

    /// Drops producers whose every batch is below `start_offset` (deleted by retention).
    pub fn retain_from(&mut self, start_offset: u64) -> usize {
        let before = self.states.len();
        self.states.retain(|_, s| s.last_offset >= start_offset);
        before - self.states.len()
    }
}

#[cfg(test)]
mod tests {
    use memstream_batch::{BatchBuilder, BatchHeader};

    use super::*;

    fn header(producer: i64, epoch: i16, seq: i32, records: usize) -> BatchHeader {
        let mut b = BatchBuilder::default();
        for _ in 0..records {
            b.push(0, None, b"x", &[]);
        }
        BatchHeader::parse(&b.finish(producer, epoch, seq)).unwrap()
    }

    #[test]
    fn retries_are_duplicates_and_gaps_are_refused() {
        let mut p = Producers::default();
        assert_eq!(p.check(9, 0, 0), Check::Append);
        p.record(&header(9, 0, 0, 10), 100, 10);
        assert_eq!(p.check(9, 0, 0), Check::Duplicate(100));
        assert_eq!(p.check(9, 0, 10), Check::Append);
        assert_eq!(p.check(9, 0, 11), Check::OutOfOrder { expected: 10 });
        p.record(&header(9, 0, 10, 5), 110, 10);
        assert_eq!(p.check(9, 0, 10), Check::Duplicate(110));
        // A new epoch starts afresh at 0; the old one is fenced.
        assert_eq!(p.check(9, 1, 3), Check::OutOfOrder { expected: 0 });
        assert_eq!(p.check(9, 1, 0), Check::Append);
        p.record(&header(9, 1, 0, 1), 200, 10);
        assert_eq!(p.check(9, 0, 15), Check::OutOfOrder { expected: 1 });
    }

    #[test]
    fn an_unknown_producer_must_start_at_sequence_0() {
        let p = Producers::default();
        assert_eq!(p.check(5, 0, 7), Check::UnknownProducer);
        assert_eq!(p.check(5, 0, 0), Check::Append);
    }

    #[test]
    fn only_recent_batches_are_remembered() {
        let mut p = Producers::default();
        for i in 0..(RECENT_BATCHES as i32 + 2) {
            p.record(&header(1, 0, i, 1), i as u64, 10);
        }
        assert!(matches!(p.check(1, 0, 0), Check::OutOfOrder { .. }));
        assert_eq!(p.check(1, 0, 6), Check::Duplicate(6));
    }

    #[test]
    fn the_state_is_bounded_by_lru_and_by_retention() {
        let mut p = Producers::default();
        for id in 0..100 {
            p.record(&header(id, 0, 0, 1), id as u64, 10);
            // Producer 0 stays in use, so it is never the least recently used.
            p.record(&header(0, 0, id as i32 + 1, 1), 1000 + id as u64, 10);
        }
        assert_eq!(p.len(), 10);
        assert_eq!(
            p.check(0, 0, 101),
            Check::Append,
            "the busy producer is kept"
        );
        assert_eq!(
            p.check(1, 0, 1),
            Check::UnknownProducer,
            "an idle one was evicted"
        );
        // Retention deletes everything below 1050: only producers with later batches stay.
        let dropped = p.retain_from(1_050);
        assert_eq!((dropped, p.len()), (9, 1));
    }
}
