//! InitProducerId: a fresh producer id from the engine (durable, never reused, shared with
//! native producers) and epoch 0. An existing producer asking for a bump (KIP-360) also gets
//! a fresh id, which fences its old one as well. Transactional producers are refused: this
//! broker has no transactions.

use std::sync::Arc;

use memstream_kafka_wire::init_producer_id::{self, InitProducerIdRequest};
use memstream_kafka_wire::ErrorCode;

use super::{allowed, blocking, Action, Conn, Pending, Reply};
use crate::errors::stream_code;
use crate::server::Context;

pub(super) fn handle(
    req: InitProducerIdRequest,
    ctx: &Arc<Context>,
    conn: &Conn,
    reply: Reply,
) -> Option<Pending> {
    if let Some(id) = &req.transactional_id {
        tracing::info!(transactional_id = %id, "InitProducerId for a transactional producer refused: transactions are not supported");
        let mut w = reply.writer();
        init_producer_id::encode(
            &mut w,
            ErrorCode::TRANSACTIONAL_ID_AUTHORIZATION_FAILED,
            -1,
            -1,
        );
        return reply.now(w);
    }
    // Kafka 3: IDEMPOTENT_WRITE on the cluster, or WRITE on some topic.
    if !allowed(ctx, &conn.session, Action::IdempotentWrite) {
        let mut w = reply.writer();
        init_producer_id::encode(&mut w, ErrorCode::CLUSTER_AUTHORIZATION_FAILED, -1, -1);
        return reply.now(w);
    }
    let streams = ctx.engine.streams.clone();
    Some(Box::pin(async move {
        let (error, id) = match blocking(move || streams.init_producer()).await {
            Some(Ok(id)) => (ErrorCode::NONE, id),
            Some(Err(e)) => {
                tracing::warn!(error = %e, "InitProducerId failed");
                (stream_code(&e), -1)
            }
            None => (ErrorCode::UNKNOWN_SERVER_ERROR, -1),
        };
        let epoch = if id >= 0 { 0 } else { -1 };
        let mut w = reply.writer();
        init_producer_id::encode(&mut w, error, id, epoch);
        Some(reply.finish(w))
    }))
}
