//! Metadata: this broker is the leader (and the only replica) of every partition. Asking for
//! a missing topic creates it when both the client (`allow_auto_topic_creation`) and
//! `kafka.auto_create_topics` allow it, with `kafka.default_partitions` partitions.

use std::sync::Arc;

use memstream_engine::streams::{NewStream, SettingsOverrides, StreamError};
use memstream_kafka_wire::metadata::{
    self, Broker, MetadataRequest, MetadataResponse, Partition, Topic,
};
use memstream_kafka_wire::ErrorCode;

use super::{allowed, blocking, Action, Conn, Pending, Reply};
use crate::errors::stream_code;
use crate::server::Context;

pub(super) fn handle(
    req: MetadataRequest,
    ctx: &Arc<Context>,
    conn: &Conn,
    reply: Reply,
) -> Option<Pending> {
    let ctx = ctx.clone();
    let session = conn.session.clone();
    Some(Box::pin(async move {
        let topics = match req.topics {
            // All topics: only those the principal may describe, as in Kafka.
            None => {
                let mut all = ctx.engine.streams.list();
                all.retain(|s| allowed(&ctx, &session, Action::DescribeStream(&s.name)));
                all.sort_by(|a, b| a.name.cmp(&b.name));
                all.into_iter()
                    .map(|s| topic(&ctx, s.name, Ok(s.partitions)))
                    .collect()
            }
            Some(names) => {
                let mut topics = Vec::with_capacity(names.len());
                for name in names {
                    let found = if allowed(&ctx, &session, Action::DescribeStream(&name)) {
                        // Auto-creation needs CREATE as well (on the cluster or the topic).
                        let create = req.allow_auto_topic_creation
                            && allowed(&ctx, &session, Action::CreateStream(&name));
                        partitions_of(&ctx, &name, create).await
                    } else {
                        Err(ErrorCode::TOPIC_AUTHORIZATION_FAILED)
                    };
                    topics.push(topic(&ctx, name, found));
                }
                topics
            }
        };
        let (host, port) = ctx.advertised();
        let resp = MetadataResponse {
            brokers: vec![Broker {
                node_id: ctx.node_id,
                host,
                port,
            }],
            cluster_id: ctx.cluster_id.clone(),
            controller_id: ctx.node_id,
            topics,
        };
        let mut w = reply.writer();
        metadata::encode(&mut w, reply.version(), &resp);
        Some(reply.finish(w))
    }))
}

/// The partition count of `name`, creating the topic when allowed.
async fn partitions_of(
    ctx: &Arc<Context>,
    name: &str,
    client_allows: bool,
) -> Result<u32, ErrorCode> {
    match ctx.engine.streams.get(name) {
        Ok(stream) => return Ok(stream.partitions().len() as u32),
        Err(StreamError::NotFound(_)) => {}
        Err(e) => return Err(stream_code(&e)),
    }
    let cfg = ctx.settings.kafka();
    if !(client_allows && cfg.auto_create_topics) {
        return Err(ErrorCode::UNKNOWN_TOPIC_OR_PARTITION);
    }
    let (streams, settings) = (ctx.engine.streams.clone(), ctx.settings.clone());
    let new = NewStream {
        name: name.to_owned(),
        partitions: cfg.default_partitions,
        settings: SettingsOverrides::default(),
    };
    let created =
        blocking(move || streams.create(&new, &settings.streams(), settings.max_frame_bytes()))
            .await;
    match created {
        Some(Ok(stream)) => {
            tracing::info!(
                topic = name,
                partitions = stream.partitions().len(),
                "topic auto-created (Metadata)"
            );
            Ok(stream.partitions().len() as u32)
        }
        // Another request created it first.
        Some(Err(StreamError::AlreadyExists(_))) => ctx
            .engine
            .streams
            .get(name)
            .map(|s| s.partitions().len() as u32)
            .map_err(|e| stream_code(&e)),
        Some(Err(e)) => {
            tracing::warn!(topic = name, error = %e, "topic auto-creation failed");
            Err(stream_code(&e))
        }
        None => Err(ErrorCode::UNKNOWN_SERVER_ERROR),
    }
}

fn topic(ctx: &Context, name: String, partitions: Result<u32, ErrorCode>) -> Topic {
    match partitions {
        Ok(n) => Topic {
            error: ErrorCode::NONE,
            name,
            partitions: (0..n)
                .map(|p| Partition {
                    error: ErrorCode::NONE,
                    index: p as i32,
                    leader_id: ctx.node_id,
                    leader_epoch: 0,
                    replicas: vec![ctx.node_id],
                })
                .collect(),
        },
        Err(error) => Topic {
            error,
            name,
            partitions: Vec::new(),
        },
    }
}
