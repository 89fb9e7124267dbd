//! Kafka's classic group membership, translated to the engine's groups: FindCoordinator
//! (this broker coordinates every group), JoinGroup, SyncGroup, Heartbeat and LeaveGroup.
//! The leader's assignment passes through as sent; for the `consumer` protocol the
//! subscribed topics and assigned partitions are also decoded so that `memstream group
//! describe` shows members, partitions and lag.

use std::sync::Arc;

use memstream_engine::groups::{
    ClassicAssignment, ClassicJoin, ClassicSync, GroupError, PartitionRef,
};
use memstream_kafka_wire::consumer_protocol;
use memstream_kafka_wire::find_coordinator::{
    self, Coordinator, FindCoordinatorRequest, FindCoordinatorResponse,
};
use memstream_kafka_wire::heartbeat::{self, HeartbeatRequest, HeartbeatResponse};
use memstream_kafka_wire::join_group::{
    self, JoinGroupMember, JoinGroupRequest, JoinGroupResponse,
};
use memstream_kafka_wire::leave_group::{self, LeaveGroupRequest, LeaveGroupResponse, LeftMember};
use memstream_kafka_wire::sync_group::{self, SyncGroupRequest, SyncGroupResponse};
use memstream_kafka_wire::ErrorCode;

use super::{allowed, denied_message, Action, Client, Conn, Pending, Reply};
use crate::errors::group_code;
use crate::server::Context;

/// The protocol type whose metadata and assignments the broker can read.
const CONSUMER: &str = "consumer";

pub(super) fn find_coordinator(
    req: FindCoordinatorRequest,
    ctx: &Arc<Context>,
    conn: &Conn,
    reply: Reply,
) -> Option<Pending> {
    let (host, port) = ctx.advertised();
    let coordinators = req
        .keys
        .into_iter()
        .map(|key| match req.key_type {
            // Kafka: DESCRIBE on the group.
            0 if !allowed(ctx, &conn.session, Action::DescribeGroup(&key)) => Coordinator {
                error_message: Some(denied_message("group", &key)),
                key,
                node_id: -1,
                host: String::new(),
                port: -1,
                error_code: ErrorCode::GROUP_AUTHORIZATION_FAILED,
            },
            0 => Coordinator {
                key,
                node_id: ctx.node_id,
                host: host.clone(),
                port,
                error_code: ErrorCode::NONE,
                error_message: None,
            },
            _ => Coordinator {
                key,
                node_id: -1,
                host: String::new(),
                port: -1,
                error_code: ErrorCode::COORDINATOR_NOT_AVAILABLE,
                error_message: Some("transactions are not supported by this broker".into()),
            },
        })
        .collect();
    let mut w = reply.writer();
    find_coordinator::encode(
        &mut w,
        reply.version(),
        &FindCoordinatorResponse {
            throttle_time_ms: 0,
            coordinators,
        },
    );
    reply.now(w)
}

fn join_error(req: &JoinGroupRequest, error: ErrorCode) -> JoinGroupResponse {
    JoinGroupResponse {
        throttle_time_ms: 0,
        error_code: error,
        generation_id: -1,
        protocol_type: None,
        protocol_name: None,
        leader: String::new(),
        skip_assignment: false,
        member_id: req.member_id.clone(),
        members: Vec::new(),
    }
}

