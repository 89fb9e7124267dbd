//! Push subscriptions with automatic credit: records arrive as the server pushes them, and
//! credit is granted back as the application consumes, so a slow application slows the
//! server's sends instead of filling memory.

use std::collections::VecDeque;
use std::sync::Arc;

use bytes::{Bytes, BytesMut};
use memstream_protocol::batch::{verify, BatchHeader, RecordIter, BATCH_HEADER_LEN};
use memstream_protocol::message::{Credit, OffsetSpec, PushHeader, Subscribe, ALL_PARTITIONS};
use memstream_protocol::{Frame, Opcode};
use tokio::sync::mpsc;

use crate::client::Client;
use crate::error::ClientError;

/// One consumed record; key, value and headers are zero-copy slices of the pushed bytes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ConsumedRecord {
    /// Stream.
    pub stream: String,
    /// Partition.
    pub partition: u32,
    /// Offset in the partition.
    pub offset: u64,
    /// Timestamp, ms since the Unix epoch.
    pub timestamp_ms: u64,
    /// Key, if any.
    pub key: Option<Bytes>,
    /// Value.
    pub value: Bytes,
    /// Headers.
    pub headers: Vec<(String, Bytes)>,
}

/// A push subscription. Dropping it stops routing; [`close`](Self::close) also tells the
/// server.
pub struct Subscription {
    client: Arc<Client>,
    id: u32,
    pushes: mpsc::UnboundedReceiver<Frame>,
    ready: VecDeque<ConsumedRecord>,
    /// Credit kept granted: the most bytes pushed but not yet consumed.
    window: u32,
    /// Bytes of pushes fully handed to the application since credit was last granted back.
    consumed: u32,
    /// Bytes of the push whose records are in `ready`.
    in_ready: u32,
    /// Records below this offset are skipped: a pushed batch may begin before the asked offset.
    floor: u64,
}

impl Subscription {
    /// Subscribes to `pattern` (a stream or `orders.*` / `orders.>`), every partition, from
    /// `from`, keeping `window` bytes of credit granted. The window is raised to the server's
    /// frame limit at least, so that the largest batch can always be pushed.
    pub async fn start(
        client: Arc<Client>,
        pattern: &str,
        from: OffsetSpec,
        window: u32,
    ) -> Result<Subscription, ClientError> {
        let window = window.max(client.server().limits.max_frame_bytes);
        let id = client.next_stream_id();
        let pushes = client.route_pushes(id);
        let mut payload = BytesMut::new();
        Subscribe {
            pattern: pattern.to_owned(),
            partition: ALL_PARTITIONS,
            from,
            credit_bytes: window,
            positions: Vec::new(),
        }
        .encode(&mut payload);
        if let Err(e) = client
            .request_on(id, Opcode::Subscribe, payload.freeze())
            .await
        {
            client.unroute_pushes(id);
            return Err(e);
        }
        let floor = match from {
            OffsetSpec::Offset(o) => o,
            _ => 0,
        };
        Ok(Subscription {
            client,
            id,
            pushes,
            ready: VecDeque::new(),
            window,
            consumed: 0,
            in_ready: 0,
            floor,
        })
    }

    /// The next record; `None` when the connection closed. Credit for a push is granted back
    /// once the application has taken all its records, so credit follows consumption.
    pub async fn next(&mut self) -> Option<Result<ConsumedRecord, ClientError>> {
        loop {
            if let Some(record) = self.ready.pop_front() {
                return Some(Ok(record));
            }
            self.consumed = self
                .consumed
                .saturating_add(std::mem::take(&mut self.in_ready));
            if self.consumed > 0 && self.consumed >= self.window / 2 {
                let mut payload = BytesMut::new();
                Credit {
                    bytes: self.consumed,
                }
                .encode(&mut payload);
                self.consumed = 0;
                if let Err(e) = self
                    .client
                    .send_only(self.id, Opcode::Credit, payload.freeze())
                    .await
                {
                    return Some(Err(e));
                }
            }
            let push = self.pushes.recv().await?;
            if let Err(e) = self.take(push) {
                return Some(Err(e));
            }
        }
    }

    /// Decodes a push into records.
    fn take(&mut self, push: Frame) -> Result<(), ClientError> {
        let (header, batches) =
            PushHeader::decode(&push.payload).map_err(|e| ClientError::Malformed(e.to_string()))?;
        let floor = self.floor;
        let mut rest = batches.clone();
        while !rest.is_empty() {
            let len = BatchHeader::parse(&rest)
                .map_err(|e| ClientError::Malformed(e.to_string()))?
                .batch_len as usize;
            if len > rest.len() {
                return Err(ClientError::Malformed(
                    "pushed batch runs past the frame".into(),
                ));
            }
            let batch = rest.split_to(len);
            let h =
                verify(&batch, usize::MAX).map_err(|e| ClientError::Malformed(e.to_string()))?;
            for r in RecordIter::new(&batch[BATCH_HEADER_LEN..], &h) {
                let r = r.map_err(|e| ClientError::Malformed(e.to_string()))?;
                let offset = h.base_offset + u64::from(r.offset_delta);
                if offset < floor {
                    continue;
                }
                self.ready.push_back(ConsumedRecord {
                    stream: header.stream.clone(),
                    partition: header.partition,
                    offset,
                    timestamp_ms: r.timestamp_ms,
                    key: r.key.map(|k| batch.slice_ref(k)),
                    value: batch.slice_ref(r.value),
                    headers: r
                        .headers()
                        .map(|h| (h.name.to_owned(), batch.slice_ref(h.value)))
                        .collect(),
                });
            }
        }
        self.in_ready = header.batches_len;
        Ok(())
    }

    /// Ends the subscription on the server.
    pub async fn close(self) -> Result<(), ClientError> {
        self.client.unroute_pushes(self.id);
        self.client
            .request_on(self.id, Opcode::Unsubscribe, Bytes::new())
            .await
            .map(drop)
    }
}
