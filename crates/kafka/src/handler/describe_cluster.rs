//! DescribeCluster: one node, this broker, which is also the controller. Without an
//! authorizer every client may do everything, so the authorized operations (when asked for)
//! are every operation Kafka defines on a cluster.

use std::sync::Arc;

use memstream_kafka_wire::describe_cluster::{
    self, Broker, DescribeClusterRequest, DescribeClusterResponse, AUTHORIZED_OPERATIONS_OMITTED,
};
use memstream_kafka_wire::ErrorCode;

use super::{allowed, denied_message, Action, Conn, Pending, Reply};
use crate::server::Context;

/// Kafka's ACL operation codes that apply to the cluster resource: ALTER (7), DESCRIBE (8),
/// CLUSTER_ACTION (9), DESCRIBE_CONFIGS (10), ALTER_CONFIGS (11), IDEMPOTENT_WRITE (12),
/// CREATE (5), CREATE_TOKENS (13), DESCRIBE_TOKENS (14); bit `n` set for operation `n`.
const CLUSTER_OPERATIONS: i32 =
    1 << 5 | 1 << 7 | 1 << 8 | 1 << 9 | 1 << 10 | 1 << 11 | 1 << 12 | 1 << 13 | 1 << 14;

pub(super) fn handle(
    req: DescribeClusterRequest,
    ctx: &Arc<Context>,
    conn: &Conn,
    reply: Reply,
) -> Option<Pending> {
    let (host, port) = ctx.advertised();
    // Kafka: DESCRIBE on the cluster.
    if !allowed(ctx, &conn.session, Action::DescribeCluster) {
        let resp = DescribeClusterResponse {
            throttle_time_ms: 0,
            error_code: ErrorCode::CLUSTER_AUTHORIZATION_FAILED,
            error_message: Some(denied_message("cluster", memstream_auth::acl::CLUSTER_NAME)),
            endpoint_type: req.endpoint_type,
            cluster_id: String::new(),
            controller_id: -1,
            brokers: Vec::new(),
            cluster_authorized_operations: AUTHORIZED_OPERATIONS_OMITTED,
        };
        let mut w = reply.writer();
        describe_cluster::encode(&mut w, reply.version(), &resp);
        return reply.now(w);
    }
    let resp = DescribeClusterResponse {
        throttle_time_ms: 0,
        error_code: ErrorCode::NONE,
        error_message: None,
        endpoint_type: req.endpoint_type,
        cluster_id: ctx.cluster_id.clone(),
        controller_id: ctx.node_id,
        brokers: vec![Broker {
            broker_id: ctx.node_id,
            host,
            port,
            rack: None,
        }],
        cluster_authorized_operations: if req.include_cluster_authorized_operations {
            CLUSTER_OPERATIONS
        } else {
            AUTHORIZED_OPERATIONS_OMITTED
        },
    };
    let mut w = reply.writer();
    describe_cluster::encode(&mut w, reply.version(), &resp);
    reply.now(w)
}
