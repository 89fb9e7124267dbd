//! The client's GroupConsumer against a real server: assignments split and move on joins and
//! leaves with Revoked/Assigned events, each record goes to one member, committed offsets
//! are where a new generation starts, and lag reaches zero.

use crate::common;

use std::collections::{BTreeSet, HashMap};
use std::sync::Arc;
use std::time::Duration;

use common::{TestServer, WAIT};
use memstream_client::{
    Client, Commit, GroupConsumer, GroupEvent, GroupOptions, Partitioner, Producer,
    ProducerOptions, Record,
};
use memstream_protocol::message::{Acks, StorageKind, StreamPartition, StreamSettings};
use tokio::sync::mpsc;

/// What a member task reports.
#[derive(Debug)]
enum Seen {
    Assigned(BTreeSet<u32>),
    Revoked(BTreeSet<u32>),
    Record(u32, u64),
}

fn partitions(list: &[StreamPartition]) -> BTreeSet<u32> {
    list.iter().map(|p| p.partition).collect()
}

/// Runs a member in a task until `stop` fires; with manual commits it commits after each
/// record. Reports every event.
fn run_member(
    client: Arc<Client>,
    options: GroupOptions,
) -> (
    mpsc::UnboundedReceiver<Seen>,
    tokio::sync::oneshot::Sender<()>,
    tokio::task::JoinHandle<()>,
) {
    let (tx, rx) = mpsc::unbounded_channel();
    let (stop_tx, mut stop) = tokio::sync::oneshot::channel();
    let task = tokio::spawn(async move {
        let manual = options.commit == Commit::Manual;
        let mut member = GroupConsumer::join(client, "workers", &["jobs"], options)
            .await
            .expect("joined");
        loop {
            let event = tokio::select! {
                event = member.next() => event.expect("member").expect("no error"),
                _ = &mut stop => break,
            };
            let seen = match event {
                GroupEvent::Assigned { partitions: p, .. } => Seen::Assigned(partitions(&p)),
                GroupEvent::Revoked { partitions: p } => Seen::Revoked(partitions(&p)),
                GroupEvent::Record(r) => {
                    if manual {
                        member.commit().await.expect("commit");
                    }
                    Seen::Record(r.partition, r.offset)
                }
            };
            if tx.send(seen).is_err() {
                break;
            }
        }
        member.close().await.expect("left the group");
    });
    (rx, stop_tx, task)
}

async fn next_seen(rx: &mut mpsc::UnboundedReceiver<Seen>) -> Seen {
    tokio::time::timeout(WAIT, rx.recv())
        .await
        .expect("an event in time")
        .expect("member running")
}

/// Events until an assignment, which is returned (records before it are collected).
async fn until_assigned(
    rx: &mut mpsc::UnboundedReceiver<Seen>,
    records: &mut Vec<(u32, u64)>,
) -> BTreeSet<u32> {
    loop {
        match next_seen(rx).await {
            Seen::Assigned(p) => return p,
            Seen::Revoked(_) => {}
            Seen::Record(p, o) => records.push((p, o)),
        }
    }
}

/// Records (and nothing else) until `records` holds `n`.
async fn records_until(
    rx: &mut mpsc::UnboundedReceiver<Seen>,
    records: &mut Vec<(u32, u64)>,
    n: usize,
) {
    while records.len() < n {
        match next_seen(rx).await {
            Seen::Record(p, o) => records.push((p, o)),
            other => panic!("unexpected {other:?}"),
        }
    }
}

/// A server with the memory stream `jobs` of `partitions` partitions, and an admin client.
async fn setup(partitions: u32) -> (TestServer, Arc<Client>) {
    let server = TestServer::start(|_| {}).await;
    let admin = Arc::new(Client::connect(server.addr).await.unwrap());
    let settings = StreamSettings {
        storage: Some(StorageKind::Memory),
        ..StreamSettings::default()
    };
    admin
        .admin()
        .create_stream("jobs", partitions, settings)
        .await
        .unwrap();
    (server, admin)
}

async fn produce(client: &Arc<Client>, count: usize) {
    let producer = Producer::new(
        client.clone(),
        "jobs",
        ProducerOptions {
            acks: Acks::Written,
            partitioner: Partitioner::RoundRobin,
            ..ProducerOptions::default()
        },
    )
    .await
    .unwrap();
    let mut receipts = Vec::new();
    for i in 0..count {
        receipts.push(producer.send(Record::value(format!("job{i}"))).await);
    }
    for r in receipts {
        r.await.unwrap();
    }
}

fn options(commit: Commit) -> GroupOptions {
    GroupOptions {
        session_timeout: Duration::from_secs(10),
        heartbeat_interval: Duration::from_millis(100),
        commit,
        ..GroupOptions::default()
    }
}

