//! Request headers (v1 and v2) and response framing.
//!
//! A request on the wire is `size: INT32` then the header then the body. Header v1 is
//! `api_key: INT16, api_version: INT16, correlation_id: INT32, client_id: NULLABLE_STRING`;
//! v2 (the API's flexible versions) adds tagged fields. The client id stays a classic
//! nullable string in both. A response is `size: INT32, correlation_id: INT32`, then tagged
//! fields in flexible versions (response header v1; ApiVersions always answers with v0, so
//! that a client can read it before it knows which versions the broker has), then the body.

use bytes::{BufMut, Bytes, BytesMut};

use crate::api::{self, ApiSpec};
use crate::codec::{DecodeError, Reader, Result, Writer};

/// The header of one request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RequestHeader {
    /// API key.
    pub api_key: i16,
    /// API version.
    pub api_version: i16,
    /// Echoed in the response.
    pub correlation_id: i32,
    /// The client's id, if it sent one.
    pub client_id: Option<String>,
}

/// The first eight bytes of a request, readable whatever the API: enough to answer even a
/// request this broker cannot decode.
pub fn peek(frame: &[u8]) -> Option<(i16, i16, i32)> {
    let head: [u8; 8] = frame.get(..8)?.try_into().ok()?;
    let [k0, k1, v0, v1, c0, c1, c2, c3] = head;
    Some((
        i16::from_be_bytes([k0, k1]),
        i16::from_be_bytes([v0, v1]),
        i32::from_be_bytes([c0, c1, c2, c3]),
    ))
}

/// Decodes the header of `frame` (a request without its size prefix) for an implemented API
/// and version; returns it, the API's entry, and a reader positioned at the body in the
/// version's encoding.
pub fn decode(frame: Bytes) -> Result<(RequestHeader, &'static ApiSpec, Reader)> {
    let mut r = Reader::new(frame, false);
    let api_key = r.i16("api_key")?;
    let api_version = r.i16("api_version")?;
    let correlation_id = r.i32("correlation_id")?;
    let spec = api::spec(api_key).ok_or(DecodeError::UnknownApi(api_key))?;
    if !spec.supports(api_version) {
        return Err(DecodeError::UnsupportedVersion {
            api: spec.name,
            version: api_version,
        });
    }
    let client_id = r.nullable_string("client_id")?;
    let flexible = spec.is_flexible(api_version);
    r.set_flexible(flexible);
    r.tagged_fields()?;
    Ok((
        RequestHeader {
            api_key,
            api_version,
            correlation_id,
            client_id,
        },
        spec,
        r,
    ))
}

/// A writer for the body of the response to `header`, in its version's encoding.
pub fn body_writer(spec: &ApiSpec, version: i16) -> Writer {
    Writer::new(spec.is_flexible(version))
}

/// Frames a response body: the size, the correlation id, the response header's tagged fields
/// when flexible (never for ApiVersions), then `body`.
pub fn frame_response(
    spec: &ApiSpec,
    version: i16,
    correlation_id: i32,
    body: Vec<Bytes>,
) -> Vec<Bytes> {
    let tagged = spec.is_flexible(version) && spec.key != api::key::API_VERSIONS;
    let body_len = body.iter().map(Bytes::len).fold(0, usize::saturating_add);
    let header_len = if tagged { 5 } else { 4 };
    let size = i32::try_from(body_len.saturating_add(header_len)).unwrap_or(i32::MAX);
    let mut head = BytesMut::with_capacity(9);
    head.put_i32(size);
    head.put_i32(correlation_id);
    if tagged {
        head.put_u8(0);
    }
    let mut out = Vec::with_capacity(body.len().saturating_add(1));
    out.push(head.freeze());
    out.extend(body);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request(key: i16, version: i16, flexible_tail: bool) -> Bytes {
        let mut b = BytesMut::new();
        b.put_i16(key);
        b.put_i16(version);
        b.put_i32(42);
        b.put_i16(4);
        b.put_slice(b"kcat");
        if flexible_tail {
            b.put_u8(0);
        }
        b.freeze()
    }

    #[test]
    fn header_v1_and_v2() {
        let (h, spec, r) = decode(request(api::key::METADATA, 1, false)).unwrap();
        assert_eq!(h.client_id.as_deref(), Some("kcat"));
        assert_eq!(
            (h.correlation_id, spec.name, r.remaining()),
            (42, "Metadata", 0)
        );
        let (_, _, r) = decode(request(api::key::METADATA, 9, true)).unwrap();
        assert!(r.flexible());
        assert_eq!(r.remaining(), 0);
    }

    #[test]
    fn unknown_keys_and_versions_are_named() {
        assert_eq!(
            decode(request(999, 0, false)).unwrap_err(),
            DecodeError::UnknownApi(999)
        );
        assert!(matches!(
            decode(request(api::key::PRODUCE, 2, false)).unwrap_err(),
            DecodeError::UnsupportedVersion { version: 2, .. }
        ));
        assert_eq!(peek(&request(7, 1, false)), Some((7, 1, 42)));
        assert_eq!(peek(&[0, 1]), None);
    }
}
