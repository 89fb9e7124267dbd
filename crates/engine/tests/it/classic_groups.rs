//! Kafka's classic group protocol on the engine's groups: the join barrier, the leader's
//! assignment handed out by SyncGroup, protocol choice, heartbeats, rebalance timeouts, static
//! members, and Kafka-style commits with metadata that survive a restart.

use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use memstream_engine::config::{GroupsConfig, StreamsConfig};
use memstream_engine::groups::{
    ClassicAssignment, ClassicCommit, ClassicJoin, ClassicJoined, ClassicSync, CommitEntry,
    GroupError, GroupState, Groups, JoinRequest, PartitionRef, RebalanceNotifier,
};
use memstream_engine::streams::{NewStream, SettingsOverrides, Streams};

pub(crate) const WAIT: Duration = Duration::from_secs(60);

pub(crate) struct Setup {
    _dir: tempfile::TempDir,
    pub streams: Arc<Streams>,
    pub groups: Groups,
    pub limits: GroupsConfig,
}

pub(crate) fn setup() -> Setup {
    let dir = tempfile::tempdir().unwrap();
    let streams = Arc::new(Streams::open(dir.path(), 1, 1000).unwrap());
    let cfg = StreamsConfig {
        storage: "memory".into(),
        ..StreamsConfig::default()
    };
    let new = NewStream {
        name: "orders".into(),
        partitions: 4,
        settings: SettingsOverrides::default(),
    };
    streams.create(&new, &cfg, 1 << 20).unwrap();
    let groups = Groups::open(dir.path()).unwrap();
    Setup {
        _dir: dir,
        streams,
        groups,
        // Most tests are about what follows the first generation; the delay has its own.
        limits: GroupsConfig {
            initial_rebalance_delay_ms: 0,
            ..GroupsConfig::default()
        },
    }
}

pub(crate) fn join(member_id: &str, protocols: &[&str]) -> ClassicJoin {
    ClassicJoin {
        group: "g".into(),
        member_id: member_id.into(),
        instance_id: None,
        session_timeout_ms: 10_000,
        rebalance_timeout_ms: 30_000,
        protocol_type: "consumer".into(),
        protocols: protocols
            .iter()
            .map(|p| (p.to_string(), Bytes::from(format!("meta-{p}"))))
            .collect(),
        streams: vec!["orders".into()],
        client_id: "rdkafka".into(),
        client_host: "/127.0.0.1".into(),
    }
}

pub(crate) async fn joined(
    rx: tokio::sync::oneshot::Receiver<Result<ClassicJoined, GroupError>>,
) -> ClassicJoined {
    tokio::time::timeout(WAIT, rx)
        .await
        .expect("join answered")
        .expect("sender kept")
        .expect("joined")
}

fn sync(member: &ClassicJoined, assignments: Vec<ClassicAssignment>) -> ClassicSync {
    ClassicSync {
        group: "g".into(),
        generation: member.generation,
        member_id: member.member_id.clone(),
        instance_id: None,
        assignments,
    }
}

fn assignment(member_id: &str, partitions: &[u32]) -> ClassicAssignment {
    ClassicAssignment {
        member_id: member_id.into(),
        bytes: Bytes::from(format!("assign-{member_id}")),
        partitions: partitions
            .iter()
            .map(|&p| PartitionRef {
                stream: "orders".into(),
                partition: p,
            })
            .collect(),
    }
}

