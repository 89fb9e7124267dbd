//! `/api/v1/streams/{name}/partitions/{p}/records`: GET reads a page of records (from an
//! offset, from a time, or the latest), filtered on a key or value substring, bounded by
//! `admin.max_page_records` and `admin.max_page_bytes`; POST produces one record (for
//! testing). Reading needs READ on the stream, producing WRITE.

use std::sync::Arc;

use axum::extract::rejection::{JsonRejection, PathRejection, QueryRejection};
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::Json;
use bytes::Bytes;
use memstream_engine::access::Action as Needs;
use memstream_engine::streams::{AppendLimits, Placement, StreamError};
use memstream_protocol::batch::{
    check_envelope, records, BatchBuilder, RecordIter, NO_PRODUCER_ID,
};
use serde::{Deserialize, Serialize};

use super::auth::Caller;
use super::error::{ApiError, ApiResult};
use crate::state::Shared;

/// How values (and keys and header values) are shown.
#[derive(Clone, Copy, Debug, Default, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub(crate) enum Format {
    /// JSON when the bytes parse as JSON, else UTF-8 text when they are, else hex.
    #[default]
    Auto,
    /// JSON, else hex.
    Json,
    /// UTF-8 text, else hex.
    Utf8,
    /// Hex.
    Hex,
}

/// The query of `GET .../records`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct PageQuery {
    /// The first offset; without it and without `time`, the page ends at the partition's end.
    offset: Option<u64>,
    /// An RFC 3339 time: the page starts at the first record at or after it.
    time: Option<String>,
    /// Records wanted (default 50, at most `admin.max_page_records`).
    limit: Option<u32>,
    /// Only records whose key contains this (as UTF-8).
    key: Option<String>,
    /// Only records whose value contains this (as UTF-8).
    value: Option<String>,
    #[serde(default)]
    format: Format,
}

/// Bytes as the page shows them.
#[derive(Serialize)]
struct Shown {
    /// `json`, `utf8` or `hex`: how `data` is to be read.
    encoding: &'static str,
    data: serde_json::Value,
    /// Length in bytes, as stored.
    size: usize,
}

fn show(bytes: &[u8], format: Format) -> Shown {
    let text = || std::str::from_utf8(bytes).ok();
    let json = || serde_json::from_slice::<serde_json::Value>(bytes).ok();
    let (encoding, data) = match format {
        Format::Auto => match (json(), text()) {
            (Some(v), _) if !bytes.is_empty() => ("json", v),
            (_, Some(t)) => ("utf8", serde_json::Value::String(t.to_owned())),
            _ => ("hex", hex(bytes)),
        },
        Format::Json => json().map_or_else(|| ("hex", hex(bytes)), |v| ("json", v)),
        Format::Utf8 => text().map_or_else(
            || ("hex", hex(bytes)),
            |t| ("utf8", serde_json::Value::String(t.to_owned())),
        ),
        Format::Hex => ("hex", hex(bytes)),
    };
    Shown {
        encoding,
        data,
        size: bytes.len(),
    }
}

fn hex(bytes: &[u8]) -> serde_json::Value {
    use std::fmt::Write as _;
    let mut s = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        let _ = write!(s, "{b:02x}");
    }
    serde_json::Value::String(s)
}

#[derive(Serialize)]
struct HeaderItem {
    name: String,
    value: Option<Shown>,
}

#[derive(Serialize)]
struct RecordItem {
    offset: u64,
    timestamp_ms: u64,
    /// The same time in RFC 3339 (UTC, milliseconds).
    timestamp: String,
    key: Option<Shown>,
    /// `null` for a tombstone.
    value: Option<Shown>,
    headers: Vec<HeaderItem>,
}

/// A page of records.
#[derive(Serialize)]
pub(crate) struct Page {
    stream: String,
    partition: u32,
    start_offset: u64,
    end_offset: u64,
    /// Where the page started reading.
    from_offset: u64,
    /// Where the next page starts (after the last record read, matching or not).
    next_offset: u64,
    records: Vec<RecordItem>,
}

fn rfc3339(ms: u64) -> String {
    let t = std::time::UNIX_EPOCH + std::time::Duration::from_millis(ms);
    humantime::format_rfc3339_millis(t).to_string()
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    needle.is_empty() || haystack.windows(needle.len()).any(|w| w == needle)
}

