//! `/api/v1/streams`: list (what the caller may describe), create, describe (per partition:
//! offsets, bytes), change the settings that can change live, delete.

use std::sync::Arc;

use axum::extract::rejection::JsonRejection;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::Json;
use memstream_engine::access::Action as Needs;
use memstream_engine::streams::{
    Alterable, Effective, NewStream, SettingChange, SettingsOverrides, StreamError,
};
use serde::{Deserialize, Serialize};

use super::auth::Caller;
use super::error::{ApiError, ApiResult};
use crate::state::Shared;

/// A stream in the list.
#[derive(Serialize)]
pub(crate) struct StreamItem {
    name: String,
    partitions: u32,
    pub storage: memstream_engine::streams::Storage,
    /// Records held (end offset minus start offset, summed over partitions).
    pub records: u64,
    /// Bytes held, in RAM or on disk.
    pub bytes: u64,
    /// Records and bytes appended and served since the server started.
    pub produced_records: u64,
    produced_bytes: u64,
    consumed_records: u64,
    consumed_bytes: u64,
    /// Over the last couple of seconds.
    #[serde(flatten)]
    pub rates: crate::rates::StreamRates,
}

/// `GET /api/v1/streams`.
pub(crate) async fn list(
    State(shared): State<Arc<Shared>>,
    caller: Caller,
) -> ApiResult<Json<serde_json::Value>> {
    Ok(Json(
        serde_json::json!({ "streams": items(&shared, &caller) }),
    ))
}

/// The streams the caller may describe, by name.
pub(crate) fn items(shared: &Shared, caller: &Caller) -> Vec<StreamItem> {
    let streams = &shared.engine.streams;
    streams
        .list()
        .into_iter()
        .filter(|s| caller.may(Needs::DescribeStream(&s.name)))
        .filter_map(|s| {
            // A stream deleted since the listing is skipped.
            let info = streams.describe(&s.name).ok()?;
            let (_, traffic) = crate::rates::stream_totals(streams, &s.name)?;
            Some(StreamItem {
                produced_records: traffic.records_in,
                produced_bytes: traffic.bytes_in,
                consumed_records: traffic.records_out,
                consumed_bytes: traffic.bytes_out,
                rates: shared.rates.of(&s.name),
                records: info
                    .partitions
                    .iter()
                    .map(|p| p.end_offset.saturating_sub(p.start_offset))
                    .sum(),
                bytes: info.partitions.iter().map(|p| p.size_bytes).sum(),
                name: s.name,
                partitions: s.partitions,
                storage: s.storage,
            })
        })
        .collect()
}

/// A partition, described.
#[derive(Serialize)]
struct PartitionItem {
    partition: u32,
    start_offset: u64,
    end_offset: u64,
    durable_offset: u64,
    records: u64,
    bytes: u64,
    /// Segments held, the active one included.
    segments: usize,
    /// The node that leads it and the replicas (this node alone until replication).
    leader: u64,
    replicas: Vec<u64>,
    /// Corrupt data found in this partition's segments (kept on disk, not served).
    corrupt: Vec<CorruptItem>,
}

/// Where a partition's data was found corrupt.
#[derive(Serialize)]
struct CorruptItem {
    from_offset: u64,
    segment: String,
    position: u64,
    reason: String,
}

/// A stream, described.
#[derive(Serialize)]
pub(crate) struct StreamDetail {
    name: String,
    /// A 64-bit id, as a string: JSON numbers past 2^53 lose digits in JavaScript.
    id: String,
    settings: Effective,
    partitions: Vec<PartitionItem>,
}

fn detail(shared: &Shared, name: &str) -> Result<StreamDetail, StreamError> {
    let info = shared.engine.streams.describe(name)?;
    Ok(StreamDetail {
        name: info.name,
        id: info.id.to_string(),
        settings: info.settings,
        partitions: info
            .partitions
            .into_iter()
            .map(|p| PartitionItem {
                partition: p.partition,
                start_offset: p.start_offset,
                end_offset: p.end_offset,
                durable_offset: p.durable_offset,
                records: p.end_offset.saturating_sub(p.start_offset),
                bytes: p.size_bytes,
                segments: p.segments,
                leader: shared.info.node_id,
                replicas: vec![shared.info.node_id],
                corrupt: p
                    .corrupt
                    .into_iter()
                    .map(|c| CorruptItem {
                        from_offset: c.from_offset,
                        segment: c.segment,
                        position: c.position,
                        reason: c.reason,
                    })
                    .collect(),
            })
            .collect(),
    })
}