/// Two members join a new group: both get the generation, one is leader and sees both
/// members' metadata; a follower syncing first waits for the leader's assignment.
#[tokio::test]
async fn two_members_join_then_the_leader_assigns() {
    let s = setup();
    let first = s
        .groups
        .join_classic(join("", &["range"]), &s.streams, &s.limits)
        .unwrap();
    let first = joined(first).await;
    assert_eq!(first.leader, first.member_id);
    assert_eq!(first.members.len(), 1);
    // The second member starts a rebalance; the first learns of it from its heartbeat and
    // rejoins.
    let second = s
        .groups
        .join_classic(join("", &["range"]), &s.streams, &s.limits)
        .unwrap();
    let hb = s
        .groups
        .heartbeat_classic("g", &first.member_id, None, first.generation);
    assert!(
        matches!(hb, Err(GroupError::RebalanceInProgress(_))),
        "{hb:?}"
    );
    let again = s
        .groups
        .join_classic(join(&first.member_id, &["range"]), &s.streams, &s.limits)
        .unwrap();
    let (leader, follower) = (joined(again).await, joined(second).await);
    assert_eq!(leader.generation, follower.generation);
    assert_eq!(leader.generation, first.generation + 1);
    assert_eq!(
        leader.leader, leader.member_id,
        "the leader stays the leader"
    );
    assert_eq!(follower.leader, leader.member_id);
    assert_eq!(
        (leader.protocol.as_str(), leader.members.len()),
        ("range", 2)
    );
    assert!(
        follower.members.is_empty(),
        "only the leader sees the members"
    );
    assert!(leader
        .members
        .iter()
        .all(|(_, _, meta)| &meta[..] == b"meta-range"));
    // While the group waits for the leader's sync, heartbeats are fine.
    s.groups
        .heartbeat_classic("g", &follower.member_id, None, follower.generation)
        .unwrap();
    let waiting = s.groups.sync_classic(sync(&follower, Vec::new())).unwrap();
    let info = s.groups.describe("g", &s.streams).unwrap();
    assert_eq!(info.state, GroupState::AwaitingSync);
    let mine = s
        .groups
        .sync_classic(sync(
            &leader,
            vec![
                assignment(&leader.member_id, &[0, 1]),
                assignment(&follower.member_id, &[2, 3]),
            ],
        ))
        .unwrap();
    let mine = tokio::time::timeout(WAIT, mine)
        .await
        .unwrap()
        .unwrap()
        .unwrap();
    let theirs = tokio::time::timeout(WAIT, waiting)
        .await
        .unwrap()
        .unwrap()
        .unwrap();
    assert_eq!(&mine[..], format!("assign-{}", leader.member_id).as_bytes());
    assert_eq!(
        &theirs[..],
        format!("assign-{}", follower.member_id).as_bytes()
    );
    let info = s.groups.describe("g", &s.streams).unwrap();
    assert_eq!(
        (info.state, info.protocol_type.as_str()),
        (GroupState::Stable, "consumer")
    );
    let owned: Vec<usize> = info.members.iter().map(|m| m.assignment.len()).collect();
    assert_eq!(owned, [2, 2]);
}

#[tokio::test]
async fn the_protocol_is_one_every_member_supports() {
    let s = setup();
    let a = joined(
        s.groups
            .join_classic(join("", &["range", "roundrobin"]), &s.streams, &s.limits)
            .unwrap(),
    )
    .await;
    assert_eq!(a.protocol, "range");
    let b = s
        .groups
        .join_classic(join("", &["roundrobin"]), &s.streams, &s.limits)
        .unwrap();
    let a = s
        .groups
        .join_classic(
            join(&a.member_id, &["range", "roundrobin"]),
            &s.streams,
            &s.limits,
        )
        .unwrap();
    let (a, b) = (joined(a).await, joined(b).await);
    assert_eq!(
        (a.protocol.as_str(), b.protocol.as_str()),
        ("roundrobin", "roundrobin")
    );
    // A member with nothing in common is refused, and so is a native member.
    let odd = s
        .groups
        .join_classic(join("", &["sticky"]), &s.streams, &s.limits);
    assert!(
        matches!(odd, Err(GroupError::InconsistentProtocol { .. })),
        "{odd:?}"
    );
    struct Quiet;
    impl RebalanceNotifier for Quiet {
        fn rebalance(&self, _: &str, _: u32) {}
    }
    let native = s.groups.join(
        JoinRequest {
            group: "g".into(),
            member_id: String::new(),
            session_timeout_ms: 10_000,
            streams: vec!["orders".into()],
        },
        Arc::new(Quiet),
        &s.streams,
        &s.limits,
    );
    assert!(matches!(
        native,
        Err(GroupError::InconsistentProtocol { .. })
    ));
}

