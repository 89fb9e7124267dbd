//! Push subscriptions with automatic credit: records arrive as the server pushes them, and
//! credit is granted back as the application consumes, so a slow application slows the
//! server's sends instead of filling memory.
//!
//! A subscription knows, per partition, the offset after the last record it received. When
//! the connection drops it reconnects (through its [`Client`]) and subscribes again from
//! exactly there, so the application sees every record once, in order per partition.

use std::collections::{HashMap, VecDeque};
use std::sync::Arc;

use bytes::{Bytes, BytesMut};
use memstream_protocol::batch::{check_envelope, records, BatchHeader, RecordIter};

/// Most bytes one compressed batch may decompress to in this client: a batch this large
/// could not have been built under any server's limits.
pub const DECOMPRESSED_BATCH_BYTES_MAX: usize = 64 << 20;
use memstream_protocol::message::{
    Credit, OffsetSpec, PartitionOffset, PushError, PushHeader, Subscribe, Subscribed,
    ALL_PARTITIONS,
};
use memstream_protocol::pattern::Pattern;
use memstream_protocol::{ErrorCode, Flags, Frame, Opcode};
use tokio::sync::mpsc;

use crate::client::{Client, Connection};
use crate::error::ClientError;

/// One consumed record; key, value and headers are zero-copy slices of the received bytes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ConsumedRecord {
    /// Stream (shared by every record of the stream).
    pub stream: Arc<str>,
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

/// Decodes whole batches (back to back in `batches`) into records of `stream`/`partition`,
/// skipping records below `floor` (a batch may begin before the offset asked for). Returns
/// the offset after the last record decoded, or `floor` when there was none.
pub(crate) fn decode_batches(
    stream: &Arc<str>,
    partition: u32,
    batches: &Bytes,
    floor: u64,
    out: &mut VecDeque<ConsumedRecord>,
) -> Result<u64, ClientError> {
    let malformed = |e: &dyn std::fmt::Display| ClientError::Malformed(e.to_string());
    let mut next = floor;
    let mut rest = batches.clone();
    while !rest.is_empty() {
        let len = BatchHeader::parse(&rest)
            .map_err(|e| malformed(&e))?
            .total_len();
        if len > rest.len() {
            return Err(ClientError::Malformed(
                "a batch runs past the end of its frame".into(),
            ));
        }
        let batch = rest.split_to(len);
        // Checksum first; the records are then parsed (and checked) in the one pass below.
        let h = check_envelope(&batch).map_err(|e| malformed(&e))?;
        // Uncompressed records are borrowed from the batch; compressed ones are decompressed
        // into a buffer of their own that the records then share.
        let body =
            match records(&batch, &h, DECOMPRESSED_BATCH_BYTES_MAX).map_err(|e| malformed(&e))? {
                std::borrow::Cow::Borrowed(b) => batch.slice_ref(b),
                std::borrow::Cow::Owned(v) => Bytes::from(v),
            };
        let mut records = RecordIter::new(&body, &h);
        let mut index = 0u32;
        while let Some(r) = records
            .next_checked(usize::MAX)
            .map_err(|e| malformed(&e))?
        {
            if r.offset_delta != index {
                return Err(ClientError::Malformed(
                    "offset deltas do not count up from 0".into(),
                ));
            }
            index += 1;
            let offset = h
                .base_offset
                .checked_add(u64::from(r.offset_delta))
                .filter(|&o| o < u64::MAX)
                .ok_or_else(|| ClientError::Malformed("record offset out of range".into()))?;
            if offset < floor {
                continue;
            }
            next = next.max(offset + 1);
            let headers = r
                .headers()
                .map(|h| {
                    let value = h.value.map_or_else(Bytes::new, |v| body.slice_ref(v));
                    (h.name.to_owned(), value)
                })
                .collect();
            out.push_back(ConsumedRecord {
                stream: stream.clone(),
                partition,
                offset,
                timestamp_ms: r.timestamp_ms,
                key: r.key.map(|k| body.slice_ref(k)),
                value: r.value.map_or_else(Bytes::new, |v| body.slice_ref(v)),
                headers,
            });
        }
    }
    Ok(next)
}

