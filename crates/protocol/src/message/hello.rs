//! HELLO: version negotiation and the limits the server imposes.
//!
//! Request payload:
//!
//! ```text
//! u8  min_version
//! u8  max_version
//! u16 client_name_len, client_name (UTF-8, at most 255 bytes)
//! ```
//!
//! Response payload:
//!
//! ```text
//! u8  version          chosen protocol version
//! u16 server_name_len, server_name
//! u16 server_version_len, server_version
//! u64 server_id
//! u16 limit_count, then limit_count x (u16 limit_id, u64 value)
//! then, only when the server requires authentication:
//! u8  mechanism_count, then mechanism_count x (u16 len, SASL mechanism name)
//! ```
//!
//! Limits travel as id/value pairs so a newer server can announce more of them; a client
//! ignores ids it does not know. A server that lists mechanisms takes no request but AUTH,
//! PING and GOODBYE until an AUTH exchange succeeds (see `message::auth`).

use std::ops::RangeInclusive;

use bytes::{BufMut, BytesMut};

use super::reader::{put_str16, truncate_utf8, PayloadReader};
use crate::error::PayloadError;
use crate::frame::Frame;
use crate::opcode::Opcode;

/// Longest client name, server name or server version string.
pub const NAME_BYTES_MAX: usize = 255;

/// The client's opening frame.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HelloRequest {
    /// Lowest protocol version the client speaks.
    pub min_version: u8,
    /// Highest protocol version the client speaks.
    pub max_version: u8,
    /// Free-form client identification for logs and metrics.
    pub client_name: String,
    /// The largest frame the client accepts, if it announces one: the server then sends no
    /// frame larger than the smaller of this and its own limit (a FETCH or PUSH that would
    /// need more answers `MESSAGE_TOO_LARGE`). Sent as an optional list of limits after the
    /// name, the same id/value pairs as the response's.
    pub max_frame_bytes: Option<u32>,
}

impl HelloRequest {
    /// A request for protocol versions `min_version..=max_version`.
    pub fn new(min_version: u8, max_version: u8, client_name: impl Into<String>) -> HelloRequest {
        HelloRequest {
            min_version,
            max_version,
            client_name: client_name.into(),
            max_frame_bytes: None,
        }
    }

    /// This request as a HELLO frame with `correlation_id`.
    pub fn to_frame(&self, correlation_id: u64) -> Frame {
        let mut payload = BytesMut::new();
        self.encode(&mut payload);
        Frame::request(Opcode::Hello, correlation_id, payload.freeze())
    }

    /// Appends the encoded payload; the name is cut to [`NAME_BYTES_MAX`].
    pub fn encode(&self, dst: &mut BytesMut) {
        let name = truncate_utf8(&self.client_name, NAME_BYTES_MAX);
        dst.reserve(name.len().saturating_add(4));
        dst.put_u8(self.min_version);
        dst.put_u8(self.max_version);
        put_str16(dst, name);
        if let Some(max) = self.max_frame_bytes {
            dst.put_u16_le(1);
            dst.put_u16_le(LimitId::MaxFrameBytes as u16);
            dst.put_u64_le(u64::from(max));
        }
    }

    /// Parses a payload.
    pub fn decode(payload: &[u8]) -> Result<HelloRequest, PayloadError> {
        let mut r = PayloadReader::new(payload);
        let min_version = r.u8("min_version")?;
        let max_version = r.u8("max_version")?;
        let client_name = r.str16("client_name", NAME_BYTES_MAX)?.to_owned();
        // Optional: limits the client announces. Unknown ids are ignored, as in the response.
        let mut max_frame_bytes = None;
        if r.position() < payload.len() {
            for _ in 0..r.u16("limit_count")? {
                let id = r.u16("limit_id")?;
                let value = r.u64("limit_value")?;
                if id == LimitId::MaxFrameBytes as u16 {
                    let max = u32::try_from(value)
                        .ok()
                        .filter(|&m| m >= crate::codec::MIN_FRAME_BYTES)
                        .ok_or(PayloadError::InvalidValue {
                            field: "max_frame_bytes",
                            value,
                        })?;
                    max_frame_bytes = Some(max);
                }
            }
        }
        r.finish()?;
        if min_version > max_version {
            return Err(PayloadError::InvalidValue {
                field: "min_version",
                value: u64::from(min_version),
            });
        }
        Ok(HelloRequest {
            min_version,
            max_version,
            client_name,
            max_frame_bytes,
        })
    }

