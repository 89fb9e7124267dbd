//! Request dispatch: decode the header, then one module per API translates the request into
//! engine calls and the outcome into the API's response. Handlers never see sockets.

mod api_versions;
mod fetch;
mod init_producer_id;
mod list_offsets;
mod metadata;
mod produce;

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use bytes::Bytes;
use memstream_kafka_wire::api::{key, ApiSpec};
use memstream_kafka_wire::{header, DecodeError, Writer};

use crate::server::Context;

/// A response on its way: resolves to the framed response, or to nothing for requests Kafka
/// does not answer (Produce with acks = 0).
pub(crate) type Pending = Pin<Box<dyn Future<Output = Option<Vec<Bytes>>> + Send>>;

/// How to frame the response to one request.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Reply {
    spec: &'static ApiSpec,
    version: i16,
    correlation_id: i32,
}

impl Reply {
    /// A writer for the response body in the request's version.
    pub(crate) fn writer(&self) -> Writer {
        header::body_writer(self.spec, self.version)
    }

    /// The request's version.
    pub(crate) fn version(&self) -> i16 {
        self.version
    }

    /// The framed response.
    pub(crate) fn finish(&self, body: Writer) -> Vec<Bytes> {
        header::frame_response(self.spec, self.version, self.correlation_id, body.finish())
    }

    /// A response that is ready now.
    pub(crate) fn now(&self, body: Writer) -> Option<Pending> {
        let framed = self.finish(body);
        Some(Box::pin(std::future::ready(Some(framed))))
    }
}

/// Decodes `frame` (one request without its size prefix) and starts answering it. `Err`
/// closes the connection: the request could not be decoded, or its API key is unknown.
pub(crate) fn dispatch(frame: Bytes, ctx: &Arc<Context>) -> Result<Option<Pending>, DecodeError> {
    let len = frame.len();
    let (header, spec, mut r) = match header::decode(frame.clone()) {
        Ok(decoded) => decoded,
        Err(DecodeError::UnsupportedVersion { .. })
            if header::peek(&frame).is_some_and(|(k, _, _)| k == key::API_VERSIONS) =>
        {
            // A newer client's ApiVersions: answer in v0 so it can pick a version we have.
            let (_, version, correlation_id) = header::peek(&frame).unwrap_or_default();
            tracing::debug!(
                version,
                "ApiVersions version not supported; answering in v0"
            );
            ctx.metrics.request(key::API_VERSIONS, len);
            return Ok(api_versions::unsupported(correlation_id));
        }
        Err(e) => {
            if let Some((api_key, version, _)) = header::peek(&frame) {
                tracing::warn!(api_key, version, error = %e, "kafka request refused");
            }
            return Err(e);
        }
    };
    ctx.metrics.request(header.api_key, len);
    let reply = Reply {
        spec,
        version: header.api_version,
        correlation_id: header.correlation_id,
    };
    let version = header.api_version;
    use memstream_kafka_wire as wire;
    Ok(match header.api_key {
        key::PRODUCE => produce::handle(wire::produce::decode(&mut r, version)?, ctx, reply),
        key::FETCH => fetch::handle(wire::fetch::decode(&mut r, version)?, ctx, reply),
        key::LIST_OFFSETS => {
            list_offsets::handle(wire::list_offsets::decode(&mut r, version)?, ctx, reply)
        }
        key::METADATA => metadata::handle(wire::metadata::decode(&mut r, version)?, ctx, reply),
        key::API_VERSIONS => {
            api_versions::handle(wire::api_versions::decode(&mut r, version)?, reply)
        }
        key::INIT_PRODUCER_ID => {
            init_producer_id::handle(wire::init_producer_id::decode(&mut r, version)?, ctx, reply)
        }
        other => return Err(DecodeError::UnknownApi(other)),
    })
}

/// The current time in ms since the Unix epoch.
pub(crate) fn now_ms() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as u64)
}

/// Runs blocking work (file I/O) on the blocking pool; a task that failed is `None`.
pub(crate) async fn blocking<T: Send + 'static>(
    work: impl FnOnce() -> T + Send + 'static,
) -> Option<T> {
    tokio::task::spawn_blocking(work).await.ok()
}
