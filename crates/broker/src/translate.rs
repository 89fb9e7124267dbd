//! Native wire types to engine types and back: every engine call a handler makes goes
//! through here, so the engine never sees a wire message.

use memstream_engine::groups::{
    Assignment, CommitEntry, GroupInfo, GroupState, JoinRequest, OffsetCommit, PartitionRef,
    Position,
};
use memstream_protocol::message::{
    CommitOffsets, GroupDescription, JoinGroup, Joined, MemberInfo, PartitionLag, PartitionOffset,
    StreamPartition, NO_OFFSET,
};

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

fn partition_ref(p: StreamPartition) -> PartitionRef {
    PartitionRef {
        stream: p.stream,
        partition: p.partition,
    }
}

fn stream_partition(p: PartitionRef) -> StreamPartition {
    StreamPartition {
        stream: p.stream,
        partition: p.partition,
    }
}

/// GROUP_JOIN's request.
pub(crate) fn join_request(join: JoinGroup) -> JoinRequest {
    JoinRequest {
        group: join.group,
        member_id: join.member_id,
        session_timeout_ms: join.session_timeout_ms,
        streams: join.streams,
    }
}

/// GROUP_JOIN's response.
pub(crate) fn joined(a: Assignment) -> Joined {
    Joined {
        member_id: a.member_id,
        generation: a.generation,
        assignment: a.partitions.into_iter().map(stream_partition).collect(),
    }
}

/// OFFSET_COMMIT's request.
pub(crate) fn offset_commit(commit: CommitOffsets) -> OffsetCommit {
    OffsetCommit {
        group: commit.group,
        member_id: commit.member_id,
        generation: commit.generation,
        offsets: commit
            .offsets
            .into_iter()
            .map(|o| CommitEntry {
                partition: PartitionRef {
                    stream: o.stream,
                    partition: o.partition,
                },
                offset: o.offset,
                metadata: None,
            })
            .collect(),
    }
}

/// OFFSET_FETCH's partitions.
pub(crate) fn partition_refs(partitions: Vec<StreamPartition>) -> Vec<PartitionRef> {
    partitions.into_iter().map(partition_ref).collect()
}

/// OFFSET_FETCH's response entries (`NO_OFFSET` for nothing committed).
pub(crate) fn partition_offsets(positions: Vec<Position>) -> Vec<PartitionOffset> {
    positions
        .into_iter()
        .map(|p| PartitionOffset {
            stream: p.stream,
            partition: p.partition,
            offset: p.offset.unwrap_or(NO_OFFSET),
        })
        .collect()
}

/// GROUP_DESCRIBE's response (state 0 empty, 1 rebalancing, 2 stable).
pub(crate) fn group_description(g: GroupInfo) -> GroupDescription {
    GroupDescription {
        group: g.group,
        state: match g.state {
            GroupState::Empty => 0,
            // A Kafka group waiting for its leader's assignment is still rebalancing.
            GroupState::Rebalancing | GroupState::AwaitingSync => 1,
            GroupState::Stable => 2,
        },
        generation: g.generation,
        members: g
            .members
            .into_iter()
            .map(|m| MemberInfo {
                member_id: m.member_id,
                session_timeout_ms: m.session_timeout_ms,
                assignment: m.assignment.into_iter().map(stream_partition).collect(),
            })
            .collect(),
        partitions: g
            .partitions
            .into_iter()
            .map(|p| PartitionLag {
                stream: p.stream,
                partition: p.partition,
                committed: p.committed.unwrap_or(NO_OFFSET),
                end_offset: p.end_offset,
                lag: p.lag,
            })
            .collect(),
    }
}