pub(super) fn join(
    req: JoinGroupRequest,
    ctx: &Arc<Context>,
    conn: &Conn,
    reply: Reply,
    client: &Client,
) -> Option<Pending> {
    if !allowed(ctx, &conn.session, Action::UseGroup(&req.group_id)) {
        let mut w = reply.writer();
        let resp = join_error(&req, ErrorCode::GROUP_AUTHORIZATION_FAILED);
        join_group::encode(&mut w, reply.version(), &resp);
        return reply.now(w);
    }
    let streams = match req.protocol_type.as_str() {
        CONSUMER => req
            .protocols
            .first()
            .and_then(|p| consumer_protocol::subscription_topics(&p.metadata).ok())
            .unwrap_or_default(),
        _ => Vec::new(),
    };
    let join = ClassicJoin {
        group: req.group_id.clone(),
        member_id: req.member_id.clone(),
        instance_id: req.group_instance_id.clone(),
        session_timeout_ms: u32::try_from(req.session_timeout_ms).unwrap_or(0),
        rebalance_timeout_ms: u32::try_from(req.rebalance_timeout_ms).unwrap_or(0),
        protocol_type: req.protocol_type.clone(),
        protocols: req
            .protocols
            .iter()
            .map(|p| (p.name.clone(), p.metadata.clone()))
            .collect(),
        streams,
        client_id: client.client_id.clone(),
        client_host: client.host.clone(),
    };
    let waiting = ctx
        .engine
        .groups
        .join_classic(join, &ctx.engine.streams, &ctx.settings.groups());
    let shutdown = ctx.shutdown.clone();
    Some(Box::pin(async move {
        let resp = match waiting {
            Err(e) => {
                log_refusal("JoinGroup", &req.group_id, &e);
                join_error(&req, group_code(&e))
            }
            Ok(rx) => tokio::select! {
                joined = rx => match joined {
                    Ok(Ok(j)) => JoinGroupResponse {
                        throttle_time_ms: 0,
                        error_code: ErrorCode::NONE,
                        generation_id: i32::try_from(j.generation).unwrap_or(i32::MAX),
                        protocol_type: Some(j.protocol_type),
                        protocol_name: Some(j.protocol),
                        leader: j.leader,
                        skip_assignment: false,
                        member_id: j.member_id,
                        members: j
                            .members
                            .into_iter()
                            .map(|(member_id, group_instance_id, metadata)| JoinGroupMember {
                                member_id,
                                group_instance_id,
                                metadata,
                            })
                            .collect(),
                    },
                    Ok(Err(e)) => join_error(&req, group_code(&e)),
                    Err(_) => join_error(&req, ErrorCode::COORDINATOR_NOT_AVAILABLE),
                },
                () = shutdown.cancelled() => join_error(&req, ErrorCode::COORDINATOR_NOT_AVAILABLE),
            },
        };
        let mut w = reply.writer();
        join_group::encode(&mut w, reply.version(), &resp);
        Some(reply.finish(w))
    }))
}

pub(super) fn sync(
    req: SyncGroupRequest,
    ctx: &Arc<Context>,
    conn: &Conn,
    reply: Reply,
) -> Option<Pending> {
    if !allowed(ctx, &conn.session, Action::UseGroup(&req.group_id)) {
        let mut w = reply.writer();
        let resp = SyncGroupResponse {
            throttle_time_ms: 0,
            error_code: ErrorCode::GROUP_AUTHORIZATION_FAILED,
            protocol_type: req.protocol_type.clone(),
            protocol_name: req.protocol_name.clone(),
            assignment: bytes::Bytes::new(),
        };
        sync_group::encode(&mut w, reply.version(), &resp);
        return reply.now(w);
    }
    let consumer = req.protocol_type.as_deref().is_none_or(|t| t == CONSUMER);
    let assignments = req
        .assignments
        .iter()
        .map(|a| ClassicAssignment {
            member_id: a.member_id.clone(),
            bytes: a.assignment.clone(),
            partitions: if consumer {
                consumer_protocol::assignment_partitions(&a.assignment)
                    .unwrap_or_default()
                    .into_iter()
                    .filter_map(|(stream, p)| {
                        Some(PartitionRef {
                            stream,
                            partition: u32::try_from(p).ok()?,
                        })
                    })
                    .collect()
            } else {
                Vec::new()
            },
        })
        .collect();
    let waiting = match u32::try_from(req.generation_id) {
        Ok(generation) => ctx.engine.groups.sync_classic(ClassicSync {
            group: req.group_id.clone(),
            generation,
            member_id: req.member_id.clone(),
            instance_id: req.group_instance_id.clone(),
            assignments,
        }),
        Err(_) => Err(GroupError::StaleGeneration {
            group: req.group_id.clone(),
            got: 0,
            current: 0,
        }),
    };
    let shutdown = ctx.shutdown.clone();
    Some(Box::pin(async move {
        let (error, assignment) = match waiting {
            Err(e) => {
                log_refusal("SyncGroup", &req.group_id, &e);
                (group_code(&e), bytes::Bytes::new())
            }
            Ok(rx) => tokio::select! {
                synced = rx => match synced {
                    Ok(Ok(bytes)) => (ErrorCode::NONE, bytes),
                    Ok(Err(e)) => (group_code(&e), bytes::Bytes::new()),
                    Err(_) => (ErrorCode::COORDINATOR_NOT_AVAILABLE, bytes::Bytes::new()),
                },
                () = shutdown.cancelled() => (ErrorCode::COORDINATOR_NOT_AVAILABLE, bytes::Bytes::new()),
            },
        };
        let mut w = reply.writer();
        sync_group::encode(
            &mut w,
            reply.version(),
            &SyncGroupResponse {
                throttle_time_ms: 0,
                error_code: error,
                protocol_type: req.protocol_type.clone(),
                protocol_name: req.protocol_name.clone(),
                assignment,
            },
        );
        Some(reply.finish(w))
    }))
}

