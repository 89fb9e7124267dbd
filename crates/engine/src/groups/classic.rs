//! Kafka's classic group protocol on the same groups: the broker runs the join barrier,
//! generations and sessions exactly as for native members, but the *leader* assigns.
//!
//! 1. JoinGroup ([`Groups::join_classic`]): every member sends its protocols (names such as
//!    `range` or `cooperative-sticky`, each with opaque metadata). When the barrier completes
//!    the broker picks the protocol every member supports that most members prefer, keeps the
//!    leader (or makes the first joiner leader), and answers every join; only the leader's
//!    answer lists the members with their metadata.
//! 2. SyncGroup ([`Groups::sync_classic`]): the leader sends each member's assignment (opaque
//!    bytes; the front-end also decodes the partitions, for describe and lag); every member's
//!    SyncGroup is answered with its own. Followers that sync first wait for the leader. A
//!    rebalance that starts meanwhile answers them REBALANCE_IN_PROGRESS.
//! 3. Heartbeats answer REBALANCE_IN_PROGRESS during a rebalance (Kafka members learn of it
//!    that way; there is no push), and NONE while the group waits for the leader's sync.
//!
//! Static members (`group.instance.id`) keep their place across restarts: a join with a known
//! instance id takes over that member under a new member id, without a rebalance when the
//! group is stable and the member is not the leader, and the old id is fenced
//! (FENCED_INSTANCE_ID). A group holds either native or Kafka members, never both.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use memstream_names::validate_group_name;
use tokio::sync::oneshot;
use tokio::time::Instant;

use super::types::{ClassicJoin, ClassicJoined, ClassicSync};
use super::{start_rebalance, try_complete, Group, GroupError, Groups, Member, Waiter};
use crate::config::GroupsConfig;
use crate::streams::Streams;

/// The answer a waiting JoinGroup gets.
pub type ClassicJoinResult = Result<ClassicJoined, GroupError>;

/// The answer a waiting SyncGroup gets: the member's assignment as the leader sent it.
pub type SyncResult = Result<Bytes, GroupError>;

/// A Kafka member's protocol state.
pub(super) struct ClassicMember {
    pub protocols: Vec<(String, Bytes)>,
    pub rebalance_timeout: Duration,
    pub instance_id: Option<String>,
    pub client_id: String,
    pub client_host: String,
    /// What the leader assigned it in this generation.
    pub assignment: Bytes,
}

/// A Kafka group's protocol state.
pub(super) struct ClassicGroup {
    pub protocol_type: String,
    /// Chosen when the current generation started.
    pub protocol: String,
    pub leader: String,
    /// `Some` while the generation waits for the leader's SyncGroup: the followers waiting.
    pub awaiting_sync: Option<Vec<(String, oneshot::Sender<SyncResult>)>>,
    /// `group.instance.id` to the member id holding it.
    pub instances: BTreeMap<String, String>,
}

/// Drops a removed member's instance id.
pub(super) fn forget_instance(group: &mut Group, member: &Member) {
    if let (Some(classic), Some(id)) = (
        group.classic.as_mut(),
        member.classic.as_ref().and_then(|c| c.instance_id.as_ref()),
    ) {
        classic.instances.remove(id);
    }
}

/// Answers the SyncGroups waiting for a generation that is ending.
pub(super) fn abandon_sync(name: &str, group: &mut Group) {
    let Some(waiting) = group.classic.as_mut().and_then(|c| c.awaiting_sync.take()) else {
        return;
    };
    for (_, tx) in waiting {
        let _ = tx.send(Err(GroupError::RebalanceInProgress(name.to_owned())));
    }
}

