//! GOODBYE from the client: acknowledge, then close once in-flight requests are answered.

use bytes::Bytes;
use memstream_protocol::{ErrorBody, Frame};

use super::{Action, Session};

/// Logs the client's reason and answers with an empty GOODBYE response.
pub(crate) fn apply(reason: ErrorBody, frame: &Frame, session: &Session) -> Action {
    tracing::debug!(
        client = %session.client_name,
        code = reason.code,
        message = %reason.message,
        "client said goodbye"
    );
    Action::ReplyAndClose(Frame::response(frame, Bytes::new()))
}