/// A member that does not rejoin within its rebalance timeout is dropped and the others get
/// their generation.
#[tokio::test(start_paused = true)]
async fn a_member_that_does_not_rejoin_is_dropped_after_the_rebalance_timeout() {
    let s = setup();
    let a = joined(
        s.groups
            .join_classic(join("", &["range"]), &s.streams, &s.limits)
            .unwrap(),
    )
    .await;
    let b = s
        .groups
        .join_classic(join("", &["range"]), &s.streams, &s.limits)
        .unwrap();
    // `a` never rejoins. Its heartbeats keep its session alive but not its place.
    tokio::time::advance(Duration::from_millis(29_000)).await;
    s.groups
        .heartbeat_classic("g", &a.member_id, None, a.generation)
        .unwrap_err();
    s.groups.expire(tokio::time::Instant::now(), &s.streams);
    tokio::time::advance(Duration::from_millis(2_000)).await;
    s.groups.expire(tokio::time::Instant::now(), &s.streams);
    let b = joined(b).await;
    assert_eq!(b.leader, b.member_id);
    assert_eq!(b.members.len(), 1);
    let info = s.groups.describe("g", &s.streams).unwrap();
    assert_eq!(info.members.len(), 1);
}

/// A static member that restarts, follower or leader, takes its place back under a new
/// member id without a rebalance; its old id is fenced.
#[tokio::test]
async fn a_static_member_comes_back_without_a_rebalance() {
    let s = setup();
    let with_instance = |id: &str, instance: &str| ClassicJoin {
        instance_id: Some(instance.into()),
        ..join(id, &["range"])
    };
    let leader = joined(
        s.groups
            .join_classic(with_instance("", "i-1"), &s.streams, &s.limits)
            .unwrap(),
    )
    .await;
    let follower = s
        .groups
        .join_classic(with_instance("", "i-2"), &s.streams, &s.limits)
        .unwrap();
    let leader = s
        .groups
        .join_classic(
            with_instance(&leader.member_id, "i-1"),
            &s.streams,
            &s.limits,
        )
        .unwrap();
    let (leader, follower) = (joined(leader).await, joined(follower).await);
    let done = s
        .groups
        .sync_classic(sync(
            &leader,
            vec![
                assignment(&leader.member_id, &[0, 1]),
                assignment(&follower.member_id, &[2, 3]),
            ],
        ))
        .unwrap();
    tokio::time::timeout(WAIT, done)
        .await
        .unwrap()
        .unwrap()
        .unwrap();
    // The follower restarts: same instance id, no member id.
    let back = joined(
        s.groups
            .join_classic(with_instance("", "i-2"), &s.streams, &s.limits)
            .unwrap(),
    )
    .await;
    assert_ne!(back.member_id, follower.member_id);
    assert_eq!(back.generation, follower.generation, "no rebalance");
    let mine = s.groups.sync_classic(ClassicSync {
        instance_id: Some("i-2".into()),
        ..sync(&back, Vec::new())
    });
    let mine = tokio::time::timeout(WAIT, mine.unwrap())
        .await
        .unwrap()
        .unwrap()
        .unwrap();
    assert_eq!(
        &mine[..],
        format!("assign-{}", follower.member_id).as_bytes(),
        "its old assignment"
    );
    let fenced =
        s.groups
            .heartbeat_classic("g", &follower.member_id, Some("i-2"), follower.generation);
    assert!(
        matches!(fenced, Err(GroupError::FencedInstance { .. })),
        "{fenced:?}"
    );
    s.groups
        .heartbeat_classic("g", &leader.member_id, Some("i-1"), leader.generation)
        .unwrap();
    // The leader restarts too (librdkafka's test 0102 when its restarting consumer happened
    // to be the leader): as from Kafka, no rebalance either; the answer names the old id as
    // leader, so the client syncs as a follower and gets its old assignment back.
    let back_leader = joined(
        s.groups
            .join_classic(with_instance("", "i-1"), &s.streams, &s.limits)
            .unwrap(),
    )
    .await;
    assert_eq!(back_leader.generation, leader.generation, "no rebalance");
    assert_eq!(back_leader.leader, leader.member_id, "told the old id");
    assert_ne!(back_leader.member_id, back_leader.leader, "not the leader");
    assert!(back_leader.members.is_empty());
    let mine = s.groups.sync_classic(ClassicSync {
        instance_id: Some("i-1".into()),
        ..sync(&back_leader, Vec::new())
    });
    let mine = tokio::time::timeout(WAIT, mine.unwrap())
        .await
        .unwrap()
        .unwrap()
        .unwrap();
    assert_eq!(&mine[..], format!("assign-{}", leader.member_id).as_bytes());
    // The other member saw nothing: same generation, no rebalance to heed.
    s.groups
        .heartbeat_classic("g", &back.member_id, Some("i-2"), back.generation)
        .unwrap();
    let fenced = s
        .groups
        .heartbeat_classic("g", &leader.member_id, Some("i-1"), leader.generation);
    assert!(
        matches!(fenced, Err(GroupError::FencedInstance { .. })),
        "{fenced:?}"
    );
}

