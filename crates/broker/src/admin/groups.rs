//! `/api/v1/groups`: list (what the caller may describe), describe (members with client ids
//! and addresses, assignments, committed offsets, lag per partition and in total), delete an
//! empty group with its offsets.

use std::sync::Arc;

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::Json;
use memstream_engine::access::Action as Needs;
use memstream_engine::groups::GroupState;
use serde::Serialize;

use super::auth::Caller;
use super::error::{ApiError, ApiResult};
use crate::state::Shared;

fn state_name(s: GroupState) -> &'static str {
    match s {
        GroupState::Empty => "empty",
        GroupState::Rebalancing => "rebalancing",
        GroupState::AwaitingSync => "awaiting_sync",
        GroupState::Stable => "stable",
    }
}

/// A group in the list.
#[derive(Serialize)]
pub(crate) struct GroupItem {
    name: String,
    /// `consumer` for Kafka groups, empty for native ones.
    protocol_type: String,
    state: &'static str,
    members: usize,
    /// Summed over the committed partitions of streams the caller may describe.
    pub total_lag: u64,
}

/// `GET /api/v1/groups`.
pub(crate) async fn list(
    State(shared): State<Arc<Shared>>,
    caller: Caller,
) -> ApiResult<Json<serde_json::Value>> {
    Ok(Json(
        serde_json::json!({ "groups": items(&shared, &caller) }),
    ))
}

/// The groups the caller may describe, by name, with their members and lag.
pub(crate) fn items(shared: &Shared, caller: &Caller) -> Vec<GroupItem> {
    let groups = &shared.engine.groups;
    groups
        .list_summaries()
        .into_iter()
        .filter(|g| caller.may(Needs::DescribeGroup(&g.group)))
        .filter_map(|g| {
            // A group deleted since the listing is skipped.
            let info = groups.describe(&g.group, &shared.engine.streams).ok()?;
            let total_lag = info
                .partitions
                .iter()
                .filter(|p| caller.may(Needs::DescribeStream(&p.stream)))
                .map(|p| p.lag)
                .sum();
            Some(GroupItem {
                name: g.group,
                protocol_type: g.protocol_type,
                state: state_name(g.state),
                members: info.members.len(),
                total_lag,
            })
        })
        .collect()
}

#[derive(Serialize)]
struct AssignedPartition {
    stream: String,
    partition: u32,
}

#[derive(Serialize)]
struct MemberItem {
    member_id: String,
    /// Kafka members: their `client.id`, address and `group.instance.id`.
    client_id: Option<String>,
    client_host: Option<String>,
    instance_id: Option<String>,
    session_timeout_ms: u32,
    assignment: Vec<AssignedPartition>,
}

#[derive(Serialize)]
struct LagItem {
    stream: String,
    partition: u32,
    committed: Option<u64>,
    end_offset: u64,
    lag: u64,
}

/// A group, described.
#[derive(Serialize)]
pub(crate) struct GroupDetail {
    name: String,
    state: &'static str,
    generation: u32,
    protocol_type: String,
    protocol: String,
    members: Vec<MemberItem>,
    partitions: Vec<LagItem>,
    total_lag: u64,
}

/// `GET /api/v1/groups/{name}`.
pub(crate) async fn describe(
    State(shared): State<Arc<Shared>>,
    Path(name): Path<String>,
    caller: Caller,
) -> ApiResult<Json<GroupDetail>> {
    caller.check(Needs::DescribeGroup(&name))?;
    let info = shared
        .engine
        .groups
        .describe(&name, &shared.engine.streams)
        .map_err(|e| ApiError::engine(&e))?;
    let partitions: Vec<LagItem> = info
        .partitions
        .into_iter()
        // Only the streams the caller may see.
        .filter(|p| caller.may(Needs::DescribeStream(&p.stream)))
        .map(|p| LagItem {
            stream: p.stream,
            partition: p.partition,
            committed: p.committed,
            end_offset: p.end_offset,
            lag: p.lag,
        })
        .collect();
    Ok(Json(GroupDetail {
        name: info.group,
        state: state_name(info.state),
        generation: info.generation,
        protocol_type: info.protocol_type,
        protocol: info.protocol,
        members: info
            .members
            .into_iter()
            .map(|m| MemberItem {
                client_id: m.classic.as_ref().map(|c| c.client_id.clone()),
                client_host: m.classic.as_ref().map(|c| c.client_host.clone()),
                instance_id: m.classic.as_ref().and_then(|c| c.instance_id.clone()),
                member_id: m.member_id,
                session_timeout_ms: m.session_timeout_ms,
                assignment: m
                    .assignment
                    .into_iter()
                    .map(|a| AssignedPartition {
                        stream: a.stream,
                        partition: a.partition,
                    })
                    .collect(),
            })
            .collect(),
        total_lag: partitions.iter().map(|p| p.lag).sum(),
        partitions,
    }))
}

/// `DELETE /api/v1/groups/{name}`: 204 once the deletion is durable; 409 while it has
/// members.
pub(crate) async fn delete(
    State(shared): State<Arc<Shared>>,
    Path(name): Path<String>,
    caller: Caller,
) -> ApiResult<StatusCode> {
    caller.check(Needs::DeleteGroup(&name))?;
    let durable = shared
        .engine
        .groups
        .delete(&name)
        .map_err(|e| ApiError::engine(&e))?;
    match durable.await {
        Ok(Ok(())) => Ok(StatusCode::NO_CONTENT),
        Ok(Err(e)) => Err(ApiError::engine(
            &memstream_engine::groups::GroupError::Storage(e),
        )),
        Err(_) => Err(ApiError::from_code(
            memstream_protocol::ErrorCode::ShuttingDown,
            "the offset store stopped before the deletion was written",
        )),
    }
}

