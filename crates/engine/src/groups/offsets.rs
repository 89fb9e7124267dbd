//! Committed offsets: commit (through the offset store, group-committed), fetch, describe with
//! lag, group deletion and expiry, and forgetting a deleted stream.
//!
//! Offsets are keyed by stream name and partition and carry the stream's id: an offset whose
//! stream id is not the current stream's (the stream was deleted and created again) is not
//! reported, and one outside the partition's retained range is reported as no offset, so the
//! member starts by its reset policy instead of past the end (or before the start) of a log.

use std::collections::BTreeSet;

use tokio::sync::oneshot;

use super::error::StoreError;
use super::record::{Entry, Op};
use super::store::Committed;
use super::types::{
    GroupInfo, GroupState, MemberState, OffsetCommit, PartitionLag, PartitionRef, Position,
};
use super::{wall_ms, Group, GroupError, Groups};
use crate::streams::Streams;

/// What a committed offset means for the partition as it is now.
enum Found {
    /// Nothing committed for this stream (or for an earlier stream of that name).
    None,
    /// A position inside the retained range.
    At(u64),
    /// Committed, but outside `start..=end`.
    OutOfRange(u64),
}

fn position(group: &Group, streams: &Streams, stream: &str, partition: u32) -> Found {
    let Some(c) = group.offsets.get(&(stream.to_owned(), partition)) else {
        return Found::None;
    };
    let Ok(s) = streams.get(stream) else {
        return Found::None;
    };
    if s.id() != c.stream_id {
        return Found::None;
    }
    let Ok(p) = s.partition(partition) else {
        return Found::None;
    };
    if (p.log.start_offset()..=p.log.end_offset()).contains(&c.offset) {
        Found::At(c.offset)
    } else {
        Found::OutOfRange(c.offset)
    }
}

impl Groups {
    /// Stores offsets for partitions the member owns in the current generation. The receiver
    /// resolves once they are durable (one fsync shared with every commit written with them).
    pub fn commit(
        &self,
        commit: &OffsetCommit,
        streams: &Streams,
    ) -> Result<oneshot::Receiver<Result<(), StoreError>>, GroupError> {
        let mut groups = self.lock();
        let group = groups
            .get_mut(&commit.group)
            .ok_or_else(|| GroupError::NotFound(commit.group.clone()))?;
        let member = group
            .members
            .get(&commit.member_id)
            .ok_or_else(|| GroupError::UnknownMember(commit.member_id.clone()))?;
        if commit.generation != group.generation {
            return Err(GroupError::StaleGeneration {
                group: commit.group.clone(),
                got: commit.generation,
                current: group.generation,
            });
        }
        let mut entries = Vec::with_capacity(commit.offsets.len());
        for (p, offset) in &commit.offsets {
            let owned = member.assignment.contains(p);
            let stream = streams.get(&p.stream).ok().filter(|_| owned);
            let Some(stream) = stream else {
                return Err(GroupError::NotAssigned {
                    stream: p.stream.clone(),
                    partition: p.partition,
                    member: commit.member_id.clone(),
                    generation: group.generation,
                });
            };
            entries.push(Entry {
                stream: p.stream.clone(),
                stream_id: stream.id(),
                partition: p.partition,
                offset: *offset,
            });
        }
        for e in &entries {
            group.offsets.insert(
                (e.stream.clone(), e.partition),
                Committed {
                    stream_id: e.stream_id,
                    offset: e.offset,
                },
            );
        }
        group.last_active_ms = wall_ms();
        // Queued under the groups lock, so the log holds commits in the order memory does.
        Ok(self.store.submit(Op::Commit {
            group: commit.group.clone(),
            entries,
        }))
    }

    /// Committed offsets (`None` where nothing usable is committed: nothing at all, an offset
    /// of an earlier stream of that name, or one outside the retained range).
    pub fn fetch_offsets(
        &self,
        name: &str,
        partitions: &[PartitionRef],
        streams: &Streams,
    ) -> Vec<Position> {
        let groups = self.lock();
        let group = groups.get(name);
        partitions
            .iter()
            .map(|p| {
                let found = group.map_or(Found::None, |g| {
                    position(g, streams, &p.stream, p.partition)
                });
                let offset = match found {
                    Found::At(o) => Some(o),
                    Found::None => None,
                    Found::OutOfRange(o) => {
                        tracing::warn!(
                            group = name, stream = %p.stream, partition = p.partition, committed = o,
                            "committed offset is outside the partition's range; the member starts by its reset policy"
                        );
                        None
                    }
                };
                Position {
                    stream: p.stream.clone(),
                    partition: p.partition,
                    offset,
                }
            })
            .collect()
    }

