//! The payload of error responses and of GOODBYE: `u16 code, u16 message_len, message`.

use bytes::{BufMut, BytesMut};

use super::reader::{put_str16, truncate_utf8, PayloadReader};
use crate::error::{ErrorCode, PayloadError};

/// Longest message carried; longer messages are cut at a char boundary when encoded.
pub const ERROR_MESSAGE_BYTES_MAX: usize = 1024;

/// An error code and a human-readable message.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ErrorBody {
    /// The raw wire code; a newer server may send codes this crate does not know.
    pub code: u16,
    /// UTF-8 text for people; never parse it.
    pub message: String,
}

impl ErrorBody {
    /// A body for a known code; the message is truncated to [`ERROR_MESSAGE_BYTES_MAX`].
    pub fn new(code: ErrorCode, message: &str) -> ErrorBody {
        ErrorBody {
            code: code.as_u16(),
            message: truncate_utf8(message, ERROR_MESSAGE_BYTES_MAX).to_owned(),
        }
    }

    /// The code, when this crate knows it.
    pub fn known_code(&self) -> Option<ErrorCode> {
        ErrorCode::from_u16(self.code)
    }

    /// Appends the encoded body.
    pub fn encode(&self, dst: &mut BytesMut) {
        let message = truncate_utf8(&self.message, ERROR_MESSAGE_BYTES_MAX);
        dst.reserve(message.len().saturating_add(4));
        dst.put_u16_le(self.code);
        put_str16(dst, message);
    }

    /// Parses a body.
    pub fn decode(payload: &[u8]) -> Result<ErrorBody, PayloadError> {
        let mut r = PayloadReader::new(payload);
        let code = r.u16("code")?;
        let message = r.str16("message", ERROR_MESSAGE_BYTES_MAX)?.to_owned();
        r.finish()?;
        Ok(ErrorBody { code, message })
    }
}

#[cfg(test)]
#[allow(clippy::indexing_slicing, clippy::arithmetic_side_effects)]
mod tests {
    use super::*;

    #[test]
    fn long_messages_are_cut_on_a_char_boundary() {
        let long = "é".repeat(ERROR_MESSAGE_BYTES_MAX);
        let body = ErrorBody::new(ErrorCode::Internal, &long);
        assert!(body.message.len() <= ERROR_MESSAGE_BYTES_MAX);
        let mut buf = BytesMut::new();
        body.encode(&mut buf);
        assert_eq!(ErrorBody::decode(&buf).unwrap(), body);
    }

    #[test]
    fn truncations_fail_cleanly() {
        let mut buf = BytesMut::new();
        ErrorBody::new(ErrorCode::BadMagic, "bad magic").encode(&mut buf);
        for cut in 0..buf.len() {
            assert!(ErrorBody::decode(&buf[..cut]).is_err());
        }
    }
}