/// `GET /api/v1/streams/{name}`.
pub(crate) async fn describe(
    State(shared): State<Arc<Shared>>,
    Path(name): Path<String>,
    caller: Caller,
) -> ApiResult<Json<StreamDetail>> {
    caller.check(Needs::DescribeStream(&name))?;
    detail(&shared, &name)
        .map(Json)
        .map_err(|e| ApiError::engine(&e))
}

/// `POST /api/v1/streams` body.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct CreateBody {
    name: String,
    /// 0 or absent: `streams.partitions`.
    #[serde(default)]
    partitions: u32,
    #[serde(default)]
    settings: SettingsOverrides,
}

/// Runs stream administration on the blocking pool (it writes and fsyncs files).
async fn blocking<T: Send + 'static>(
    work: impl FnOnce() -> Result<T, StreamError> + Send + 'static,
) -> ApiResult<T> {
    crate::handler::blocking(work)
        .await
        .map_err(|e| ApiError::engine(&e))
}

/// `POST /api/v1/streams`: 201 with the stream described.
pub(crate) async fn create(
    State(shared): State<Arc<Shared>>,
    caller: Caller,
    body: Result<Json<CreateBody>, JsonRejection>,
) -> ApiResult<(StatusCode, Json<StreamDetail>)> {
    let Json(body) = body?;
    caller.check(Needs::CreateStream(&body.name))?;
    let new = NewStream {
        name: body.name,
        partitions: body.partitions,
        settings: body.settings,
    };
    let cfg = shared.config.load();
    let streams = shared.engine.streams.clone();
    let name = new.name.clone();
    blocking(move || {
        streams
            .create(&new, &cfg.streams, cfg.network.max_frame_bytes)
            .map(drop)
    })
    .await?;
    let described = detail(&shared, &name).map_err(|e| ApiError::engine(&e))?;
    Ok((StatusCode::CREATED, Json(described)))
}

/// `PATCH /api/v1/streams/{name}` body: the settings that change live; `null` takes the
/// `[streams]` default again.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct AlterBody {
    #[serde(default, with = "double_option")]
    retention_bytes: Option<Option<u64>>,
    #[serde(default, with = "double_option")]
    retention_ms: Option<Option<u64>>,
    #[serde(default, with = "double_option")]
    segment_bytes: Option<Option<u64>>,
    #[serde(default, with = "double_option")]
    max_message_bytes: Option<Option<u64>>,
}

/// A field absent (`None`), `null` (`Some(None)`) or a value.
mod double_option {
    use serde::{Deserialize, Deserializer};

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Option<u64>>, D::Error> {
        Option::<u64>::deserialize(d).map(Some)
    }
}

/// `PATCH /api/v1/streams/{name}`: the stream described with its new settings.
pub(crate) async fn alter(
    State(shared): State<Arc<Shared>>,
    Path(name): Path<String>,
    caller: Caller,
    body: Result<Json<AlterBody>, JsonRejection>,
) -> ApiResult<Json<StreamDetail>> {
    let Json(body) = body?;
    caller.check(Needs::AlterStreamConfigs(&name))?;
    let changes: Vec<SettingChange> = [
        (Alterable::RetentionBytes, body.retention_bytes),
        (Alterable::RetentionMs, body.retention_ms),
        (Alterable::SegmentBytes, body.segment_bytes),
        (Alterable::MaxMessageBytes, body.max_message_bytes),
    ]
    .into_iter()
    .filter_map(|(setting, value)| value.map(|value| SettingChange { setting, value }))
    .collect();
    if changes.is_empty() {
        return Err(ApiError::bad_parameter(
            "body",
            "no setting to change (retention_bytes, retention_ms, segment_bytes, max_message_bytes)",
        ));
    }
    let cfg = shared.config.load();
    let streams = shared.engine.streams.clone();
    let target = name.clone();
    blocking(move || {
        streams
            .alter(&target, &changes, &cfg.streams, cfg.network.max_frame_bytes)
            .map(drop)
    })
    .await?;
    detail(&shared, &name)
        .map(Json)
        .map_err(|e| ApiError::engine(&e))
}

/// `DELETE /api/v1/streams/{name}`: 204; the groups' offsets of it are dropped too.
pub(crate) async fn delete(
    State(shared): State<Arc<Shared>>,
    Path(name): Path<String>,
    caller: Caller,
) -> ApiResult<StatusCode> {
    caller.check(Needs::DeleteStream(&name))?;
    let streams = shared.engine.streams.clone();
    let target = name.clone();
    let id = blocking(move || streams.delete(&target)).await?;
    shared.engine.groups.forget_stream(&name, id);
    Ok(StatusCode::NO_CONTENT)
}
