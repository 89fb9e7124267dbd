//! Consumer groups over real TCP: members joining and leaving mid-stream, exactly one owner
//! per partition, resumption from committed offsets, session expiry, restart, error codes.

use crate::common;

use std::collections::{BTreeSet, HashMap};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use common::{TestServer, WAIT};
use memstream_broker::config::ConfigHandle;
use memstream_client::{Client, ClientError};
use memstream_protocol::batch::{verify, BatchBuilder, Limits, RecordIter, BATCH_HEADER_LEN};
use memstream_protocol::message::{
    Acks, CommitOffsets, CreateStream, FetchOffsets, FetchRequest, FetchResponse, GroupDescription,
    Heartbeat, JoinGroup, Joined, LeaveGroup, OffsetSpec, Offsets, PartitionOffset,
    PartitionSelector, ProduceBatch, ProduceRequest, StorageKind, StreamPartition, StreamRef,
    StreamSettings, NO_OFFSET,
};
use memstream_protocol::{ErrorCode, Frame, Request};
use tokio::sync::watch;

const PARTITIONS: u32 = 6;
const PER_PARTITION: u64 = 100;

async fn call(client: &Client, request: Request) -> Result<Frame, ClientError> {
    client.call(&request).await
}

async fn setup(server: &TestServer) {
    let admin = Client::connect(server.addr).await.unwrap();
    call(
        &admin,
        Request::CreateStream(CreateStream {
            name: "g".into(),
            partitions: PARTITIONS,
            settings: StreamSettings {
                storage: Some(StorageKind::Disk),
                ..StreamSettings::default()
            },
        }),
    )
    .await
    .unwrap();
    for p in 0..PARTITIONS {
        for chunk in 0..(PER_PARTITION / 10) {
            let mut b = BatchBuilder::default();
            for i in 0..10 {
                b.push(0, None, format!("{p}-{}", chunk * 10 + i).as_bytes(), &[]);
            }
            call(
                &admin,
                Request::Produce(ProduceRequest {
                    stream: "g".into(),
                    acks: Acks::Written,
                    batches: vec![ProduceBatch {
                        selector: PartitionSelector::Explicit(p),
                        batch: b.finish(-1, -1, -1),
                    }],
                }),
            )
            .await
            .unwrap();
        }
    }
}

/// Who delivered what, and every assignment handed out per generation.
#[derive(Default)]
struct Ledger {
    delivered: Vec<(u32, u64, String)>,
    assignments: HashMap<u32, Vec<(String, Vec<StreamPartition>)>>,
}

async fn join(client: &Client, member_id: &str, timeout_ms: u32) -> Joined {
    let frame = call(
        client,
        Request::JoinGroup(JoinGroup {
            group: "grp".into(),
            member_id: member_id.into(),
            session_timeout_ms: timeout_ms,
            streams: vec!["g".into()],
        }),
    )
    .await
    .expect("join");
    Joined::decode(&frame.payload).unwrap()
}

