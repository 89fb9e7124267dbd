//! The crate's error type and the reports returned by recovery and retention.

use std::io;

/// Why a log operation failed.
#[derive(Debug, thiserror::Error)]
pub enum LogError {
    /// A backend operation failed; `what` names the operation and file.
    #[error("{what}: {source}")]
    Io {
        /// E.g. `write 00000000000000000000.log`.
        what: String,
        /// The underlying error.
        source: io::Error,
    },
    /// The offset is below the start or past the end of the log.
    #[error("offset {requested} is outside the log [{start}, {end}]")]
    OffsetOutOfRange {
        /// Asked for.
        requested: u64,
        /// First offset still in the log.
        start: u64,
        /// Next offset to be written.
        end: u64,
    },
    /// A batch failed its checks when read from a sealed segment; it is never served.
    #[error("corrupt batch in {segment} at byte {position}: {reason}")]
    Corrupt {
        /// Segment file name.
        segment: String,
        /// Byte position of the batch in the segment file.
        position: u64,
        /// What is wrong.
        reason: String,
    },
    /// A write or fsync failed earlier; the partition refuses appends until it is reopened.
    #[error("partition fenced: {reason}")]
    Fenced {
        /// The failure that fenced it.
        reason: String,
    },
    /// The partition was destroyed, or its Syncer shut down.
    #[error("partition closed")]
    Closed,
}

impl LogError {
    /// An `Io` error for operation `op` (e.g. "write") on file `name`.
    pub(crate) fn io(op: &str, name: &str, source: io::Error) -> LogError {
        LogError::Io {
            what: format!("{op} {name}"),
            source,
        }
    }
}

/// What `Partition::open_disk`/`open_with` found and repaired.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct RecoveryReport {
    /// Segments in the log after recovery.
    pub segments: usize,
    /// Batches whose headers (sealed segments) or whole bytes (active segment) were checked.
    pub batches_scanned: u64,
    /// Bytes cut off segment files, plus the bytes of segment files dropped after a break.
    pub truncated_bytes: u64,
    /// The first corruption found: segment file, byte position, reason.
    pub corrupt: Option<(String, u64, String)>,
    /// Sealed segments whose index files were missing, short or inconsistent and were rebuilt.
    pub rebuilt_indexes: usize,
}

/// What `Partition::enforce_retention` deleted.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct RetentionReport {
    /// Whole sealed segments deleted.
    pub segments_deleted: usize,
    /// Their bytes.
    pub bytes_deleted: u64,
    /// The log's start offset afterwards.
    pub new_start_offset: u64,
}
