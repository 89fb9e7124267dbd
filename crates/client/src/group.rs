//! Consumer groups: members share the partitions of their streams; the server assigns them,
//! one owner per partition per generation, and stores the committed offsets.
//!
//! A [`GroupConsumer`] joins, subscribes to its assigned partitions from their committed
//! offsets, heartbeats in the background, and follows rebalances: it tells the application
//! which partitions it loses ([`GroupEvent::Revoked`], after which it commits what was
//! processed) and which it gets ([`GroupEvent::Assigned`]). Delivery is at least once: after
//! a rebalance or a crash, records processed but not committed are delivered again.

use std::collections::{HashMap, VecDeque};
use std::sync::Arc;
use std::time::Duration;

use memstream_protocol::message::{
    CommitOffsets, FetchOffsets, JoinGroup, Joined, LeaveGroup, OffsetSpec, Offsets,
    PartitionOffset, StreamPartition, NO_OFFSET,
};
use memstream_protocol::{ErrorCode, Request};
use tokio::sync::{mpsc, watch};
use tokio_util::task::AbortOnDropHandle;

use crate::client::Client;
use crate::consumer::{ConsumedRecord, Subscription};
use crate::error::ClientError;

/// Group member settings.
///
/// ```
/// use std::time::Duration;
/// use memstream_client::{Commit, GroupOptions};
///
/// let manual = GroupOptions { commit: Commit::Manual, ..GroupOptions::default() };
/// assert_eq!(manual.session_timeout, Duration::from_secs(10));
/// ```
#[derive(Clone, Debug)]
pub struct GroupOptions {
    /// The server drops the member when it has not heard from it for this long.
    pub session_timeout: Duration,
    /// How often the member heartbeats (keep it well under the session timeout).
    pub heartbeat_interval: Duration,
    /// Where partitions without a committed offset start.
    pub start: OffsetSpec,
    /// Offset commits.
    pub commit: Commit,
    /// Credit window of each partition's subscription, in bytes.
    pub window: u32,
    /// Records received but not yet taken by the application, over all partitions.
    pub buffered_records_max: usize,
}

impl Default for GroupOptions {
    fn default() -> Self {
        GroupOptions {
            session_timeout: Duration::from_secs(10),
            heartbeat_interval: Duration::from_secs(3),
            start: OffsetSpec::Earliest,
            commit: Commit::Auto(Duration::from_secs(1)),
            window: 1 << 20,
            buffered_records_max: 1024,
        }
    }
}

/// When offsets are committed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Commit {
    /// Every interval, when partitions are revoked, and on close: the offsets of the records
    /// the application has finished with (a record counts as finished once the application
    /// asks for the next event).
    Auto(Duration),
    /// Only when the application calls [`GroupConsumer::commit`].
    Manual,
}

/// What [`GroupConsumer::next`] returns.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum GroupEvent {
    /// A new generation started; these are the member's partitions now.
    Assigned {
        /// The generation.
        generation: u32,
        /// The partitions owned in it.
        partitions: Vec<StreamPartition>,
    },
    /// The group is rebalancing: these partitions are no longer read. With manual commits,
    /// commit now; automatic commits already happened.
    Revoked {
        /// The partitions given up.
        partitions: Vec<StreamPartition>,
    },
    /// A record of an owned partition.
    Record(ConsumedRecord),
}

/// A member of a consumer group.
///
/// ```no_run
/// # async fn demo() -> Result<(), memstream_client::ClientError> {
/// use std::sync::Arc;
/// use memstream_client::{Client, GroupConsumer, GroupEvent, GroupOptions};
///
/// let client = Arc::new(Client::connect("127.0.0.1:7878").await?);
/// let mut member =
///     GroupConsumer::join(client, "billing", &["orders"], GroupOptions::default()).await?;
/// while let Some(event) = member.next().await {
///     match event? {
///         GroupEvent::Assigned { partitions, .. } => println!("now reading {partitions:?}"),
///         GroupEvent::Revoked { partitions } => println!("gave up {partitions:?}"),
///         GroupEvent::Record(record) => println!("{}@{}", record.partition, record.offset),
///     }
/// }
/// # Ok(()) }
/// ```
pub struct GroupConsumer {
    client: Arc<Client>,
    group: String,
    streams: Vec<String>,
    options: GroupOptions,
    member_id: String,
    generation: u32,
    assignment: Vec<StreamPartition>,
    /// Records of the current generation's subscriptions; replaced at each generation.
    records: mpsc::Receiver<Result<ConsumedRecord, ClientError>>,
    /// Kept so that the channel stays open while the generation lasts, readers or not.
    records_tx: mpsc::Sender<Result<ConsumedRecord, ClientError>>,
    /// Heartbeat answers and GROUP_REBALANCE notices: the generation they concern.
    rebalances: mpsc::UnboundedReceiver<u32>,
    membership: watch::Sender<Option<(String, u32)>>,
    _heartbeat: AbortOnDropHandle<()>,
    events: VecDeque<GroupEvent>,
    /// The record handed out last, finished once the application asks for more.
    last: Option<((Arc<str>, u32), u64)>,
    /// Per partition, the offset after the last finished record.
    finished: HashMap<(Arc<str>, u32), u64>,
    /// What was committed last, per partition.
    committed: HashMap<(Arc<str>, u32), u64>,
    next_commit: tokio::time::Instant,
    must_join: bool,
}

