//! ApiVersions: exactly the APIs this front-end handles, with the versions the codec has.

use memstream_kafka_wire::api::key;
use memstream_kafka_wire::api_versions::{self, ApiVersionsRequest};
use memstream_kafka_wire::{header, ErrorCode, Writer};

use super::{Pending, Reply};

pub(super) fn handle(req: ApiVersionsRequest, reply: Reply) -> Option<Pending> {
    if let Some(name) = &req.client_software_name {
        tracing::debug!(client = %name, version = ?req.client_software_version, "kafka client");
    }
    let mut w = reply.writer();
    api_versions::encode(
        &mut w,
        reply.version(),
        ErrorCode::NONE,
        &super::advertised(),
    );
    reply.now(w)
}

/// UNSUPPORTED_VERSION in a v0 body listing what is supported.
pub(super) fn unsupported(correlation_id: i32) -> Option<Pending> {
    let mut w = Writer::new(false);
    api_versions::encode(
        &mut w,
        0,
        ErrorCode::UNSUPPORTED_VERSION,
        &super::advertised(),
    );
    let spec = memstream_kafka_wire::api::spec(key::API_VERSIONS)?;
    let framed = header::frame_response(spec, 0, correlation_id, w.finish());
    Some(Box::pin(std::future::ready(Some(framed))))
}
