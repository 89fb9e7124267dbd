//! The frame codec: a `tokio_util` decoder and encoder with a frame-size limit.
//!
//! Decoding is a two-state machine. In `Header` state the decoder waits for 40 bytes and
//! checks them ([`FrameHeader::decode`]); only a header that passes every check moves it to
//! `Payload` state, where it reserves exactly the announced payload and waits for it. So a bad
//! or oversized frame is rejected before a byte of its payload is buffered, and the read buffer
//! never grows past one header plus the largest allowed payload. The payload is cut from the
//! read buffer with `split_to(..).freeze()`: no copy.

use bytes::{Buf, BytesMut};
use tokio_util::codec::{Decoder, Encoder};

use crate::error::FrameError;
use crate::frame::Frame;
use crate::header::{FrameHeader, HEADER_LEN};

/// The smallest `max_frame_bytes` a codec accepts: a header and a 4 KiB payload, enough for
/// any handshake.
pub const MIN_FRAME_BYTES: u32 = HEADER_LEN as u32 + 4096;

/// Decodes and encodes [`Frame`]s, enforcing `max_frame_bytes` (header plus payload).
#[derive(Debug)]
pub struct FrameCodec {
    max_frame_bytes: u32,
    state: DecodeState,
}

#[derive(Debug, Clone, Copy)]
enum DecodeState {
    Header,
    Payload(FrameHeader),
}

impl FrameCodec {
    /// A codec with the given limit on header plus payload, clamped up to [`MIN_FRAME_BYTES`].
    pub fn new(max_frame_bytes: u32) -> FrameCodec {
        FrameCodec {
            max_frame_bytes: max_frame_bytes.max(MIN_FRAME_BYTES),
            state: DecodeState::Header,
        }
    }

    /// The limit on header plus payload in force.
    pub fn max_frame_bytes(&self) -> u32 {
        self.max_frame_bytes
    }
}

impl Decoder for FrameCodec {
    type Item = Frame;
    type Error = FrameError;

    fn decode(&mut self, src: &mut BytesMut) -> Result<Option<Frame>, FrameError> {
        let header = match self.state {
            DecodeState::Payload(header) => header,
            DecodeState::Header => {
                let Some(raw) = src.get(..HEADER_LEN) else {
                    src.reserve(HEADER_LEN.saturating_sub(src.len()));
                    return Ok(None);
                };
                let raw: &[u8; HEADER_LEN] = raw.try_into().expect("slice is HEADER_LEN long");
                let header = FrameHeader::decode(raw, self.max_frame_bytes)?;
                src.advance(HEADER_LEN);
                self.state = DecodeState::Payload(header);
                header
            }
        };
        // Bounded by max_frame_bytes, checked in FrameHeader::decode.
        let payload_len = header.payload_len as usize;
        if src.len() < payload_len {
            reserve_exact(src, payload_len);
            return Ok(None);
        }
        let payload = src.split_to(payload_len).freeze();
        self.state = DecodeState::Header;
        let computed = if payload.is_empty() {
            0
        } else {
            crc32c::crc32c(&payload)
        };
        if computed != header.payload_crc {
            return Err(FrameError::PayloadChecksum { header, computed });
        }
        Ok(Some(Frame {
            opcode: header.opcode,
            flags: header.flags,
            stream_id: header.stream_id,
            correlation_id: header.correlation_id,
            timestamp_ns: header.timestamp_ns,
            payload,
        }))
    }

    /// At end of input, a partial frame (even a whole header whose payload never came) is an
    /// error, never a clean end of stream.
    fn decode_eof(&mut self, src: &mut BytesMut) -> Result<Option<Frame>, FrameError> {
        if let Some(frame) = self.decode(src)? {
            return Ok(Some(frame));
        }
        if src.is_empty() && matches!(self.state, DecodeState::Header) {
            return Ok(None);
        }
        Err(FrameError::Io(std::io::Error::new(
            std::io::ErrorKind::UnexpectedEof,
            "stream ended inside a frame",
        )))
    }
}

/// Makes room for `needed` bytes from the start of `src` with one allocation of exactly that
/// size, when the buffer is too small. `BytesMut::reserve` would round a reallocation up to
/// twice the old capacity, which could exceed the frame limit.
fn reserve_exact(src: &mut BytesMut, needed: usize) {
    if src.capacity() >= needed {
        return;
    }
    let mut exact = BytesMut::with_capacity(needed);
    exact.extend_from_slice(src);
    *src = exact;
}

impl Encoder<Frame> for FrameCodec {
    type Error = FrameError;

    /// Refuses to encode a frame the peer would reject as too large.
    fn encode(&mut self, frame: Frame, dst: &mut BytesMut) -> Result<(), FrameError> {
        let frame_len = frame.encoded_len() as u64;
        if frame_len > u64::from(self.max_frame_bytes) {
            return Err(FrameError::TooLarge {
                header: frame_header_stub(&frame),
                frame_len,
                max_frame_bytes: self.max_frame_bytes,
            });
        }
        frame.encode(dst);
        Ok(())
    }
}

/// Header fields of `frame` without computing the payload checksum (used only in errors).
fn frame_header_stub(frame: &Frame) -> FrameHeader {
    FrameHeader {
        opcode: frame.opcode,
        flags: frame.flags,
        stream_id: frame.stream_id,
        payload_len: u32::try_from(frame.payload.len()).unwrap_or(u32::MAX),
        correlation_id: frame.correlation_id,
        timestamp_ns: frame.timestamp_ns,
        payload_crc: 0,
    }
}

#[cfg(test)]
#[allow(clippy::indexing_slicing, clippy::arithmetic_side_effects)]
mod tests {
    use super::*;
    use crate::opcode::Opcode;
    use bytes::Bytes;

    fn encoded(payload: &'static [u8]) -> BytesMut {
        let mut buf = BytesMut::new();
        Frame::request(Opcode::Ping, 1, Bytes::from_static(payload)).encode(&mut buf);
        buf
    }

    #[test]
    fn end_of_input_inside_a_frame_is_an_error() {
        let whole = encoded(b"payload");
        // Regression: a whole header with none of its payload used to read as a clean end.
        for cut in [
            1,
            HEADER_LEN - 1,
            HEADER_LEN,
            HEADER_LEN + 1,
            whole.len() - 1,
        ] {
            let mut buf = BytesMut::from(&whole[..cut]);
            let result = FrameCodec::new(MIN_FRAME_BYTES).decode_eof(&mut buf);
            assert!(
                matches!(result, Err(FrameError::Io(ref e)) if e.kind() == std::io::ErrorKind::UnexpectedEof),
                "cut at {cut}: {result:?}"
            );
        }
    }

    #[test]
    fn end_of_input_between_frames_is_clean() {
        let mut codec = FrameCodec::new(MIN_FRAME_BYTES);
        let mut buf = encoded(b"x");
        assert!(codec.decode_eof(&mut buf).unwrap().is_some());
        assert!(codec.decode_eof(&mut buf).unwrap().is_none());
    }
}
