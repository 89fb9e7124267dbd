//! UNSUBSCRIBE: stop the subscription; the answer carries END_OF_STREAM.

use bytes::Bytes;
use memstream_protocol::{ErrorCode, Flags, Frame};

use super::{Action, Session};

/// Stops the subscription (pushes already queued still arrive before the answer).
pub(crate) fn apply(frame: &Frame, session: &mut Session) -> Action {
    if session.subscriptions.remove(&frame.stream_id).is_none() {
        return Action::Reply(
            Frame::error_response(
                frame,
                ErrorCode::SubscriptionNotFound,
                "no subscription on this stream id",
            )
            .into(),
        );
    }
    let mut done = Frame::response(frame, Bytes::new());
    done.flags = Flags::RESPONSE | Flags::END_OF_STREAM;
    Action::Reply(done.into())
}
