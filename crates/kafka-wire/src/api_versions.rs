//! ApiVersions (key 18), v0-v3.
//!
//! Request: nothing before v3; v3 adds `client_software_name` and `client_software_version`.
//! Response: `error_code`, `api_keys [api_key, min_version, max_version]`, `throttle_time_ms`
//! (v1+). A request for a version the broker lacks gets UNSUPPORTED_VERSION in a **v0** body
//! listing the supported keys, so the client can retry with a version from the list.

use crate::api::{ApiSpec, SUPPORTED};
use crate::codec::{Reader, Result, Writer};
use crate::error_code::ErrorCode;

/// The request.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ApiVersionsRequest {
    /// v3+: the client library's name.
    pub client_software_name: Option<String>,
    /// v3+: its version.
    pub client_software_version: Option<String>,
}

/// Decodes the body of `version`.
pub fn decode(r: &mut Reader, version: i16) -> Result<ApiVersionsRequest> {
    let mut req = ApiVersionsRequest::default();
    if version >= 3 {
        req.client_software_name = Some(r.string("client_software_name")?);
        req.client_software_version = Some(r.string("client_software_version")?);
        r.tagged_fields()?;
    }
    r.finish()?;
    Ok(req)
}

/// Encodes the response in `version` (v0 for the UNSUPPORTED_VERSION answer).
pub fn encode(w: &mut Writer, version: i16, error: ErrorCode, apis: &[ApiSpec]) {
    w.error_code(error);
    w.array(apis, |w, api| {
        w.i16(api.key);
        w.i16(api.min);
        w.i16(api.max);
        w.tagged_fields();
    });
    if version >= 1 {
        w.i32(0);
    }
    w.tagged_fields();
}

/// The broker's answer: every implemented API.
pub fn supported() -> &'static [ApiSpec] {
    SUPPORTED
}

#[cfg(test)]
#[allow(clippy::indexing_slicing)]
mod tests {
    use super::*;
    use bytes::Bytes;

    #[test]
    fn v3_request_and_response() {
        // compact strings "rdkafka" and "2.0.2", then no tagged fields.
        let body = Bytes::from_static(b"\x08rdkafka\x062.0.2\x00");
        let req = decode(&mut Reader::new(body, true), 3).unwrap();
        assert_eq!(req.client_software_name.as_deref(), Some("rdkafka"));
        let mut w = Writer::new(true);
        encode(&mut w, 3, ErrorCode::NONE, &SUPPORTED[..1]);
        let bytes: Vec<u8> = w.finish().concat();
        // error 0, compact array of 1 (2), key 0, min 3, max 9, no tags, throttle 0, no tags.
        assert_eq!(bytes, [0, 0, 2, 0, 0, 0, 3, 0, 9, 0, 0, 0, 0, 0, 0]);
    }

    #[test]
    fn the_fallback_answer_is_a_v0_body() {
        let mut w = Writer::new(false);
        encode(&mut w, 0, ErrorCode::UNSUPPORTED_VERSION, &SUPPORTED[..1]);
        let bytes: Vec<u8> = w.finish().concat();
        assert_eq!(bytes, [0, 35, 0, 0, 0, 1, 0, 0, 0, 3, 0, 9]);
    }
}
