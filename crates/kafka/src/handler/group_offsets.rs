//! OffsetCommit and OffsetFetch on the engine's offset store, with Kafka's metadata string
//! kept beside each offset. Commits are answered once durable (group-committed with every
//! other commit, native ones included).

use std::sync::Arc;

use memstream_engine::groups::{ClassicCommit, CommitEntry, PartitionRef};
use memstream_kafka_wire::offset_commit::{
    self, CommitPartitionResult, CommitTopicResult, OffsetCommitRequest, OffsetCommitResponse,
};
use memstream_kafka_wire::offset_fetch::{
    self, OffsetFetchGroupResult, OffsetFetchPartition, OffsetFetchRequest, OffsetFetchResponse,
    OffsetFetchTopicResult,
};
use memstream_kafka_wire::ErrorCode;

use super::{allowed, Action, Conn, Pending, Reply};
use crate::errors::group_code;
use crate::server::Context;

pub(super) fn commit(
    req: OffsetCommitRequest,
    ctx: &Arc<Context>,
    conn: &Conn,
    reply: Reply,
) -> Option<Pending> {
    // Kafka: READ on the group, then READ on each topic.
    let group_permitted = allowed(ctx, &conn.session, Action::UseGroup(&req.group_id));
    // Per-partition refusals first: unknown topics and partitions, negative offsets.
    let mut results: Vec<(String, Vec<(i32, ErrorCode)>)> = Vec::with_capacity(req.topics.len());
    let mut entries = Vec::new();
    for topic in &req.topics {
        let stream = ctx.engine.streams.get(&topic.name).ok();
        let topic_permitted = group_permitted
            && allowed(
                ctx,
                &conn.session,
                Action::CommitOffsets {
                    group: &req.group_id,
                    stream: &topic.name,
                },
            );
        let mut partitions = Vec::with_capacity(topic.partitions.len());
        for p in &topic.partitions {
            if !topic_permitted {
                let error = match group_permitted {
                    false => ErrorCode::GROUP_AUTHORIZATION_FAILED,
                    true => ErrorCode::TOPIC_AUTHORIZATION_FAILED,
                };
                partitions.push((p.partition_index, error));
                continue;
            }
            let known = stream
                .as_ref()
                .zip(u32::try_from(p.partition_index).ok())
                .is_some_and(|(s, i)| s.partition(i).is_ok());
            let error = match (known, u64::try_from(p.committed_offset)) {
                (false, _) => ErrorCode::UNKNOWN_TOPIC_OR_PARTITION,
                (true, Err(_)) => ErrorCode::INVALID_COMMIT_OFFSET_SIZE,
                (true, Ok(offset)) => {
                    entries.push(CommitEntry {
                        partition: PartitionRef {
                            stream: topic.name.clone(),
                            partition: p.partition_index as u32,
                        },
                        offset,
                        metadata: p.committed_metadata.clone(),
                    });
                    ErrorCode::NONE
                }
            };
            partitions.push((p.partition_index, error));
        }
        results.push((topic.name.clone(), partitions));
    }
    let commit = ClassicCommit {
        group: req.group_id.clone(),
        generation: req.generation_id,
        member_id: req.member_id.clone(),
        instance_id: req.group_instance_id.clone(),
        offsets: entries,
    };
    let queued =
        ctx.engine
            .groups
            .commit_classic(&commit, &ctx.engine.streams, &ctx.settings.groups());
    Some(Box::pin(async move {
        let outcome = match queued {
            Ok(durable) => match durable.await {
                Ok(Ok(())) => ErrorCode::NONE,
                Ok(Err(e)) => {
                    tracing::warn!(group = %req.group_id, error = %e, "offset commit not stored");
                    ErrorCode::COORDINATOR_NOT_AVAILABLE
                }
                Err(_) => ErrorCode::COORDINATOR_NOT_AVAILABLE,
            },
            Err(e) => {
                tracing::debug!(group = %req.group_id, error = %e, "offset commit refused");
                group_code(&e)
            }
        };
        let topics = results
            .into_iter()
            .map(|(name, partitions)| CommitTopicResult {
                name,
                partitions: partitions
                    .into_iter()
                    .map(|(partition_index, error)| CommitPartitionResult {
                        partition_index,
                        error_code: if error == ErrorCode::NONE {
                            outcome
                        } else {
                            error
                        },
                    })
                    .collect(),
            })
            .collect();
        let mut w = reply.writer();
        offset_commit::encode(
            &mut w,
            reply.version(),
            &OffsetCommitResponse {
                throttle_time_ms: 0,
                topics,
            },
        );
        Some(reply.finish(w))
    }))
}

pub(super) fn fetch(
    req: OffsetFetchRequest,
    ctx: &Arc<Context>,
    conn: &Conn,
    reply: Reply,
) -> Option<Pending> {
    let session = &conn.session;
    let groups = req
        .groups
        .into_iter()
        .map(|g| {
            // Kafka: DESCRIBE on the group, then topics filtered by DESCRIBE.
            if !allowed(ctx, session, Action::FetchOffsets(&g.group_id)) {
                return OffsetFetchGroupResult {
                    group_id: g.group_id,
                    topics: Vec::new(),
                    error_code: ErrorCode::GROUP_AUTHORIZATION_FAILED,
                };
            }
            let every = g.topics.is_none();
            // Null topics: every partition the group has committed.
            let asked: Vec<PartitionRef> = match &g.topics {
                Some(topics) => topics
                    .iter()
                    .flat_map(|t| {
                        t.partition_indexes.iter().map(|&p| PartitionRef {
                            stream: t.name.clone(),
                            partition: u32::try_from(p).unwrap_or(u32::MAX),
                        })
                    })
                    .collect(),
                None => ctx.engine.groups.committed_partitions(&g.group_id),
            };
            let positions =
                ctx.engine
                    .groups
                    .fetch_offsets(&g.group_id, &asked, &ctx.engine.streams);
            let mut topics: Vec<OffsetFetchTopicResult> = Vec::new();
            for pos in positions {
                let permitted = allowed(ctx, session, Action::DescribeStream(&pos.stream));
                if !permitted && every {
                    continue;
                }
                let partition = OffsetFetchPartition {
                    partition_index: i32::try_from(pos.partition).unwrap_or(-1),
                    // As committed, as from Kafka, even outside the retained range: the
                    // client's fetch then gets OFFSET_OUT_OF_RANGE and it applies
                    // auto.offset.reset.
                    committed_offset: match permitted {
                        true => pos.committed.map_or(-1, |o| o as i64),
                        false => -1,
                    },
                    committed_leader_epoch: -1,
                    metadata: Some(pos.metadata.filter(|_| permitted).unwrap_or_default()),
                    error_code: match permitted {
                        true => ErrorCode::NONE,
                        false => ErrorCode::TOPIC_AUTHORIZATION_FAILED,
                    },
                };
                match topics.last_mut() {
                    Some(t) if t.name == pos.stream => t.partitions.push(partition),
                    _ => topics.push(OffsetFetchTopicResult {
                        name: pos.stream,
                        partitions: vec![partition],
                    }),
                }
            }
            OffsetFetchGroupResult {
                group_id: g.group_id,
                topics,
                error_code: ErrorCode::NONE,
            }
        })
        .collect();
    let mut w = reply.writer();
    offset_fetch::encode(
        &mut w,
        reply.version(),
        &OffsetFetchResponse {
            throttle_time_ms: 0,
            groups,
        },
    );
    reply.now(w)
}
