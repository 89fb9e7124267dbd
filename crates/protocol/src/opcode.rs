//! Operation numbers carried in the header's `opcode` byte.
//!
//! The table in `docs/protocol.md` is authoritative; numbers are never reused. 0x00 is reserved
//! for error frames that answer no particular request (for example a frame whose header could
//! not be read).

/// A known operation.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[repr(u8)]
pub enum Opcode {
    /// Reserved: connection-level error frames that answer no decodable request.
    Connection = 0x00,
    /// Version negotiation; the first frame on every connection.
    Hello = 0x01,
    /// Liveness check; the payload is echoed back.
    Ping = 0x02,
    /// Orderly close, sent by either side.
    Goodbye = 0x03,
    /// One step of a SASL exchange (SCRAM), after HELLO, when the server asks for it.
    Auth = 0x04,
    /// Create a stream.
    StreamCreate = 0x10,
    /// Delete a stream and its data.
    StreamDelete = 0x11,
    /// List streams.
    StreamList = 0x12,
    /// Describe a stream: settings and per-partition offsets.
    StreamDescribe = 0x13,
    /// Append record batches.
    Produce = 0x20,
    /// Read record batches from a partition.
    Fetch = 0x21,
    /// Allocate an idempotent producer id.
    InitProducer = 0x22,
    /// Start a push subscription on the frame's stream id.
    Subscribe = 0x30,
    /// Grant a subscription more bytes.
    Credit = 0x31,
    /// End a subscription.
    Unsubscribe = 0x32,
    /// Server to client: batches for a subscription.
    Push = 0x33,
    /// Join a consumer group (waits for the rebalance to complete).
    GroupJoin = 0x40,
    /// Keep a group membership alive.
    GroupHeartbeat = 0x41,
    /// Leave a consumer group.
    GroupLeave = 0x42,
    /// Commit consumed positions.
    OffsetCommit = 0x43,
    /// Read committed positions.
    OffsetFetch = 0x44,
    /// Members, assignments and lag of a group.
    GroupDescribe = 0x45,
    /// List groups.
    GroupList = 0x46,
    /// Server to client: rejoin, the group is rebalancing.
    GroupRebalance = 0x47,
    /// Delete an empty group and its committed offsets.
    GroupDelete = 0x48,
    /// Set a user's SCRAM credentials (made by the client).
    UserPut = 0x50,
    /// Remove a user.
    UserDelete = 0x51,
    /// List users (no key material).
    UserList = 0x52,
    /// Add ACLs.
    AclCreate = 0x53,
    /// List the ACLs matching a filter.
    AclList = 0x54,
    /// Remove the ACLs matching a filter.
    AclDelete = 0x55,
}

impl Opcode {
    /// Maps a raw opcode byte to a known operation.
    pub fn from_u8(raw: u8) -> Option<Opcode> {
        Some(match raw {
            0x00 => Opcode::Connection,
            0x01 => Opcode::Hello,
            0x02 => Opcode::Ping,
            0x03 => Opcode::Goodbye,
            0x04 => Opcode::Auth,
            0x10 => Opcode::StreamCreate,
            0x11 => Opcode::StreamDelete,
            0x12 => Opcode::StreamList,
            0x13 => Opcode::StreamDescribe,
            0x20 => Opcode::Produce,
            0x21 => Opcode::Fetch,
            0x22 => Opcode::InitProducer,
            0x30 => Opcode::Subscribe,
            0x31 => Opcode::Credit,
            0x32 => Opcode::Unsubscribe,
            0x33 => Opcode::Push,
            0x40 => Opcode::GroupJoin,
            0x41 => Opcode::GroupHeartbeat,
            0x42 => Opcode::GroupLeave,
            0x43 => Opcode::OffsetCommit,
            0x44 => Opcode::OffsetFetch,
            0x45 => Opcode::GroupDescribe,
            0x46 => Opcode::GroupList,
            0x47 => Opcode::GroupRebalance,
            0x48 => Opcode::GroupDelete,
            0x50 => Opcode::UserPut,
            0x51 => Opcode::UserDelete,
            0x52 => Opcode::UserList,
            0x53 => Opcode::AclCreate,
            0x54 => Opcode::AclList,
            0x55 => Opcode::AclDelete,
            _ => return None,
        })
    }

    /// The raw opcode byte.
    pub fn as_u8(self) -> u8 {
        self as u8
    }

    /// Upper-case name, as used in docs and metrics labels.
    pub fn name(self) -> &'static str {
        match self {
            Opcode::Connection => "CONNECTION",
            Opcode::Hello => "HELLO",
            Opcode::Ping => "PING",
            Opcode::Goodbye => "GOODBYE",
            Opcode::Auth => "AUTH",
            Opcode::StreamCreate => "STREAM_CREATE",
            Opcode::StreamDelete => "STREAM_DELETE",
            Opcode::StreamList => "STREAM_LIST",
            Opcode::StreamDescribe => "STREAM_DESCRIBE",
            Opcode::Produce => "PRODUCE",
            Opcode::Fetch => "FETCH",
            Opcode::InitProducer => "INIT_PRODUCER",
            Opcode::Subscribe => "SUBSCRIBE",
            Opcode::Credit => "CREDIT",
            Opcode::Unsubscribe => "UNSUBSCRIBE",
            Opcode::Push => "PUSH",
            Opcode::GroupJoin => "GROUP_JOIN",
            Opcode::GroupHeartbeat => "GROUP_HEARTBEAT",
            Opcode::GroupLeave => "GROUP_LEAVE",
            Opcode::OffsetCommit => "OFFSET_COMMIT",
            Opcode::OffsetFetch => "OFFSET_FETCH",
            Opcode::GroupDescribe => "GROUP_DESCRIBE",
            Opcode::GroupList => "GROUP_LIST",
            Opcode::GroupRebalance => "GROUP_REBALANCE",
            Opcode::GroupDelete => "GROUP_DELETE",
            Opcode::UserPut => "USER_PUT",
            Opcode::UserDelete => "USER_DELETE",
            Opcode::UserList => "USER_LIST",
            Opcode::AclCreate => "ACL_CREATE",
            Opcode::AclList => "ACL_LIST",
            Opcode::AclDelete => "ACL_DELETE",
        }
    }
}

#[cfg(test)]
#[allow(clippy::indexing_slicing, clippy::arithmetic_side_effects)]
mod tests {
    use super::*;

    #[test]
    fn raw_round_trip() {
        for raw in 0..=u8::MAX {
            if let Some(op) = Opcode::from_u8(raw) {
                assert_eq!(op.as_u8(), raw);
            }
        }
    }
}
