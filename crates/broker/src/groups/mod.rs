//! Consumer groups: members share the partitions of their streams, each partition owned by
//! exactly one member per generation; committed offsets are stored durably.
//!
//! Rebalancing is a barrier, like Kafka's JoinGroup: when a member joins, leaves or misses
//! its session timeout, every remaining member is told (GROUP_REBALANCE, and heartbeats answer
//! REBALANCE_IN_PROGRESS), must stop consuming, may commit, and joins again. Only when every
//! member has rejoined (or been dropped for not doing so within its session timeout) does the
//! group move to the next generation and answer all the joins with the new assignment. So no
//! two members of a generation own the same partition, and a member that follows the protocol
//! never consumes a partition while another does.

mod error;
mod offsets;

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, PoisonError};
use std::time::{Duration, Instant};

use bytes::BytesMut;
use memstream_protocol::message::{
    validate_stream_name, CommitOffsets, GroupDescription, JoinGroup, Joined, MemberInfo,
    PartitionLag, PartitionOffset, Rebalance, StreamPartition, NO_OFFSET,
};
use memstream_protocol::{Frame, Opcode};
use tokio::sync::oneshot;

pub use error::GroupError;
use offsets::OffsetMap;

use crate::config::GroupsConfig;
use crate::connection::writer::WriteQueue;
use crate::streams::Streams;

/// The answer a waiting GROUP_JOIN gets.
pub type JoinResult = Result<Joined, GroupError>;

struct Member {
    streams: Vec<String>,
    session_timeout: Duration,
    last_seen: Instant,
    assignment: Vec<StreamPartition>,
    /// The member's connection, for GROUP_REBALANCE notices.
    queue: WriteQueue,
}

struct Rebalancing {
    started: Instant,
    /// Members that must rejoin before the next generation starts.
    awaiting: BTreeSet<String>,
    /// Joins waiting for the next generation.
    waiters: Vec<(String, oneshot::Sender<JoinResult>)>,
}

#[derive(Default)]
struct Group {
    generation: u32,
    members: BTreeMap<String, Member>,
    rebalance: Option<Rebalancing>,
    offsets: OffsetMap,
}

/// Every consumer group.
pub struct Groups {
    root: PathBuf,
    groups: Mutex<HashMap<String, Group>>,
    /// Serialises offset files so an older snapshot never overwrites a newer one.
    persist: Mutex<()>,
    next_member: AtomicU64,
}