/// The new generation of a Kafka group: choose the protocol and the leader, answer the joins.
pub(super) fn complete(group: &mut Group, waiters: Vec<(String, Waiter)>) {
    let generation = group.generation;
    let first_joiner = waiters.first().map(|(id, _)| id.clone());
    let protocol = choose_protocol(group);
    let Some(classic) = group.classic.as_mut() else {
        return;
    };
    if !group.members.contains_key(&classic.leader) {
        classic.leader = first_joiner.unwrap_or_default();
    }
    classic.protocol = protocol.clone().unwrap_or_default();
    classic.awaiting_sync = (!group.members.is_empty()).then(Vec::new);
    for member in group.members.values_mut() {
        member.assignment.clear();
        if let Some(c) = member.classic.as_mut() {
            c.assignment = Bytes::new();
        }
    }
    let leader = classic.leader.clone();
    let protocol_type = classic.protocol_type.clone();
    let members: Vec<(String, Option<String>, Bytes)> = group
        .members
        .iter()
        .filter_map(|(id, m)| {
            let c = m.classic.as_ref()?;
            let metadata = c
                .protocols
                .iter()
                .find(|(name, _)| Some(name) == protocol.as_ref())
                .map(|(_, meta)| meta.clone())
                .unwrap_or_default();
            Some((id.clone(), c.instance_id.clone(), metadata))
        })
        .collect();
    for (id, waiter) in waiters {
        let Waiter::Classic(tx) = waiter else {
            continue;
        };
        let result = match (&protocol, group.members.contains_key(&id)) {
            (_, false) => Err(GroupError::UnknownMember(id.clone())),
            (None, true) => Err(GroupError::InconsistentProtocol {
                group: String::new(),
                reason: "no protocol is supported by every member".into(),
            }),
            (Some(protocol), true) => Ok(ClassicJoined {
                generation,
                protocol_type: protocol_type.clone(),
                protocol: protocol.clone(),
                leader: leader.clone(),
                member_id: id.clone(),
                members: if id == leader {
                    members.clone()
                } else {
                    Vec::new()
                },
            }),
        };
        let _ = tx.send(result);
    }
    tracing::info!(generation, leader = %leader, protocol = ?protocol, members = group.members.len(), "kafka group generation started");
}

/// The protocol every member supports that most members list first among those (ties: the
/// leader's preference order).
fn choose_protocol(group: &Group) -> Option<String> {
    let mut members = group.members.values().filter_map(|m| m.classic.as_ref());
    let first = members.next()?;
    let mut candidates: Vec<&str> = first.protocols.iter().map(|(n, _)| n.as_str()).collect();
    for m in members {
        candidates.retain(|c| m.protocols.iter().any(|(n, _)| n == c));
    }
    let mut votes: BTreeMap<&str, usize> = BTreeMap::new();
    for m in group.members.values().filter_map(|m| m.classic.as_ref()) {
        if let Some((name, _)) = m
            .protocols
            .iter()
            .find(|(n, _)| candidates.contains(&n.as_str()))
        {
            *votes.entry(name.as_str()).or_default() += 1;
        }
    }
    let best = votes.values().copied().max()?;
    candidates
        .into_iter()
        .find(|c| votes.get(c) == Some(&best))
        .map(str::to_owned)
}

/// Whether `member_id` may act for `instance_id` (static membership).
fn check_instance(
    name: &str,
    group: &Group,
    instance_id: Option<&str>,
    member_id: &str,
) -> Result<(), GroupError> {
    let Some(instance_id) = instance_id else {
        return Ok(());
    };
    match group
        .classic
        .as_ref()
        .and_then(|c| c.instances.get(instance_id))
    {
        Some(current) if current != member_id => Err(GroupError::FencedInstance {
            group: name.to_owned(),
            instance_id: instance_id.to_owned(),
            fenced: member_id.to_owned(),
            current: current.clone(),
        }),
        _ => Ok(()),
    }
}

