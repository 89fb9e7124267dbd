//! [`Request::decode`]: from a sound frame to a typed request.

use bytes::Bytes;

use super::{ErrorBody, HelloRequest};
use crate::error::{ErrorCode, RequestError};
use crate::frame::Frame;
use crate::opcode::Opcode;

/// A request a client may send, decoded from its frame.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Request {
    /// Version negotiation.
    Hello(HelloRequest),
    /// Liveness check; the payload (any bytes) is echoed in the response.
    Ping(Bytes),
    /// The client is closing; the body gives the reason (empty payload means `OK`).
    Goodbye(ErrorBody),
}

impl Request {
    /// Decodes the request carried by `frame`. Frame-level checks have already passed.
    pub fn decode(frame: &Frame) -> Result<Request, RequestError> {
        if frame.is_response() {
            return Err(RequestError::UnexpectedResponse {
                opcode: frame.opcode,
            });
        }
        let malformed = |opcode: Opcode| {
            move |source| RequestError::Malformed {
                opcode: opcode.name(),
                source,
            }
        };
        match Opcode::from_u8(frame.opcode) {
            Some(Opcode::Hello) => HelloRequest::decode(&frame.payload)
                .map(Request::Hello)
                .map_err(malformed(Opcode::Hello)),
            Some(Opcode::Ping) => Ok(Request::Ping(frame.payload.clone())),
            Some(Opcode::Goodbye) if frame.payload.is_empty() => {
                Ok(Request::Goodbye(ErrorBody::new(ErrorCode::Ok, "")))
            }
            Some(Opcode::Goodbye) => ErrorBody::decode(&frame.payload)
                .map(Request::Goodbye)
                .map_err(malformed(Opcode::Goodbye)),
            Some(Opcode::Connection) | None => Err(RequestError::UnknownOpcode {
                opcode: frame.opcode,
            }),
        }
    }

    /// The operation of this request.
    pub fn opcode(&self) -> Opcode {
        match self {
            Request::Hello(_) => Opcode::Hello,
            Request::Ping(_) => Opcode::Ping,
            Request::Goodbye(_) => Opcode::Goodbye,
        }
    }
}
