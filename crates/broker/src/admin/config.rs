//! `/api/v1/config`: the running configuration with each value's origin (default, file,
//! environment variable or flag) and whether it changes live (DESCRIBE on the cluster), and
//! `POST /api/v1/config/reload`: re-read the sources and the TLS certificates, as SIGHUP does
//! (ALTER on the cluster).

use std::sync::Arc;

use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use memstream_engine::access::Action as Needs;
use serde::Serialize;

use super::auth::Caller;
use super::error::{ApiError, ApiResult};
use crate::state::Shared;

#[derive(Serialize)]
struct Entry {
    key: &'static str,
    value: serde_json::Value,
    /// `default`, `file PATH`, `env NAME` or `flag --NAME`.
    origin: String,
    /// Whether a reload applies a new value (else it needs a restart).
    live: bool,
}

/// `GET /api/v1/config`.
pub(crate) async fn show(
    State(shared): State<Arc<Shared>>,
    caller: Caller,
) -> ApiResult<Json<serde_json::Value>> {
    caller.check(Needs::DescribeCluster)?;
    let config = &shared.config;
    let entries: Vec<Entry> = config
        .entries()
        .into_iter()
        .map(|(key, value, live)| Entry {
            key,
            value: serde_json::to_value(&value).unwrap_or(serde_json::Value::Null),
            origin: config.origin(key).to_string(),
            live,
        })
        .collect();
    let file = config
        .sources()
        .file
        .as_ref()
        .map(|f| f.display().to_string());
    Ok(Json(serde_json::json!({ "file": file, "keys": entries })))
}

/// `POST /api/v1/config/reload`: what was applied and what needs a restart, or why the
/// file was refused (400 naming the key; the running configuration stays).
pub(crate) async fn reload(
    State(shared): State<Arc<Shared>>,
    caller: Caller,
) -> ApiResult<Json<serde_json::Value>> {
    caller.check(Needs::AlterCluster)?;
    let target = shared.clone();
    let reloaded = tokio::task::spawn_blocking(move || {
        for tls in target.tls.all() {
            let _ = tls.reload();
        }
        target.config.reload()
    })
    .await
    .map_err(|e| ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, "INTERNAL", e.to_string()))?;
    match reloaded {
        Ok(report) => Ok(Json(serde_json::json!({
            "applied": report.applied,
            "needs_restart": report.needs_restart,
        }))),
        Err(e) => Err(ApiError::new(
            StatusCode::BAD_REQUEST,
            "INVALID_CONFIG",
            e.to_string(),
        )),
    }
}
