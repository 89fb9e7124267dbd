//! kill -9 of the real server while producing with `acks = durable` loses no acknowledged
//! record.

use crate::common;

use common::start;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use memstream_client::Client;
use memstream_protocol::batch::{verify, BatchBuilder, Limits, RecordIter, BATCH_HEADER_LEN};
use memstream_protocol::message::{
    Acks, CreateStream, Durability, FetchRequest, FetchResponse, OffsetSpec, PartitionSelector,
    ProduceBatch, ProduceRequest, ProduceResponse, StorageKind, StreamSettings,
};
use memstream_protocol::Request;

const WAIT: Duration = Duration::from_secs(30);
/// Producers running at once, each with its own connection.
const PRODUCERS: usize = 4;
/// Acknowledged batches after which the server is killed.
const ACKED_BEFORE_KILL: usize = 200;

async fn call(
    client: &Client,
    request: Request,
) -> Result<memstream_protocol::Frame, memstream_client::ClientError> {
    client.call(&request).await
}

#[tokio::test]
async fn kill_9_while_producing_durably_loses_no_acknowledged_record() {
    let dir = tempfile::tempdir().unwrap();
    let (mut server, addr) = start(dir.path()).await;
    let admin = Client::connect(addr.as_str()).await.unwrap();
    call(
        &admin,
        Request::CreateStream(CreateStream {
            name: "crash".into(),
            partitions: 2,
            settings: StreamSettings {
                storage: Some(StorageKind::Disk),
                ..StreamSettings::default()
            },
        }),
    )
    .await
    .unwrap();

    // Producers send batches until the connection dies, recording what was acknowledged.
    let (acked_tx, mut acked_rx) = tokio::sync::mpsc::unbounded_channel::<(u32, u64, String)>();
    let mut producers = Vec::new();
    for id in 0..PRODUCERS {
        let client = Arc::new(Client::connect(addr.as_str()).await.unwrap());
        let acked = acked_tx.clone();
        producers.push(tokio::spawn(async move {
            for seq in 0..100_000u32 {
                let value = format!("p{id}-{seq}");
                let mut b = BatchBuilder::default();
                b.push(0, None, value.as_bytes(), &[]);
                let request = Request::Produce(ProduceRequest {
                    stream: "crash".into(),
                    acks: Acks::Durable,
                    batches: vec![ProduceBatch {
                        selector: PartitionSelector::Explicit((id % 2) as u32),
                        batch: b.finish(-1, -1, -1),
                    }],
                });
                let Ok(frame) = call(&client, request).await else {
                    return;
                };
                let result = ProduceResponse::decode(&frame.payload).unwrap().results[0];
                assert_eq!(result.error_code, 0);
                assert_eq!(result.durability, Durability::Durable);
                if acked
                    .send((result.partition, result.base_offset, value))
                    .is_err()
                {
                    return;
                }
            }
        }));
    }
    drop(acked_tx);
    let mut acked = Vec::new();
    while acked.len() < ACKED_BEFORE_KILL {
        acked.push(
            tokio::time::timeout(WAIT, acked_rx.recv())
                .await
                .unwrap()
                .expect("producers run"),
        );
    }
    server.start_kill().expect("SIGKILL");
    server.wait().await.unwrap();
    // Whatever was acknowledged up to the kill counts too.
    for p in producers {
        let _ = tokio::time::timeout(WAIT, p).await;
    }
    while let Ok(more) = acked_rx.try_recv() {
        acked.push(more);
    }

    let (_server, addr) = start(dir.path()).await;
    let client = Client::connect(addr.as_str()).await.unwrap();
    let mut stored = std::collections::HashMap::new();
    for partition in 0..2u32 {
        let mut next = 0;
        loop {
            let frame = call(
                &client,
                Request::Fetch(FetchRequest {
                    stream: "crash".into(),
                    partition,
                    from: OffsetSpec::Offset(next),
                    max_bytes: 1 << 20,
                    max_wait_ms: 0,
                }),
            )
            .await
            .unwrap();
            let resp = FetchResponse::decode(&frame.payload).unwrap();
            if resp.batches.is_empty() {
                break;
            }
            for batch in resp.batches() {
                let h = verify(&batch, Limits::UNLIMITED).unwrap();
                for r in RecordIter::new(&batch[BATCH_HEADER_LEN..], &h) {
                    let r = r.unwrap();
                    stored.insert(
                        (partition, h.base_offset + u64::from(r.offset_delta)),
                        Bytes::copy_from_slice(r.value_bytes()),
                    );
                }
            }
            next = resp.header.next_offset;
        }
    }
    assert!(acked.len() >= ACKED_BEFORE_KILL);
    eprintln!(
        "{} acknowledged, {} stored after the restart",
        acked.len(),
        stored.len()
    );
    for (partition, offset, value) in &acked {
        let got = stored.get(&(*partition, *offset));
        assert_eq!(
            got.map(|b| &b[..]),
            Some(value.as_bytes()),
            "acknowledged record {value} at {partition}/{offset} lost after kill -9"
        );
    }
}