fn commit(generation: i32, member_id: &str, offset: u64, metadata: Option<&str>) -> ClassicCommit {
    ClassicCommit {
        group: "g".into(),
        generation,
        member_id: member_id.into(),
        instance_id: None,
        offsets: vec![CommitEntry {
            partition: PartitionRef {
                stream: "orders".into(),
                partition: 1,
            },
            offset,
            metadata: metadata.map(str::to_owned),
        }],
    }
}

/// Consumers outside any group commit with generation -1 (the group is created); members
/// commit in their generation; metadata is kept, bounded, and survives a restart.
#[tokio::test]
async fn kafka_commits_keep_their_metadata_across_a_restart() {
    let s = setup();
    // The partition must hold the offset for it to be read back as in range: produce 10.
    let stream = s.streams.get("orders").unwrap();
    let mut builder = memstream_batch::BatchBuilder::with_capacity(1024);
    for i in 0..10u64 {
        builder.push(1, None, &i.to_be_bytes(), &[]);
    }
    let batch = builder.finish(-1, -1, -1);
    stream
        .append(
            memstream_engine::streams::Placement::Partition(1),
            &batch,
            &memstream_engine::streams::AppendLimits {
                decompressed_bytes_max: 1 << 20,
                producers_max: 10,
            },
            1,
        )
        .unwrap();
    let stored = s
        .groups
        .commit_classic(&commit(-1, "", 7, Some("m1")), &s.streams, &s.limits)
        .unwrap();
    tokio::time::timeout(WAIT, stored)
        .await
        .unwrap()
        .unwrap()
        .unwrap();
    let refs = [PartitionRef {
        stream: "orders".into(),
        partition: 1,
    }];
    let got = s.groups.fetch_offsets("g", &refs, &s.streams);
    assert_eq!(
        (got[0].offset, got[0].metadata.as_deref()),
        (Some(7), Some("m1"))
    );
    let long = "x".repeat(s.limits.max_offset_metadata_bytes as usize + 1);
    let refused = s
        .groups
        .commit_classic(&commit(-1, "", 8, Some(&long)), &s.streams, &s.limits);
    assert!(
        matches!(refused, Err(GroupError::MetadataTooLarge { .. })),
        "{refused:?}"
    );
    // A member's commit must carry its generation once the group has members.
    let m = joined(
        s.groups
            .join_classic(join("", &["range"]), &s.streams, &s.limits)
            .unwrap(),
    )
    .await;
    let done = s
        .groups
        .sync_classic(sync(&m, vec![assignment(&m.member_id, &[0, 1, 2, 3])]))
        .unwrap();
    tokio::time::timeout(WAIT, done)
        .await
        .unwrap()
        .unwrap()
        .unwrap();
    let stale = s
        .groups
        .commit_classic(&commit(-1, "", 8, None), &s.streams, &s.limits);
    assert!(
        matches!(stale, Err(GroupError::UnknownMember(_))),
        "{stale:?}"
    );
    let wrong = s.groups.commit_classic(
        &commit(m.generation as i32 + 1, &m.member_id, 8, None),
        &s.streams,
        &s.limits,
    );
    assert!(
        matches!(wrong, Err(GroupError::StaleGeneration { .. })),
        "{wrong:?}"
    );
    let ok = s
        .groups
        .commit_classic(
            &commit(m.generation as i32, &m.member_id, 9, Some("m2")),
            &s.streams,
            &s.limits,
        )
        .unwrap();
    tokio::time::timeout(WAIT, ok)
        .await
        .unwrap()
        .unwrap()
        .unwrap();
    // Reopened from disk: the last commit and its metadata are there.
    s.groups.shutdown();
    let reopened = Groups::open(s._dir.path()).unwrap();
    let got = reopened.fetch_offsets("g", &refs, &s.streams);
    assert_eq!(
        (got[0].offset, got[0].metadata.as_deref()),
        (Some(9), Some("m2"))
    );
}