impl Groups {
    /// A Kafka member's JoinGroup. The receiver resolves when the member's generation starts
    /// (at once when a stable member rejoins unchanged).
    pub fn join_classic(
        &self,
        join: ClassicJoin,
        streams: &Streams,
        limits: &GroupsConfig,
    ) -> Result<oneshot::Receiver<ClassicJoinResult>, GroupError> {
        let name = join.group.as_str();
        validate_group_name(name).map_err(|reason| GroupError::InvalidName {
            name: name.to_owned(),
            reason,
        })?;
        crate::OutOfRange::check(
            "session_timeout_ms",
            join.session_timeout_ms.into(),
            (
                limits.session_timeout_ms_min.into(),
                limits.session_timeout_ms_max.into(),
            ),
            "groups.session_timeout_ms_min and groups.session_timeout_ms_max",
        )?;
        if join.protocols.is_empty() {
            return Err(GroupError::InconsistentProtocol {
                group: name.to_owned(),
                reason: "the member lists no protocol".into(),
            });
        }
        let mut groups = self.lock();
        if !groups.contains_key(name) && groups.len() >= limits.max_groups as usize {
            return Err(GroupError::LimitReached {
                limit: "groups.max_groups",
                max: limits.max_groups.into(),
            });
        }
        let group = groups.entry(name.to_owned()).or_default();
        fits(name, group, &join)?;
        let classic = group.classic.get_or_insert_with(|| ClassicGroup {
            protocol_type: join.protocol_type.clone(),
            protocol: String::new(),
            leader: String::new(),
            awaiting_sync: None,
            instances: BTreeMap::new(),
        });
        classic.protocol_type.clone_from(&join.protocol_type);
        // Who is joining: a known member, a static member coming back, or a new one.
        let static_holder = join
            .instance_id
            .as_ref()
            .and_then(|i| classic.instances.get(i).cloned());
        let known = !join.member_id.is_empty() && group.members.contains_key(&join.member_id);
        if !join.member_id.is_empty() && !known && static_holder.is_none() {
            return Err(GroupError::UnknownMember(join.member_id.clone()));
        }
        if let (Some(holder), false) = (&static_holder, join.member_id.is_empty()) {
            if *holder != join.member_id && !known {
                return Err(GroupError::FencedInstance {
                    group: name.to_owned(),
                    instance_id: join.instance_id.clone().unwrap_or_default(),
                    fenced: join.member_id.clone(),
                    current: holder.clone(),
                });
            }
        }
        let is_new = !known && static_holder.is_none();
        if is_new && group.members.len() >= limits.max_members as usize {
            return Err(GroupError::LimitReached {
                limit: "groups.max_members",
                max: limits.max_members.into(),
            });
        }
        let (tx, rx) = oneshot::channel();
        // A static member coming back under a new id takes the old member's place.
        let mut previous = None;
        let member_id = match (&static_holder, known) {
            (_, true) => join.member_id.clone(),
            (Some(holder), false) => {
                previous = group.members.remove(holder);
                let id = self.new_member_id(&join.client_id);
                if let Some(rebalance) = group.rebalance.as_mut() {
                    if rebalance.awaiting.remove(holder) {
                        rebalance.awaiting.insert(id.clone());
                    }
                }
                if let Some(classic) = group.classic.as_mut() {
                    if classic.leader == *holder {
                        classic.leader.clone_from(&id);
                    }
                }
                tracing::info!(group = name, old = %holder, new = %id, "static member rejoined");
                id
            }
            (None, false) => self.new_member_id(&join.client_id),
        };
        let prior = if known {
            group.members.get(&member_id)
        } else {
            previous.as_ref()
        };
        let unchanged = prior.is_some_and(|m| {
            m.classic
                .as_ref()
                .is_some_and(|c| c.protocols == join.protocols)
        });
        // A member rejoining keeps what the leader gave it until the next sync.
        let assignment = prior.map(|m| m.assignment.clone()).unwrap_or_default();
        let assigned_bytes = prior
            .and_then(|m| m.classic.as_ref().map(|c| c.assignment.clone()))
            .unwrap_or_default();
        let stable = group.rebalance.is_none()
            && group
                .classic
                .as_ref()
                .is_some_and(|c| c.awaiting_sync.is_none());
        let leader = group
            .classic
            .as_ref()
            .map(|c| c.leader.clone())
            .unwrap_or_default();
        let rebalance_timeout = Duration::from_millis(u64::from(
            join.rebalance_timeout_ms.max(join.session_timeout_ms),
        ))
        .min(Duration::from_millis(u64::from(
            limits.session_timeout_ms_max,
        )));
        let member = Member {
            streams: join.streams.clone(),
            session_timeout: Duration::from_millis(u64::from(join.session_timeout_ms)),
            last_seen: Instant::now(),
            assignment,
            notifier: Arc::new(NoNotice),
            classic: Some(ClassicMember {
                protocols: join.protocols.clone(),
                rebalance_timeout,
                instance_id: join.instance_id.clone(),
                client_id: join.client_id.clone(),
                client_host: join.client_host.clone(),
                assignment: assigned_bytes,
            }),
        };
        let first_of_empty_group = group.members.is_empty() && group.rebalance.is_none();
        group.members.insert(member_id.clone(), member);
        if let (Some(instance), Some(classic)) = (&join.instance_id, group.classic.as_mut()) {
            classic
                .instances
                .insert(instance.clone(), member_id.clone());
        }
        // A static member back under a new id (`previous` is the member it replaces).
        let static_return = previous.is_some();
        if stable && unchanged && !is_new && (member_id != leader || static_return) {
            // Nothing changed for the group: answer with the current generation. A static
            // leader coming back is told its old id as the leader, as Kafka does: it syncs
            // as a follower and gets its previous assignment, and the group (which now has
            // its new id as leader) does not rebalance.
            let told_leader = match (&static_holder, member_id == leader) {
                (Some(holder), true) => holder.clone(),
                _ => leader,
            };
            let classic = group.classic.as_ref();
            let _ = tx.send(Ok(ClassicJoined {
                generation: group.generation,
                protocol_type: classic.map(|c| c.protocol_type.clone()).unwrap_or_default(),
                protocol: classic.map(|c| c.protocol.clone()).unwrap_or_default(),
                leader: told_leader,
                member_id,
                members: Vec::new(),
            }));
            return Ok(rx);
        }
        start_rebalance(name, group, Some(&member_id));
        if let Some(rebalance) = group.rebalance.as_mut() {
            rebalance.awaiting.remove(&member_id);
            rebalance.waiters.push((member_id, Waiter::Classic(tx)));
            hold_for_more_members(
                rebalance,
                first_of_empty_group,
                is_new,
                rebalance_timeout,
                limits,
            );
        }
        try_complete(group, streams);
        Ok(rx)
    }

