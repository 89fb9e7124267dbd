//! The streams API's own types: what a front-end asks for and gets back, in the engine's
//! terms (enums, not strings or wire numbers). Each front-end translates its wire types to
//! these and back.

use memstream_log::CorruptRange;
use serde::{Deserialize, Serialize};

use super::settings::Effective;

/// Where a stream keeps its records.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Storage {
    /// RAM only, bounded by retention; lost on restart.
    Memory,
    /// Segment files, served from RAM while recent; survives restarts.
    Disk,
}

impl Storage {
    /// From the configuration's string (`memory` or `disk`; validated where it is loaded).
    pub fn from_config(s: &str) -> Storage {
        if s == "memory" {
            Storage::Memory
        } else {
            Storage::Disk
        }
    }
}

/// When a disk stream's appends are fsynced.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Fsync {
    /// Before acknowledging, shared between concurrent appends (group commit).
    Always,
    /// Every `fsync_interval_ms`.
    Interval,
    /// Only when a producer waits for durability.
    Never,
}

impl Fsync {
    /// From the configuration's string (`always`, `interval` or `never`; validated).
    pub fn from_config(s: &str) -> Fsync {
        match s {
            "interval" => Fsync::Interval,
            "never" => Fsync::Never,
            _ => Fsync::Always,
        }
    }
}

/// The settings a new stream asks for; `None` takes the `[streams]` default. A stream keeps
/// its overrides in `meta.toml` (set at creation, changed by [`Streams::alter`](super::Streams::alter)),
/// so a front-end can tell a setting chosen for the stream from a copied default.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SettingsOverrides {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub storage: Option<Storage>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub retention_bytes: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub retention_ms: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub segment_bytes: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_message_bytes: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fsync: Option<Fsync>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fsync_interval_ms: Option<u64>,
}

/// A setting [`Streams::alter`](super::Streams::alter) changes on an open stream. Storage and
/// fsync are fixed at creation (changing them would mean reopening the partition logs).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Alterable {
    /// `retention_bytes`: applied at the next retention run.
    RetentionBytes,
    /// `retention_ms`: applied at the next retention run.
    RetentionMs,
    /// `segment_bytes`: for segments rolled from then on.
    SegmentBytes,
    /// `max_message_bytes`: for batches appended from then on.
    MaxMessageBytes,
}

/// One change of a stream's settings: a value of its own, or `None` to take the `[streams]`
/// default in force now (and no longer count as overridden).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SettingChange {
    pub setting: Alterable,
    pub value: Option<u64>,
}

/// A stream to create.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NewStream {
    /// Checked against the naming rules when created.
    pub name: String,
    /// Partitions; 0 takes `streams.partitions`.
    pub partitions: u32,
    pub settings: SettingsOverrides,
}

/// Which partition an appended batch goes to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Placement {
    /// This partition.
    Partition(u32),
    /// Kafka's partitioner over the first record's key (round-robin without a key).
    ByKey,
    /// The next partition in turn.
    RoundRobin,
}

/// One partition as it stands.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PartitionState {
    pub partition: u32,
    pub start_offset: u64,
    pub end_offset: u64,
    pub durable_offset: u64,
    pub size_bytes: u64,
    /// Segments it holds, the active one included.
    pub segments: usize,
    /// Corrupt batches found in it.
    pub corrupt: Vec<CorruptRange>,
}

/// A stream's definition and every partition's state.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StreamInfo {
    pub name: String,
    /// Chosen at creation, never reused.
    pub id: u64,
    pub settings: Effective,
    pub partitions: Vec<PartitionState>,
}

/// A stream in a listing.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StreamSummary {
    pub name: String,
    pub partitions: u32,
    pub storage: Storage,
}
