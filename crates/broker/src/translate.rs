//! Native wire types to engine types and back: the streams API. (Groups still take the native
//! messages; see docs/ARCHITECTURE.md.)

use memstream_engine::streams::{
    Effective, Fsync, NewStream, Placement, SettingsOverrides, Storage, StreamInfo, StreamSummary,
};
use memstream_protocol::message::{
    CorruptInfo, CreateStream, FsyncMode, PartitionInfo, PartitionSelector, StorageKind,
    StreamDescription, StreamList, StreamSettings, StreamSummary as WireSummary,
};

fn storage(s: StorageKind) -> Storage {
    match s {
        StorageKind::Memory => Storage::Memory,
        StorageKind::Disk => Storage::Disk,
    }
}

fn storage_kind(s: Storage) -> StorageKind {
    match s {
        Storage::Memory => StorageKind::Memory,
        Storage::Disk => StorageKind::Disk,
    }
}

fn fsync(f: FsyncMode) -> Fsync {
    match f {
        FsyncMode::Always => Fsync::Always,
        FsyncMode::Interval => Fsync::Interval,
        FsyncMode::Never => Fsync::Never,
    }
}

fn fsync_mode(f: Fsync) -> FsyncMode {
    match f {
        Fsync::Always => FsyncMode::Always,
        Fsync::Interval => FsyncMode::Interval,
        Fsync::Never => FsyncMode::Never,
    }
}

/// STREAM_CREATE's request as the engine's.
pub(crate) fn new_stream(create: CreateStream) -> NewStream {
    let s = create.settings;
    NewStream {
        name: create.name,
        partitions: create.partitions,
        settings: SettingsOverrides {
            storage: s.storage.map(storage),
            retention_bytes: s.retention_bytes,
            retention_ms: s.retention_ms,
            segment_bytes: s.segment_bytes,
            max_message_bytes: s.max_message_bytes,
            fsync: s.fsync.map(fsync),
            fsync_interval_ms: s.fsync_interval_ms,
        },
    }
}

/// A PRODUCE batch's selector as the engine's placement.
pub(crate) fn placement(selector: PartitionSelector) -> Placement {
    match selector {
        PartitionSelector::Explicit(p) => Placement::Partition(p),
        PartitionSelector::Key => Placement::ByKey,
        PartitionSelector::RoundRobin => Placement::RoundRobin,
    }
}

/// A stream's settings as STREAM_DESCRIBE sends them (every field set).
fn settings(e: &Effective) -> StreamSettings {
    StreamSettings {
        storage: Some(storage_kind(e.storage)),
        retention_bytes: Some(e.retention_bytes),
        retention_ms: Some(e.retention_ms),
        segment_bytes: Some(e.segment_bytes),
        max_message_bytes: Some(e.max_message_bytes),
        fsync: Some(fsync_mode(e.fsync)),
        fsync_interval_ms: Some(e.fsync_interval_ms),
    }
}

/// STREAM_DESCRIBE's response.
pub(crate) fn description(info: StreamInfo) -> StreamDescription {
    StreamDescription {
        settings: settings(&info.settings),
        name: info.name,
        partitions: info
            .partitions
            .into_iter()
            .map(|p| PartitionInfo {
                partition: p.partition,
                start_offset: p.start_offset,
                end_offset: p.end_offset,
                durable_offset: p.durable_offset,
                size_bytes: p.size_bytes,
                corrupt: p
                    .corrupt
                    .into_iter()
                    .map(|c| CorruptInfo {
                        from_offset: c.from_offset,
                        description: format!("{} at byte {}: {}", c.segment, c.position, c.reason),
                    })
                    .collect(),
            })
            .collect(),
    }
}

/// STREAM_LIST's response.
pub(crate) fn stream_list(streams: Vec<StreamSummary>) -> StreamList {
    StreamList {
        streams: streams
            .into_iter()
            .map(|s| WireSummary {
                name: s.name,
                partitions: s.partitions,
                storage: storage_kind(s.storage),
            })
            .collect(),
    }
}