/// A well-behaved member: consumes its partitions from the committed offsets, commits after
/// each batch, rejoins when told the group is rebalancing, leaves when `stop` turns true.
async fn member(
    server: std::net::SocketAddr,
    ledger: Arc<Mutex<Ledger>>,
    progress: watch::Sender<usize>,
    mut stop: watch::Receiver<bool>,
) {
    let client = Client::connect(server).await.unwrap();
    let mut me = join(&client, "", 10_000).await;
    record_assignment(&ledger, &me);
    loop {
        if *stop.borrow_and_update() {
            call(
                &client,
                Request::LeaveGroup(LeaveGroup {
                    group: "grp".into(),
                    member_id: me.member_id.clone(),
                }),
            )
            .await
            .unwrap();
            return;
        }
        let hb = call(
            &client,
            Request::Heartbeat(Heartbeat {
                group: "grp".into(),
                member_id: me.member_id.clone(),
                generation: me.generation,
            }),
        )
        .await;
        match hb.err().and_then(|e| e.code()) {
            None => {}
            Some(ErrorCode::RebalanceInProgress) => {
                me = join(&client, &me.member_id, 10_000).await;
                record_assignment(&ledger, &me);
                continue;
            }
            Some(other) => panic!("heartbeat failed: {other}"),
        }
        for owned in me.assignment.clone() {
            let committed = Offsets::decode(
                &call(
                    &client,
                    Request::FetchOffsets(FetchOffsets {
                        group: "grp".into(),
                        partitions: vec![owned.clone()],
                    }),
                )
                .await
                .unwrap()
                .payload,
            )
            .unwrap()
            .offsets[0]
                .offset;
            let from = if committed == NO_OFFSET { 0 } else { committed };
            if from >= PER_PARTITION {
                continue;
            }
            let frame = call(
                &client,
                Request::Fetch(FetchRequest {
                    stream: "g".into(),
                    partition: owned.partition,
                    from: OffsetSpec::Offset(from),
                    max_bytes: 200,
                    max_wait_ms: 0,
                }),
            )
            .await
            .unwrap();
            let resp = FetchResponse::decode(&frame.payload).unwrap();
            let mut next = from;
            let mut got = Vec::new();
            if let Some(batch) = resp.batches().next() {
                let h = verify(&batch, Limits::UNLIMITED).unwrap();
                for r in RecordIter::new(&batch[BATCH_HEADER_LEN..], &h) {
                    let offset = h.base_offset + u64::from(r.unwrap().offset_delta);
                    if offset >= from {
                        got.push((owned.partition, offset, me.member_id.clone()));
                    }
                }
                next = h.next_offset();
            }
            if next == from {
                continue;
            }
            let commit = call(
                &client,
                Request::CommitOffsets(CommitOffsets {
                    group: "grp".into(),
                    member_id: me.member_id.clone(),
                    generation: me.generation,
                    offsets: vec![PartitionOffset {
                        stream: "g".into(),
                        partition: owned.partition,
                        offset: next,
                    }],
                }),
            )
            .await;
            match commit.err().and_then(|e| e.code()) {
                None => {
                    let mut l = ledger.lock().unwrap();
                    l.delivered.extend(got);
                    progress.send_replace(l.delivered.len());
                }
                // The generation moved on (we were too slow): the records stay uncommitted and
                // the new owner delivers them; we must not count them.
                Some(ErrorCode::StaleGeneration | ErrorCode::UnknownMember) => break,
                Some(other) => panic!("commit failed: {other}"),
            }
        }
        // Nothing left to read here: wait for the next round without spinning hot.
        let _ = tokio::time::timeout(Duration::from_millis(20), stop.changed()).await;
    }
}

fn record_assignment(ledger: &Mutex<Ledger>, joined: &Joined) {
    ledger
        .lock()
        .unwrap()
        .assignments
        .entry(joined.generation)
        .or_default()
        .push((joined.member_id.clone(), joined.assignment.clone()));
}

async fn reach(progress: &mut watch::Receiver<usize>, n: usize) {
    tokio::time::timeout(WAIT, progress.wait_for(|&d| d >= n))
        .await
        .unwrap_or_else(|_| panic!("consumers stalled before {n} records"))
        .unwrap();
}

#[tokio::test]
async fn members_joining_and_leaving_deliver_every_record_exactly_once() {
    let server = TestServer::start(|_| {}).await;
    setup(&server).await;
    let ledger = Arc::new(Mutex::new(Ledger::default()));
    let (progress_tx, mut progress) = watch::channel(0usize);
    let mut stops = Vec::new();
    let mut tasks = Vec::new();
    let total = (PARTITIONS as u64 * PER_PARTITION) as usize;
    for until in [120, 240, 360] {
        let (stop_tx, stop_rx) = watch::channel(false);
        stops.push(stop_tx);
        tasks.push(tokio::spawn(member(
            server.addr,
            ledger.clone(),
            progress_tx.clone(),
            stop_rx,
        )));
        reach(&mut progress, until).await;
    }
    // The first member leaves mid-stream; the other two take over from its commits.
    stops[0].send_replace(true);
    reach(&mut progress, total).await;
    for stop in &stops {
        stop.send_replace(true);
    }
    for t in tasks {
        tokio::time::timeout(WAIT, t).await.unwrap().unwrap();
    }

    let ledger = std::mem::take(&mut *ledger.lock().unwrap());
    let mut seen = BTreeSet::new();
    for (p, offset, _) in &ledger.delivered {
        assert!(
            seen.insert((*p, *offset)),
            "record {p}/{offset} delivered twice"
        );
    }
    assert_eq!(seen.len(), total, "every record delivered");
    // In every generation the assignments handed out are disjoint.
    for (generation, members) in &ledger.assignments {
        let mut owned = BTreeSet::new();
        for (_, assignment) in members {
            for p in assignment {
                assert!(
                    owned.insert((p.stream.clone(), p.partition)),
                    "generation {generation}: {p:?} owned twice"
                );
            }
        }
    }
    assert!(
        ledger.assignments.len() >= 4,
        "joins and the leave each made a generation"
    );
    drop(ledger);
    server.stop().await;
}

