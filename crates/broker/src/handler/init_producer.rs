//! INIT_PRODUCER: a producer id for an idempotent producer, allocated by the server so that
//! no two producers ever share one.

use bytes::{Bytes, BytesMut};
use memstream_protocol::message::InitProducer;
use memstream_protocol::Frame;

use super::{blocking, stream_error, Action, Context};

/// Allocates on a blocking thread (a new block of ids is reserved with an fsync).
pub(crate) fn apply(frame: &Frame, ctx: &Context<'_>) -> Action {
    let streams = ctx.shared.engine.streams.clone();
    let reply = Frame::response(frame, Bytes::new());
    Action::Later(Box::pin(async move {
        let allocated = blocking(move || streams.init_producer()).await;
        Some(
            match allocated {
                Ok(producer_id) => {
                    let mut payload = BytesMut::new();
                    InitProducer {
                        producer_id,
                        producer_epoch: 0,
                    }
                    .encode(&mut payload);
                    Frame::response(&reply, payload.freeze())
                }
                Err(e) => stream_error(&reply, &e),
            }
            .into(),
        )
    }))
}
