//! AUTH: one step of a SASL exchange, after HELLO, on a server whose HELLO response listed
//! mechanisms. The mechanisms are SCRAM-SHA-256 and SCRAM-SHA-512 (RFC 5802/7677); the
//! exchange is client-first, server-first, client-final, server-final, so a login is two
//! AUTH round trips. Until one succeeds the server answers any request but AUTH, PING and
//! GOODBYE with AUTHENTICATION_REQUIRED and closes the connection.
//!
//! Request payload:
//!
//! ```text
//! u16 mechanism_len, mechanism   (the same in every step of one exchange)
//! u32 data_len, data             (the client's SASL message)
//! ```
//!
//! Response payload:
//!
//! ```text
//! u8  done        0: data is a challenge, send the next AUTH; 1: authenticated
//! u32 data_len, data             (the server's SASL message)
//! ```
//!
//! A failed step (a wrong password, an unknown user: the same answer, after the server's
//! failure delay) is an AUTHENTICATION_FAILED error response; the connection stays open for
//! another exchange, within the server's limit on failures per address.

use bytes::{BufMut, Bytes, BytesMut};

use super::hello::MECHANISM_BYTES_MAX;
use super::reader::{put_str16, PayloadReader};
use crate::error::PayloadError;

/// Longest SASL message in an AUTH frame, either way.
pub const AUTH_DATA_BYTES_MAX: usize = 4096;

/// A client's AUTH step.
#[derive(Clone, PartialEq, Eq)]
pub struct AuthRequest {
    /// The SASL mechanism, e.g. `SCRAM-SHA-512`.
    pub mechanism: String,
    /// The client's message for this step.
    pub data: Bytes,
}

// The client-final message carries a proof: keep it out of logs.
impl std::fmt::Debug for AuthRequest {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AuthRequest")
            .field("mechanism", &self.mechanism)
            .field("data_bytes", &self.data.len())
            .finish()
    }
}

/// The server's answer to one step.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AuthResponse {
    /// Whether the exchange is over and succeeded.
    pub done: bool,
    /// The server's message (a challenge, or the server-final message).
    pub data: Bytes,
}

fn put_data(dst: &mut BytesMut, data: &[u8]) {
    let data = data.get(..AUTH_DATA_BYTES_MAX).unwrap_or(data);
    dst.put_u32_le(data.len() as u32);
    dst.put_slice(data);
}

fn data(r: &mut PayloadReader<'_>, payload: &[u8]) -> Result<Bytes, PayloadError> {
    let len = r.u32("data_len")? as usize;
    if len > AUTH_DATA_BYTES_MAX {
        return Err(PayloadError::TooLong {
            field: "data",
            len,
            max: AUTH_DATA_BYTES_MAX,
        });
    }
    let start = r.position();
    r.skip(len, "data")?;
    let bytes = payload
        .get(start..start.saturating_add(len))
        .ok_or(PayloadError::Truncated { field: "data" })?;
    Ok(Bytes::copy_from_slice(bytes))
}

impl AuthRequest {
    /// Appends the encoded payload (data beyond [`AUTH_DATA_BYTES_MAX`] is cut; the client
    /// never builds such a message).
    pub fn encode(&self, dst: &mut BytesMut) {
        put_str16(dst, &self.mechanism);
        put_data(dst, &self.data);
    }

    /// Parses a payload.
    pub fn decode(payload: &[u8]) -> Result<AuthRequest, PayloadError> {
        let mut r = PayloadReader::new(payload);
        let mechanism = r.str16("mechanism", MECHANISM_BYTES_MAX)?.to_owned();
        let data = data(&mut r, payload)?;
        r.finish()?;
        Ok(AuthRequest { mechanism, data })
    }
}

impl AuthResponse {
    /// Appends the encoded payload.
    pub fn encode(&self, dst: &mut BytesMut) {
        dst.put_u8(u8::from(self.done));
        put_data(dst, &self.data);
    }

    /// Parses a payload.
    pub fn decode(payload: &[u8]) -> Result<AuthResponse, PayloadError> {
        let mut r = PayloadReader::new(payload);
        let done = match r.u8("done")? {
            0 => false,
            1 => true,
            other => {
                return Err(PayloadError::InvalidValue {
                    field: "done",
                    value: u64::from(other),
                })
            }
        };
        let data = data(&mut r, payload)?;
        r.finish()?;
        Ok(AuthResponse { done, data })
    }
}

#[cfg(test)]
#[allow(clippy::indexing_slicing, clippy::arithmetic_side_effects)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_and_every_truncation_fails() {
        let req = AuthRequest {
            mechanism: "SCRAM-SHA-512".into(),
            data: Bytes::from_static(b"n,,n=alice,r=abc"),
        };
        let mut buf = BytesMut::new();
        req.encode(&mut buf);
        assert_eq!(AuthRequest::decode(&buf).unwrap(), req);
        for cut in 0..buf.len() {
            assert!(AuthRequest::decode(&buf[..cut]).is_err(), "cut at {cut}");
        }
        assert!(!format!("{req:?}").contains("alice"));
        let resp = AuthResponse {
            done: true,
            data: Bytes::from_static(b"v=xyz"),
        };
        let mut buf = BytesMut::new();
        resp.encode(&mut buf);
        assert_eq!(AuthResponse::decode(&buf).unwrap(), resp);
        buf[0] = 2;
        assert!(AuthResponse::decode(&buf).is_err());
    }

    #[test]
    fn limits_are_enforced() {
        let mut buf = BytesMut::new();
        put_str16(&mut buf, "SCRAM-SHA-512");
        buf.put_u32_le(AUTH_DATA_BYTES_MAX as u32 + 1);
        assert!(matches!(
            AuthRequest::decode(&buf),
            Err(PayloadError::TooLong { field: "data", .. })
        ));
        let mut buf = BytesMut::new();
        put_str16(&mut buf, &"M".repeat(21));
        buf.put_u32_le(0);
        assert!(AuthRequest::decode(&buf).is_err());
    }
}
