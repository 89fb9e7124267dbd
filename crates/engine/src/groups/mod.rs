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

mod classic;
mod error;
mod offsets;
mod record;
mod store;
mod types;

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

// Tokio's clock, so that session expiry can be tested with paused time.
use tokio::time::Instant;

use memstream_names::validate_group_name;
use tokio::sync::oneshot;

pub use classic::ClassicJoinResult;
use classic::{ClassicGroup, ClassicMember};
pub use error::{GroupError, StoreError};
pub use store::StoreStats;
use store::{Committed, OffsetStore};
pub use types::{
    Assignment, ClassicAssignment, ClassicCommit, ClassicJoin, ClassicJoined, ClassicMemberInfo,
    ClassicSync, CommitEntry, GroupInfo, GroupState, GroupSummary, JoinRequest, MemberState,
    OffsetCommit, PartitionLag, PartitionRef, Position,
};

use crate::config::GroupsConfig;
use crate::streams::Streams;

/// How the engine tells a member's front-end that its group is rebalancing (the native
/// server sends GROUP_REBALANCE on the member's connection).
pub trait RebalanceNotifier: Send + Sync {
    /// The member must rejoin `group`, which is leaving `generation`. Best effort: a notice
    /// that cannot be delivered is dropped, and the member learns of the rebalance from its
    /// next heartbeat (REBALANCE_IN_PROGRESS) or times out.
    fn rebalance(&self, group: &str, generation: u32);
}

/// The answer a waiting GROUP_JOIN gets.
pub type JoinResult = Result<Assignment, GroupError>;

struct Member {
    streams: Vec<String>,
    session_timeout: Duration,
    last_seen: Instant,
    assignment: Vec<PartitionRef>,
    /// Where GROUP_REBALANCE notices go (the member's connection).
    notifier: Arc<dyn RebalanceNotifier>,
    /// A Kafka member's protocol state; `None` for native members.
    classic: Option<ClassicMember>,
}

impl Member {
    /// How long a rebalance waits for this member to rejoin.
    fn rejoin_timeout(&self) -> Duration {
        self.classic
            .as_ref()
            .map_or(self.session_timeout, |c| c.rebalance_timeout)
    }
}

/// A join waiting for the next generation.
enum Waiter {
    Native(oneshot::Sender<JoinResult>),
    Classic(oneshot::Sender<ClassicJoinResult>),
}

struct Rebalancing {
    started: Instant,
    /// Members that must rejoin before the next generation starts.
    awaiting: BTreeSet<String>,
    /// Joins waiting for the next generation.
    waiters: Vec<(String, Waiter)>,
    /// A new Kafka group's first generation waits for more members until then
    /// (`groups.initial_rebalance_delay_ms`), and until `hold_limit` at most.
    hold_until: Option<Instant>,
    hold_limit: Option<Instant>,
}

#[derive(Default)]
struct Group {
    generation: u32,
    members: BTreeMap<String, Member>,
    rebalance: Option<Rebalancing>,
    /// Committed offsets, with the id of the stream they were committed for: an offset of a
    /// stream since deleted (and perhaps created again) is not this stream's.
    offsets: BTreeMap<(String, u32), Committed>,
    /// Wall-clock ms of the last commit or the last member leaving: an empty group expires
    /// `groups.offsets_retention_ms` after it.
    last_active_ms: u64,
    /// Kafka groups (the classic protocol: the leader assigns); `None` for native groups.
    classic: Option<ClassicGroup>,
}

/// Every consumer group.
pub struct Groups {
    groups: Mutex<HashMap<String, Group>>,
    store: OffsetStore,
    next_member: AtomicU64,
}

/// Wall-clock milliseconds, for group expiry (which must survive restarts).
fn wall_ms() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as u64)
}

impl Groups {
    /// Opens the offset store in `<data_dir>/groups` and loads every group's offsets.
    pub fn open(data_dir: &Path) -> Result<Groups, String> {
        let root = data_dir.join("groups");
        let backend = memstream_log::FileBackend::new(&root)
            .map_err(|e| format!("cannot create {}: {e}", root.display()))?;
        Groups::open_with(Arc::new(backend))
    }

