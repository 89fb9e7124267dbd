//! Idempotent producers: a retried batch is acknowledged with its original offset and not
//! stored twice.
//!
//! Per partition, for each producer id, the server remembers the epoch, the next expected
//! sequence number and the last few batches it appended ([`RECENT_BATCHES`]). A batch whose
//! `base_sequence` matches one of those is a duplicate; one that continues the sequence is
//! appended; anything else is `OUT_OF_ORDER_SEQUENCE`. A higher epoch starts the producer
//! afresh. The state lives in memory and is rebuilt when a disk stream is opened, from the
//! batch headers of each partition's active segment (held in RAM after recovery, so this
//! reads no file): a retry that crosses a restart is recognised as long as the batch it
//! repeats is in the active segment.

use std::collections::{HashMap, VecDeque};

use memstream_log::Partition;
use memstream_protocol::batch::{sequence_after, BatchHeader};

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
}

/// Producer states of one partition.
#[derive(Debug, Default)]
pub struct Producers {
    states: HashMap<i64, ProducerState>,
}

impl Producers {
    /// The producer state that `log`'s tail implies: every batch of the active segment with
    /// a producer id, in order, as if it had just been appended.
    pub fn recover(log: &Partition) -> Producers {
        let mut producers = Producers::default();
        let mut offset = log.tail_offset();
        while let Ok(fetched) = log.read(offset, RECOVERY_READ_BYTES) {
            for batch in &fetched.batches {
                let Ok(h) = BatchHeader::parse(batch) else {
                    continue;
                };
                if h.is_idempotent() {
                    producers.record(
                        h.producer_id,
                        h.producer_epoch,
                        h.base_sequence,
                        h.record_count,
                        h.base_offset,
                    );
                }
            }
            if fetched.batches.is_empty() || fetched.next_offset <= offset {
                break;
            }
            offset = fetched.next_offset;
        }
        producers
    }

    /// Classifies a batch from the idempotent producer `producer_id`.
    pub fn check(&self, producer_id: i64, epoch: i16, base_sequence: i32) -> Check {
        let Some(state) = self.states.get(&producer_id) else {
            return Check::Append;
        };
        if epoch > state.epoch {
            return Check::Append;
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

    /// Records an appended batch of `record_count` records.
    pub fn record(
        &mut self,
        producer_id: i64,
        epoch: i16,
        base_sequence: i32,
        record_count: u32,
        base_offset: u64,
    ) {
        let state = self.states.entry(producer_id).or_insert(ProducerState {
            epoch,
            next_sequence: base_sequence,
            recent: VecDeque::new(),
        });
        if epoch > state.epoch {
            state.epoch = epoch;
            state.recent.clear();
        }
        state.next_sequence = sequence_after(base_sequence, record_count);
        if state.recent.len() == RECENT_BATCHES {
            state.recent.pop_front();
        }
        state.recent.push_back(Appended {
            base_sequence,
            base_offset,
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retries_are_duplicates_and_gaps_are_refused() {
        let mut p = Producers::default();
        assert_eq!(p.check(9, 0, 0), Check::Append);
        p.record(9, 0, 0, 10, 100);
        assert_eq!(p.check(9, 0, 0), Check::Duplicate(100));
        assert_eq!(p.check(9, 0, 10), Check::Append);
        assert_eq!(p.check(9, 0, 11), Check::OutOfOrder { expected: 10 });
        p.record(9, 0, 10, 5, 110);
        assert_eq!(p.check(9, 0, 10), Check::Duplicate(110));
        // A new epoch starts afresh; the old one is fenced.
        assert_eq!(p.check(9, 1, 0), Check::Append);
        p.record(9, 1, 0, 1, 200);
        assert_eq!(p.check(9, 0, 15), Check::OutOfOrder { expected: 1 });
    }

    #[test]
    fn only_recent_batches_are_remembered() {
        let mut p = Producers::default();
        for i in 0..(RECENT_BATCHES as i32 + 2) {
            p.record(1, 0, i, 1, i as u64);
        }
        assert!(matches!(p.check(1, 0, 0), Check::OutOfOrder { .. }));
        assert_eq!(p.check(1, 0, 6), Check::Duplicate(6));
    }
}
