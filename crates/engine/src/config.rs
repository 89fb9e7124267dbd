//! The engine's configuration sections, `[streams]` and `[groups]`: the server embeds them
//! in its own configuration (and its schema, validation and reload cover them), and the
//! engine reads them for limits and the defaults of new streams.

use serde::{Deserialize, Serialize};

/// Bytes of a frame kept free around the largest message for the frame header and the
/// PRODUCE or FETCH fields that travel with a batch: `streams.max_message_bytes` may be at most
/// `network.max_frame_bytes` less this, so a batch of the largest allowed size still fits in
/// one request and one response.
pub const MESSAGE_HEADROOM_BYTES: u32 = 1024;

/// `[streams]`: the settings a new stream gets when STREAM_CREATE leaves them out, and the
/// limits on streams and partitions. The per-stream defaults are copied into a stream when it
/// is created, so a reload changes streams created after it, never existing ones. All live
/// except `sync_threads`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StreamsConfig {
    /// `disk` or `memory`.
    pub storage: String,
    /// Partitions of a stream created without a count; at most `max_partitions_per_stream`.
    pub partitions: u32,
    /// Bytes kept per partition before the oldest segments are dropped; 0 = unlimited. A
    /// memory partition holds this much in RAM.
    pub retention_bytes: u64,
    /// Age after which a segment is dropped; 0 = unlimited.
    pub retention_ms: u64,
    /// Size at which a partition rolls to a new segment. The active segment of a disk partition
    /// is kept in RAM, so this is also its in-memory tail.
    pub segment_bytes: u64,
    /// Largest record batch a producer may send; leaves room for headers in one frame.
    pub max_message_bytes: u64,
    /// Most bytes the records of one compressed batch may decompress to when the server
    /// checks them; a batch over it is refused with MESSAGE_TOO_LARGE.
    pub max_decompressed_batch_bytes: u64,
    /// Idempotent producers remembered per partition; past it the least recently used is
    /// forgotten (its next batch must start a new epoch at sequence 0).
    pub max_producers_per_partition: u32,
    /// `always`, `interval` or `never`.
    pub fsync: String,
    /// Time between fsyncs when `fsync` is `interval`.
    pub fsync_interval_ms: u64,
    /// Log bytes between two entries of a segment's sparse offset index.
    pub index_interval_bytes: u32,
    /// Streams that may exist at once.
    pub max_streams: u32,
    /// Partitions one stream may have.
    pub max_partitions_per_stream: u32,
    /// Partitions of all streams together.
    pub max_partitions_total: u32,
    /// Longest a FETCH may wait for data; a longer requested wait is cut to this.
    pub fetch_max_wait_ms: u64,
    /// Threads that fsync disk partitions. Restart required.
    pub sync_threads: u32,
    /// How often retention is enforced.
    pub retention_check_ms: u64,
}

/// `[groups]`: limits of consumer groups. All live.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GroupsConfig {
    /// Shortest session timeout a member may ask for.
    pub session_timeout_ms_min: u32,
    /// Longest session timeout a member may ask for.
    pub session_timeout_ms_max: u32,
    /// Members one group may have.
    pub max_members: u32,
    /// Groups the server keeps.
    pub max_groups: u32,
    /// How often member sessions are checked for expiry.
    pub session_check_ms: u64,
    /// How long a group without members keeps its committed offsets (since its last commit
    /// or member) before it is deleted; Kafka's `offsets.retention.minutes`.
    pub offsets_retention_ms: u64,
    /// Longest metadata string a Kafka client may commit with an offset (Kafka's
    /// `offset.metadata.max.bytes`).
    pub max_offset_metadata_bytes: u32,
    /// How long a Kafka group that has no members waits for more to join before its first
    /// generation starts (Kafka's `group.initial.rebalance.delay.ms`); each member joining
    /// meanwhile extends the wait by as much again, up to the members' rebalance timeout.
    /// 0 starts the generation with the first joiner.
    pub initial_rebalance_delay_ms: u32,
}

impl Default for GroupsConfig {
    fn default() -> GroupsConfig {
        GroupsConfig {
            session_timeout_ms_min: 100,
            session_timeout_ms_max: 600_000,
            max_members: 10_000,
            max_groups: 10_000,
            session_check_ms: 50,
            offsets_retention_ms: 7 * 24 * 3_600_000,
            max_offset_metadata_bytes: 4096,
            initial_rebalance_delay_ms: 3000,
        }
    }
}

impl Default for StreamsConfig {
    fn default() -> StreamsConfig {
        StreamsConfig {
            storage: "disk".to_owned(),
            partitions: 1,
            retention_bytes: 1 << 30,
            retention_ms: 7 * 24 * 3_600_000,
            segment_bytes: 32 << 20,
            max_message_bytes: (1 << 20) - 1024,
            max_decompressed_batch_bytes: 16 << 20,
            max_producers_per_partition: 1000,
            fsync: "always".to_owned(),
            fsync_interval_ms: 50,
            index_interval_bytes: 4096,
            max_streams: 10_000,
            max_partitions_per_stream: 4096,
            max_partitions_total: 1_000_000,
            fetch_max_wait_ms: 30_000,
            sync_threads: 2,
            retention_check_ms: 5_000,
        }
    }
}
