//! Errors of stream operations and their wire codes (the broker's one mapping place).

use memstream_batch::BatchError;
use memstream_log::LogError;
use std::path::PathBuf;

use crate::OutOfRange;

/// Why a stream operation failed.
#[derive(Debug, thiserror::Error)]
pub enum StreamError {
    /// No stream has that name.
    #[error("stream `{0}` does not exist")]
    NotFound(String),
    /// The name is taken.
    #[error("stream `{0}` already exists")]
    AlreadyExists(String),
    /// The name breaks the naming rules.
    #[error("invalid stream name `{name}`: {reason}")]
    InvalidName {
        /// The name.
        name: String,
        /// The rule it breaks.
        reason: &'static str,
    },
    /// The stream has no such partition.
    #[error("stream `{stream}` has no partition {partition}")]
    PartitionNotFound {
        /// Stream.
        stream: String,
        /// Partition asked for.
        partition: u32,
    },
    /// A stream may only grow: the partition count asked for is not above the current one.
    #[error(
        "stream `{stream}` has {current} partitions; it can grow to more, never to {requested}"
    )]
    PartitionsNotAdded {
        /// Stream.
        stream: String,
        /// Its partition count.
        current: u32,
        /// The count asked for.
        requested: u32,
    },
    /// A request value or setting is out of range.
    #[error("{0}")]
    OutOfRange(#[from] OutOfRange),
    /// A configured limit of the server is reached (streams, partitions in all).
    #[error("{limit} = {max} reached")]
    LimitReached {
        /// The configuration key of the limit.
        limit: &'static str,
        /// Its value.
        max: u64,
    },
    /// The batch is refused.
    #[error("{0}")]
    Batch(#[from] BatchError),
    /// An idempotent producer's sequence number is not the next one.
    #[error("producer {producer_id}: sequence {got}, expected {expected}")]
    OutOfOrderSequence {
        /// The producer.
        producer_id: i64,
        /// Sequence received.
        got: i32,
        /// Sequence expected.
        expected: i32,
    },
    /// An idempotent producer this partition does not know sent a sequence other than 0.
    #[error("producer {producer_id} is not known to this partition (sequence {got}; an unknown producer starts at 0)")]
    UnknownProducer {
        /// The producer.
        producer_id: i64,
        /// Sequence received.
        got: i32,
    },
    /// A stored batch is larger than the frames the subscriber or reader accepts.
    #[error("the batch at offset {offset} is {len} bytes; this connection's frames carry at most {max} bytes of batches")]
    BatchOverFrame {
        /// Where the batch starts.
        offset: u64,
        /// Its length.
        len: u64,
        /// The most the connection carries.
        max: u64,
    },
    /// The partition log failed.
    #[error("{0}")]
    Log(#[from] LogError),
    /// A blocking task of the server panicked or was cancelled.
    #[error("internal error: a blocking task {}", if *.panicked { "panicked" } else { "was cancelled" })]
    TaskFailed {
        /// True when it panicked (false: cancelled at shutdown).
        panicked: bool,
    },
    /// Reading or writing stream definitions or the producer-id mark failed.
    #[error("storage error: cannot {what} {}: {source}", path.display())]
    Storage {
        /// What was being done.
        what: &'static str,
        /// The file or directory.
        path: PathBuf,
        /// The OS error.
        source: std::io::Error,
    },
    /// Every producer id is handed out.
    #[error("producer ids are exhausted")]
    ProducerIdsExhausted,
}