    /// The highest version both sides speak, if any.
    pub fn negotiate(&self, supported: RangeInclusive<u8>) -> Option<u8> {
        let high = self.max_version.min(*supported.end());
        let low = self.min_version.max(*supported.start());
        (low <= high).then_some(high)
    }
}

/// Identifies one limit in a HELLO response.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u16)]
pub enum LimitId {
    /// Largest frame (header plus payload) the server accepts.
    MaxFrameBytes = 1,
    /// Requests the server reads from one connection before answering some.
    MaxInFlightRequests = 2,
    /// Bytes the server queues for writing to one connection.
    MaxWriteQueueBytes = 3,
    /// Milliseconds of silence after which the server closes the connection.
    IdleTimeoutMs = 4,
}

/// Limits the client must respect, announced in the HELLO response.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Limits {
    /// Largest frame, header included. Always announced.
    pub max_frame_bytes: u32,
    /// Requests in flight per connection; 0 when not announced.
    pub max_in_flight_requests: u64,
    /// Outbound queue bytes per connection; 0 when not announced.
    pub max_write_queue_bytes: u64,
    /// Idle timeout in milliseconds; 0 when not announced.
    pub idle_timeout_ms: u64,
}

/// The server's answer to HELLO.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HelloResponse {
    /// The protocol version chosen for this connection.
    pub version: u8,
    /// Server implementation name.
    pub server_name: String,
    /// Server implementation version.
    pub server_version: String,
    /// Identifies the server node.
    pub server_id: u64,
    /// Limits the client must respect.
    pub limits: Limits,
    /// The SASL mechanisms the server accepts in AUTH; empty: no authentication needed.
    pub auth_mechanisms: Vec<String>,
}

/// Most mechanisms a HELLO response lists.
pub const AUTH_MECHANISMS_MAX: usize = 8;

/// Longest mechanism name (RFC 4422: 20 characters).
pub const MECHANISM_BYTES_MAX: usize = 20;

impl HelloResponse {
    /// Appends the encoded payload.
    pub fn encode(&self, dst: &mut BytesMut) {
        let name = truncate_utf8(&self.server_name, NAME_BYTES_MAX);
        let version = truncate_utf8(&self.server_version, NAME_BYTES_MAX);
        let limits = [
            (
                LimitId::MaxFrameBytes,
                u64::from(self.limits.max_frame_bytes),
            ),
            (
                LimitId::MaxInFlightRequests,
                self.limits.max_in_flight_requests,
            ),
            (
                LimitId::MaxWriteQueueBytes,
                self.limits.max_write_queue_bytes,
            ),
            (LimitId::IdleTimeoutMs, self.limits.idle_timeout_ms),
        ];
        dst.reserve(
            name.len()
                .saturating_add(version.len())
                .saturating_add(limits.len().saturating_mul(10))
                .saturating_add(15),
        );
        dst.put_u8(self.version);
        put_str16(dst, name);
        put_str16(dst, version);
        dst.put_u64_le(self.server_id);
        dst.put_u16_le(limits.len() as u16);
        for (id, value) in limits {
            dst.put_u16_le(id as u16);
            dst.put_u64_le(value);
        }
        if !self.auth_mechanisms.is_empty() {
            let listed = self.auth_mechanisms.iter().take(AUTH_MECHANISMS_MAX);
            dst.put_u8(listed.len() as u8);
            for m in listed {
                put_str16(dst, truncate_utf8(m, MECHANISM_BYTES_MAX));
            }
        }
    }

