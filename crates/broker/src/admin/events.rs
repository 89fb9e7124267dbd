//! `GET /api/v1/events`: the live view, as Server-Sent Events. Every
//! `admin.events_interval_ms` (read again before each event, so a reload applies) the
//! subscriber gets one `snapshot` event: the node's totals (rates in and out, records and
//! bytes held, connections per protocol, total lag) with the streams and groups it may
//! describe, the same items `GET /api/v1/streams` and `GET /api/v1/groups` list. The web
//! console draws its charts and tables from it.
//!
//! Bounded: each event stream is one admin connection (`admin.max_connections`), holds one
//! snapshot at a time and is built only when the client has read the last one (hyper
//! polls the body when it can write), so a slow reader costs no memory; it ends at
//! shutdown. The caller is authenticated and checked (DESCRIBE on the cluster) once, when
//! the stream opens.

use std::sync::Arc;
use std::time::Duration;

use axum::body::{Body, Bytes};
use axum::extract::State;
use axum::http::header;
use axum::response::{IntoResponse, Response};
use memstream_engine::access::Action as Needs;
use memstream_engine::streams::Storage;
use memstream_net::registry::Protocol;
use serde::Serialize;

use super::auth::Caller;
use super::error::ApiResult;
use super::{groups, streams};
use crate::state::Shared;

#[derive(Serialize)]
struct Connections {
    native: usize,
    kafka: usize,
}

/// One event's data.
#[derive(Serialize)]
struct Snapshot {
    time_ms: u64,
    uptime_ms: u64,
    connections: Connections,
    produce_records_per_sec: f64,
    produce_bytes_per_sec: f64,
    consume_records_per_sec: f64,
    consume_bytes_per_sec: f64,
    /// Records and bytes held by every stream listed; of those bytes, on disk.
    records: u64,
    bytes: u64,
    disk_bytes: u64,
    total_lag: u64,
    streams: Vec<streams::StreamItem>,
    groups: Vec<groups::GroupItem>,
}

fn snapshot(shared: &Shared, caller: &Caller) -> Snapshot {
    let streams = streams::items(shared, caller);
    let groups = groups::items(shared, caller);
    let (mut native, mut kafka) = (0, 0);
    for conn in shared.connections.list() {
        match conn.protocol {
            Protocol::Native => native += 1,
            Protocol::Kafka => kafka += 1,
        }
    }
    let sum = |f: fn(&streams::StreamItem) -> f64| streams.iter().map(f).fold(0.0, |a, b| a + b);
    Snapshot {
        time_ms: crate::writer::now_ms(),
        uptime_ms: u64::try_from(shared.info.started.elapsed().as_millis()).unwrap_or(u64::MAX),
        connections: Connections { native, kafka },
        produce_records_per_sec: sum(|s| s.rates.produce_records_per_sec),
        produce_bytes_per_sec: sum(|s| s.rates.produce_bytes_per_sec),
        consume_records_per_sec: sum(|s| s.rates.consume_records_per_sec),
        consume_bytes_per_sec: sum(|s| s.rates.consume_bytes_per_sec),
        records: streams.iter().map(|s| s.records).sum(),
        bytes: streams.iter().map(|s| s.bytes).sum(),
        disk_bytes: streams
            .iter()
            .filter(|s| s.storage == Storage::Disk)
            .map(|s| s.bytes)
            .sum(),
        total_lag: groups.iter().map(|g| g.total_lag).sum(),
        streams,
        groups,
    }
}

/// One SSE event: `event: snapshot`, the JSON on one `data:` line (JSON has no raw
/// newlines).
fn event(snapshot: &Snapshot) -> Bytes {
    let json = serde_json::to_string(snapshot).unwrap_or_else(|_| "{}".to_owned());
    Bytes::from(format!("event: snapshot\ndata: {json}\n\n"))
}

/// `GET /api/v1/events`: DESCRIBE on the cluster.
pub(crate) async fn events(
    State(shared): State<Arc<Shared>>,
    caller: Caller,
) -> ApiResult<Response> {
    caller.check(Needs::DescribeCluster)?;
    let state = (shared, caller, true);
    let stream = futures_util::stream::unfold(state, |(shared, caller, first)| async move {
        if !first {
            let interval = shared.config.load().admin.events_interval_ms;
            tokio::select! {
                () = shared.shutdown.cancelled() => return None,
                () = tokio::time::sleep(Duration::from_millis(interval.into())) => {}
            }
        }
        if shared.shutdown.is_cancelled() {
            return None;
        }
        let bytes = event(&snapshot(&shared, &caller));
        Some((
            Ok::<_, std::convert::Infallible>(bytes),
            (shared, caller, false),
        ))
    });
    Ok((
        [
            (header::CONTENT_TYPE, "text/event-stream"),
            (header::CACHE_CONTROL, "no-cache"),
        ],
        Body::from_stream(stream),
    )
        .into_response())
}