#[tokio::test]
async fn a_silent_member_is_dropped_after_its_session_timeout() {
    let server = TestServer::start(|_| {}).await;
    setup(&server).await;
    let quiet = Client::connect(server.addr).await.unwrap();
    let first = join(&quiet, "", 300).await;
    assert_eq!(first.assignment.len(), PARTITIONS as usize);
    // A second member joins: the rebalance waits for the first, which never rejoins.
    let other = Client::connect(server.addr).await.unwrap();
    let second = tokio::time::timeout(WAIT, join(&other, "", 10_000))
        .await
        .expect("the silent member times out");
    assert_eq!(second.assignment.len(), PARTITIONS as usize);
    let desc = call(
        &other,
        Request::DescribeGroup(StreamRef { name: "grp".into() }),
    )
    .await
    .unwrap();
    let desc = GroupDescription::decode(&desc.payload).unwrap();
    assert_eq!(desc.members.len(), 1);
    assert_eq!(desc.members[0].member_id, second.member_id);
    assert_eq!(desc.partitions.len(), PARTITIONS as usize);
    assert!(desc
        .partitions
        .iter()
        .all(|p| p.lag == PER_PARTITION && p.committed == NO_OFFSET));
    let stale = call(
        &quiet,
        Request::Heartbeat(Heartbeat {
            group: "grp".into(),
            member_id: first.member_id.clone(),
            generation: first.generation,
        }),
    )
    .await;
    assert_eq!(
        stale.err().and_then(|e| e.code()),
        Some(ErrorCode::UnknownMember)
    );
    server.stop().await;
}

#[tokio::test]
async fn committed_offsets_survive_a_restart_and_errors_have_codes() {
    let dir = tempfile::tempdir().unwrap();
    let config = || ConfigHandle::fixed(common::test_config(dir.path()));
    let server = TestServer::start_with(config()).await;
    setup(&server).await;
    let client = Client::connect(server.addr).await.unwrap();
    let me = join(&client, "", 10_000).await;
    let commit = |generation, partition, offset| {
        Request::CommitOffsets(CommitOffsets {
            group: "grp".into(),
            member_id: me.member_id.clone(),
            generation,
            offsets: vec![PartitionOffset {
                stream: "g".into(),
                partition,
                offset,
            }],
        })
    };
    call(&client, commit(me.generation, 2, 42)).await.unwrap();
    let stale = call(&client, commit(me.generation + 5, 2, 43)).await;
    assert_eq!(
        stale.err().and_then(|e| e.code()),
        Some(ErrorCode::StaleGeneration)
    );
    let not_owned = call(&client, commit(me.generation, 99, 1)).await;
    assert_eq!(
        not_owned.err().and_then(|e| e.code()),
        Some(ErrorCode::PartitionNotAssigned)
    );
    let unknown = call(
        &client,
        Request::Heartbeat(Heartbeat {
            group: "grp".into(),
            member_id: "nobody".into(),
            generation: 1,
        }),
    )
    .await;
    assert_eq!(
        unknown.err().and_then(|e| e.code()),
        Some(ErrorCode::UnknownMember)
    );
    let missing = call(
        &client,
        Request::DescribeGroup(StreamRef {
            name: "nope".into(),
        }),
    )
    .await;
    assert_eq!(
        missing.err().and_then(|e| e.code()),
        Some(ErrorCode::GroupNotFound)
    );
    drop(client);
    server.stop().await;

    let server = TestServer::start_with(config()).await;
    let client = Client::connect(server.addr).await.unwrap();
    let frame = call(
        &client,
        Request::FetchOffsets(FetchOffsets {
            group: "grp".into(),
            partitions: vec![
                StreamPartition {
                    stream: "g".into(),
                    partition: 2,
                },
                StreamPartition {
                    stream: "g".into(),
                    partition: 3,
                },
            ],
        }),
    )
    .await
    .unwrap();
    let offsets: Vec<u64> = Offsets::decode(&frame.payload)
        .unwrap()
        .offsets
        .iter()
        .map(|o| o.offset)
        .collect();
    assert_eq!(offsets, [42, NO_OFFSET]);
    server.stop().await;
}

async fn fetch_committed(client: &Client, partition: u32) -> u64 {
    let frame = call(
        client,
        Request::FetchOffsets(FetchOffsets {
            group: "grp".into(),
            partitions: vec![StreamPartition {
                stream: "g".into(),
                partition,
            }],
        }),
    )
    .await
    .unwrap();
    Offsets::decode(&frame.payload).unwrap().offsets[0].offset
}

