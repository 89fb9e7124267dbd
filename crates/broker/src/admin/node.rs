//! `GET /api/v1/node`: which server this is (name, version, node id), how long it has run,
//! where it listens and with what security; `GET /health` and `GET /metrics`.

use std::sync::Arc;

use axum::extract::State;
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use memstream_engine::access::Action as Needs;
use serde::Serialize;

use super::auth::Caller;
use super::error::{ApiError, ApiResult};
use crate::state::Shared;

#[derive(Serialize)]
struct Listener {
    address: String,
    tls: bool,
}

#[derive(Serialize)]
struct Listeners {
    native: Option<Listener>,
    kafka: Option<Listener>,
    admin: Option<Listener>,
}

/// This node.
#[derive(Serialize)]
pub(crate) struct Node {
    name: &'static str,
    version: &'static str,
    node_id: u64,
    started_ms: u64,
    uptime_ms: u64,
    listeners: Listeners,
    security: bool,
    /// `standalone` until clustering exists.
    role: &'static str,
}

/// `GET /api/v1/node`: DESCRIBE on the cluster.
pub(crate) async fn node(
    State(shared): State<Arc<Shared>>,
    caller: Caller,
) -> ApiResult<Json<Node>> {
    caller.check(Needs::DescribeCluster)?;
    let info = &shared.info;
    let tls = &shared.tls;
    let listener = |addr: Option<std::net::SocketAddr>, tls: bool| {
        addr.map(|a| Listener {
            address: a.to_string(),
            tls,
        })
    };
    Ok(Json(Node {
        name: info.name,
        version: info.version,
        node_id: info.node_id,
        started_ms: info.started_ms,
        uptime_ms: u64::try_from(info.started.elapsed().as_millis()).unwrap_or(u64::MAX),
        listeners: Listeners {
            native: listener(info.listeners.native, tls.native.is_some()),
            kafka: listener(info.listeners.kafka, tls.kafka.is_some()),
            admin: listener(info.listeners.admin, tls.admin.is_some()),
        },
        security: shared.engine.access.enabled(),
        role: "standalone",
    }))
}

/// `GET /health`: open to everyone (load balancers, orchestrators); 503 while shutting
/// down.
pub(crate) async fn health(State(shared): State<Arc<Shared>>) -> Response {
    if shared.shutdown.is_cancelled() {
        return ApiError::from_code(memstream_protocol::ErrorCode::ShuttingDown, "shutting down")
            .into_response();
    }
    (StatusCode::OK, "ok\n").into_response()
}

/// `GET /metrics`: Prometheus text; DESCRIBE on the cluster.
pub(crate) async fn metrics(
    State(shared): State<Arc<Shared>>,
    caller: Caller,
) -> ApiResult<Response> {
    caller.check(Needs::DescribeCluster)?;
    let mut text = shared.metrics.render()
        + &shared.engine.streams.render_sync_metrics()
        + &shared.engine.groups.render_metrics()
        + &shared.engine.access.render_metrics();
    shared.kafka_metrics.render(&mut text);
    crate::series::render(&shared, &mut text);
    Ok((
        [(
            header::CONTENT_TYPE,
            "text/plain; version=0.0.4; charset=utf-8",
        )],
        text,
    )
        .into_response())
}

/// `GET /api/v1/cluster`: the members and their roles. One standalone node until
/// replication; DESCRIBE on the cluster.
pub(crate) async fn cluster(
    State(shared): State<Arc<Shared>>,
    caller: Caller,
) -> ApiResult<Json<serde_json::Value>> {
    caller.check(Needs::DescribeCluster)?;
    let info = &shared.info;
    Ok(Json(serde_json::json!({
        "mode": "standalone",
        "nodes": [{
            "node_id": info.node_id,
            "role": "standalone",
            "native": info.listeners.native.map(|a| a.to_string()),
            "kafka": info.listeners.kafka.map(|a| a.to_string()),
            "healthy": !shared.shutdown.is_cancelled(),
        }],
    })))
}
