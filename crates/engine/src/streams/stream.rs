//! One stream: its partitions, partition selection, and the append path with idempotence.
//! The definition and the partition list are swapped whole when the stream's settings are
//! altered or it grows, so every holder of the stream sees the change at its next access.

use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Mutex};

use arc_swap::ArcSwap;
use bytes::{Bytes, BytesMut};
use memstream_batch::{self as batch, Limits, RecordIter};
use memstream_log::Partition;
use memstream_names::partition_for_key;

use super::error::StreamError;
use super::meta::StreamMeta;
use super::producer::{Check, Producers};
use super::types::Placement;

/// A partition and the idempotent-producer state that guards its appends.
pub struct StreamPartition {
    /// The partition log.
    pub log: Partition,
    /// Held across check-and-append so a retry cannot slip between them.
    producers: Mutex<Producers>,
}

/// Where an append landed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Appended {
    /// Partition.
    pub partition: u32,
    /// First offset of the batch.
    pub base_offset: u64,
    /// Last offset of the batch.
    pub last_offset: u64,
    /// True when the batch was a retry of one already stored.
    pub duplicate: bool,
}

/// A named stream.
pub struct Stream {
    /// Fixed for the stream's life (copies of the definition's).
    name: String,
    id: u64,
    /// Definition and settings (replaced by `Streams::alter` and `Streams::add_partitions`).
    meta: ArcSwap<StreamMeta>,
    /// Only ever grows, and only under the registry's admin lock.
    partitions: ArcSwap<Vec<Arc<StreamPartition>>>,
    round_robin: AtomicU32,
}

/// Server-wide limits an append is checked against (from the live configuration).
#[derive(Clone, Copy, Debug)]
pub struct AppendLimits {
    /// `streams.max_decompressed_batch_bytes`.
    pub decompressed_bytes_max: usize,
    /// `streams.max_producers_per_partition`.
    pub producers_max: usize,
}

impl Stream {
    /// A stream over already opened partition logs.
    pub fn new(meta: StreamMeta, logs: Vec<Partition>, producers_max: usize) -> Stream {
        debug_assert_eq!(logs.len(), meta.partitions as usize);
        Stream {
            name: meta.name.clone(),
            id: meta.id,
            meta: ArcSwap::from_pointee(meta),
            partitions: ArcSwap::from_pointee(wrap(logs, producers_max)),
            round_robin: AtomicU32::new(0),
        }
    }

    /// Stream name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The stream's id (chosen at creation, never reused).
    pub fn id(&self) -> u64 {
        self.id
    }

    /// The definition as it stands (partition count, settings, overrides).
    pub fn meta(&self) -> Arc<StreamMeta> {
        self.meta.load_full()
    }

    /// How many partitions the stream has now.
    pub fn partition_count(&self) -> u32 {
        self.partitions.load().len() as u32
    }

    /// Every partition, in order, as the stream has them now.
    pub fn partitions(&self) -> Arc<Vec<Arc<StreamPartition>>> {
        self.partitions.load_full()
    }

    /// Partition `partition`, or PARTITION_NOT_FOUND.
    pub fn partition(&self, partition: u32) -> Result<Arc<StreamPartition>, StreamError> {
        self.partitions
            .load()
            .get(partition as usize)
            .cloned()
            .ok_or_else(|| StreamError::PartitionNotFound {
                stream: self.name.clone(),
                partition,
            })
    }

    /// Publishes a new definition (the registry has stored it).
    pub(super) fn set_meta(&self, meta: StreamMeta) {
        debug_assert_eq!((meta.id, meta.name.as_str()), (self.id, self.name.as_str()));
        self.meta.store(Arc::new(meta));
    }