/// Groups committing at once while the server is killed.
const GROUPS: usize = 8;

#[tokio::test]
async fn kill_9_while_groups_commit_loses_no_acknowledged_commit() {
    use memstream_protocol::message::{
        CommitOffsets, FetchOffsets, JoinGroup, Joined, Offsets, PartitionOffset, StreamPartition,
    };
    let dir = tempfile::tempdir().unwrap();
    let (mut server, addr) = start(dir.path()).await;
    let admin = Client::connect(addr.as_str()).await.unwrap();
    call(
        &admin,
        Request::CreateStream(CreateStream {
            name: "c".into(),
            partitions: 1,
            settings: StreamSettings {
                storage: Some(StorageKind::Disk),
                ..StreamSettings::default()
            },
        }),
    )
    .await
    .unwrap();
    // Offsets past the end are reported as nothing committed, so the stream has room.
    let mut b = BatchBuilder::default();
    for _ in 0..1000 {
        b.push(0, None, b"x", &[]);
    }
    let produce = Request::Produce(ProduceRequest {
        stream: "c".into(),
        acks: Acks::Durable,
        batches: vec![ProduceBatch {
            selector: PartitionSelector::Explicit(0),
            batch: b.finish(-1, -1, -1),
        }],
    });
    call(&admin, produce).await.unwrap();

    let (acked_tx, mut acked_rx) = tokio::sync::mpsc::unbounded_channel();
    let mut committers = Vec::new();
    for g in 0..GROUPS {
        let client = Client::connect(addr.as_str()).await.unwrap();
        let acked = acked_tx.clone();
        committers.push(tokio::spawn(async move {
            let group = format!("g{g}");
            let join = Request::JoinGroup(JoinGroup {
                group: group.clone(),
                member_id: String::new(),
                session_timeout_ms: 30_000,
                streams: vec!["c".into()],
            });
            let Ok(frame) = call(&client, join).await else {
                return;
            };
            let me = Joined::decode(&frame.payload).unwrap();
            for offset in 1..=1000u64 {
                let commit = Request::CommitOffsets(CommitOffsets {
                    group: group.clone(),
                    member_id: me.member_id.clone(),
                    generation: me.generation,
                    offsets: vec![PartitionOffset {
                        stream: "c".into(),
                        partition: 0,
                        offset,
                    }],
                });
                if call(&client, commit).await.is_err() {
                    return;
                }
                let _ = acked.send((group.clone(), offset));
            }
        }));
    }
    drop(acked_tx);
    let mut last = std::collections::HashMap::new();
    let mut count = 0;
    while count < 300 {
        let (group, offset) = tokio::time::timeout(WAIT, acked_rx.recv())
            .await
            .unwrap()
            .expect("committers run");
        last.insert(group, offset);
        count += 1;
    }
    server.start_kill().expect("SIGKILL");
    server.wait().await.unwrap();
    for c in committers {
        let _ = tokio::time::timeout(WAIT, c).await;
    }
    while let Ok((group, offset)) = acked_rx.try_recv() {
        last.insert(group, offset);
    }

    let (_server, addr) = start(dir.path()).await;
    let client = Client::connect(addr.as_str()).await.unwrap();
    for (group, acked) in &last {
        let fetch = Request::FetchOffsets(FetchOffsets {
            group: group.clone(),
            partitions: vec![StreamPartition {
                stream: "c".into(),
                partition: 0,
            }],
        });
        let frame = call(&client, fetch).await.unwrap();
        let stored = Offsets::decode(&frame.payload).unwrap().offsets[0].offset;
        // A commit in flight at the kill may have reached the disk unanswered: never less.
        assert!(
            stored >= *acked && stored <= 1000,
            "{group}: acknowledged {acked}, stored {stored}"
        );
    }
}
