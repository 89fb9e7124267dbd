//! Process-wide histograms of the log's work, for the server's `/metrics`: how long fsyncs
//! take and how large appended batches are. One set per process (every partition of every
//! server in it adds to the same), updated once per fsync or batch.

use std::sync::LazyLock;

use memstream_metrics::{Histogram, COUNTS, LATENCY_US, SIZE_BYTES};

/// Time of each fsync of a disk partition (its segment files and, when new, the
/// directory), in microseconds.
pub static FSYNC_LATENCY_US: LazyLock<Histogram> = LazyLock::new(|| Histogram::new(LATENCY_US));

/// Bytes of each batch appended.
pub static APPEND_BATCH_BYTES: LazyLock<Histogram> = LazyLock::new(|| Histogram::new(SIZE_BYTES));

/// Records in each batch appended.
pub static APPEND_BATCH_RECORDS: LazyLock<Histogram> = LazyLock::new(|| Histogram::new(COUNTS));