    /// Adds opened partition logs after the existing ones, then publishes `meta` (which the
    /// registry has stored, counting them): readers see the partitions before the count.
    pub(super) fn grow(&self, logs: Vec<Partition>, meta: StreamMeta, producers_max: usize) {
        let mut all: Vec<Arc<StreamPartition>> = self.partitions.load().as_ref().clone();
        all.extend(wrap(logs, producers_max));
        debug_assert_eq!(all.len(), meta.partitions as usize);
        self.partitions.store(Arc::new(all));
        self.set_meta(meta);
    }

    fn next_round_robin(&self, count: u32) -> u32 {
        self.round_robin.fetch_add(1, Ordering::Relaxed) % count.max(1)
    }

    /// Checks `batch` once, picks its partition and appends it (or recognises a retry).
    pub fn append(
        &self,
        placement: Placement,
        batch: &Bytes,
        limits: &AppendLimits,
        now_ms: u64,
    ) -> Result<Appended, StreamError> {
        // Kafka's max.message.bytes: the whole batch as it came, compressed or not. The
        // stream's limit leaves room for FETCH and PUSH heads, so every stored batch fits
        // the frames that carry it to consumers.
        let max_message_bytes = self.meta.load().settings.max_message_bytes;
        let max_batch = usize::try_from(max_message_bytes).unwrap_or(usize::MAX);
        let batch_limits = Limits {
            batch_bytes_max: max_batch,
            record_bytes_max: max_batch,
            decompressed_bytes_max: limits.decompressed_bytes_max,
        };
        let header = batch::verify(batch, batch_limits)?;
        let count = self.partition_count();
        let partition = match placement {
            Placement::Partition(p) => p,
            Placement::RoundRobin => self.next_round_robin(count),
            Placement::ByKey => {
                // A compressed batch is decompressed a second time here; producers that
                // compress pick partitions themselves.
                let records = batch::records(batch, &header, batch_limits.decompressed_bytes_max)?;
                let first_key = RecordIter::new(&records, &header)
                    .next()
                    .and_then(Result::ok)
                    .and_then(|record| record.key);
                match first_key {
                    Some(key) => partition_for_key(key, count),
                    None => self.next_round_robin(count),
                }
            }
        };
        let target = self.partition(partition)?;
        let mut producers = target
            .producers
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if header.is_idempotent() {
            match producers.check(
                header.producer_id,
                header.producer_epoch,
                header.base_sequence,
            ) {
                Check::Append => {}
                Check::Duplicate(base_offset) => {
                    return Ok(Appended {
                        partition,
                        base_offset,
                        last_offset: base_offset + u64::from(header.last_offset_delta),
                        duplicate: true,
                    })
                }
                Check::OutOfOrder { expected } => {
                    return Err(StreamError::OutOfOrderSequence {
                        producer_id: header.producer_id,
                        got: header.base_sequence,
                        expected,
                    })
                }
                Check::UnknownProducer => {
                    return Err(StreamError::UnknownProducer {
                        producer_id: header.producer_id,
                        got: header.base_sequence,
                    })
                }
            }
        }
        // The one copy on the produce path: out of the connection's read buffer into the log.
        let outcome = target.log.append(BytesMut::from(&batch[..]), now_ms)?;
        if header.is_idempotent() {
            producers.record(&header, outcome.base_offset, limits.producers_max);
        }
        Ok(Appended {
            partition,
            base_offset: outcome.base_offset,
            last_offset: outcome.last_offset,
            duplicate: false,
        })
    }
}

/// Partition logs with their producer state, recovered from each log.
fn wrap(logs: Vec<Partition>, producers_max: usize) -> Vec<Arc<StreamPartition>> {
    logs.into_iter()
        .map(|log| {
            Arc::new(StreamPartition {
                producers: Mutex::new(Producers::recover(&log, producers_max)),
                log,
            })
        })
        .collect()
}

impl StreamPartition {
    /// Drops the producer states whose batches retention deleted; returns how many.
    pub fn drop_expired_producers(&self) -> usize {
        let start = self.log.start_offset();
        self.producers
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .retain_from(start)
    }
}