    /// Over any storage backend (tests inject faults with `FaultyBackend`).
    pub fn open_with(backend: Arc<dyn memstream_log::Backend>) -> Result<Groups, String> {
        let (store, stored) = OffsetStore::open(backend)?;
        let groups = stored
            .groups
            .into_iter()
            .map(|(name, g)| {
                let group = Group {
                    offsets: g.offsets,
                    last_active_ms: g.last_commit_ms,
                    ..Group::default()
                };
                (name, group)
            })
            .collect();
        Ok(Groups {
            groups: Mutex::new(groups),
            store,
            next_member: AtomicU64::new(1),
        })
    }

    /// The offset store's counters.
    pub fn store_stats(&self) -> &StoreStats {
        &self.store.stats
    }

    /// Prometheus text: groups, and the offset store's writes and fsyncs (their ratio is the
    /// group-commit size).
    pub fn render_metrics(&self) -> String {
        let stats = self.store_stats();
        let load = |c: &AtomicU64| c.load(Ordering::Relaxed);
        format!(
            "# HELP memstream_groups Consumer groups that exist.\n\
             # TYPE memstream_groups gauge\n\
             memstream_groups {}\n\
             # HELP memstream_offset_store_ops_total Offset commits, deletions and forgets made durable.\n\
             # TYPE memstream_offset_store_ops_total counter\n\
             memstream_offset_store_ops_total {}\n\
             # HELP memstream_offset_store_fsyncs_total fsyncs of the offset store.\n\
             # TYPE memstream_offset_store_fsyncs_total counter\n\
             memstream_offset_store_fsyncs_total {}\n\
             # HELP memstream_offset_store_compactions_total Compactions of the offset store.\n\
             # TYPE memstream_offset_store_compactions_total counter\n\
             memstream_offset_store_compactions_total {}\n",
            self.lock().len(),
            load(&stats.ops),
            load(&stats.fsyncs),
            load(&stats.compactions),
        )
    }