/// `GET /api/v1/streams/{name}/partitions/{p}/records`.
pub(crate) async fn page(
    State(shared): State<Arc<Shared>>,
    path: Result<Path<(String, u32)>, PathRejection>,
    caller: Caller,
    query: Result<Query<PageQuery>, QueryRejection>,
) -> ApiResult<Json<Page>> {
    let Path((name, partition)) = path?;
    let Query(q) = query?;
    caller.check(Needs::Consume(&name))?;
    let cfg = shared.config.load();
    let limit = q
        .limit
        .unwrap_or(50)
        .clamp(1, cfg.admin.max_page_records.max(1)) as usize;
    let budget = cfg.admin.max_page_bytes as usize;
    let decompressed_max =
        usize::try_from(cfg.streams.max_decompressed_batch_bytes).unwrap_or(usize::MAX);
    let stream = shared
        .engine
        .streams
        .get(&name)
        .map_err(|e| ApiError::engine(&e))?;
    let part = stream
        .partition(partition)
        .map_err(|e| ApiError::engine(&e))?;
    let log = part.log.clone();
    let (start, end) = (log.start_offset(), log.end_offset());
    let from = match (q.offset, &q.time) {
        (Some(_), Some(_)) => {
            return Err(ApiError::bad_parameter(
                "time",
                "give offset or time, not both",
            ))
        }
        (Some(offset), None) => offset.clamp(start, end),
        (None, Some(time)) => {
            let at = humantime::parse_rfc3339_weak(time)
                .map_err(|e| ApiError::bad_parameter("time", format!("not RFC 3339: {e}")))?;
            let ms = at
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX));
            let search = log.clone();
            tokio::task::spawn_blocking(move || search.offset_for_timestamp(ms))
                .await
                .map_err(|e| {
                    ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, "INTERNAL", e.to_string())
                })?
                .clamp(start, end)
        }
        (None, None) => end.saturating_sub(limit as u64).max(start),
    };
    let key_filter = q.key.as_deref().map(str::as_bytes);
    let value_filter = q.value.as_deref().map(str::as_bytes);
    let mut out = Vec::new();
    let mut next = from;
    let mut read_bytes = 0usize;
    'pages: while out.len() < limit && next < end && read_bytes < budget {
        let fetched = memstream_engine::streams::read_off_runtime(&log, next, budget - read_bytes)
            .await
            .map_err(|e| ApiError::engine(&StreamError::from(e)))?;
        if fetched.batches.is_empty() {
            break;
        }
        for batch in &fetched.batches {
            read_bytes += batch.len();
            let malformed = |e: &dyn std::fmt::Display| {
                ApiError::from_code(memstream_protocol::ErrorCode::CorruptData, e.to_string())
            };
            let h = check_envelope(batch).map_err(|e| malformed(&e))?;
            let body = records(batch, &h, decompressed_max).map_err(|e| malformed(&e))?;
            let mut iter = RecordIter::new(&body, &h);
            while let Some(r) = iter.next_checked(usize::MAX).map_err(|e| malformed(&e))? {
                let offset = h.base_offset.saturating_add(u64::from(r.offset_delta));
                if offset < next {
                    continue;
                }
                next = offset + 1;
                let wanted = key_filter.is_none_or(|k| r.key.is_some_and(|key| contains(key, k)))
                    && value_filter.is_none_or(|v| contains(r.value_bytes(), v));
                if !wanted {
                    continue;
                }
                out.push(RecordItem {
                    offset,
                    timestamp_ms: r.timestamp_ms,
                    timestamp: rfc3339(r.timestamp_ms),
                    key: r.key.map(|k| show(k, q.format)),
                    value: r.value.map(|v| show(v, q.format)),
                    headers: r
                        .headers()
                        .map(|h| HeaderItem {
                            name: h.name.to_owned(),
                            value: h.value.map(|v| show(v, q.format)),
                        })
                        .collect(),
                });
                if out.len() >= limit {
                    break 'pages;
                }
            }
        }
        next = next.max(fetched.next_offset.min(end));
    }
    Ok(Json(Page {
        stream: name,
        partition,
        start_offset: start,
        end_offset: end,
        from_offset: from,
        next_offset: next,
        records: out,
    }))
}

/// `POST .../records` body.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct NewRecord {
    /// UTF-8 key.
    key: Option<String>,
    /// A string is stored as its UTF-8 bytes, any other JSON value as its JSON text.
    value: serde_json::Value,
    /// Header names to UTF-8 values.
    #[serde(default)]
    headers: std::collections::BTreeMap<String, String>,
}

#[derive(Serialize)]
pub(crate) struct Produced {
    partition: u32,
    offset: u64,
    /// Whether it is fsynced (false for memory streams and `fsync = "never"`).
    durable: bool,
}

/// `POST /api/v1/streams/{name}/partitions/{p}/records`: 201 once the record is written
/// (and durable, on a disk stream that fsyncs).
pub(crate) async fn produce(
    State(shared): State<Arc<Shared>>,
    path: Result<Path<(String, u32)>, PathRejection>,
    caller: Caller,
    body: Result<Json<NewRecord>, JsonRejection>,
) -> ApiResult<(StatusCode, Json<Produced>)> {
    let Path((name, partition)) = path?;
    let Json(record) = body?;
    caller.check(Needs::Produce(&name))?;
    let value: Bytes = match record.value {
        serde_json::Value::String(s) => Bytes::from(s),
        other => Bytes::from(other.to_string()),
    };
    let headers: Vec<(&str, &[u8])> = record
        .headers
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_bytes()))
        .collect();
    let now = crate::writer::now_ms();
    let key = record.key.as_deref().map(str::as_bytes);
    let mut builder = BatchBuilder::with_capacity(value.len() + 128);
    builder.push(now, key, &value, &headers);
    let batch = builder.finish(NO_PRODUCER_ID, -1, -1);
    let cfg = shared.config.load();
    let limits = AppendLimits {
        decompressed_bytes_max: usize::try_from(cfg.streams.max_decompressed_batch_bytes)
            .unwrap_or(usize::MAX),
        producers_max: cfg.streams.max_producers_per_partition as usize,
    };
    let stream = shared
        .engine
        .streams
        .get(&name)
        .map_err(|e| ApiError::engine(&e))?;
    let appended = stream
        .append(Placement::Partition(partition), &batch, &limits, now)
        .map_err(|e| ApiError::engine(&e))?;
    let part = stream
        .partition(appended.partition)
        .map_err(|e| ApiError::engine(&e))?;
    let durable = part
        .log
        .wait_durable(appended.last_offset)
        .await
        .map_err(|e| ApiError::engine(&StreamError::from(e)))?;
    Ok((
        StatusCode::CREATED,
        Json(Produced {
            partition: appended.partition,
            offset: appended.base_offset,
            durable,
        }),
    ))
}
