//! CreatePartitions: grows a stream to `count` partitions (`Streams::add_partitions`), never
//! shrinks it (INVALID_PARTITIONS). New partitions are placed by the broker, the only one:
//! manual assignments are INVALID_REPLICA_ASSIGNMENT. `validate_only` runs the checks and
//! grows nothing. Server limits (`streams.max_partitions_per_stream`,
//! `streams.max_partitions_total`) answer POLICY_VIOLATION.

use std::sync::Arc;

use memstream_kafka_wire::create_partitions::{
    self, CreatePartitionsRequest, CreatePartitionsResponse, CreatePartitionsTopic, TopicResult,
};
use memstream_kafka_wire::ErrorCode;

use super::{allowed, blocking, denied_message, Action, Conn, Pending, Reply};
use crate::errors::admin_error;
use crate::server::Context;

pub(super) fn handle(
    req: CreatePartitionsRequest,
    ctx: &Arc<Context>,
    conn: &Conn,
    reply: Reply,
) -> Option<Pending> {
    let ctx = ctx.clone();
    let session = conn.session.clone();
    Some(Box::pin(async move {
        let named = super::name_counts(req.topics.iter().map(|t| t.name.as_str()));
        let mut results = Vec::with_capacity(req.topics.len());
        for topic in &req.topics {
            let outcome = if named.get(topic.name.as_str()).is_some_and(|&n| n > 1) {
                Err((
                    ErrorCode::INVALID_REQUEST,
                    format!("topic `{}` is named more than once", topic.name),
                ))
            } else if !allowed(&ctx, &session, Action::AlterStream(&topic.name)) {
                Err((
                    ErrorCode::TOPIC_AUTHORIZATION_FAILED,
                    denied_message("topic", &topic.name),
                ))
            } else {
                grow(&ctx, topic, req.validate_only).await
            };
            let (error_code, error_message) = match outcome {
                Ok(()) => (ErrorCode::NONE, None),
                Err((code, message)) => (code, Some(message)),
            };
            results.push(TopicResult {
                name: topic.name.clone(),
                error_code,
                error_message,
            });
        }
        let resp = CreatePartitionsResponse {
            throttle_time_ms: 0,
            results,
        };
        let mut w = reply.writer();
        create_partitions::encode(&mut w, reply.version(), &resp);
        Some(reply.finish(w))
    }))
}

async fn grow(
    ctx: &Arc<Context>,
    topic: &CreatePartitionsTopic,
    validate_only: bool,
) -> Result<(), (ErrorCode, String)> {
    if topic.assignments.is_some() {
        return Err((
            ErrorCode::INVALID_REPLICA_ASSIGNMENT,
            "manual replica assignment is not supported: this server is a single node".into(),
        ));
    }
    let count = u32::try_from(topic.count).map_err(|_| {
        (
            ErrorCode::INVALID_PARTITIONS,
            format!("count {} is not positive", topic.count),
        )
    })?;
    let (streams, live, name) = (
        ctx.engine.streams.clone(),
        ctx.settings.clone(),
        topic.name.clone(),
    );
    let done = blocking(move || {
        let cfg = live.streams();
        if validate_only {
            streams.check_add_partitions(&name, count, &cfg)
        } else {
            streams.add_partitions(&name, count, &cfg)
        }
    })
    .await
    .ok_or_else(|| {
        (
            ErrorCode::UNKNOWN_SERVER_ERROR,
            "the task adding partitions failed".to_owned(),
        )
    })?;
    match done {
        Ok(from) => {
            if !validate_only {
                tracing::info!(
                    topic = topic.name,
                    from,
                    to = count,
                    "partitions added (CreatePartitions)"
                );
            }
            Ok(())
        }
        Err(e) => {
            tracing::info!(topic = topic.name, error = %e, validate_only, "CreatePartitions refused");
            Err(admin_error(&e))
        }
    }
}
