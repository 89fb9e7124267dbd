//! A frame: one header plus its payload, the unit of everything on the wire.

use bytes::{BufMut, Bytes, BytesMut};

use crate::error::ErrorCode;
use crate::header::{Flags, FrameHeader, HEADER_LEN};
use crate::message::ErrorBody;
use crate::opcode::Opcode;

/// A whole frame. The payload is a zero-copy [`Bytes`], typically cut from a read buffer.
///
/// `payload_len` and `payload_crc` are not stored: they are derived from the payload when the
/// frame is encoded, so a frame can never disagree with its own header.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Frame {
    /// Raw operation number.
    pub opcode: u8,
    /// Flag bits.
    pub flags: Flags,
    /// Logical stream on the connection; 0 is the connection itself.
    pub stream_id: u32,
    /// Chosen by the requester, echoed in the response.
    pub correlation_id: u64,
    /// Sender's clock, nanoseconds since the Unix epoch; 0 when unset.
    pub timestamp_ns: u64,
    /// The payload.
    pub payload: Bytes,
}

impl Frame {
    /// A request on the connection stream (stream id 0).
    pub fn request(opcode: Opcode, correlation_id: u64, payload: Bytes) -> Frame {
        Frame {
            opcode: opcode.as_u8(),
            flags: Flags::NONE,
            stream_id: 0,
            correlation_id,
            timestamp_ns: 0,
            payload,
        }
    }

    /// A successful response to the request `to`: same opcode, stream and correlation id.
    pub fn response(to: &Frame, payload: Bytes) -> Frame {
        Frame {
            opcode: to.opcode,
            flags: Flags::RESPONSE,
            stream_id: to.stream_id,
            correlation_id: to.correlation_id,
            timestamp_ns: 0,
            payload,
        }
    }

    /// An error response. `to` is the header of the request being answered when it could be
    /// read; `None` gives a connection-level error (opcode 0x00, stream 0, correlation id 0).
    pub fn error(to: Option<&FrameHeader>, code: ErrorCode, message: &str) -> Frame {
        let (opcode, stream_id, correlation_id) = match to {
            Some(h) => (h.opcode, h.stream_id, h.correlation_id),
            None => (Opcode::Connection.as_u8(), 0, 0),
        };
        Frame {
            opcode,
            flags: Flags::RESPONSE | Flags::ERROR,
            stream_id,
            correlation_id,
            timestamp_ns: 0,
            payload: error_payload(code, message),
        }
    }

    /// An error response answering the request `to`: same opcode, stream and correlation id.
    pub fn error_response(to: &Frame, code: ErrorCode, message: &str) -> Frame {
        Frame {
            flags: Flags::RESPONSE | Flags::ERROR,
            ..Frame::response(to, error_payload(code, message))
        }
    }

    /// An unsolicited GOODBYE (stream 0, correlation id 0) carrying the reason for closing.
    pub fn goodbye(code: ErrorCode, message: &str) -> Frame {
        Frame::request(Opcode::Goodbye, 0, error_payload(code, message))
    }

    /// The header this frame encodes to, with payload length and checksum computed.
    ///
    /// # Panics
    /// If the payload is 4 GiB or more, which no codec lets through.
    pub fn header(&self) -> FrameHeader {
        let payload_len =
            u32::try_from(self.payload.len()).expect("payload length is bounded by the codec");
        let payload_crc = if self.payload.is_empty() {
            0
        } else {
            crc32c::crc32c(&self.payload)
        };
        FrameHeader {
            opcode: self.opcode,
            flags: self.flags,
            stream_id: self.stream_id,
            payload_len,
            correlation_id: self.correlation_id,
            timestamp_ns: self.timestamp_ns,
            payload_crc,
        }
    }

    /// The header of this frame when `tail` follows the payload as more payload bytes: the
    /// payload length and checksum cover both. Lets a server send stored bytes (record
    /// batches) after a small encoded prefix without copying them into one buffer.
    ///
    /// # Panics
    /// If the total payload is 4 GiB or more, which no codec lets through.
    pub fn header_with_tail(&self, tail: &[Bytes]) -> FrameHeader {
        let mut header = self.header();
        if tail.is_empty() {
            return header;
        }
        let mut len = self.payload.len();
        let mut crc = crc32c::crc32c(&self.payload);
        for chunk in tail {
            len = len.saturating_add(chunk.len());
            crc = crc32c::crc32c_append(crc, chunk);
        }
        header.payload_len = u32::try_from(len).expect("payload length is bounded by the codec");
        header.payload_crc = if len == 0 { 0 } else { crc };
        header
    }

    /// Bytes this frame occupies on the wire: header plus payload.
    pub fn encoded_len(&self) -> usize {
        HEADER_LEN.saturating_add(self.payload.len())
    }

    /// Appends the encoded frame to `dst`.
    pub fn encode(&self, dst: &mut BytesMut) {
        let mut header = [0u8; HEADER_LEN];
        self.header().encode(&mut header);
        dst.reserve(self.encoded_len());
        dst.put_slice(&header);
        dst.put_slice(&self.payload);
    }

    /// True when the frame answers a request.
    pub fn is_response(&self) -> bool {
        self.flags.contains(Flags::RESPONSE)
    }

    /// True when the frame carries an [`ErrorBody`].
    pub fn is_error(&self) -> bool {
        self.flags.contains(Flags::ERROR)
    }
}

fn error_payload(code: ErrorCode, message: &str) -> Bytes {
    let mut payload = BytesMut::new();
    ErrorBody::new(code, message).encode(&mut payload);
    payload.freeze()
}
