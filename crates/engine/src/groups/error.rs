//! Errors of consumer-group operations and their wire codes.

use std::sync::Arc;

use crate::OutOfRange;

/// Why a group operation failed.
#[derive(Debug, Clone, thiserror::Error)]
pub enum GroupError {
    /// The group name breaks the naming rules.
    #[error("invalid group name `{name}`: {reason}")]
    InvalidName {
        /// Name.
        name: String,
        /// Rule broken.
        reason: &'static str,
    },
    /// A request value is out of range.
    #[error("{0}")]
    OutOfRange(#[from] OutOfRange),
    /// A configured limit is reached.
    #[error("{limit} = {max} reached")]
    LimitReached {
        /// The configuration key of the limit.
        limit: &'static str,
        /// Its value.
        max: u64,
    },
    /// The group has members, so it cannot be deleted.
    #[error("group `{group}` has {members} member(s); only an empty group can be deleted")]
    NotEmpty {
        /// The group.
        group: String,
        /// Members it has.
        members: usize,
    },
    /// A commit for a partition the member does not own in this generation.
    #[error("{stream}/{partition} is not assigned to {member} in generation {generation}")]
    NotAssigned {
        /// Stream.
        stream: String,
        /// Partition.
        partition: u32,
        /// The member.
        member: String,
        /// The group's generation.
        generation: u32,
    },
    /// No such group.
    #[error("group `{0}` does not exist")]
    NotFound(String),
    /// The member is not (or no longer) in the group.
    #[error("member `{0}` is not in the group; join again")]
    UnknownMember(String),
    /// The group is rebalancing; rejoin.
    #[error("group `{0}` is rebalancing; join again")]
    RebalanceInProgress(String),
    /// The request belongs to another generation than the group's.
    #[error("group `{group}`: generation {got} is over; the group is at {current}")]
    StaleGeneration {
        /// The group.
        group: String,
        /// The generation in the request.
        got: u32,
        /// The group's generation.
        current: u32,
    },
    /// Storing offsets failed.
    #[error("storage error: {0}")]
    Storage(#[from] StoreError),
    /// The member's protocol does not fit the group's (a Kafka member joining a native group
    /// or the other way round, another protocol type, or no protocol every member supports).
    #[error("group `{group}`: {reason}")]
    InconsistentProtocol {
        /// The group.
        group: String,
        /// What does not fit.
        reason: String,
    },
    /// A static member's instance id is now held by a newer member id.
    #[error(
        "group `{group}`: instance `{instance_id}` is now member `{current}`; `{fenced}` is fenced"
    )]
    FencedInstance {
        /// The group.
        group: String,
        /// `group.instance.id`.
        instance_id: String,
        /// The member id used.
        fenced: String,
        /// The member id that holds the instance now.
        current: String,
    },
    /// A commit's metadata string is longer than `groups.max_offset_metadata_bytes`.
    #[error("offset metadata of {len} bytes exceeds groups.max_offset_metadata_bytes = {max}")]
    MetadataTooLarge {
        /// Its length.
        len: usize,
        /// The limit.
        max: u32,
    },
}

/// Why the offset store did not write an operation.
#[derive(Debug, Clone, thiserror::Error)]
pub enum StoreError {
    /// The store's thread has stopped (the server is shutting down).
    #[error("the offset store is shut down")]
    ShutDown,
    /// A file operation failed.
    #[error("offset store: {what}: {source}")]
    Io {
        /// What was being done.
        what: &'static str,
        /// The OS error.
        source: Arc<std::io::Error>,
    },
}

impl StoreError {
    pub(crate) fn io(what: &'static str, source: std::io::Error) -> StoreError {
        StoreError::Io {
            what,
            source: Arc::new(source),
        }
    }
}
