//! The groups API's own types (a committed offset is an `Option`, a group's state an enum);
//! each front-end translates its wire messages to these and back.

/// One partition of one stream.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct PartitionRef {
    pub stream: String,
    pub partition: u32,
}

/// A member's request to join (or rejoin) a group.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct JoinRequest {
    pub group: String,
    /// Empty for a new member.
    pub member_id: String,
    pub session_timeout_ms: u32,
    /// The streams the member consumes.
    pub streams: Vec<String>,
}

/// What a join gets when the next generation starts.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Assignment {
    pub member_id: String,
    pub generation: u32,
    pub partitions: Vec<PartitionRef>,
}

/// A position in a partition: the next offset to consume, if any is committed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Position {
    pub stream: String,
    pub partition: u32,
    pub offset: Option<u64>,
    /// The offset as committed for the current stream, even outside the retained range
    /// (where `offset` is `None`). Kafka's OffsetFetch answers this: a Kafka client checks
    /// the offset itself, its fetch gets OFFSET_OUT_OF_RANGE and it applies
    /// `auto.offset.reset`.
    pub committed: Option<u64>,
    /// The metadata string committed with it (Kafka clients), if any.
    pub metadata: Option<String>,
}

/// One offset being committed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CommitEntry {
    pub partition: PartitionRef,
    /// The next offset to consume.
    pub offset: u64,
    /// A client string kept with it (Kafka's commit metadata); at most
    /// `groups.max_offset_metadata_bytes`.
    pub metadata: Option<String>,
}

/// Offsets a member commits in its generation.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OffsetCommit {
    pub group: String,
    pub member_id: String,
    pub generation: u32,
    pub offsets: Vec<CommitEntry>,
}

/// Where a group stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum GroupState {
    /// No members.
    Empty,
    /// Waiting for members to rejoin.
    Rebalancing,
    /// Kafka groups only: joined, waiting for the leader's assignment (SyncGroup).
    AwaitingSync,
    /// Members own their partitions.
    Stable,
}

/// One member, as described.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MemberState {
    pub member_id: String,
    pub session_timeout_ms: u32,
    pub assignment: Vec<PartitionRef>,
    /// Kafka members: who they are and their protocol's opaque bytes.
    pub classic: Option<ClassicMemberInfo>,
}

/// What a Kafka (classic protocol) member told the group.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ClassicMemberInfo {
    pub client_id: String,
    pub client_host: String,
    pub instance_id: Option<String>,
    /// Its metadata for the group's chosen protocol.
    pub metadata: bytes::Bytes,
    /// What the leader assigned it, as sent.
    pub assignment: bytes::Bytes,
}

/// One partition's committed offset and lag.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PartitionLag {
    pub stream: String,
    pub partition: u32,
    /// As committed, even when it lies outside the retained range.
    pub committed: Option<u64>,
    pub end_offset: u64,
    /// From the committed offset, or from the partition's start when nothing usable is
    /// committed.
    pub lag: u64,
}

/// A group, described.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct GroupInfo {
    pub group: String,
    pub state: GroupState,
    pub generation: u32,
    /// Kafka groups: the protocol type (`consumer`) and the protocol chosen (`range`, ...).
    /// Native groups: empty, and `memstream` for the protocol.
    pub protocol_type: String,
    pub protocol: String,
    pub members: Vec<MemberState>,
    pub partitions: Vec<PartitionLag>,
}

/// A Kafka member's JoinGroup (the classic protocol: the leader assigns).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ClassicJoin {
    pub group: String,
    /// Empty for a new member.
    pub member_id: String,
    /// Static membership (`group.instance.id`).
    pub instance_id: Option<String>,
    pub session_timeout_ms: u32,
    /// How long the group waits for members to rejoin in a rebalance.
    pub rebalance_timeout_ms: u32,
    pub protocol_type: String,
    /// (protocol name, opaque metadata), in the member's order of preference.
    pub protocols: Vec<(String, bytes::Bytes)>,
    /// The topics the member subscribes to (decoded from its metadata by the front-end), for
    /// describe and lag.
    pub streams: Vec<String>,
    pub client_id: String,
    pub client_host: String,
}

/// What a Kafka member's JoinGroup is answered with.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ClassicJoined {
    pub generation: u32,
    pub protocol_type: String,
    pub protocol: String,
    pub leader: String,
    pub member_id: String,
    /// For the leader only: every member with its instance id and metadata for `protocol`.
    pub members: Vec<(String, Option<String>, bytes::Bytes)>,
}

/// One member's assignment in the leader's SyncGroup.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ClassicAssignment {
    pub member_id: String,
    /// As the leader sent it.
    pub bytes: bytes::Bytes,
    /// The partitions in it (decoded by the front-end), for describe and lag.
    pub partitions: Vec<PartitionRef>,
}

/// A Kafka member's SyncGroup.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ClassicSync {
    pub group: String,
    pub generation: u32,
    pub member_id: String,
    pub instance_id: Option<String>,
    /// Empty unless the member is the leader.
    pub assignments: Vec<ClassicAssignment>,
}

/// A Kafka OffsetCommit: members commit in their generation; a consumer outside any group
/// (generation -1) commits to a group without members.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ClassicCommit {
    pub group: String,
    pub generation: i32,
    pub member_id: String,
    pub instance_id: Option<String>,
    pub offsets: Vec<CommitEntry>,
}

/// A group in a listing.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct GroupSummary {
    pub group: String,
    pub protocol_type: String,
    pub state: GroupState,
}