impl Groups {
    /// Loads committed offsets from `<data_dir>/groups`.
    pub fn open(data_dir: &Path) -> Result<Groups, String> {
        let root = data_dir.join("groups");
        let groups = offsets::load_all(&root)?
            .into_iter()
            .map(|(name, offsets)| {
                (
                    name,
                    Group {
                        offsets,
                        ..Group::default()
                    },
                )
            })
            .collect();
        Ok(Groups {
            root,
            groups: Mutex::new(groups),
            persist: Mutex::new(()),
            next_member: AtomicU64::new(1),
        })
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, Group>> {
        self.groups.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Adds or refreshes a member and starts (or joins) a rebalance. The receiver resolves
    /// when the next generation starts.
    pub fn join(
        &self,
        join: JoinGroup,
        queue: WriteQueue,
        all_streams: &Streams,
        limits: &GroupsConfig,
    ) -> Result<oneshot::Receiver<JoinResult>, GroupError> {
        let JoinGroup {
            group: name,
            member_id,
            session_timeout_ms,
            streams,
        } = join;
        let (name, member_id) = (name.as_str(), member_id.as_str());
        validate_stream_name(name).map_err(|reason| GroupError::InvalidName {
            name: name.to_owned(),
            reason,
        })?;
        let (min, max) = (limits.session_timeout_ms_min, limits.session_timeout_ms_max);
        if !(min..=max).contains(&session_timeout_ms) {
            return Err(GroupError::InvalidArgument(format!(
                "session_timeout_ms {session_timeout_ms} is outside {min}..={max} (groups.session_timeout_ms_min/max)"
            )));
        }
        let mut groups = self.lock();
        if !groups.contains_key(name) && groups.len() >= limits.max_groups as usize {
            return Err(GroupError::InvalidArgument(format!(
                "groups.max_groups = {} reached",
                limits.max_groups
            )));
        }
        let group = groups.entry(name.to_owned()).or_default();
        let member_id = if member_id.is_empty() {
            if group.members.len() >= limits.max_members as usize {
                return Err(GroupError::InvalidArgument(format!(
                    "group `{name}` has groups.max_members = {} members",
                    limits.max_members
                )));
            }
            format!(
                "member-{}",
                self.next_member.fetch_add(1, Ordering::Relaxed)
            )
        } else if group.members.contains_key(member_id) {
            member_id.to_owned()
        } else {
            return Err(GroupError::UnknownMember(member_id.to_owned()));
        };
        let (tx, rx) = oneshot::channel();
        group.members.insert(
            member_id.clone(),
            Member {
                streams,
                session_timeout: Duration::from_millis(u64::from(session_timeout_ms)),
                last_seen: Instant::now(),
                assignment: Vec::new(),
                queue,
            },
        );
        start_rebalance(name, group, Some(&member_id));
        if let Some(rebalance) = group.rebalance.as_mut() {
            rebalance.awaiting.remove(&member_id);
            rebalance.waiters.push((member_id, tx));
        }
        try_complete(group, all_streams);
        Ok(rx)
    }

    /// Records a heartbeat; tells the member to rejoin when the group is rebalancing.
    pub fn heartbeat(
        &self,
        name: &str,
        member_id: &str,
        generation: u32,
    ) -> Result<(), GroupError> {
        let mut groups = self.lock();
        let group = groups
            .get_mut(name)
            .ok_or_else(|| GroupError::NotFound(name.to_owned()))?;
        let member = group
            .members
            .get_mut(member_id)
            .ok_or_else(|| GroupError::UnknownMember(member_id.to_owned()))?;
        member.last_seen = Instant::now();
        if group.rebalance.is_some() {
            return Err(GroupError::RebalanceInProgress(name.to_owned()));
        }
        if generation != group.generation {
            return Err(GroupError::StaleGeneration(format!(
                "generation {generation} is over; the group is at {}",
                group.generation
            )));
        }
        Ok(())
    }

    /// Removes a member; the others rebalance.
    pub fn leave(
        &self,
        name: &str,
        member_id: &str,
        all_streams: &Streams,
    ) -> Result<(), GroupError> {
        let mut groups = self.lock();
        let group = groups
            .get_mut(name)
            .ok_or_else(|| GroupError::NotFound(name.to_owned()))?;
        if group.members.remove(member_id).is_none() {
            return Err(GroupError::UnknownMember(member_id.to_owned()));
        }
        tracing::info!(group = name, member = member_id, "member left");
        start_rebalance(name, group, None);
        if let Some(rebalance) = group.rebalance.as_mut() {
            rebalance.awaiting.remove(member_id);
        }
        try_complete(group, all_streams);
        Ok(())
    }

    /// Drops members whose session timed out (and members that did not rejoin a rebalance in
    /// time); their partitions go to the others.
    pub fn expire(&self, now: Instant, all_streams: &Streams) {
        let mut groups = self.lock();
        for (name, group) in groups.iter_mut() {
            let rebalance_started = group
                .rebalance
                .as_ref()
                .map(|r| (r.started, r.awaiting.clone()));
            let expired: Vec<String> = group
                .members
                .iter()
                .filter(|(id, m)| {
                    let silent = now.saturating_duration_since(m.last_seen) > m.session_timeout;
                    let late = rebalance_started
                        .as_ref()
                        .is_some_and(|(started, awaiting)| {
                            awaiting.contains(*id)
                                && now.saturating_duration_since(*started) > m.session_timeout
                        });
                    silent || late
                })
                .map(|(id, _)| id.clone())
                .collect();
            if expired.is_empty() {
                continue;
            }
            for id in &expired {
                group.members.remove(id);
                tracing::info!(group = %name, member = %id, "member session expired");
            }
            start_rebalance(name, group, None);
            if let Some(rebalance) = group.rebalance.as_mut() {
                for id in &expired {
                    rebalance.awaiting.remove(id);
                }
            }
            try_complete(group, all_streams);
        }
    }

    /// Stores offsets for partitions the member owns in the current generation; durable when
    /// this returns. Blocking (fsync): call from a blocking context.
    pub fn commit(&self, commit: &CommitOffsets) -> Result<(), GroupError> {
        let _persist = self.persist.lock().unwrap_or_else(PoisonError::into_inner);
        let snapshot = {
            let mut groups = self.lock();
            let group = groups
                .get_mut(&commit.group)
                .ok_or_else(|| GroupError::NotFound(commit.group.clone()))?;
            let member = group
                .members
                .get(&commit.member_id)
                .ok_or_else(|| GroupError::UnknownMember(commit.member_id.clone()))?;
            if commit.generation != group.generation {
                return Err(GroupError::StaleGeneration(format!(
                    "generation {} is over; the group is at {}",
                    commit.generation, group.generation
                )));
            }
            for o in &commit.offsets {
                let owned = member
                    .assignment
                    .iter()
                    .any(|p| p.stream == o.stream && p.partition == o.partition);
                if !owned {
                    return Err(GroupError::StaleGeneration(format!(
                        "{}/{} is not assigned to {} in generation {}",
                        o.stream, o.partition, commit.member_id, group.generation
                    )));
                }
            }
            for o in &commit.offsets {
                group
                    .offsets
                    .insert((o.stream.clone(), o.partition), o.offset);
            }
            group.offsets.clone()
        };
        offsets::save(&self.root, &commit.group, &snapshot)
            .map_err(|e| GroupError::Storage(e.to_string()))
    }

    /// Committed offsets ([`NO_OFFSET`] where nothing is committed).
    pub fn fetch_offsets(
        &self,
        name: &str,
        partitions: &[StreamPartition],
    ) -> Vec<PartitionOffset> {
        let groups = self.lock();
        let offsets = groups.get(name).map(|g| &g.offsets);
        partitions
            .iter()
            .map(|p| PartitionOffset {
                stream: p.stream.clone(),
                partition: p.partition,
                offset: offsets
                    .and_then(|o| o.get(&(p.stream.clone(), p.partition)))
                    .copied()
                    .unwrap_or(NO_OFFSET),
            })
            .collect()
    }

    /// Members, assignments, committed offsets and lag.
    pub fn describe(
        &self,
        name: &str,
        all_streams: &Streams,
    ) -> Result<GroupDescription, GroupError> {
        let groups = self.lock();
        let group = groups
            .get(name)
            .ok_or_else(|| GroupError::NotFound(name.to_owned()))?;
        let state = if group.rebalance.is_some() {
            1
        } else if group.members.is_empty() {
            0
        } else {
            2
        };
        let members = group
            .members
            .iter()
            .map(|(id, m)| MemberInfo {
                member_id: id.clone(),
                session_timeout_ms: m.session_timeout.as_millis() as u32,
                assignment: m.assignment.clone(),
            })
            .collect();
        let mut streams: BTreeSet<String> = group.offsets.keys().map(|(s, _)| s.clone()).collect();
        streams.extend(
            group
                .members
                .values()
                .flat_map(|m| m.streams.iter().cloned()),
        );
        let mut partitions = Vec::new();
        for stream in streams {
            let Ok(s) = all_streams.get(&stream) else {
                continue;
            };
            for (p, sp) in s.partitions().iter().enumerate() {
                let committed = group
                    .offsets
                    .get(&(stream.clone(), p as u32))
                    .copied()
                    .unwrap_or(NO_OFFSET);
                let end_offset = sp.log.end_offset();
                let from = if committed == NO_OFFSET {
                    sp.log.start_offset()
                } else {
                    committed
                };
                partitions.push(PartitionLag {
                    stream: stream.clone(),
                    partition: p as u32,
                    committed,
                    end_offset,
                    lag: end_offset.saturating_sub(from),
                });
            }
        }
        Ok(GroupDescription {
            group: name.to_owned(),
            state,
            generation: group.generation,
            members,
            partitions,
        })
    }

    /// Every group name.
    pub fn list(&self) -> Vec<String> {
        let mut names: Vec<String> = self.lock().keys().cloned().collect();
        names.sort();
        names
    }
}

/// Starts a rebalance if none runs: every member except `joining` must rejoin, and is told.
fn start_rebalance(name: &str, group: &mut Group, joining: Option<&str>) {
    if group.rebalance.is_some() {
        return;
    }
    let awaiting: BTreeSet<String> = group
        .members
        .keys()
        .filter(|id| Some(id.as_str()) != joining)
        .cloned()
        .collect();
    let mut notice = BytesMut::new();
    Rebalance {
        group: name.to_owned(),
        generation: group.generation,
    }
    .encode(&mut notice);
    let notice = Frame::request(Opcode::GroupRebalance, 0, notice.freeze());
    for id in &awaiting {
        if let Some(member) = group.members.get(id) {
            // A closed connection is fine: that member will time out.
            let _ = member.queue.send_control(notice.clone());
        }
    }
    tracing::info!(
        group = name,
        generation = group.generation,
        waiting_for = awaiting.len(),
        "rebalance started"
    );
    group.rebalance = Some(Rebalancing {
        started: Instant::now(),
        awaiting,
        waiters: Vec::new(),
    });
}

/// Finishes the rebalance once nobody is awaited: next generation, new assignment, answers.
fn try_complete(group: &mut Group, all_streams: &Streams) {
    let done = group
        .rebalance
        .as_ref()
        .is_some_and(|r| r.awaiting.is_empty());
    if !done {
        return;
    }
    let Some(rebalance) = group.rebalance.take() else {
        return;
    };
    group.generation += 1;
    assign(group, all_streams);
    for (id, tx) in rebalance.waiters {
        let result = match group.members.get(&id) {
            Some(member) => Ok(Joined {
                member_id: id.clone(),
                generation: group.generation,
                assignment: member.assignment.clone(),
            }),
            None => Err(GroupError::UnknownMember(id.clone())),
        };
        let _ = tx.send(result);
    }
}

/// Spreads every partition of every subscribed stream over the members that consume it:
/// per stream, partitions in order to its members in id order, round-robin.
fn assign(group: &mut Group, all_streams: &Streams) {
    for member in group.members.values_mut() {
        member.assignment.clear();
    }
    let streams: BTreeSet<String> = group
        .members
        .values()
        .flat_map(|m| m.streams.iter().cloned())
        .collect();
    for stream in streams {
        let Ok(s) = all_streams.get(&stream) else {
            continue;
        };
        let consumers: Vec<String> = group
            .members
            .iter()
            .filter(|(_, m)| m.streams.contains(&stream))
            .map(|(id, _)| id.clone())
            .collect();
        for p in 0..s.meta.partitions {
            let owner = &consumers[p as usize % consumers.len()];
            if let Some(member) = group.members.get_mut(owner) {
                member.assignment.push(StreamPartition {
                    stream: stream.clone(),
                    partition: p,
                });
            }
        }
    }
}