impl GroupConsumer {
    /// Joins `group` to consume `streams`, waits for the first assignment and starts reading
    /// it. The first [`next`](Self::next) returns [`GroupEvent::Assigned`].
    pub async fn join(
        client: Arc<Client>,
        group: &str,
        streams: &[&str],
        options: GroupOptions,
    ) -> Result<GroupConsumer, ClientError> {
        let (membership, watching) = watch::channel(None);
        let (notify, rebalances) = mpsc::unbounded_channel();
        let (records_tx, records) = mpsc::channel(1);
        let heartbeat = tokio::spawn(heartbeat(
            client.clone(),
            group.to_owned(),
            options.heartbeat_interval,
            watching,
            notify,
        ));
        let mut member = GroupConsumer {
            client,
            group: group.to_owned(),
            streams: streams.iter().map(|s| (*s).to_owned()).collect(),
            member_id: String::new(),
            generation: 0,
            assignment: Vec::new(),
            records,
            records_tx,
            rebalances,
            membership,
            _heartbeat: AbortOnDropHandle::new(heartbeat),
            events: VecDeque::new(),
            last: None,
            finished: HashMap::new(),
            committed: HashMap::new(),
            next_commit: tokio::time::Instant::now(),
            must_join: true,
            options,
        };
        member.rejoin().await?;
        Ok(member)
    }

    /// The member id the server gave this member.
    pub fn member_id(&self) -> &str {
        &self.member_id
    }

    /// The current generation.
    pub fn generation(&self) -> u32 {
        self.generation
    }

    /// The partitions owned in the current generation.
    pub fn assignment(&self) -> &[StreamPartition] {
        &self.assignment
    }

    /// The next event: a record, or a change of assignment. `None` never happens while the
    /// member is in the group; errors that end membership are returned as `Err`.
    pub async fn next(&mut self) -> Option<Result<GroupEvent, ClientError>> {
        self.finish_last();
        loop {
            if let Some(event) = self.events.pop_front() {
                return Some(Ok(event));
            }
            if self.must_join {
                if let Err(e) = self.rejoin().await {
                    return Some(Err(e));
                }
                continue;
            }
            let auto = match self.options.commit {
                Commit::Auto(_) => Some(self.next_commit),
                Commit::Manual => None,
            };
            tokio::select! {
                record = self.records.recv() => match record {
                    Some(Ok(record)) => {
                        self.last = Some(((record.stream.clone(), record.partition), record.offset + 1));
                        return Some(Ok(GroupEvent::Record(record)));
                    }
                    // A reader could not go on (its subscription failed for good): rejoin, so
                    // the partition is read again from its committed offset.
                    Some(Err(e)) => {
                        self.revoke();
                        return Some(Err(e));
                    }
                    // Cannot happen while the member holds a sender; rejoining is safe anyway.
                    None => self.revoke(),
                },
                Some(generation) = self.rebalances.recv() => {
                    if generation == self.generation {
                        self.revoke();
                        if matches!(self.options.commit, Commit::Auto(_)) {
                            if let Err(e) = self.commit_finished().await {
                                tracing::debug!(error = %e, "commit before rejoining failed");
                            }
                        }
                    }
                }
                () = tokio::time::sleep_until(auto.unwrap_or(self.next_commit)), if auto.is_some() => {
                    if let Commit::Auto(every) = self.options.commit {
                        self.next_commit = tokio::time::Instant::now() + every;
                    }
                    match self.commit_finished().await {
                        Ok(()) => {}
                        Err(e) if matches!(e.code(), Some(ErrorCode::StaleGeneration | ErrorCode::PartitionNotAssigned | ErrorCode::UnknownMember)) => {
                            self.revoke();
                        }
                        // The connection failed: the offsets stay uncommitted and go with the
                        // next commit, after the client has reconnected.
                        Err(e) if e.is_retriable() => {
                            tracing::debug!(error = %e, "automatic commit failed; retrying at the next one");
                        }
                        Err(e) => return Some(Err(e)),
                    }
                }
            }
        }
    }

