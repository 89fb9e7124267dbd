//! ListGroups, DescribeGroups and DeleteGroups over the engine's groups (native groups are
//! listed too, with an empty protocol type, as Kafka lists groups of other protocols).

use std::sync::Arc;

use memstream_engine::groups::{GroupError, GroupState};
use memstream_kafka_wire::delete_groups::{
    self, DeleteGroupsRequest, DeleteGroupsResponse, DeletedGroup,
};
use memstream_kafka_wire::describe_groups::{
    self, DescribeGroupsRequest, DescribeGroupsResponse, DescribedGroup, DescribedMember,
    AUTHORIZED_OPERATIONS_OMITTED,
};
use memstream_kafka_wire::list_groups::{self, ListGroupsRequest, ListGroupsResponse, ListedGroup};
use memstream_kafka_wire::ErrorCode;

use super::{allowed, Action, Conn, Pending, Reply};
use crate::errors::group_code;
use crate::server::Context;

/// Kafka's name for a group state.
fn state_name(state: GroupState) -> &'static str {
    match state {
        GroupState::Empty => "Empty",
        GroupState::Rebalancing => "PreparingRebalance",
        GroupState::AwaitingSync => "CompletingRebalance",
        GroupState::Stable => "Stable",
    }
}

pub(super) fn list(
    req: ListGroupsRequest,
    ctx: &Arc<Context>,
    conn: &Conn,
    reply: Reply,
) -> Option<Pending> {
    // Kafka: the groups the principal may describe (all of them with DESCRIBE on the cluster).
    let every = allowed(ctx, &conn.session, Action::DescribeCluster);
    let groups = ctx
        .engine
        .groups
        .list_summaries()
        .into_iter()
        .filter(|g| every || allowed(ctx, &conn.session, Action::DescribeGroup(&g.group)))
        .filter(|g| {
            req.states_filter.is_empty()
                || req
                    .states_filter
                    .iter()
                    .any(|s| s.eq_ignore_ascii_case(state_name(g.state)))
        })
        .map(|g| ListedGroup {
            group_id: g.group,
            protocol_type: g.protocol_type,
            group_state: state_name(g.state).to_owned(),
        })
        .collect();
    let mut w = reply.writer();
    list_groups::encode(
        &mut w,
        reply.version(),
        &ListGroupsResponse {
            throttle_time_ms: 0,
            error_code: ErrorCode::NONE,
            groups,
        },
    );
    reply.now(w)
}

pub(super) fn describe(
    req: DescribeGroupsRequest,
    ctx: &Arc<Context>,
    conn: &Conn,
    reply: Reply,
) -> Option<Pending> {
    let groups = req
        .groups
        .into_iter()
        .map(|name| {
            if !allowed(ctx, &conn.session, Action::DescribeGroup(&name)) {
                return DescribedGroup {
                    error_code: ErrorCode::GROUP_AUTHORIZATION_FAILED,
                    group_id: name,
                    group_state: String::new(),
                    protocol_type: String::new(),
                    protocol_data: String::new(),
                    members: Vec::new(),
                    authorized_operations: AUTHORIZED_OPERATIONS_OMITTED,
                };
            }
            match ctx.engine.groups.describe(&name, &ctx.engine.streams) {
                Ok(info) => DescribedGroup {
                    error_code: ErrorCode::NONE,
                    group_id: info.group,
                    group_state: state_name(info.state).to_owned(),
                    protocol_type: info.protocol_type,
                    protocol_data: info.protocol,
                    members: info
                        .members
                        .into_iter()
                        .map(|m| {
                            let classic = m.classic.unwrap_or_else(|| {
                                memstream_engine::groups::ClassicMemberInfo {
                                    client_id: String::new(),
                                    client_host: String::new(),
                                    instance_id: None,
                                    metadata: bytes::Bytes::new(),
                                    assignment: bytes::Bytes::new(),
                                }
                            });
                            DescribedMember {
                                member_id: m.member_id,
                                group_instance_id: classic.instance_id,
                                client_id: classic.client_id,
                                client_host: classic.client_host,
                                member_metadata: classic.metadata,
                                member_assignment: classic.assignment,
                            }
                        })
                        .collect(),
                    authorized_operations: AUTHORIZED_OPERATIONS_OMITTED,
                },
                // Kafka describes a group it does not know as Dead, without an error.
                Err(GroupError::NotFound(_)) => DescribedGroup {
                    error_code: ErrorCode::NONE,
                    group_id: name,
                    group_state: "Dead".to_owned(),
                    protocol_type: String::new(),
                    protocol_data: String::new(),
                    members: Vec::new(),
                    authorized_operations: AUTHORIZED_OPERATIONS_OMITTED,
                },
                Err(e) => DescribedGroup {
                    error_code: group_code(&e),
                    group_id: name,
                    group_state: String::new(),
                    protocol_type: String::new(),
                    protocol_data: String::new(),
                    members: Vec::new(),
                    authorized_operations: AUTHORIZED_OPERATIONS_OMITTED,
                },
            }
        })
        .collect();
    let mut w = reply.writer();
    describe_groups::encode(
        &mut w,
        reply.version(),
        &DescribeGroupsResponse {
            throttle_time_ms: 0,
            groups,
        },
    );
    reply.now(w)
}

pub(super) fn delete(
    req: DeleteGroupsRequest,
    ctx: &Arc<Context>,
    conn: &Conn,
    reply: Reply,
) -> Option<Pending> {
    // `None`: refused by an ACL (Kafka: DELETE on the group).
    let queued: Vec<_> = req
        .groups_names
        .into_iter()
        .map(|name| {
            let result = allowed(ctx, &conn.session, Action::DeleteGroup(&name))
                .then(|| ctx.engine.groups.delete(&name));
            (name, result)
        })
        .collect();
    Some(Box::pin(async move {
        let mut results = Vec::with_capacity(queued.len());
        for (group_id, result) in queued {
            let error_code = match result {
                None => ErrorCode::GROUP_AUTHORIZATION_FAILED,
                Some(Ok(durable)) => match durable.await {
                    Ok(Ok(())) => ErrorCode::NONE,
                    _ => ErrorCode::COORDINATOR_NOT_AVAILABLE,
                },
                Some(Err(GroupError::NotFound(_))) => ErrorCode::GROUP_ID_NOT_FOUND,
                Some(Err(e)) => group_code(&e),
            };
            results.push(DeletedGroup {
                group_id,
                error_code,
            });
        }
        let mut w = reply.writer();
        delete_groups::encode(
            &mut w,
            reply.version(),
            &DeleteGroupsResponse {
                throttle_time_ms: 0,
                results,
            },
        );
        Some(reply.finish(w))
    }))
}