/// What a subscription reads.
#[derive(Clone, Debug)]
struct Target {
    pattern: String,
    partition: u32,
    from: OffsetSpec,
    wildcard: bool,
}

/// A push subscription to a stream or a pattern.
///
/// ```no_run
/// # async fn demo() -> Result<(), memstream_client::ClientError> {
/// use std::sync::Arc;
/// use memstream_client::{Client, Subscription};
/// use memstream_protocol::message::OffsetSpec;
///
/// let client = Arc::new(Client::connect("127.0.0.1:7878").await?);
/// let mut orders = Subscription::start(client, "orders.>", OffsetSpec::Earliest, 1 << 20).await?;
/// while let Some(record) = orders.next().await {
///     let record = record?;
///     println!("{}/{}@{}: {:?}", record.stream, record.partition, record.offset, record.value);
/// }
/// # Ok(()) }
/// ```
///
/// Dropping it stops routing; [`close`](Self::close) also tells the server.
pub struct Subscription {
    client: Arc<Client>,
    target: Target,
    /// The connection the server-side subscription lives on, and its stream id there.
    conn: Arc<Connection>,
    id: u32,
    pushes: mpsc::UnboundedReceiver<Frame>,
    ready: VecDeque<ConsumedRecord>,
    /// Credit kept granted: the most bytes pushed but not yet consumed.
    window: u32,
    /// Bytes of pushes fully handed to the application since credit was last granted back.
    consumed: u32,
    /// Bytes of the push whose records are in `ready`.
    in_ready: u32,
    /// Per partition, the offset after the last record received: where a resumed
    /// subscription starts, and below which pushed records are skipped.
    positions: HashMap<(Arc<str>, u32), u64>,
    /// Stream names, shared by their records.
    names: HashMap<String, Arc<str>>,
    /// Set when the subscription ended for good; `next` returns `None` from then on.
    ended: bool,
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
        Subscription::start_partition(client, pattern, ALL_PARTITIONS, from, window).await
    }

    /// Like [`start`](Self::start), for one partition only (or [`ALL_PARTITIONS`]).
    pub async fn start_partition(
        client: Arc<Client>,
        pattern: &str,
        partition: u32,
        from: OffsetSpec,
        window: u32,
    ) -> Result<Subscription, ClientError> {
        let wildcard = Pattern::parse(pattern)
            .map_err(|reason| ClientError::InvalidArgument(format!("`{pattern}`: {reason}")))?
            .is_wildcard();
        let conn = client.live_connection().await?;
        let mut sub = Subscription {
            window: window.max(conn.server().limits.max_frame_bytes),
            client,
            target: Target {
                pattern: pattern.to_owned(),
                partition,
                from,
                wildcard,
            },
            conn,
            id: 0,
            pushes: mpsc::unbounded_channel().1,
            ready: VecDeque::new(),
            consumed: 0,
            in_ready: 0,
            positions: HashMap::new(),
            names: HashMap::new(),
            ended: false,
        };
        sub.subscribe(from).await?;
        Ok(sub)
    }

    /// Sends SUBSCRIBE on `self.conn` with the known positions; records where each partition
    /// starts.
    async fn subscribe(&mut self, from: OffsetSpec) -> Result<(), ClientError> {
        let id = self.client.next_stream_id();
        let (tx, rx) = mpsc::unbounded_channel();
        self.conn.route_pushes(id, tx);
        // Adopted before the request goes out: if this future is dropped while waiting, `Drop`
        // still unsubscribes whatever the server started under `id`.
        self.id = id;
        self.pushes = rx;
        self.consumed = 0;
        self.in_ready = 0;
        let mut payload = BytesMut::new();
        Subscribe {
            pattern: self.target.pattern.clone(),
            partition: self.target.partition,
            from,
            credit_bytes: self.window,
            positions: self.positions(),
        }
        .encode(&mut payload);
        let timeout = self.client.options().request_timeout;
        let response = tokio::time::timeout(
            timeout,
            self.conn.request(
                self.client.next_id(),
                id,
                Opcode::Subscribe,
                payload.freeze(),
            ),
        )
        .await
        .unwrap_or(Err(ClientError::Timeout(timeout)));
        let response = match response {
            Ok(response) => response,
            Err(e) => {
                self.conn.unroute_pushes(id);
                self.id = 0;
                if matches!(e, ClientError::Timeout(_)) {
                    // No answer in time: the connection is not working; give it up (the
                    // server-side subscription, if any, ends with it).
                    self.conn.abandon();
                }
                return Err(e);
            }
        };
        let started = Subscribed::decode(&response.payload)
            .map_err(|e| ClientError::Malformed(e.to_string()))?;
        for p in started.positions {
            let stream = self.name(&p.stream);
            self.positions.insert((stream, p.partition), p.offset);
        }
        Ok(())
    }

    fn name(&mut self, stream: &str) -> Arc<str> {
        if let Some(name) = self.names.get(stream) {
            return name.clone();
        }
        let name: Arc<str> = Arc::from(stream);
        self.names.insert(stream.to_owned(), name.clone());
        name
    }

    /// Where the subscription stands: per partition, the offset after the last record
    /// received (records received are delivered by `next` in order).
    pub fn positions(&self) -> Vec<PartitionOffset> {
        let mut out: Vec<PartitionOffset> = self
            .positions
            .iter()
            .map(|((stream, partition), &offset)| PartitionOffset {
                stream: stream.to_string(),
                partition: *partition,
                offset,
            })
            .collect();
        out.sort_by(|a, b| (&a.stream, a.partition).cmp(&(&b.stream, b.partition)));
        out
    }

    /// The next record. Credit for a push is granted back once the application has taken all
    /// its records, so credit follows consumption. When the connection drops, the
    /// subscription reconnects and resumes after the last record received; `None` once it
    /// cannot (reconnecting is disabled or gave up: the error is returned first).
    pub async fn next(&mut self) -> Option<Result<ConsumedRecord, ClientError>> {
        loop {
            if let Some(record) = self.ready.pop_front() {
                return Some(Ok(record));
            }
            if self.ended {
                return None;
            }
            self.consumed = self
                .consumed
                .saturating_add(std::mem::take(&mut self.in_ready));
            // Credit goes back in halves of the window, and also when nothing is left to read
            // and what remains of the window may be smaller than the next stored batch (at
            // most a frame): holding back what was consumed would then stall both sides.
            let left = self.window.saturating_sub(self.consumed);
            let starving =
                self.pushes.is_empty() && left < self.conn.server().limits.max_frame_bytes;
            if self.consumed > 0 && (self.consumed >= self.window / 2 || starving) {
                let mut payload = BytesMut::new();
                Credit {
                    bytes: self.consumed,
                }
                .encode(&mut payload);
                self.consumed = 0;
                // A failure here means the connection is gone: the receive below notices.
                let _ = self
                    .conn
                    .send_only(
                        self.client.next_id(),
                        self.id,
                        Opcode::Credit,
                        payload.freeze(),
                        None,
                    )
                    .await;
            }
            match self.next_push().await {
                Some(push) => {
                    if let Err(e) = self.take(push) {
                        return Some(Err(e));
                    }
                }
                None => {
                    if let Err(e) = self.resume().await {
                        self.ended = true;
                        return Some(Err(e));
                    }
                }
            }
        }
    }

    /// The next push; while none comes for `keepalive_interval`, checks that the connection
    /// still answers (a PING), and gives it up when it does not: a connection that silently
    /// stopped delivering must not leave the subscription waiting forever.
    async fn next_push(&mut self) -> Option<Frame> {
        let options = self.client.options();
        let (idle, timeout) = (options.keepalive_interval, options.request_timeout);
        loop {
            if let Ok(push) = tokio::time::timeout(idle, self.pushes.recv()).await {
                return push;
            }
            let ping = self
                .conn
                .request(self.client.next_id(), 0, Opcode::Ping, Bytes::new());
            if tokio::time::timeout(timeout, ping).await.is_err() {
                tracing::warn!(pattern = %self.target.pattern, "connection silent; abandoning it");
                self.conn.abandon();
            }
        }
    }

    /// Subscribes again, on a new connection when the old one is gone, from the positions
    /// received so far; tries again while failures are retriable and the reconnect policy
    /// has not given up.
    async fn resume(&mut self) -> Result<(), ClientError> {
        // Partitions without a position are new to this subscription: a plain stream's
        // partitions all have one; a pattern's new streams are read from their start.
        let from = if self.target.wildcard {
            OffsetSpec::Earliest
        } else {
            self.target.from
        };
        let policy = self.client.options().reconnect.clone();
        let started = tokio::time::Instant::now();
        let mut backoff = policy.backoff_initial;
        loop {
            if self.conn.is_closed() {
                let dead = self.conn.clone();
                self.conn = self.client.reconnect(&dead).await?;
            }
            match self.subscribe(from).await {
                Ok(()) => {
                    tracing::info!(pattern = %self.target.pattern, "subscription resumed");
                    return Ok(());
                }
                Err(e)
                    if e.is_retriable()
                        && policy.enabled
                        && started.elapsed() + backoff < policy.give_up_after =>
                {
                    tracing::debug!(error = %e, "resubscribing failed; trying again");
                    tokio::time::sleep(backoff).await;
                    backoff = (backoff * 2).min(policy.backoff_max);
                }
                Err(e) => return Err(e),
            }
        }
    }

    /// Decodes a push into records.
    fn take(&mut self, push: Frame) -> Result<(), ClientError> {
        if push.flags.contains(Flags::ERROR) {
            // One partition stopped (a corrupt batch, or one too large for this connection):
            // the others go on. Its position stays where it stopped.
            let stopped = PushError::decode(&push.payload)
                .map_err(|e| ClientError::Malformed(e.to_string()))?;
            let code = stopped.error.code;
            return Err(ClientError::Server {
                code,
                name: ErrorCode::from_u16(code).map_or("UNKNOWN", ErrorCode::name),
                message: format!(
                    "{}/{} stopped at offset {}: {}",
                    stopped.stream, stopped.partition, stopped.next_offset, stopped.error.message
                ),
            });
        }
        // Credit is owed for every push, even one that turns out malformed (at most its
        // payload's size), or the subscription would stall.
        let (header, batches) = match PushHeader::decode(&push.payload) {
            Ok(decoded) => decoded,
            Err(e) => {
                self.in_ready = u32::try_from(push.payload.len()).unwrap_or(u32::MAX);
                return Err(ClientError::Malformed(e.to_string()));
            }
        };
        self.in_ready = header.batches_len;
        let stream = self.name(&header.stream);
        let key = (stream, header.partition);
        if push.flags.contains(Flags::END_OF_STREAM) {
            // The stream was deleted: this partition has nothing more to give.
            self.positions.remove(&key);
            if !self.target.wildcard && self.positions.is_empty() {
                self.ended = true;
                return Err(ClientError::Server {
                    code: ErrorCode::StreamNotFound.as_u16(),
                    name: ErrorCode::StreamNotFound.name(),
                    message: format!("stream `{}` was deleted", header.stream),
                });
            }
            return Ok(());
        }
        let floor = self.positions.get(&key).copied().unwrap_or(0);
        let next = decode_batches(&key.0, header.partition, &batches, floor, &mut self.ready)?;
        self.positions
            .insert(key, next.max(header.next_offset).max(floor));
        Ok(())
    }

    /// Ends the subscription on the server and waits for its answer.
    pub async fn close(mut self) -> Result<(), ClientError> {
        self.conn.unroute_pushes(self.id);
        let id = std::mem::take(&mut self.id);
        if self.conn.is_closed() || id == 0 {
            return Ok(());
        }
        let timeout = self.client.options().request_timeout;
        tokio::time::timeout(
            timeout,
            self.conn
                .request(self.client.next_id(), id, Opcode::Unsubscribe, Bytes::new()),
        )
        .await
        .unwrap_or(Err(ClientError::Timeout(timeout)))
        .map(drop)
    }
}

impl Drop for Subscription {
    /// Stops routing and, unless `close` did, tells the server (without waiting), so a
    /// dropped subscription does not keep its server-side task.
    fn drop(&mut self) {
        if self.id != 0 {
            self.conn.unroute_pushes(self.id);
            self.conn
                .try_send_only(self.client.next_id(), self.id, Opcode::Unsubscribe);
        }
    }
}
