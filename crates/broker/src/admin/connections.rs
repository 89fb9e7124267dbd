//! `/api/v1/connections`: every open native and Kafka connection (protocol, peer, client
//! name, principal, age, bytes in and out, requests, subscriptions), DESCRIBE on the cluster;
//! `DELETE /api/v1/connections/{id}` closes one (ALTER on the cluster): it is told GOODBYE
//! (native) or stops being read (Kafka), and what it has in flight is answered first.

use std::sync::atomic::Ordering;
use std::sync::Arc;

use axum::extract::rejection::PathRejection;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::Json;
use memstream_engine::access::Action as Needs;
use serde::Serialize;

use super::auth::Caller;
use super::error::{ApiError, ApiResult};
use crate::state::Shared;

#[derive(Serialize)]
struct ConnectionItem {
    id: u64,
    protocol: &'static str,
    peer: Option<String>,
    tls: bool,
    /// The native client's name from HELLO, or the Kafka `client.id`.
    client: String,
    /// `User:<name>` once known (`User:ANONYMOUS` with security off).
    principal: String,
    opened_ms: u64,
    age_ms: u64,
    bytes_in: u64,
    bytes_out: u64,
    requests: u64,
    subscriptions: u32,
}

/// `GET /api/v1/connections`: oldest first.
pub(crate) async fn list(
    State(shared): State<Arc<Shared>>,
    caller: Caller,
) -> ApiResult<Json<serde_json::Value>> {
    caller.check(Needs::DescribeCluster)?;
    let connections: Vec<ConnectionItem> = shared
        .connections
        .list()
        .into_iter()
        .map(|c| ConnectionItem {
            id: c.id,
            protocol: c.protocol.name(),
            peer: c.peer.map(|p| p.to_string()),
            tls: c.tls,
            client: c.client(),
            principal: c.principal(),
            opened_ms: c.opened_ms,
            age_ms: u64::try_from(c.opened.elapsed().as_millis()).unwrap_or(u64::MAX),
            bytes_in: c.bytes_in.load(Ordering::Relaxed),
            bytes_out: c.bytes_out.load(Ordering::Relaxed),
            requests: c.requests.load(Ordering::Relaxed),
            subscriptions: c.subscriptions.load(Ordering::Relaxed),
        })
        .collect();
    Ok(Json(serde_json::json!({ "connections": connections })))
}

/// `DELETE /api/v1/connections/{id}`: 202, the close is under way.
pub(crate) async fn close(
    State(shared): State<Arc<Shared>>,
    path: Result<Path<u64>, PathRejection>,
    caller: Caller,
) -> ApiResult<StatusCode> {
    let Path(id) = path?;
    caller.check(Needs::AlterCluster)?;
    let conn = shared.connections.get(id).ok_or_else(|| {
        ApiError::new(
            StatusCode::NOT_FOUND,
            "CONNECTION_NOT_FOUND",
            format!("no open connection {id}"),
        )
    })?;
    tracing::info!(id, peer = ?conn.peer, client = %conn.client(), by = %caller.peer, "closing a connection on request (admin API)");
    conn.close();
    Ok(StatusCode::ACCEPTED)
}
