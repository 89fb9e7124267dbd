//! CREDIT: more bytes a subscription may push. No response unless it fails.

use memstream_protocol::message::Credit;
use memstream_protocol::{ErrorCode, Frame};

use super::{Action, Session};

/// Adds the credit.
pub(crate) fn apply(credit: Credit, frame: &Frame, session: &Session) -> Action {
    match session.subscriptions.get(&frame.stream_id) {
        Some(subscription) => {
            subscription.credit.add(u64::from(credit.bytes));
            Action::NoReply
        }
        None => Action::Reply(
            Frame::error_response(
                frame,
                ErrorCode::SubscriptionNotFound,
                "no subscription on this stream id",
            )
            .into(),
        ),
    }
}
