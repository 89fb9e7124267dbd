//! CreateTopics: each topic becomes a stream with `num_partitions` partitions (-1:
//! `kafka.default_partitions`) and the stream settings its configs map to (`topic_config`).
//! This is one node: the replication factor must be 1 (or -1) and manual replica assignments
//! are refused. `validate_only` runs every check the engine would and creates nothing. From
//! v5 the response carries the partitions, replication factor and configurations the topic
//! got (or would get).

use std::sync::Arc;

use memstream_engine::streams::{Effective, NewStream, StreamMeta};
use memstream_kafka_wire::create_topics::{
    self, CreatableTopic, CreateTopicsRequest, CreateTopicsResponse, TopicResult,
};
use memstream_kafka_wire::{create_topics::ConfigEntry, ErrorCode};

use super::{allowed, blocking, denied_message, Action, Conn, Pending, Reply};
use crate::errors::admin_error;
use crate::server::Context;
use crate::topic_config;

pub(super) fn handle(
    req: CreateTopicsRequest,
    ctx: &Arc<Context>,
    conn: &Conn,
    reply: Reply,
) -> Option<Pending> {
    let ctx = ctx.clone();
    let session = conn.session.clone();
    Some(Box::pin(async move {
        let named = super::name_counts(req.topics.iter().map(|t| t.name.as_str()));
        let mut topics = Vec::with_capacity(req.topics.len());
        for topic in &req.topics {
            let result = if named.get(topic.name.as_str()).is_some_and(|&n| n > 1) {
                Err((
                    ErrorCode::INVALID_REQUEST,
                    format!("topic `{}` is named more than once", topic.name),
                ))
            } else if !allowed(&ctx, &session, Action::CreateStream(&topic.name)) {
                Err((
                    ErrorCode::TOPIC_AUTHORIZATION_FAILED,
                    denied_message("topic", &topic.name),
                ))
            } else {
                create(&ctx, topic, req.validate_only).await
            };
            topics.push(answer(topic.name.clone(), result));
        }
        let resp = CreateTopicsResponse {
            throttle_time_ms: 0,
            topics,
        };
        let mut w = reply.writer();
        create_topics::encode(&mut w, reply.version(), &resp);
        Some(reply.finish(w))
    }))
}

/// What a created (or validated) topic got.
struct Created {
    partitions: u32,
    meta: StreamMeta,
}

/// Checks `topic` and creates it unless `validate_only`.
async fn create(
    ctx: &Arc<Context>,
    topic: &CreatableTopic,
    validate_only: bool,
) -> Result<Created, (ErrorCode, String)> {
    if !topic.assignments.is_empty() {
        return Err((
            ErrorCode::INVALID_REPLICA_ASSIGNMENT,
            "manual replica assignment is not supported: this server is a single node".into(),
        ));
    }
    if !matches!(topic.replication_factor, -1 | 1) {
        return Err((
            ErrorCode::INVALID_REPLICATION_FACTOR,
            format!(
                "replication factor {} is not possible: this server is a single node (use 1 \
                 or -1)",
                topic.replication_factor
            ),
        ));
    }
    let partitions = match topic.num_partitions {
        -1 => ctx.settings.kafka().default_partitions,
        n => u32::try_from(n).ok().filter(|&n| n > 0).ok_or_else(|| {
            (
                ErrorCode::INVALID_PARTITIONS,
                format!("num_partitions {n} is not positive (or -1 for the default)"),
            )
        })?,
    };
    let settings = topic_config::create_overrides(
        topic
            .configs
            .iter()
            .map(|c| (c.name.as_str(), c.value.as_deref())),
    )
    .map_err(|r| (r.code, r.message))?;
    let new = NewStream {
        name: topic.name.clone(),
        partitions,
        settings,
    };
    let (streams, live) = (ctx.engine.streams.clone(), ctx.settings.clone());
    let done = blocking(move || {
        let (cfg, frame) = (live.streams(), live.max_frame_bytes());
        if validate_only {
            streams
                .check_create(&new, &cfg, frame)
                .map(|(partitions, settings)| Created {
                    partitions,
                    meta: meta_of(&new, partitions, settings),
                })
        } else {
            streams.create(&new, &cfg, frame).map(|s| Created {
                partitions: s.partition_count(),
                meta: s.meta().as_ref().clone(),
            })
        }
    })
    .await
    .ok_or_else(|| {
        (
            ErrorCode::UNKNOWN_SERVER_ERROR,
            "the creation task failed".to_owned(),
        )
    })?;
    match done {
        Ok(created) => {
            if !validate_only {
                tracing::info!(
                    topic = topic.name,
                    partitions = created.partitions,
                    "topic created (CreateTopics)"
                );
            }
            Ok(created)
        }
        Err(e) => {
            tracing::info!(topic = topic.name, error = %e, validate_only, "CreateTopics refused");
            Err(admin_error(&e))
        }
    }
}

/// The definition a validated topic would have.
fn meta_of(new: &NewStream, partitions: u32, settings: Effective) -> StreamMeta {
    StreamMeta {
        name: new.name.clone(),
        id: 0,
        partitions,
        settings,
        overrides: new.settings.clone(),
    }
}

fn answer(name: String, result: Result<Created, (ErrorCode, String)>) -> TopicResult {
    match result {
        Ok(created) => TopicResult {
            name,
            topic_id: [0; 16],
            error_code: ErrorCode::NONE,
            error_message: None,
            topic_config_error_code: ErrorCode::NONE,
            num_partitions: created.partitions as i32,
            replication_factor: 1,
            configs: Some(
                topic_config::describe(&created.meta)
                    .into_iter()
                    .map(|d| ConfigEntry {
                        name: d.config.name().to_owned(),
                        value: Some(d.value),
                        read_only: d.config.read_only(),
                        config_source: d.source,
                        is_sensitive: false,
                    })
                    .collect(),
            ),
        },
        Err((error_code, message)) => TopicResult {
            name,
            topic_id: [0; 16],
            error_code,
            error_message: Some(message),
            topic_config_error_code: ErrorCode::NONE,
            num_partitions: -1,
            replication_factor: -1,
            configs: None,
        },
    }
}