    /// Commits the offsets of every record handed out so far (including the last one), for
    /// the partitions owned in this generation.
    pub async fn commit(&mut self) -> Result<(), ClientError> {
        self.finish_last();
        self.commit_finished().await
    }

    /// Commits what was finished, leaves the group (the others rebalance) and stops.
    pub async fn close(mut self) -> Result<(), ClientError> {
        self.stop_readers();
        if matches!(self.options.commit, Commit::Auto(_)) {
            self.finish_last();
            let _ = self.commit_finished().await;
        }
        self.membership.send_replace(None);
        self.client.connection().unroute_rebalances(&self.group);
        let leave = Request::LeaveGroup(LeaveGroup {
            group: self.group.clone(),
            member_id: self.member_id.clone(),
        });
        self.client.call(&leave).await.map(drop)
    }

    fn finish_last(&mut self) {
        if let Some((key, next)) = self.last.take() {
            self.finished.insert(key, next);
        }
    }

    /// Drops the generation's channel: each reader notices, unsubscribes and ends.
    fn stop_readers(&mut self) {
        let (tx, rx) = mpsc::channel(1);
        self.records = rx;
        self.records_tx = tx;
    }

    /// Stops reading and tells the application; the next call rejoins.
    fn revoke(&mut self) {
        self.stop_readers();
        self.must_join = true;
        self.events.push_back(GroupEvent::Revoked {
            partitions: std::mem::take(&mut self.assignment),
        });
    }

    async fn commit_finished(&mut self) -> Result<(), ClientError> {
        let offsets: Vec<PartitionOffset> = self
            .assignment
            .iter()
            .filter_map(|p| {
                let key = (Arc::<str>::from(p.stream.as_str()), p.partition);
                let offset = *self.finished.get(&key)?;
                (self.committed.get(&key) != Some(&offset)).then(|| PartitionOffset {
                    stream: p.stream.clone(),
                    partition: p.partition,
                    offset,
                })
            })
            .collect();
        // During a rebalance the assignment is already cleared; commit what the revoked
        // partitions finished (the server still accepts this generation's commits).
        let offsets = if offsets.is_empty() && self.must_join {
            self.finished
                .iter()
                .filter(|(key, offset)| self.committed.get(*key) != Some(*offset))
                .map(|((stream, partition), &offset)| PartitionOffset {
                    stream: stream.to_string(),
                    partition: *partition,
                    offset,
                })
                .collect()
        } else {
            offsets
        };
        if offsets.is_empty() || self.member_id.is_empty() {
            return Ok(());
        }
        let request = Request::CommitOffsets(CommitOffsets {
            group: self.group.clone(),
            member_id: self.member_id.clone(),
            generation: self.generation,
            offsets: offsets.clone(),
        });
        self.client.call(&request).await?;
        for o in offsets {
            self.committed
                .insert((Arc::from(o.stream.as_str()), o.partition), o.offset);
        }
        Ok(())
    }

