//! Consumer groups: membership, assignment, committed offsets.
//!
//! ```text
//! GROUP_JOIN      request:  str16 group, str16 member_id ("" = new member),
//!                           u32 session_timeout_ms, u16 count, count x str16 stream
//!                 response: str16 member_id, u32 generation, assignment
//! GROUP_HEARTBEAT request:  str16 group, str16 member_id, u32 generation   response: empty
//! GROUP_LEAVE     request:  str16 group, str16 member_id                   response: empty
//! OFFSET_COMMIT   request:  str16 group, str16 member_id, u32 generation,
//!                           u16 count, count x (str16 stream, u32 partition, u64 offset)
//!                 response: empty
//! OFFSET_FETCH    request:  str16 group, u16 count, count x (str16 stream, u32 partition)
//!                 response: u16 count, count x (str16 stream, u32 partition, u64 offset)
//!                           (offset 0xFFFFFFFFFFFFFFFF = nothing committed)
//! GROUP_DESCRIBE  request:  str16 group
//!                 response: str16 group, u8 state, u32 generation,
//!                           u16 members, members x (str16 member_id, u32 session_timeout_ms,
//!                                                   assignment),
//!                           u32 partitions, partitions x (str16 stream, u32 partition,
//!                                   u64 committed, u64 end_offset, u64 lag)
//! GROUP_LIST      request:  empty          response: u32 count, count x str16 group
//! GROUP_REBALANCE server:   str16 group, u32 generation (unsolicited, correlation id 0)
//! assignment:     u16 count, count x (str16 stream, u32 partition)
//! ```

use bytes::{BufMut, BytesMut};

use super::reader::{put_str16, PayloadReader};
use super::stream::STREAM_NAME_BYTES_MAX;
use crate::error::PayloadError;

/// `offset` value meaning "nothing committed".
pub const NO_OFFSET: u64 = u64::MAX;
/// Longest member id.
pub const MEMBER_ID_BYTES_MAX: usize = 255;

/// A partition of a stream.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct StreamPartition {
    /// Stream name.
    pub stream: String,
    /// Partition.
    pub partition: u32,
}

fn put_assignment(dst: &mut BytesMut, assignment: &[StreamPartition]) {
    dst.put_u16_le(assignment.len() as u16);
    for p in assignment {
        put_str16(dst, &p.stream);
        dst.put_u32_le(p.partition);
    }
}

fn get_assignment(r: &mut PayloadReader<'_>) -> Result<Vec<StreamPartition>, PayloadError> {
    let count = r.u16("assignment_count")?;
    let mut out = Vec::new();
    for _ in 0..count {
        out.push(StreamPartition {
            stream: r.str16("stream", STREAM_NAME_BYTES_MAX)?.to_owned(),
            partition: r.u32("partition")?,
        });
    }
    Ok(out)
}

fn group_and_member(r: &mut PayloadReader<'_>) -> Result<(String, String), PayloadError> {
    Ok((
        r.str16("group", STREAM_NAME_BYTES_MAX)?.to_owned(),
        r.str16("member_id", MEMBER_ID_BYTES_MAX)?.to_owned(),
    ))
}

/// GROUP_JOIN request.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct JoinGroup {
    /// Group name (`validate_group_name`: 1..=255 bytes, no control characters).
    pub group: String,
    /// Empty for a new member, else the id the server gave.
    pub member_id: String,
    /// How long the server waits for a heartbeat before removing the member.
    pub session_timeout_ms: u32,
    /// Streams the member consumes.
    pub streams: Vec<String>,
}

impl JoinGroup {
    /// Appends the encoded payload.
    pub fn encode(&self, dst: &mut BytesMut) {
        put_str16(dst, &self.group);
        put_str16(dst, &self.member_id);
        dst.put_u32_le(self.session_timeout_ms);
        dst.put_u16_le(self.streams.len() as u16);
        for s in &self.streams {
            put_str16(dst, s);
        }
    }

    /// Parses a payload.
    pub fn decode(payload: &[u8]) -> Result<JoinGroup, PayloadError> {
        let mut r = PayloadReader::new(payload);
        let (group, member_id) = group_and_member(&mut r)?;
        let session_timeout_ms = r.u32("session_timeout_ms")?;
        let count = r.u16("stream_count")?;
        let mut streams = Vec::new();
        for _ in 0..count {
            streams.push(r.str16("stream", STREAM_NAME_BYTES_MAX)?.to_owned());
        }
        r.finish()?;
        Ok(JoinGroup {
            group,
            member_id,
            session_timeout_ms,
            streams,
        })
    }
}