    /// Parses a payload; unknown limit ids are skipped, `MaxFrameBytes` is required.
    pub fn decode(payload: &[u8]) -> Result<HelloResponse, PayloadError> {
        let mut r = PayloadReader::new(payload);
        let version = r.u8("version")?;
        let server_name = r.str16("server_name", NAME_BYTES_MAX)?.to_owned();
        let server_version = r.str16("server_version", NAME_BYTES_MAX)?.to_owned();
        let server_id = r.u64("server_id")?;
        let count = r.u16("limit_count")?;
        let mut max_frame_bytes = None;
        let mut limits = Limits {
            max_frame_bytes: 0,
            max_in_flight_requests: 0,
            max_write_queue_bytes: 0,
            idle_timeout_ms: 0,
        };
        for _ in 0..count {
            let id = r.u16("limit_id")?;
            let value = r.u64("limit_value")?;
            match id {
                1 => {
                    let v = u32::try_from(value).map_err(|_| PayloadError::InvalidValue {
                        field: "max_frame_bytes",
                        value,
                    })?;
                    max_frame_bytes = Some(v);
                }
                2 => limits.max_in_flight_requests = value,
                3 => limits.max_write_queue_bytes = value,
                4 => limits.idle_timeout_ms = value,
                _ => {}
            }
        }
        let mut auth_mechanisms = Vec::new();
        if r.position() < payload.len() {
            let count = usize::from(r.u8("mechanism_count")?);
            if count == 0 || count > AUTH_MECHANISMS_MAX {
                return Err(PayloadError::InvalidValue {
                    field: "mechanism_count",
                    value: count as u64,
                });
            }
            for _ in 0..count {
                auth_mechanisms.push(r.str16("mechanism", MECHANISM_BYTES_MAX)?.to_owned());
            }
        }
        r.finish()?;
        limits.max_frame_bytes = max_frame_bytes.ok_or(PayloadError::Truncated {
            field: "max_frame_bytes",
        })?;
        Ok(HelloResponse {
            version,
            server_name,
            server_version,
            server_id,
            limits,
            auth_mechanisms,
        })
    }
}

#[cfg(test)]
#[allow(clippy::indexing_slicing, clippy::arithmetic_side_effects)]
mod tests {
    use super::*;

    #[test]
    fn negotiation_picks_the_highest_common_version() {
        let hello = |min, max| HelloRequest {
            min_version: min,
            max_version: max,
            client_name: String::new(),
            max_frame_bytes: None,
        };
        assert_eq!(hello(1, 3).negotiate(1..=1), Some(1));
        assert_eq!(hello(1, 3).negotiate(2..=5), Some(3));
        assert_eq!(hello(2, 3).negotiate(1..=1), None);
        assert_eq!(hello(0, 0).negotiate(1..=1), None);
    }

    #[test]
    fn an_announced_frame_limit_round_trips_and_is_optional() {
        let mut hello = HelloRequest::new(1, 1, "c");
        let mut plain = BytesMut::new();
        hello.encode(&mut plain);
        assert_eq!(HelloRequest::decode(&plain), Ok(hello.clone()));
        hello.max_frame_bytes = Some(65_536);
        let mut with = BytesMut::new();
        hello.encode(&mut with);
        assert_eq!(HelloRequest::decode(&with), Ok(hello.clone()));
        for cut in plain.len() + 1..with.len() {
            assert!(HelloRequest::decode(&with[..cut]).is_err(), "cut at {cut}");
        }
        hello.max_frame_bytes = Some(16);
        let mut tiny = BytesMut::new();
        hello.encode(&mut tiny);
        assert!(
            HelloRequest::decode(&tiny).is_err(),
            "below the protocol minimum"
        );
    }

    #[test]
    fn inverted_range_is_malformed() {
        assert!(HelloRequest::decode(&[3, 1, 0, 0]).is_err());
    }

    #[test]
    fn response_round_trip_and_every_truncation_fails() {
        let resp = HelloResponse {
            version: 1,
            server_name: "memstream".into(),
            server_version: "0.1.0".into(),
            server_id: 9,
            limits: Limits {
                max_frame_bytes: 1 << 20,
                max_in_flight_requests: 128,
                max_write_queue_bytes: 8 << 20,
                idle_timeout_ms: 60_000,
            },
            auth_mechanisms: Vec::new(),
        };
        let mut buf = BytesMut::new();
        resp.encode(&mut buf);
        assert_eq!(HelloResponse::decode(&buf).unwrap(), resp);
        for cut in 0..buf.len() {
            assert!(HelloResponse::decode(&buf[..cut]).is_err(), "cut at {cut}");
        }
        // With mechanisms: they follow the limits; a cut inside them fails.
        let auth = HelloResponse {
            auth_mechanisms: vec!["SCRAM-SHA-256".into(), "SCRAM-SHA-512".into()],
            ..resp
        };
        let mut with = BytesMut::new();
        auth.encode(&mut with);
        assert_eq!(&with[..buf.len()], &buf[..]);
        assert_eq!(HelloResponse::decode(&with).unwrap(), auth);
        for cut in buf.len() + 1..with.len() {
            assert!(HelloResponse::decode(&with[..cut]).is_err(), "cut at {cut}");
        }
        let mut zero = buf.clone();
        zero.put_u8(0);
        assert!(
            HelloResponse::decode(&zero).is_err(),
            "an empty list is not sent"
        );
    }
}
