//! DeleteTopics: deletes each named stream and its data, then drops the consumer groups'
//! offsets of it, as the native STREAM_DELETE does. Topics are named by name: this broker
//! hands out no topic ids (Metadata reports the zero id), so a topic named by id (v6+) is
//! UNKNOWN_TOPIC_ID.

use std::sync::Arc;

use memstream_kafka_wire::delete_topics::{
    self, DeleteTopic, DeleteTopicsRequest, DeleteTopicsResponse, TopicResult,
};
use memstream_kafka_wire::ErrorCode;

use super::{allowed, blocking, denied_message, Action, Conn, Pending, Reply, Session};
use crate::errors::stream_code;
use crate::server::Context;

pub(super) fn handle(
    req: DeleteTopicsRequest,
    ctx: &Arc<Context>,
    conn: &Conn,
    reply: Reply,
) -> Option<Pending> {
    let ctx = ctx.clone();
    let session = conn.session.clone();
    Some(Box::pin(async move {
        let mut responses = Vec::with_capacity(req.topics.len());
        for topic in req.topics {
            responses.push(delete(&ctx, &session, topic).await);
        }
        let resp = DeleteTopicsResponse {
            throttle_time_ms: 0,
            responses,
        };
        let mut w = reply.writer();
        delete_topics::encode(&mut w, reply.version(), &resp);
        Some(reply.finish(w))
    }))
}

async fn delete(ctx: &Arc<Context>, session: &Session, topic: DeleteTopic) -> TopicResult {
    let failed = |name: Option<String>, error_code: ErrorCode, message: String| TopicResult {
        name,
        topic_id: topic.topic_id.unwrap_or_default(),
        error_code,
        error_message: Some(message),
    };
    let name = match (topic.topic_id, topic.name) {
        (Some(_), name) => {
            return failed(
                name,
                ErrorCode::UNKNOWN_TOPIC_ID,
                "this broker has no topic ids: name the topic".into(),
            )
        }
        (None, Some(name)) => name,
        (None, None) => {
            return failed(
                None,
                ErrorCode::INVALID_REQUEST,
                "neither a name nor an id".into(),
            )
        }
    };
    if !allowed(ctx, session, Action::DeleteStream(&name)) {
        let message = denied_message("topic", &name);
        return failed(Some(name), ErrorCode::TOPIC_AUTHORIZATION_FAILED, message);
    }
    let streams = ctx.engine.streams.clone();
    let deleted = blocking({
        let name = name.clone();
        move || streams.delete(&name)
    })
    .await;
    match deleted {
        Some(Ok(id)) => {
            ctx.engine.groups.forget_stream(&name, id);
            tracing::info!(topic = name, "topic deleted (DeleteTopics)");
            TopicResult {
                name: Some(name),
                topic_id: [0; 16],
                error_code: ErrorCode::NONE,
                error_message: None,
            }
        }
        Some(Err(e)) => {
            tracing::info!(topic = name, error = %e, "DeleteTopics refused");
            let message = e.to_string();
            failed(Some(name), stream_code(&e), message)
        }
        None => failed(
            Some(name),
            ErrorCode::UNKNOWN_SERVER_ERROR,
            "the deletion task failed".into(),
        ),
    }
}