/// GROUP_JOIN response: who the member is and what it owns in this generation.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Joined {
    /// The member's id (keep it for every later request).
    pub member_id: String,
    /// The group generation the assignment belongs to.
    pub generation: u32,
    /// Partitions this member consumes, exclusively, until the next rebalance.
    pub assignment: Vec<StreamPartition>,
}

impl Joined {
    /// Appends the encoded payload.
    pub fn encode(&self, dst: &mut BytesMut) {
        put_str16(dst, &self.member_id);
        dst.put_u32_le(self.generation);
        put_assignment(dst, &self.assignment);
    }

    /// Parses a payload.
    pub fn decode(payload: &[u8]) -> Result<Joined, PayloadError> {
        let mut r = PayloadReader::new(payload);
        let member_id = r.str16("member_id", MEMBER_ID_BYTES_MAX)?.to_owned();
        let generation = r.u32("generation")?;
        let assignment = get_assignment(&mut r)?;
        r.finish()?;
        Ok(Joined {
            member_id,
            generation,
            assignment,
        })
    }
}

/// GROUP_HEARTBEAT request (also the shape of GROUP_LEAVE without the generation).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Heartbeat {
    /// Group.
    pub group: String,
    /// Member.
    pub member_id: String,
    /// Generation the member is in.
    pub generation: u32,
}

impl Heartbeat {
    /// Appends the encoded payload.
    pub fn encode(&self, dst: &mut BytesMut) {
        put_str16(dst, &self.group);
        put_str16(dst, &self.member_id);
        dst.put_u32_le(self.generation);
    }

    /// Parses a payload.
    pub fn decode(payload: &[u8]) -> Result<Heartbeat, PayloadError> {
        let mut r = PayloadReader::new(payload);
        let (group, member_id) = group_and_member(&mut r)?;
        let generation = r.u32("generation")?;
        r.finish()?;
        Ok(Heartbeat {
            group,
            member_id,
            generation,
        })
    }
}

/// GROUP_LEAVE request.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LeaveGroup {
    /// Group.
    pub group: String,
    /// Member.
    pub member_id: String,
}

impl LeaveGroup {
    /// Appends the encoded payload.
    pub fn encode(&self, dst: &mut BytesMut) {
        put_str16(dst, &self.group);
        put_str16(dst, &self.member_id);
    }

    /// Parses a payload.
    pub fn decode(payload: &[u8]) -> Result<LeaveGroup, PayloadError> {
        let mut r = PayloadReader::new(payload);
        let (group, member_id) = group_and_member(&mut r)?;
        r.finish()?;
        Ok(LeaveGroup { group, member_id })
    }
}

/// One committed position.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PartitionOffset {
    /// Stream.
    pub stream: String,
    /// Partition.
    pub partition: u32,
    /// The next offset to consume ([`NO_OFFSET`] = none committed).
    pub offset: u64,
}

impl PartitionOffset {
    /// Appends `str16 stream, u32 partition, u64 offset`.
    pub(crate) fn encode(&self, dst: &mut BytesMut) {
        put_str16(dst, &self.stream);
        dst.put_u32_le(self.partition);
        dst.put_u64_le(self.offset);
    }

    /// Reads `str16 stream, u32 partition, u64 offset`.
    pub(crate) fn decode_from(r: &mut PayloadReader<'_>) -> Result<PartitionOffset, PayloadError> {
        Ok(PartitionOffset {
            stream: r.str16("stream", STREAM_NAME_BYTES_MAX)?.to_owned(),
            partition: r.u32("partition")?,
            offset: r.u64("offset")?,
        })
    }
}

fn put_offsets(dst: &mut BytesMut, offsets: &[PartitionOffset]) {
    dst.put_u16_le(offsets.len() as u16);
    for o in offsets {
        o.encode(dst);
    }
}

fn get_offsets(r: &mut PayloadReader<'_>) -> Result<Vec<PartitionOffset>, PayloadError> {
    let count = r.u16("offset_count")?;
    (0..count)
        .map(|_| PartitionOffset::decode_from(r))
        .collect()
}

