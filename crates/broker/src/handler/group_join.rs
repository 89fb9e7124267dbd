//! GROUP_JOIN: become (or stay) a member; answered when the rebalance completes.

use bytes::BytesMut;
use memstream_protocol::message::JoinGroup;
use memstream_protocol::{ErrorCode, Frame};

use std::sync::Arc;

use memstream_engine::groups::RebalanceNotifier;
use memstream_protocol::message::Rebalance;
use memstream_protocol::Opcode;

use super::{Action, Context};
use crate::wire_errors::WireCode;
use crate::writer::WriteQueue;

/// Joins and waits for the next generation's assignment.
pub(crate) fn apply(join: JoinGroup, frame: &Frame, ctx: &Context<'_>) -> Action {
    let cfg = ctx.shared.config.load();
    let joined = ctx.shared.engine.groups.join(
        crate::translate::join_request(join),
        Arc::new(QueueNotifier(ctx.queue.clone())),
        &ctx.shared.engine.streams,
        &cfg.groups,
    );
    let rx = match joined {
        Ok(rx) => rx,
        Err(e) => {
            return Action::Reply(Frame::error_response(frame, e.code(), &e.to_string()).into())
        }
    };
    let reply = Frame::response(frame, bytes::Bytes::new());
    Action::Later(Box::pin(async move {
        Some(
            match rx.await {
                Ok(Ok(joined)) => {
                    let mut payload = BytesMut::new();
                    crate::translate::joined(joined).encode(&mut payload);
                    Frame::response(&reply, payload.freeze())
                }
                Ok(Err(e)) => Frame::error_response(&reply, e.code(), &e.to_string()),
                Err(_) => {
                    Frame::error_response(&reply, ErrorCode::ShuttingDown, "the group went away")
                }
            }
            .into(),
        )
    }))
}

/// GROUP_REBALANCE notices on the member's connection, within its write budget like any other
/// frame: a notice that finds the queue full (or the connection closed) is dropped, and the
/// member learns of the rebalance from its next heartbeat.
struct QueueNotifier(WriteQueue);

impl RebalanceNotifier for QueueNotifier {
    fn rebalance(&self, group: &str, generation: u32) {
        let mut notice = BytesMut::new();
        Rebalance {
            group: group.to_owned(),
            generation,
        }
        .encode(&mut notice);
        let frame = Frame::request(Opcode::GroupRebalance, 0, notice.freeze());
        if self.0.try_send(frame.into()).is_err() {
            tracing::debug!(
                group,
                "rebalance notice dropped: write queue full or closed"
            );
        }
    }
}