#[tokio::test]
async fn members_split_partitions_and_resume_from_commits() {
    let (server, admin) = setup(4).await;
    produce(&admin, 40).await;

    // One member owns everything and reads the 40 records, committing each.
    let a_client = Arc::new(Client::connect(server.addr).await.unwrap());
    let (mut a, stop_a, a_task) = run_member(a_client, options(Commit::Manual));
    let mut a_records = Vec::new();
    assert_eq!(
        until_assigned(&mut a, &mut a_records).await,
        BTreeSet::from([0, 1, 2, 3])
    );
    records_until(&mut a, &mut a_records, 40).await;

    // A second member joins: the first gives everything up, then each gets two partitions.
    let b_client = Arc::new(Client::connect(server.addr).await.unwrap());
    let (mut b, stop_b, b_task) =
        run_member(b_client, options(Commit::Auto(Duration::from_millis(50))));
    let mut b_records = Vec::new();
    let b_owns = until_assigned(&mut b, &mut b_records).await;
    match next_seen(&mut a).await {
        Seen::Revoked(p) => assert_eq!(p, BTreeSet::from([0, 1, 2, 3])),
        other => panic!("expected the revocation first, got {other:?}"),
    }
    let a_owns = until_assigned(&mut a, &mut a_records).await;
    assert_eq!(a_owns.len(), 2);
    assert_eq!(b_owns.len(), 2);
    assert!(a_owns.is_disjoint(&b_owns), "{a_owns:?} {b_owns:?}");

    // New records go to their partition's owner, once; nothing committed comes back.
    produce(&admin, 40).await;
    let mut all: HashMap<(u32, u64), usize> = HashMap::new();
    while a_records.len() + b_records.len() < 80 {
        tokio::select! {
            seen = next_seen(&mut a) => match seen {
                Seen::Record(p, o) => {
                    assert!(a_owns.contains(&p));
                    a_records.push((p, o));
                }
                other => panic!("unexpected {other:?}"),
            },
            seen = next_seen(&mut b) => match seen {
                Seen::Record(p, o) => {
                    assert!(b_owns.contains(&p));
                    b_records.push((p, o));
                }
                other => panic!("unexpected {other:?}"),
            },
        }
    }
    for r in a_records.iter().chain(&b_records) {
        *all.entry(*r).or_default() += 1;
    }
    let expected: HashMap<(u32, u64), usize> = (0..4u32)
        .flat_map(|p| (0..20u64).map(move |o| ((p, o), 1)))
        .collect();
    assert_eq!(all, expected, "each record delivered exactly once");

    // B leaves (committing what it read): A owns everything again and reads nothing twice.
    stop_b.send(()).unwrap();
    b_task.await.unwrap();
    let mut after = Vec::new();
    assert_eq!(
        until_assigned(&mut a, &mut after).await,
        BTreeSet::from([0, 1, 2, 3])
    );
    produce(&admin, 4).await;
    records_until(&mut a, &mut after, 4).await;
    after.sort_unstable();
    assert_eq!(after, vec![(0, 20), (1, 20), (2, 20), (3, 20)]);

    stop_a.send(()).unwrap();
    a_task.await.unwrap();
    let described = admin.admin().describe_group("workers").await.unwrap();
    for lag in &described.partitions {
        assert_eq!((lag.committed, lag.lag), (21, 0), "{lag:?}");
    }
    server.stop().await;
}

#[tokio::test]
async fn a_member_keeps_its_partitions_and_its_place_across_a_cut_connection() {
    let (server, admin) = setup(2).await;
    let proxy = common::Proxy::start(server.addr).await;
    produce(&admin, 10).await;
    let member_client = Arc::new(Client::connect(proxy.addr).await.unwrap());
    let (mut events, stop, task) = run_member(
        member_client.clone(),
        options(Commit::Auto(Duration::from_millis(50))),
    );
    let mut records = Vec::new();
    assert_eq!(
        until_assigned(&mut events, &mut records).await,
        BTreeSet::from([0, 1])
    );
    records_until(&mut events, &mut records, 10).await;
    proxy.sever();
    produce(&admin, 10).await;
    // The session outlives the cut: no rebalance, and the subscriptions resume exactly.
    records_until(&mut events, &mut records, 20).await;
    records.sort_unstable();
    let expected: Vec<(u32, u64)> = (0..2u32)
        .flat_map(|p| (0..10u64).map(move |o| (p, o)))
        .collect();
    assert_eq!(records, expected);
    assert!(member_client.reconnects() >= 1);
    stop.send(()).unwrap();
    task.await.unwrap();
    server.stop().await;
}