    /// Sends GROUP_JOIN (answered when the group's next generation starts), then starts
    /// reading the new assignment from its committed offsets.
    async fn rejoin(&mut self) -> Result<(), ClientError> {
        self.stop_readers();
        let joined = loop {
            let request = Request::JoinGroup(JoinGroup {
                group: self.group.clone(),
                member_id: self.member_id.clone(),
                session_timeout_ms: u32::try_from(self.options.session_timeout.as_millis())
                    .unwrap_or(u32::MAX),
                streams: self.streams.clone(),
            });
            // The answer waits for every member to rejoin: up to a session timeout.
            let wait = self.options.session_timeout + self.client.options().request_timeout;
            match self.client.call_with_timeout(&request, wait).await {
                Ok(frame) => {
                    break Joined::decode(&frame.payload)
                        .map_err(|e| ClientError::Malformed(e.to_string()))?
                }
                // The server forgot us (session expired): join as a new member.
                Err(e)
                    if e.code() == Some(ErrorCode::UnknownMember) && !self.member_id.is_empty() =>
                {
                    self.member_id.clear();
                }
                Err(e) => return Err(e),
            }
        };
        self.member_id = joined.member_id;
        self.generation = joined.generation;
        self.assignment = joined.assignment;
        self.membership
            .send_replace(Some((self.member_id.clone(), self.generation)));
        self.finished.clear();
        self.committed.clear();
        self.last = None;
        self.must_join = false;

        if let Err(e) = self.start_reading().await {
            // Readers of this generation that did start end with their channel; the next
            // call joins again.
            self.stop_readers();
            self.must_join = true;
            return Err(e);
        }
        if let Commit::Auto(every) = self.options.commit {
            self.next_commit = tokio::time::Instant::now() + every;
        }
        self.events.push_back(GroupEvent::Assigned {
            generation: self.generation,
            partitions: self.assignment.clone(),
        });
        Ok(())
    }

    /// Subscribes to every assigned partition from its committed offset (or `start`).
    async fn start_reading(&mut self) -> Result<(), ClientError> {
        let committed = self.fetch_committed().await?;
        let (tx, rx) = mpsc::channel(self.options.buffered_records_max.max(1));
        // Installed first, so that a failure below drops the readers already started.
        self.records = rx;
        self.records_tx = tx.clone();
        for p in &self.assignment {
            let from = match committed.get(&(p.stream.clone(), p.partition)) {
                Some(&offset) if offset != NO_OFFSET => OffsetSpec::Offset(offset),
                _ => self.options.start,
            };
            let sub = Subscription::start_partition(
                self.client.clone(),
                &p.stream,
                p.partition,
                from,
                self.options.window,
            )
            .await?;
            forward(sub, tx.clone());
        }
        Ok(())
    }

    async fn fetch_committed(&self) -> Result<HashMap<(String, u32), u64>, ClientError> {
        if self.assignment.is_empty() {
            return Ok(HashMap::new());
        }
        let request = Request::FetchOffsets(FetchOffsets {
            group: self.group.clone(),
            partitions: self.assignment.clone(),
        });
        let frame = self.client.call(&request).await?;
        let offsets =
            Offsets::decode(&frame.payload).map_err(|e| ClientError::Malformed(e.to_string()))?;
        Ok(offsets
            .offsets
            .into_iter()
            .map(|o| ((o.stream, o.partition), o.offset))
            .collect())
    }
}

/// Moves one partition's records to the member until the member drops the generation's
/// channel; waiting on the bounded channel holds the subscription's credit back, so a slow
/// application slows the server.
fn forward(mut sub: Subscription, tx: mpsc::Sender<Result<ConsumedRecord, ClientError>>) {
    tokio::spawn(async move {
        loop {
            let record = tokio::select! {
                record = sub.next() => record,
                () = tx.closed() => break,
            };
            let Some(record) = record else { break };
            let failed = record.is_err();
            if tx.send(record).await.is_err() || failed {
                break;
            }
        }
        let _ = sub.close().await;
    });
}

/// Keeps the membership alive; reports the generation whenever the server says to rejoin.
async fn heartbeat(
    client: Arc<Client>,
    group: String,
    every: Duration,
    membership: watch::Receiver<Option<(String, u32)>>,
    rebalances: mpsc::UnboundedSender<u32>,
) {
    let mut tick = tokio::time::interval(every);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tick.tick().await;
        let Some((member_id, generation)) = membership.borrow().clone() else {
            continue;
        };
        // Notices arrive on the current connection: route them there (again after a
        // reconnect).
        client
            .connection()
            .route_rebalances(&group, rebalances.clone());
        let request = Request::Heartbeat(memstream_protocol::message::Heartbeat {
            group: group.clone(),
            member_id,
            generation,
        });
        match client.call(&request).await {
            Ok(_) => {}
            Err(e)
                if matches!(
                    e.code(),
                    Some(
                        ErrorCode::RebalanceInProgress
                            | ErrorCode::StaleGeneration
                            | ErrorCode::UnknownMember
                    )
                ) =>
            {
                if rebalances.send(generation).is_err() {
                    return;
                }
            }
            Err(e) => tracing::debug!(group = %group, error = %e, "heartbeat failed"),
        }
    }
}