/// librdkafka's test 0099 commits offset 42 to an empty partition and reads it back, as
/// Kafka answers: the usable offset is none (a native member starts by its reset policy),
/// but the offset as committed is kept for Kafka's OffsetFetch, with its metadata.
#[tokio::test]
async fn an_offset_past_the_end_is_fetched_as_committed() {
    let s = setup();
    let stored = s
        .groups
        .commit_classic(
            &commit(-1, "", 42, Some("Hello world!")),
            &s.streams,
            &s.limits,
        )
        .unwrap();
    tokio::time::timeout(WAIT, stored)
        .await
        .unwrap()
        .unwrap()
        .unwrap();
    let refs = [PartitionRef {
        stream: "orders".into(),
        partition: 1,
    }];
    let got = s.groups.fetch_offsets("g", &refs, &s.streams);
    assert_eq!(
        (got[0].offset, got[0].committed, got[0].metadata.as_deref()),
        (None, Some(42), Some("Hello world!"))
    );
    // Nothing committed: neither.
    let other = [PartitionRef {
        stream: "orders".into(),
        partition: 2,
    }];
    let got = s.groups.fetch_offsets("g", &other, &s.streams);
    assert_eq!((got[0].offset, got[0].committed), (None, None));
}

/// A member that rejoined may still commit with the generation that just ended until the
/// leader's assignment is out (a commit sent right behind its JoinGroup); a commit with the
/// new generation meanwhile is told to wait.
#[tokio::test]
async fn a_commit_right_behind_a_rejoin_is_kept() {
    let s = setup();
    let a = joined(
        s.groups
            .join_classic(join("", &["range"]), &s.streams, &s.limits)
            .unwrap(),
    )
    .await;
    let done = s
        .groups
        .sync_classic(sync(&a, vec![assignment(&a.member_id, &[0, 1, 2, 3])]))
        .unwrap();
    tokio::time::timeout(WAIT, done)
        .await
        .unwrap()
        .unwrap()
        .unwrap();
    let b = s
        .groups
        .join_classic(join("", &["range"]), &s.streams, &s.limits)
        .unwrap();
    let a2 = s
        .groups
        .join_classic(join(&a.member_id, &["range"]), &s.streams, &s.limits)
        .unwrap();
    let (a2, _b) = (joined(a2).await, joined(b).await);
    assert_eq!(a2.generation, a.generation + 1);
    let old = s
        .groups
        .commit_classic(
            &commit(a.generation as i32, &a.member_id, 1, None),
            &s.streams,
            &s.limits,
        )
        .unwrap();
    tokio::time::timeout(WAIT, old)
        .await
        .unwrap()
        .unwrap()
        .unwrap();
    let new = s.groups.commit_classic(
        &commit(a2.generation as i32, &a.member_id, 2, None),
        &s.streams,
        &s.limits,
    );
    assert!(
        matches!(new, Err(GroupError::RebalanceInProgress(_))),
        "{new:?}"
    );
    let older = s.groups.commit_classic(
        &commit(a.generation as i32 - 1, &a.member_id, 2, None),
        &s.streams,
        &s.limits,
    );
    assert!(
        matches!(older, Err(GroupError::StaleGeneration { .. })),
        "{older:?}"
    );
}
