//! IncrementalAlterConfigs: SET and DELETE of a topic's alterable configurations
//! (`topic_config::alter_changes`), applied live and stored by `Streams::alter`; DELETE takes
//! the `[streams]` default in force. `validate_only` checks and changes nothing. APPEND,
//! SUBTRACT, broker resources and other resource types are INVALID_REQUEST (broker
//! configuration comes from the server's configuration file).

use std::sync::Arc;

use memstream_kafka_wire::describe_configs::resource_type;
use memstream_kafka_wire::incremental_alter_configs::{
    self, AlterConfigsResource, IncrementalAlterConfigsRequest, IncrementalAlterConfigsResponse,
    ResourceResult,
};
use memstream_kafka_wire::ErrorCode;

use super::{allowed, blocking, denied_message, Action, Conn, Pending, Reply};
use crate::errors::admin_error;
use crate::server::Context;
use crate::topic_config;

pub(super) fn handle(
    req: IncrementalAlterConfigsRequest,
    ctx: &Arc<Context>,
    conn: &Conn,
    reply: Reply,
) -> Option<Pending> {
    let ctx = ctx.clone();
    let session = conn.session.clone();
    Some(Box::pin(async move {
        let mut responses = Vec::with_capacity(req.resources.len());
        for resource in req.resources {
            let permitted = match resource.resource_type {
                resource_type::TOPIC => allowed(
                    &ctx,
                    &session,
                    Action::AlterStreamConfigs(&resource.resource_name),
                ),
                _ => true,
            };
            let outcome = match permitted {
                true => alter(&ctx, &resource, req.validate_only).await,
                false => Err((
                    ErrorCode::TOPIC_AUTHORIZATION_FAILED,
                    denied_message("topic", &resource.resource_name),
                )),
            };
            let (error_code, error_message) = match outcome {
                Ok(()) => (ErrorCode::NONE, None),
                Err((code, message)) => (code, Some(message)),
            };
            responses.push(ResourceResult {
                error_code,
                error_message,
                resource_type: resource.resource_type,
                resource_name: resource.resource_name,
            });
        }
        let resp = IncrementalAlterConfigsResponse {
            throttle_time_ms: 0,
            responses,
        };
        let mut w = reply.writer();
        incremental_alter_configs::encode(&mut w, reply.version(), &resp);
        Some(reply.finish(w))
    }))
}

async fn alter(
    ctx: &Arc<Context>,
    resource: &AlterConfigsResource,
    validate_only: bool,
) -> Result<(), (ErrorCode, String)> {
    match resource.resource_type {
        resource_type::TOPIC => {}
        resource_type::BROKER => {
            return Err((
                ErrorCode::INVALID_REQUEST,
                "broker configurations are not dynamic here: they come from the server's \
                 configuration file"
                    .into(),
            ))
        }
        other => {
            return Err((
                ErrorCode::INVALID_REQUEST,
                format!("resource type {other} is not supported (topics: 2)"),
            ))
        }
    }
    let changes = topic_config::alter_changes(&resource.configs).map_err(|r| {
        tracing::info!(
            topic = resource.resource_name,
            why = r.message,
            "IncrementalAlterConfigs refused"
        );
        (r.code, r.message)
    })?;
    let (streams, live, name) = (
        ctx.engine.streams.clone(),
        ctx.settings.clone(),
        resource.resource_name.clone(),
    );
    let done = blocking(move || {
        let (cfg, frame) = (live.streams(), live.max_frame_bytes());
        if validate_only {
            streams.check_alter(&name, &changes, &cfg, frame)
        } else {
            streams.alter(&name, &changes, &cfg, frame)
        }
    })
    .await
    .ok_or_else(|| {
        (
            ErrorCode::UNKNOWN_SERVER_ERROR,
            "the alter task failed".to_owned(),
        )
    })?;
    done.map(|_| ()).map_err(|e| {
        tracing::info!(topic = resource.resource_name, error = %e, validate_only, "IncrementalAlterConfigs refused");
        admin_error(&e)
    })
}
