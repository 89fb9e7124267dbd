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
}

/// Offsets a member commits in its generation.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OffsetCommit {
    pub group: String,
    pub member_id: String,
    pub generation: u32,
    /// (partition, next offset to consume)
    pub offsets: Vec<(PartitionRef, u64)>,
}

/// Where a group stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum GroupState {
    /// No members.
    Empty,
    /// Waiting for members to rejoin.
    Rebalancing,
    /// Members own their partitions.
    Stable,
}

/// One member, as described.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MemberState {
    pub member_id: String,
    pub session_timeout_ms: u32,
    pub assignment: Vec<PartitionRef>,
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
    pub members: Vec<MemberState>,
    pub partitions: Vec<PartitionLag>,
}
