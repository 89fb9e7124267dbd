//! Per-partition settings: segment size, retention, index density and the fsync policy.

/// Largest segment file the log writes: batch positions inside a segment are stored as `u32`
/// in the offset index, so every batch must start below 4 GiB. A single batch larger than the
/// configured `segment_bytes` still gets a segment of its own.
pub const SEGMENT_BYTES_MAX: u64 = u32::MAX as u64;

/// When appended data is made durable.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FsyncPolicy {
    /// Every append requests a sync; concurrent appends share one (group commit).
    Always,
    /// A dirty partition is synced `interval_ms` after its first unsynced append.
    Interval {
        /// Longest time appended data stays unsynced unless someone waits for it.
        interval_ms: u64,
    },
    /// Only when someone calls `Partition::wait_durable` (and at `Syncer::shutdown`).
    Never,
}

/// Settings of one partition log.
#[derive(Clone, Debug)]
pub struct LogConfig {
    /// Roll the active segment when the next batch would take it past this many bytes
    /// (capped at [`SEGMENT_BYTES_MAX`]). Bounds the RAM a disk partition keeps for its tail.
    pub segment_bytes: u64,
    /// 0 = unlimited; otherwise delete the oldest sealed segments while the log is larger.
    pub retention_bytes: u64,
    /// 0 = unlimited; otherwise delete sealed segments whose newest record is older than
    /// `now_ms - retention_ms`.
    pub retention_ms: u64,
    /// One sparse index entry per this many bytes of segment (e.g. 4096). Smaller = more RAM
    /// per segment (16 bytes an entry), fewer bytes scanned per lookup.
    pub index_interval_bytes: u32,
    /// When appended data is synced.
    pub fsync: FsyncPolicy,
}

impl Default for LogConfig {
    fn default() -> Self {
        LogConfig {
            segment_bytes: 64 << 20,
            retention_bytes: 0,
            retention_ms: 0,
            index_interval_bytes: 4096,
            fsync: FsyncPolicy::Interval { interval_ms: 1000 },
        }
    }
}

impl LogConfig {
    /// The roll threshold actually applied.
    pub(crate) fn segment_limit(&self) -> u64 {
        self.live().segment_limit()
    }

    /// The settings that may change while the log is open.
    pub fn live(&self) -> LiveLimits {
        LiveLimits {
            segment_bytes: self.segment_bytes,
            retention_bytes: self.retention_bytes,
            retention_ms: self.retention_ms,
        }
    }
}

/// The settings of an open log that [`Partition::set_limits`](crate::Partition::set_limits)
/// changes live (a stream's settings altered): the size of segments rolled from then on and
/// what retention keeps at its next run. The meaning of each is that of [`LogConfig`]'s field.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LiveLimits {
    /// [`LogConfig::segment_bytes`].
    pub segment_bytes: u64,
    /// [`LogConfig::retention_bytes`].
    pub retention_bytes: u64,
    /// [`LogConfig::retention_ms`].
    pub retention_ms: u64,
}

impl LiveLimits {
    /// The roll threshold actually applied.
    pub(crate) fn segment_limit(&self) -> u64 {
        self.segment_bytes.clamp(1, SEGMENT_BYTES_MAX)
    }
}