    /// Members, assignments, committed offsets and lag. An out-of-range commit is shown as
    /// committed, with the lag counted from the partition's start (where a member resumes).
    pub fn describe(&self, name: &str, streams: &Streams) -> Result<GroupInfo, GroupError> {
        let groups = self.lock();
        let group = groups
            .get(name)
            .ok_or_else(|| GroupError::NotFound(name.to_owned()))?;
        let state = if group.rebalance.is_some() {
            GroupState::Rebalancing
        } else if group.members.is_empty() {
            GroupState::Empty
        } else {
            GroupState::Stable
        };
        let members = group
            .members
            .iter()
            .map(|(id, m)| MemberState {
                member_id: id.clone(),
                session_timeout_ms: m.session_timeout.as_millis() as u32,
                assignment: m.assignment.clone(),
            })
            .collect();
        let mut names: BTreeSet<String> = group.offsets.keys().map(|(s, _)| s.clone()).collect();
        names.extend(
            group
                .members
                .values()
                .flat_map(|m| m.streams.iter().cloned()),
        );
        let mut partitions = Vec::new();
        for stream in names {
            let Ok(s) = streams.get(&stream) else {
                continue;
            };
            for (p, sp) in s.partitions().iter().enumerate() {
                let p = p as u32;
                let (committed, from) = match position(group, streams, &stream, p) {
                    Found::At(o) => (Some(o), o),
                    Found::OutOfRange(o) => (Some(o), sp.log.start_offset()),
                    Found::None => (None, sp.log.start_offset()),
                };
                let end_offset = sp.log.end_offset();
                partitions.push(PartitionLag {
                    stream: stream.clone(),
                    partition: p,
                    committed,
                    end_offset,
                    lag: end_offset.saturating_sub(from),
                });
            }
        }
        Ok(GroupInfo {
            group: name.to_owned(),
            state,
            generation: group.generation,
            members,
            partitions,
        })
    }

    /// Deletes an empty group and its offsets. The receiver resolves once that is durable.
    pub fn delete(
        &self,
        name: &str,
    ) -> Result<oneshot::Receiver<Result<(), StoreError>>, GroupError> {
        let mut groups = self.lock();
        let group = groups
            .get(name)
            .ok_or_else(|| GroupError::NotFound(name.to_owned()))?;
        if !group.members.is_empty() {
            return Err(GroupError::NotEmpty {
                group: name.to_owned(),
                members: group.members.len(),
            });
        }
        groups.remove(name);
        tracing::info!(group = name, "group deleted");
        Ok(self.store.submit(Op::Delete {
            group: name.to_owned(),
        }))
    }

    /// Drops every group's offsets of the deleted stream `stream_id`.
    pub fn forget_stream(&self, name: &str, stream_id: u64) {
        let mut groups = self.lock();
        for group in groups.values_mut() {
            group
                .offsets
                .retain(|(s, _), c| !(s == name && c.stream_id == stream_id));
        }
        // Nobody waits: the stream is gone whether or not this reaches the disk first, and
        // offsets of an old stream id are never reported anyway.
        drop(self.store.submit(Op::Forget { stream_id }));
    }

    /// Deletes groups that have had no members for `retention_ms` since their last commit or
    /// member (Kafka's `offsets.retention.minutes`). Returns how many.
    pub fn expire_empty(&self, retention_ms: u64) -> usize {
        let now = wall_ms();
        let mut groups = self.lock();
        let expired: Vec<String> = groups
            .iter()
            .filter(|(_, g)| {
                g.members.is_empty()
                    && g.rebalance.is_none()
                    && now.saturating_sub(g.last_active_ms) >= retention_ms
            })
            .map(|(name, _)| name.clone())
            .collect();
        for name in &expired {
            groups.remove(name);
            tracing::info!(group = %name, retention_ms, "empty group expired");
            drop(self.store.submit(Op::Delete {
                group: name.clone(),
            }));
        }
        expired.len()
    }

    /// Every group name.
    pub fn list(&self) -> Vec<String> {
        let mut names: Vec<String> = self.lock().keys().cloned().collect();
        names.sort();
        names
    }
}