pub(super) fn heartbeat(
    req: HeartbeatRequest,
    ctx: &Arc<Context>,
    conn: &Conn,
    reply: Reply,
) -> Option<Pending> {
    let result = match u32::try_from(req.generation_id) {
        _ if !allowed(ctx, &conn.session, Action::UseGroup(&req.group_id)) => Ok(false),
        Ok(generation) => ctx
            .engine
            .groups
            .heartbeat_classic(
                &req.group_id,
                &req.member_id,
                req.group_instance_id.as_deref(),
                generation,
            )
            .map(|()| true),
        Err(_) => Err(GroupError::StaleGeneration {
            group: req.group_id.clone(),
            got: 0,
            current: 0,
        }),
    };
    let error = match result {
        Ok(true) => ErrorCode::NONE,
        Ok(false) => ErrorCode::GROUP_AUTHORIZATION_FAILED,
        // Kafka answers a heartbeat for a group it does not know with UNKNOWN_MEMBER_ID.
        Err(GroupError::NotFound(_)) => ErrorCode::UNKNOWN_MEMBER_ID,
        Err(e) => group_code(&e),
    };
    let mut w = reply.writer();
    heartbeat::encode(
        &mut w,
        reply.version(),
        &HeartbeatResponse {
            throttle_time_ms: 0,
            error_code: error,
        },
    );
    reply.now(w)
}

pub(super) fn leave(
    req: LeaveGroupRequest,
    ctx: &Arc<Context>,
    conn: &Conn,
    reply: Reply,
) -> Option<Pending> {
    if !allowed(ctx, &conn.session, Action::UseGroup(&req.group_id)) {
        let mut w = reply.writer();
        let resp = LeaveGroupResponse {
            throttle_time_ms: 0,
            error_code: ErrorCode::GROUP_AUTHORIZATION_FAILED,
            members: Vec::new(),
        };
        leave_group::encode(&mut w, reply.version(), &resp);
        return reply.now(w);
    }
    let members = req
        .members
        .into_iter()
        .map(|m| {
            let result = ctx.engine.groups.leave_classic(
                &req.group_id,
                &m.member_id,
                m.group_instance_id.as_deref(),
                &ctx.engine.streams,
            );
            LeftMember {
                member_id: m.member_id,
                group_instance_id: m.group_instance_id,
                error_code: match result {
                    Ok(()) => ErrorCode::NONE,
                    Err(GroupError::NotFound(_)) => ErrorCode::UNKNOWN_MEMBER_ID,
                    Err(e) => group_code(&e),
                },
            }
        })
        .collect();
    let mut w = reply.writer();
    leave_group::encode(
        &mut w,
        reply.version(),
        &LeaveGroupResponse {
            throttle_time_ms: 0,
            error_code: ErrorCode::NONE,
            members,
        },
    );
    reply.now(w)
}

/// Expected refusals (rebalances, stale generations) at debug, the rest at info.
fn log_refusal(api: &'static str, group: &str, e: &GroupError) {
    match e {
        GroupError::RebalanceInProgress(_)
        | GroupError::StaleGeneration { .. }
        | GroupError::UnknownMember(_) => tracing::debug!(api, group, error = %e, "refused"),
        _ => tracing::info!(api, group, error = %e, "refused"),
    }
}