/// OFFSET_COMMIT request.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CommitOffsets {
    /// Group.
    pub group: String,
    /// Committing member.
    pub member_id: String,
    /// Its generation.
    pub generation: u32,
    /// Positions (the next offset to consume).
    pub offsets: Vec<PartitionOffset>,
}

impl CommitOffsets {
    /// Appends the encoded payload.
    pub fn encode(&self, dst: &mut BytesMut) {
        put_str16(dst, &self.group);
        put_str16(dst, &self.member_id);
        dst.put_u32_le(self.generation);
        put_offsets(dst, &self.offsets);
    }

    /// Parses a payload.
    pub fn decode(payload: &[u8]) -> Result<CommitOffsets, PayloadError> {
        let mut r = PayloadReader::new(payload);
        let (group, member_id) = group_and_member(&mut r)?;
        let generation = r.u32("generation")?;
        let offsets = get_offsets(&mut r)?;
        r.finish()?;
        Ok(CommitOffsets {
            group,
            member_id,
            generation,
            offsets,
        })
    }
}

/// OFFSET_FETCH request.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FetchOffsets {
    /// Group.
    pub group: String,
    /// Partitions asked about.
    pub partitions: Vec<StreamPartition>,
}

impl FetchOffsets {
    /// Appends the encoded payload.
    pub fn encode(&self, dst: &mut BytesMut) {
        put_str16(dst, &self.group);
        put_assignment(dst, &self.partitions);
    }

    /// Parses a payload.
    pub fn decode(payload: &[u8]) -> Result<FetchOffsets, PayloadError> {
        let mut r = PayloadReader::new(payload);
        let group = r.str16("group", STREAM_NAME_BYTES_MAX)?.to_owned();
        let partitions = get_assignment(&mut r)?;
        r.finish()?;
        Ok(FetchOffsets { group, partitions })
    }
}

/// OFFSET_FETCH response.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Offsets {
    /// One entry per partition asked about.
    pub offsets: Vec<PartitionOffset>,
}

impl Offsets {
    /// Appends the encoded payload.
    pub fn encode(&self, dst: &mut BytesMut) {
        put_offsets(dst, &self.offsets);
    }

    /// Parses a payload.
    pub fn decode(payload: &[u8]) -> Result<Offsets, PayloadError> {
        let mut r = PayloadReader::new(payload);
        let offsets = get_offsets(&mut r)?;
        r.finish()?;
        Ok(Offsets { offsets })
    }
}

/// One member in GROUP_DESCRIBE.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MemberInfo {
    /// Member id.
    pub member_id: String,
    /// Session timeout.
    pub session_timeout_ms: u32,
    /// What it owns.
    pub assignment: Vec<StreamPartition>,
}

/// One partition in GROUP_DESCRIBE.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PartitionLag {
    /// Stream.
    pub stream: String,
    /// Partition.
    pub partition: u32,
    /// Committed offset, or [`NO_OFFSET`].
    pub committed: u64,
    /// The partition's end offset.
    pub end_offset: u64,
    /// Records not yet committed: end - committed (end - start when nothing is committed).
    pub lag: u64,
}

/// GROUP_DESCRIBE response.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct GroupDescription {
    /// Group.
    pub group: String,
    /// 0 empty, 1 rebalancing, 2 stable.
    pub state: u8,
    /// Current generation.
    pub generation: u32,
    /// Members and assignments.
    pub members: Vec<MemberInfo>,
    /// Committed offsets and lag of every partition of the group's streams.
    pub partitions: Vec<PartitionLag>,
}

impl GroupDescription {
    /// Appends the encoded payload.
    pub fn encode(&self, dst: &mut BytesMut) {
        put_str16(dst, &self.group);
        dst.put_u8(self.state);
        dst.put_u32_le(self.generation);
        dst.put_u16_le(self.members.len() as u16);
        for m in &self.members {
            put_str16(dst, &m.member_id);
            dst.put_u32_le(m.session_timeout_ms);
            put_assignment(dst, &m.assignment);
        }
        dst.put_u32_le(self.partitions.len() as u32);
        for p in &self.partitions {
            put_str16(dst, &p.stream);
            dst.put_u32_le(p.partition);
            dst.put_u64_le(p.committed);
            dst.put_u64_le(p.end_offset);
            dst.put_u64_le(p.lag);
        }
    }

