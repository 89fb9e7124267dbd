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
use memstream_names::validate_group_name;

use super::types::{
    ClassicCommit, ClassicMemberInfo, CommitEntry, GroupInfo, GroupState, GroupSummary,
    MemberState, OffsetCommit, PartitionLag, PartitionRef, Position,
};
use super::{wall_ms, Group, GroupError, Groups};
use crate::config::GroupsConfig;
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

/// Where `group` stands.
fn group_state(group: &Group) -> GroupState {
    if group.rebalance.is_some() {
        GroupState::Rebalancing
    } else if group.members.is_empty() {
        GroupState::Empty
    } else if group
        .classic
        .as_ref()
        .is_some_and(|c| c.awaiting_sync.is_some())
    {
        GroupState::AwaitingSync
    } else {
        GroupState::Stable
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
        for CommitEntry {
            partition: p,
            offset,
            metadata,
        } in &commit.offsets
        {
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
                metadata: metadata.clone(),
            });
        }
        Ok(self.record_commit(&commit.group, group, entries))
    }

    /// Applies `entries` to `group` and queues them for the store (under the groups lock, so
    /// the log holds commits in the order memory does).
    fn record_commit(
        &self,
        name: &str,
        group: &mut Group,
        entries: Vec<Entry>,
    ) -> oneshot::Receiver<Result<(), StoreError>> {
        for e in &entries {
            group.offsets.insert(
                (e.stream.clone(), e.partition),
                Committed {
                    stream_id: e.stream_id,
                    offset: e.offset,
                    metadata: e.metadata.as_deref().map(Into::into),
                },
            );
        }
        group.last_active_ms = wall_ms();
        self.store.submit(Op::Commit {
            group: name.to_owned(),
            entries,
        })
    }

    /// A Kafka OffsetCommit. Members commit in their generation (Kafka does not tie commits
    /// to the assignment); a consumer outside any group commits with generation -1 to a group
    /// that has no members (creating it). Unknown topics and partitions are refused per
    /// entry by the front-end before this.
    pub fn commit_classic(
        &self,
        commit: &ClassicCommit,
        streams: &Streams,
        limits: &GroupsConfig,
    ) -> Result<oneshot::Receiver<Result<(), StoreError>>, GroupError> {
        let name = commit.group.as_str();
        validate_group_name(name).map_err(|reason| GroupError::InvalidName {
            name: name.to_owned(),
            reason,
        })?;
        let max = limits.max_offset_metadata_bytes;
        if let Some(len) = commit
            .offsets
            .iter()
            .filter_map(|e| e.metadata.as_ref().map(String::len))
            .find(|&len| len > max as usize)
        {
            return Err(GroupError::MetadataTooLarge { len, max });
        }
        let mut groups = self.lock();
        if !groups.contains_key(name) {
            if commit.generation >= 0 {
                return Err(GroupError::UnknownMember(commit.member_id.clone()));
            }
            if groups.len() >= limits.max_groups as usize {
                return Err(GroupError::LimitReached {
                    limit: "groups.max_groups",
                    max: limits.max_groups.into(),
                });
            }
        }
        let group = groups.entry(name.to_owned()).or_default();
        if let (Some(instance), Some(classic)) = (&commit.instance_id, &group.classic) {
            if let Some(current) = classic.instances.get(instance) {
                if *current != commit.member_id {
                    return Err(GroupError::FencedInstance {
                        group: name.to_owned(),
                        instance_id: instance.clone(),
                        fenced: commit.member_id.clone(),
                        current: current.clone(),
                    });
                }
            }
        }
        let simple = commit.generation < 0 && group.members.is_empty();
        if !simple {
            if !group.members.contains_key(&commit.member_id) {
                return Err(GroupError::UnknownMember(commit.member_id.clone()));
            }
            let awaiting_sync = group
                .classic
                .as_ref()
                .is_some_and(|c| c.awaiting_sync.is_some());
            let got = u32::try_from(commit.generation).ok();
            // A member that rejoined commits what it read in the generation that just ended,
            // before it heard the join's answer (a commit sent right behind its JoinGroup):
            // until the leader's assignment is out nobody else owns those partitions, so the
            // commit is kept. (Kafka answers ILLEGAL_GENERATION here, which librdkafka's
            // cooperative rebalancing takes for a lost assignment.)
            let just_ended = awaiting_sync && got == group.generation.checked_sub(1);
            if got != Some(group.generation) && !just_ended {
                return Err(GroupError::StaleGeneration {
                    group: name.to_owned(),
                    got: got.unwrap_or(u32::MAX),
                    current: group.generation,
                });
            }
            // A member of the new generation that has not received its assignment yet is
            // told to wait, as Kafka does (commits during the join phase are accepted).
            if awaiting_sync && !just_ended {
                return Err(GroupError::RebalanceInProgress(name.to_owned()));
            }
        }
        let mut entries = Vec::with_capacity(commit.offsets.len());
        for e in &commit.offsets {
            let Ok(stream) = streams.get(&e.partition.stream) else {
                continue;
            };
            entries.push(Entry {
                stream: e.partition.stream.clone(),
                stream_id: stream.id(),
                partition: e.partition.partition,
                offset: e.offset,
                metadata: e.metadata.clone(),
            });
        }
        Ok(self.record_commit(name, group, entries))
    }

    /// Committed offsets (`offset` is `None` where nothing usable is committed: nothing at
    /// all, an offset of an earlier stream of that name, or one outside the retained range;
    /// `committed` keeps the last as committed).
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
                let metadata = group
                    .and_then(|g| g.offsets.get(&(p.stream.clone(), p.partition)))
                    .and_then(|c| c.metadata.as_deref().map(str::to_owned));
                let (offset, committed) = match found {
                    Found::At(o) => (Some(o), Some(o)),
                    Found::None => (None, None),
                    Found::OutOfRange(o) => {
                        tracing::warn!(
                            group = name, stream = %p.stream, partition = p.partition, committed = o,
                            "committed offset is outside the partition's range; the member starts by its reset policy"
                        );
                        (None, Some(o))
                    }
                };
                Position {
                    stream: p.stream.clone(),
                    partition: p.partition,
                    offset,
                    committed,
                    metadata,
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
        let state = group_state(group);
        let protocol = group.classic.as_ref();
        let members = group
            .members
            .iter()
            .map(|(id, m)| MemberState {
                member_id: id.clone(),
                session_timeout_ms: m.session_timeout.as_millis() as u32,
                assignment: m.assignment.clone(),
                classic: m.classic.as_ref().map(|c| ClassicMemberInfo {
                    client_id: c.client_id.clone(),
                    client_host: c.client_host.clone(),
                    instance_id: c.instance_id.clone(),
                    metadata: c
                        .protocols
                        .iter()
                        .find(|(n, _)| protocol.is_some_and(|p| p.protocol == *n))
                        .map(|(_, meta)| meta.clone())
                        .unwrap_or_default(),
                    assignment: c.assignment.clone(),
                }),
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
            protocol_type: protocol
                .map(|c| c.protocol_type.clone())
                .unwrap_or_default(),
            protocol: protocol.map_or_else(|| "memstream".to_owned(), |c| c.protocol.clone()),
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

    /// Every group with its protocol type and state, by name.
    pub fn list_summaries(&self) -> Vec<GroupSummary> {
        let groups = self.lock();
        let mut out: Vec<GroupSummary> = groups
            .iter()
            .map(|(name, g)| GroupSummary {
                group: name.clone(),
                protocol_type: g
                    .classic
                    .as_ref()
                    .map(|c| c.protocol_type.clone())
                    .unwrap_or_default(),
                state: group_state(g),
            })
            .collect();
        out.sort_by(|a, b| a.group.cmp(&b.group));
        out
    }

    /// The partitions `name` has committed offsets for (Kafka's OffsetFetch for all topics).
    pub fn committed_partitions(&self, name: &str) -> Vec<PartitionRef> {
        self.lock().get(name).map_or_else(Vec::new, |g| {
            g.offsets
                .keys()
                .map(|(stream, partition)| PartitionRef {
                    stream: stream.clone(),
                    partition: *partition,
                })
                .collect()
        })
    }

    /// Every group name.
    pub fn list(&self) -> Vec<String> {
        let mut names: Vec<String> = self.lock().keys().cloned().collect();
        names.sort();
        names
    }
}