    fn new_member_id(&self, client_id: &str) -> String {
        let n = self
            .next_member
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let prefix: String = client_id
            .chars()
            .filter(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
            .take(64)
            .collect();
        if prefix.is_empty() {
            format!("member-{n}")
        } else {
            format!("{prefix}-{n}")
        }
    }

    /// A Kafka member's SyncGroup: the leader hands out the assignments; every member gets
    /// its own (followers that come first wait for the leader's).
    pub fn sync_classic(
        &self,
        sync: ClassicSync,
    ) -> Result<oneshot::Receiver<SyncResult>, GroupError> {
        let name = sync.group.as_str();
        let mut groups = self.lock();
        let group = groups
            .get_mut(name)
            .ok_or_else(|| GroupError::UnknownMember(sync.member_id.clone()))?;
        check_instance(name, group, sync.instance_id.as_deref(), &sync.member_id)?;
        let member = group
            .members
            .get_mut(&sync.member_id)
            .ok_or_else(|| GroupError::UnknownMember(sync.member_id.clone()))?;
        member.last_seen = Instant::now();
        if sync.generation != group.generation {
            return Err(GroupError::StaleGeneration {
                group: name.to_owned(),
                got: sync.generation,
                current: group.generation,
            });
        }
        if group.rebalance.is_some() {
            return Err(GroupError::RebalanceInProgress(name.to_owned()));
        }
        let (tx, rx) = oneshot::channel();
        let Some(classic) = group.classic.as_mut() else {
            return Err(GroupError::InconsistentProtocol {
                group: name.to_owned(),
                reason: "the group's members use the native protocol".into(),
            });
        };
        let is_leader = classic.leader == sync.member_id;
        match classic.awaiting_sync.take() {
            Some(waiting) if is_leader => {
                for a in sync.assignments {
                    if let Some(m) = group.members.get_mut(&a.member_id) {
                        m.assignment = a.partitions;
                        if let Some(c) = m.classic.as_mut() {
                            c.assignment = a.bytes;
                        }
                    }
                }
                let own = |group: &Group, id: &str| {
                    group
                        .members
                        .get(id)
                        .and_then(|m| m.classic.as_ref())
                        .map(|c| c.assignment.clone())
                        .unwrap_or_default()
                };
                for (id, waiter) in waiting {
                    let _ = waiter.send(Ok(own(group, &id)));
                }
                let _ = tx.send(Ok(own(group, &sync.member_id)));
                tracing::debug!(
                    group = name,
                    generation = group.generation,
                    "assignments distributed"
                );
            }
            Some(mut waiting) => {
                waiting.push((sync.member_id.clone(), tx));
                classic.awaiting_sync = Some(waiting);
            }
            None => {
                let own = group
                    .members
                    .get(&sync.member_id)
                    .and_then(|m| m.classic.as_ref())
                    .map(|c| c.assignment.clone())
                    .unwrap_or_default();
                let _ = tx.send(Ok(own));
            }
        }
        Ok(rx)
    }

    /// A Kafka member's heartbeat (with its instance id, for fencing).
    pub fn heartbeat_classic(
        &self,
        name: &str,
        member_id: &str,
        instance_id: Option<&str>,
        generation: u32,
    ) -> Result<(), GroupError> {
        {
            let groups = self.lock();
            let group = groups
                .get(name)
                .ok_or_else(|| GroupError::UnknownMember(member_id.to_owned()))?;
            check_instance(name, group, instance_id, member_id)?;
        }
        self.heartbeat(name, member_id, generation)
    }

    /// Kafka's LeaveGroup for one member, named by member id or (static members) instance id.
    pub fn leave_classic(
        &self,
        name: &str,
        member_id: &str,
        instance_id: Option<&str>,
        streams: &Streams,
    ) -> Result<(), GroupError> {
        let resolved = {
            let groups = self.lock();
            let group = groups
                .get(name)
                .ok_or_else(|| GroupError::UnknownMember(member_id.to_owned()))?;
            match instance_id {
                Some(instance) => {
                    let holder = group
                        .classic
                        .as_ref()
                        .and_then(|c| c.instances.get(instance))
                        .cloned()
                        .ok_or_else(|| GroupError::UnknownMember(member_id.to_owned()))?;
                    if !member_id.is_empty() && holder != member_id {
                        return Err(GroupError::FencedInstance {
                            group: name.to_owned(),
                            instance_id: instance.to_owned(),
                            fenced: member_id.to_owned(),
                            current: holder,
                        });
                    }
                    holder
                }
                None => member_id.to_owned(),
            }
        };
        self.leave(name, &resolved, streams)
    }
}

/// Kafka's initial rebalance delay: the first member of an empty group waits
/// `groups.initial_rebalance_delay_ms` for others, so that consumers started together land in
/// one generation instead of rebalancing once per member; each new member joining meanwhile
/// extends the wait by as much again, up to the first member's rebalance timeout. The group
/// sweep ([`Groups::expire`]) starts the generation when the wait is over.
fn hold_for_more_members(
    rebalance: &mut super::Rebalancing,
    first_of_empty_group: bool,
    is_new: bool,
    rebalance_timeout: Duration,
    limits: &GroupsConfig,
) {
    let delay = Duration::from_millis(limits.initial_rebalance_delay_ms.into());
    if delay.is_zero() {
        return;
    }
    let now = Instant::now();
    if first_of_empty_group {
        let limit = now + rebalance_timeout.max(delay);
        rebalance.hold_until = Some(now + delay);
        rebalance.hold_limit = Some(limit);
    } else if let (true, Some(_), Some(limit)) =
        (is_new, rebalance.hold_until, rebalance.hold_limit)
    {
        rebalance.hold_until = Some((now + delay).min(limit));
    }
}

/// Whether a Kafka member can join `group` at all.
fn fits(name: &str, group: &Group, join: &ClassicJoin) -> Result<(), GroupError> {
    let inconsistent = |reason: String| {
        Err(GroupError::InconsistentProtocol {
            group: name.to_owned(),
            reason,
        })
    };
    if group.members.is_empty() {
        return Ok(());
    }
    let Some(classic) = &group.classic else {
        return inconsistent("the group's members use the native protocol".into());
    };
    if classic.protocol_type != join.protocol_type {
        return inconsistent(format!(
            "protocol type `{}`, the group's is `{}`",
            join.protocol_type, classic.protocol_type
        ));
    }
    let others = group
        .members
        .iter()
        .filter(|(id, _)| **id != join.member_id)
        .filter_map(|(_, m)| m.classic.as_ref());
    let mut common: Vec<&str> = join.protocols.iter().map(|(n, _)| n.as_str()).collect();
    for m in others {
        common.retain(|c| m.protocols.iter().any(|(n, _)| n == c));
    }
    if common.is_empty() {
        return inconsistent("none of the member's protocols is supported by every member".into());
    }
    Ok(())
}

/// Kafka members learn of rebalances from their heartbeats: nothing is pushed.
struct NoNotice;

impl super::RebalanceNotifier for NoNotice {
    fn rebalance(&self, _group: &str, _generation: u32) {}
}