    /// Parses a payload.
    pub fn decode(payload: &[u8]) -> Result<GroupDescription, PayloadError> {
        let mut r = PayloadReader::new(payload);
        let group = r.str16("group", STREAM_NAME_BYTES_MAX)?.to_owned();
        let state = r.u8("state")?;
        let generation = r.u32("generation")?;
        let count = r.u16("member_count")?;
        let mut members = Vec::new();
        for _ in 0..count {
            members.push(MemberInfo {
                member_id: r.str16("member_id", MEMBER_ID_BYTES_MAX)?.to_owned(),
                session_timeout_ms: r.u32("session_timeout_ms")?,
                assignment: get_assignment(&mut r)?,
            });
        }
        let count = r.u32("partition_count")?;
        let mut partitions = Vec::new();
        for _ in 0..count {
            partitions.push(PartitionLag {
                stream: r.str16("stream", STREAM_NAME_BYTES_MAX)?.to_owned(),
                partition: r.u32("partition")?,
                committed: r.u64("committed")?,
                end_offset: r.u64("end_offset")?,
                lag: r.u64("lag")?,
            });
        }
        r.finish()?;
        Ok(GroupDescription {
            group,
            state,
            generation,
            members,
            partitions,
        })
    }
}

/// GROUP_LIST response.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct GroupList {
    /// Group names.
    pub groups: Vec<String>,
}

impl GroupList {
    /// Appends the encoded payload.
    pub fn encode(&self, dst: &mut BytesMut) {
        dst.put_u32_le(self.groups.len() as u32);
        for g in &self.groups {
            put_str16(dst, g);
        }
    }

    /// Parses a payload.
    pub fn decode(payload: &[u8]) -> Result<GroupList, PayloadError> {
        let mut r = PayloadReader::new(payload);
        let count = r.u32("group_count")?;
        let mut groups = Vec::new();
        for _ in 0..count {
            groups.push(r.str16("group", STREAM_NAME_BYTES_MAX)?.to_owned());
        }
        r.finish()?;
        Ok(GroupList { groups })
    }
}

/// GROUP_REBALANCE: the server tells a member to rejoin.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Rebalance {
    /// Group.
    pub group: String,
    /// Generation being replaced.
    pub generation: u32,
}

impl Rebalance {
    /// Appends the encoded payload.
    pub fn encode(&self, dst: &mut BytesMut) {
        put_str16(dst, &self.group);
        dst.put_u32_le(self.generation);
    }

    /// Parses a payload.
    pub fn decode(payload: &[u8]) -> Result<Rebalance, PayloadError> {
        let mut r = PayloadReader::new(payload);
        let group = r.str16("group", STREAM_NAME_BYTES_MAX)?.to_owned();
        let generation = r.u32("generation")?;
        r.finish()?;
        Ok(Rebalance { group, generation })
    }
}

#[cfg(test)]
#[allow(clippy::indexing_slicing, clippy::arithmetic_side_effects)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_and_truncations() {
        let sp = |s: &str, p| StreamPartition {
            stream: s.into(),
            partition: p,
        };
        let desc = GroupDescription {
            group: "g".into(),
            state: 2,
            generation: 3,
            members: vec![MemberInfo {
                member_id: "m-1".into(),
                session_timeout_ms: 10_000,
                assignment: vec![sp("s", 0), sp("s", 1)],
            }],
            partitions: vec![PartitionLag {
                stream: "s".into(),
                partition: 0,
                committed: 5,
                end_offset: 9,
                lag: 4,
            }],
        };
        let mut buf = BytesMut::new();
        desc.encode(&mut buf);
        assert_eq!(GroupDescription::decode(&buf).unwrap(), desc);
        for cut in 0..buf.len() {
            assert!(GroupDescription::decode(&buf[..cut]).is_err());
        }
        let join = JoinGroup {
            group: "g".into(),
            member_id: String::new(),
            session_timeout_ms: 6000,
            streams: vec!["a".into(), "b".into()],
        };
        let mut buf = BytesMut::new();
        join.encode(&mut buf);
        assert_eq!(JoinGroup::decode(&buf).unwrap(), join);
        let commit = CommitOffsets {
            group: "g".into(),
            member_id: "m".into(),
            generation: 1,
            offsets: vec![PartitionOffset {
                stream: "a".into(),
                partition: 0,
                offset: 10,
            }],
        };
        let mut buf = BytesMut::new();
        commit.encode(&mut buf);
        assert_eq!(CommitOffsets::decode(&buf).unwrap(), commit);
    }
}
