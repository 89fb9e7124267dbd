//! PING: answers with the request's payload, untouched (zero-copy).

use bytes::Bytes;
use memstream_protocol::Frame;

use super::Action;

/// Echoes `payload`.
pub(crate) fn apply(payload: Bytes, frame: &Frame) -> Action {
    Action::Reply(Frame::response(frame, payload).into())
}