    /// Writes what is queued and stops the offset store.
    pub fn shutdown(&self) {
        self.store.shutdown();
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, Group>> {
        self.groups.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Adds or refreshes a member and starts (or joins) a rebalance. The receiver resolves
    /// when the next generation starts.
    pub fn join(
        &self,
        join: JoinRequest,
        notifier: Arc<dyn RebalanceNotifier>,
        all_streams: &Streams,
        limits: &GroupsConfig,
    ) -> Result<oneshot::Receiver<JoinResult>, GroupError> {
        let JoinRequest {
            group: name,
            member_id,
            session_timeout_ms,
            streams,
        } = join;
        let (name, member_id) = (name.as_str(), member_id.as_str());
        validate_group_name(name).map_err(|reason| GroupError::InvalidName {
            name: name.to_owned(),
            reason,
        })?;
        crate::OutOfRange::check(
            "session_timeout_ms",
            session_timeout_ms.into(),
            (
                limits.session_timeout_ms_min.into(),
                limits.session_timeout_ms_max.into(),
            ),
            "groups.session_timeout_ms_min and groups.session_timeout_ms_max",
        )?;
        let mut groups = self.lock();
        if !groups.contains_key(name) && groups.len() >= limits.max_groups as usize {
            return Err(GroupError::LimitReached {
                limit: "groups.max_groups",
                max: limits.max_groups.into(),
            });
        }
        let group = groups.entry(name.to_owned()).or_default();
        if group.classic.is_some() {
            if !group.members.is_empty() {
                return Err(GroupError::InconsistentProtocol {
                    group: name.to_owned(),
                    reason: "the group's members use the Kafka protocol".into(),
                });
            }
            group.classic = None;
        }
        let member_id = if member_id.is_empty() {
            if group.members.len() >= limits.max_members as usize {
                return Err(GroupError::LimitReached {
                    limit: "groups.max_members",
                    max: limits.max_members.into(),
                });
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
                notifier,
                classic: None,
            },
        );
        start_rebalance(name, group, Some(&member_id));
        if let Some(rebalance) = group.rebalance.as_mut() {
            rebalance.awaiting.remove(&member_id);
            rebalance.waiters.push((member_id, Waiter::Native(tx)));
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
            return Err(GroupError::StaleGeneration {
                group: name.to_owned(),
                got: generation,
                current: group.generation,
            });
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
        let Some(member) = group.members.remove(member_id) else {
            return Err(GroupError::UnknownMember(member_id.to_owned()));
        };
        classic::forget_instance(group, &member);
        group.last_active_ms = wall_ms();
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
            let held_past = group
                .rebalance
                .as_ref()
                .and_then(|r| r.hold_until)
                .is_some_and(|t| now >= t);
            if held_past {
                if let Some(r) = group.rebalance.as_mut() {
                    r.hold_until = None;
                }
                try_complete(group, all_streams);
            }
            let rebalance_started = group
                .rebalance
                .as_ref()
                .map(|r| (r.started, r.awaiting.clone()));
            // A member waiting for its join or sync to be answered is alive (as in Kafka):
            // it cannot heartbeat until then.
            let mut waiting: BTreeSet<&str> = group
                .rebalance
                .iter()
                .flat_map(|r| r.waiters.iter().map(|(id, _)| id.as_str()))
                .collect();
            waiting.extend(
                group
                    .classic
                    .iter()
                    .flat_map(|c| c.awaiting_sync.iter().flatten())
                    .map(|(id, _)| id.as_str()),
            );
            let expired: Vec<String> = group
                .members
                .iter()
                .filter(|(id, m)| {
                    let silent = !waiting.contains(id.as_str())
                        && now.saturating_duration_since(m.last_seen) > m.session_timeout;
                    let late = rebalance_started
                        .as_ref()
                        .is_some_and(|(started, awaiting)| {
                            awaiting.contains(*id)
                                && now.saturating_duration_since(*started) > m.rejoin_timeout()
                        });
                    silent || late
                })
                .map(|(id, _)| id.clone())
                .collect();
            if expired.is_empty() {
                continue;
            }
            for id in &expired {
                if let Some(member) = group.members.remove(id) {
                    classic::forget_instance(group, &member);
                }
                tracing::info!(group = %name, member = %id, "member session expired");
            }
            group.last_active_ms = wall_ms();
            start_rebalance(name, group, None);
            if let Some(rebalance) = group.rebalance.as_mut() {
                for id in &expired {
                    rebalance.awaiting.remove(id);
                }
            }
            try_complete(group, all_streams);
        }
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
    for id in &awaiting {
        if let Some(member) = group.members.get(id) {
            member.notifier.rebalance(name, group.generation);
        }
    }
    // SyncGroups still waiting for the leader's assignment belong to a generation that ends.
    classic::abandon_sync(name, group);
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
        hold_until: None,
        hold_limit: None,
    });
}

/// Finishes the rebalance once nobody is awaited: next generation, new assignment, answers.
fn try_complete(group: &mut Group, all_streams: &Streams) {
    let done = group
        .rebalance
        .as_ref()
        .is_some_and(|r| r.awaiting.is_empty() && r.hold_until.is_none_or(|t| Instant::now() >= t));
    if !done {
        return;
    }
    let Some(rebalance) = group.rebalance.take() else {
        return;
    };
    group.generation = group.generation.wrapping_add(1);
    if group.classic.is_some() {
        classic::complete(group, rebalance.waiters);
        return;
    }
    assign(group, all_streams);
    for (id, waiter) in rebalance.waiters {
        let result = match group.members.get(&id) {
            Some(member) => Ok(Assignment {
                member_id: id.clone(),
                generation: group.generation,
                partitions: member.assignment.clone(),
            }),
            None => Err(GroupError::UnknownMember(id.clone())),
        };
        match waiter {
            Waiter::Native(tx) => drop(tx.send(result)),
            // A Kafka member never waits on a native group (joins check the protocol).
            Waiter::Classic(tx) => drop(tx.send(Err(GroupError::InconsistentProtocol {
                group: String::new(),
                reason: "the group's members use the native protocol".into(),
            }))),
        }
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
        for p in 0..s.partition_count() {
            let owner = &consumers[p as usize % consumers.len()];
            if let Some(member) = group.members.get_mut(owner) {
                member.assignment.push(PartitionRef {
                    stream: stream.clone(),
                    partition: p,
                });
            }
        }
    }
}