#[tokio::test]
async fn a_recreated_stream_starts_clean_and_empty_groups_can_be_deleted_or_expire() {
    let server = TestServer::start(|c| c.groups.offsets_retention_ms = 1_000).await;
    setup(&server).await;
    let client = Client::connect(server.addr).await.unwrap();
    let me = join(&client, "", 10_000).await;
    let commit = Request::CommitOffsets(CommitOffsets {
        group: "grp".into(),
        member_id: me.member_id.clone(),
        generation: me.generation,
        offsets: vec![PartitionOffset {
            stream: "g".into(),
            partition: 0,
            offset: 60,
        }],
    });
    call(&client, commit).await.unwrap();
    assert_eq!(fetch_committed(&client, 0).await, 60);
    let delete = || Request::DeleteGroup(StreamRef { name: "grp".into() });
    let busy = call(&client, delete()).await;
    assert_eq!(
        busy.err().and_then(|e| e.code()),
        Some(ErrorCode::GroupNotEmpty)
    );

    // The stream is deleted and created again: the group's offset was for the old one.
    call(
        &client,
        Request::DeleteStream(StreamRef { name: "g".into() }),
    )
    .await
    .unwrap();
    setup(&server).await;
    assert_eq!(fetch_committed(&client, 0).await, NO_OFFSET);
    let desc = call(
        &client,
        Request::DescribeGroup(StreamRef { name: "grp".into() }),
    )
    .await
    .unwrap();
    let desc = GroupDescription::decode(&desc.payload).unwrap();
    let p0 = desc.partitions.iter().find(|p| p.partition == 0).unwrap();
    assert_eq!((p0.committed, p0.lag), (NO_OFFSET, PER_PARTITION));

    // Empty, it can be deleted; deleting it again finds nothing.
    call(
        &client,
        Request::LeaveGroup(LeaveGroup {
            group: "grp".into(),
            member_id: me.member_id.clone(),
        }),
    )
    .await
    .unwrap();
    call(&client, delete()).await.unwrap();
    let gone = call(&client, delete()).await;
    assert_eq!(
        gone.err().and_then(|e| e.code()),
        Some(ErrorCode::GroupNotFound)
    );

    // A group left empty expires after groups.offsets_retention_ms (1 s here): waited for by
    // polling the group list, bounded by WAIT.
    let me = join(&client, "", 10_000).await;
    call(
        &client,
        Request::LeaveGroup(LeaveGroup {
            group: "grp".into(),
            member_id: me.member_id,
        }),
    )
    .await
    .unwrap();
    let admin = client.admin();
    let expired = tokio::time::timeout(WAIT, async {
        while admin
            .list_groups()
            .await
            .unwrap()
            .contains(&"grp".to_owned())
        {
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    })
    .await;
    assert!(expired.is_ok(), "the empty group never expired");
    server.stop().await;
}

#[tokio::test]
async fn a_commit_past_the_end_is_out_of_range_and_members_start_by_their_reset_policy() {
    // A memory stream loses its records at a restart but keeps its definition; the group's
    // committed offset then lies past the new end.
    let dir = tempfile::tempdir().unwrap();
    let config = || ConfigHandle::fixed(common::test_config(dir.path()));
    let server = TestServer::start_with(config()).await;
    let client = Client::connect(server.addr).await.unwrap();
    call(
        &client,
        Request::CreateStream(CreateStream {
            name: "g".into(),
            partitions: 1,
            settings: StreamSettings {
                storage: Some(StorageKind::Memory),
                ..StreamSettings::default()
            },
        }),
    )
    .await
    .unwrap();
    let produce = |n: usize| {
        let mut b = BatchBuilder::default();
        for i in 0..n {
            b.push(0, None, format!("r{i}").as_bytes(), &[]);
        }
        Request::Produce(ProduceRequest {
            stream: "g".into(),
            acks: Acks::Written,
            batches: vec![ProduceBatch {
                selector: PartitionSelector::Explicit(0),
                batch: b.finish(-1, -1, -1),
            }],
        })
    };
    call(&client, produce(10)).await.unwrap();
    let me = join(&client, "", 10_000).await;
    let commit = Request::CommitOffsets(CommitOffsets {
        group: "grp".into(),
        member_id: me.member_id.clone(),
        generation: me.generation,
        offsets: vec![PartitionOffset {
            stream: "g".into(),
            partition: 0,
            offset: 10,
        }],
    });
    call(&client, commit).await.unwrap();
    server.stop().await;

    let server = TestServer::start_with(config()).await;
    let client = Client::connect(server.addr).await.unwrap();
    call(&client, produce(3)).await.unwrap();
    assert_eq!(
        fetch_committed(&client, 0).await,
        NO_OFFSET,
        "10 is past the end 3"
    );
    let desc = call(
        &client,
        Request::DescribeGroup(StreamRef { name: "grp".into() }),
    )
    .await
    .unwrap();
    let desc = GroupDescription::decode(&desc.payload).unwrap();
    assert_eq!(
        desc.partitions[0].committed, 10,
        "describe shows the stale commit"
    );
    assert_eq!(desc.partitions[0].end_offset, 3);
    assert_eq!(
        desc.partitions[0].lag, 3,
        "counted from where a member resumes"
    );
    server.stop().await;
}