/// Where `PATCH .../offsets` moves a group's offsets.
#[derive(Clone, Copy, Debug, serde::Deserialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub(crate) enum ResetTo {
    /// Each partition's start offset.
    Earliest,
    /// Each partition's end offset (skip everything there now).
    Latest,
    /// `offset`, within each partition's range.
    Offset,
    /// The first record at or after `time`.
    Time,
}

/// `PATCH /api/v1/groups/{name}/offsets` body.
#[derive(Debug, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct Reset {
    stream: String,
    /// Only these partitions (default: every partition of the stream).
    partitions: Option<Vec<u32>>,
    to: ResetTo,
    offset: Option<u64>,
    /// RFC 3339.
    time: Option<String>,
}

/// `PATCH /api/v1/groups/{name}/offsets`: moves an empty group's committed offsets of one
/// stream (READ on the group and the stream, as a commit needs); answers the offsets now
/// committed, once durable. 409 while the group has members.
pub(crate) async fn reset(
    State(shared): State<Arc<Shared>>,
    Path(name): Path<String>,
    caller: Caller,
    body: Result<Json<Reset>, axum::extract::rejection::JsonRejection>,
) -> ApiResult<Json<serde_json::Value>> {
    use memstream_engine::groups::{ClassicCommit, CommitEntry, GroupError, PartitionRef};
    let Json(reset) = body?;
    caller.check(Needs::CommitOffsets {
        group: &name,
        stream: &reset.stream,
    })?;
    let engine = &shared.engine;
    let info = engine
        .groups
        .describe(&name, &engine.streams)
        .map_err(|e| ApiError::engine(&e))?;
    let not_empty = |members: usize| {
        ApiError::from_code(
            memstream_protocol::ErrorCode::GroupNotEmpty,
            format!("group `{name}` has {members} member(s); only an empty group's offsets can be reset"),
        )
    };
    if !info.members.is_empty() {
        return Err(not_empty(info.members.len()));
    }
    let stream = engine
        .streams
        .get(&reset.stream)
        .map_err(|e| ApiError::engine(&e))?;
    let partitions = match reset.partitions {
        Some(list) => list,
        None => (0..stream.partition_count()).collect(),
    };
    let time_ms = match (reset.to, &reset.time, reset.offset) {
        (ResetTo::Time, Some(time), _) => {
            let at = humantime::parse_rfc3339_weak(time)
                .map_err(|e| ApiError::bad_parameter("time", format!("not RFC 3339: {e}")))?;
            Some(
                at.duration_since(std::time::UNIX_EPOCH)
                    .map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX)),
            )
        }
        (ResetTo::Time, None, _) => {
            return Err(ApiError::bad_parameter(
                "time",
                "needed with \"to\": \"time\"",
            ))
        }
        (ResetTo::Offset, _, None) => {
            return Err(ApiError::bad_parameter(
                "offset",
                "needed with \"to\": \"offset\"",
            ))
        }
        _ => None,
    };
    let mut offsets = Vec::with_capacity(partitions.len());
    for p in partitions {
        let log = stream
            .partition(p)
            .map_err(|e| ApiError::engine(&e))?
            .log
            .clone();
        let (start, end) = (log.start_offset(), log.end_offset());
        let offset = match reset.to {
            ResetTo::Earliest => start,
            ResetTo::Latest => end,
            ResetTo::Offset => reset.offset.unwrap_or(start).clamp(start, end),
            ResetTo::Time => {
                let ms = time_ms.unwrap_or(0);
                tokio::task::spawn_blocking(move || log.offset_for_timestamp(ms))
                    .await
                    .map_err(|e| {
                        ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, "INTERNAL", e.to_string())
                    })?
                    .clamp(start, end)
            }
        };
        offsets.push(CommitEntry {
            partition: PartitionRef {
                stream: reset.stream.clone(),
                partition: p,
            },
            offset,
            metadata: None,
        });
    }
    let commit = ClassicCommit {
        group: name.clone(),
        generation: -1,
        member_id: String::new(),
        instance_id: None,
        offsets: offsets.clone(),
    };
    let cfg = shared.config.load();
    let durable = engine
        .groups
        .commit_classic(&commit, &engine.streams, &cfg.groups)
        .map_err(|e| match e {
            // A member joined since the check.
            GroupError::UnknownMember(_) => not_empty(1),
            e => ApiError::engine(&e),
        })?;
    match durable.await {
        Ok(Ok(())) => {}
        Ok(Err(e)) => return Err(ApiError::engine(&GroupError::Storage(e))),
        Err(_) => {
            return Err(ApiError::from_code(
                memstream_protocol::ErrorCode::ShuttingDown,
                "the offset store stopped before the offsets were written",
            ))
        }
    }
    tracing::info!(group = %name, stream = %reset.stream, to = ?reset.to, peer = %caller.peer, "group offsets reset through the admin API");
    let offsets: Vec<serde_json::Value> = offsets
        .into_iter()
        .map(|e| {
            serde_json::json!({
                "stream": e.partition.stream,
                "partition": e.partition.partition,
                "offset": e.offset,
            })
        })
        .collect();
    Ok(Json(serde_json::json!({ "offsets": offsets })))
}
