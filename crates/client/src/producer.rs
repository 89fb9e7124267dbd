//! The producer: `send` a record, get back where it landed; records are batched naturally.
//!
//! Natural batching: each partition has at most `in_flight_batches_max` batches on the wire.
//! A record sent while the partition is idle goes out at once, alone (low latency); records
//! sent while a batch is on the wire queue up and leave together as the next batch, up to
//! `batch_bytes_max` (high throughput when busy). `linger` optionally holds a partial batch
//! back for more records to join.
//!
//! Idempotence: the producer has a random non-zero id and numbers each partition's records.
//! A batch whose connection dropped is sent again, with the same numbers, after the client
//! reconnects; the server stores it once and answers with its original offset, so a retry
//! never duplicates. Retries go out in sequence order, before any newer batch of the
//! partition.

use std::collections::{BTreeMap, VecDeque};
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use futures_util::stream::{FuturesUnordered, StreamExt};
use memstream_protocol::batch::BatchBuilder;
use memstream_protocol::message::{
    Acks, PartitionSelector, ProduceBatch, ProduceRequest, ProduceResponse,
};
use memstream_protocol::{partition_for_key, ErrorCode, Opcode, Request};
use tokio::sync::{mpsc, oneshot};
use tokio::time::Instant;

use crate::client::Client;
use crate::error::ClientError;

/// A record to send.
///
/// ```
/// use memstream_client::Record;
/// let record = Record::value("hello").with_key("user-7").with_header("source", "web");
/// assert_eq!(&record.key.as_deref().unwrap()[..], b"user-7");
/// assert_eq!(record.headers.len(), 1);
/// ```
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Record {
    /// Optional key; it picks the partition under [`Partitioner::Key`].
    pub key: Option<Bytes>,
    /// The value.
    pub value: Bytes,
    /// Headers: names and bytes.
    pub headers: Vec<(String, Bytes)>,
    /// Timestamp in ms since the Unix epoch; `None` = now.
    pub timestamp_ms: Option<u64>,
}

impl Record {
    /// A record with just a value.
    pub fn value(value: impl Into<Bytes>) -> Record {
        Record {
            value: value.into(),
            ..Record::default()
        }
    }

    /// Sets the key.
    pub fn with_key(mut self, key: impl Into<Bytes>) -> Record {
        self.key = Some(key.into());
        self
    }

    /// Adds a header.
    pub fn with_header(mut self, name: impl Into<String>, value: impl Into<Bytes>) -> Record {
        self.headers.push((name.into(), value.into()));
        self
    }

    /// Sets the timestamp (ms since the Unix epoch).
    pub fn with_timestamp_ms(mut self, timestamp_ms: u64) -> Record {
        self.timestamp_ms = Some(timestamp_ms);
        self
    }
}

/// How records are spread over partitions.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Partitioner {
    /// By key with the server's documented hash (Kafka's murmur2); keyless records round-robin.
    Key,
    /// Rotate over the partitions.
    RoundRobin,
    /// Always this partition.
    Explicit(u32),
}

/// Producer settings.
///
/// ```
/// use std::time::Duration;
/// use memstream_client::{Partitioner, ProducerOptions};
/// use memstream_protocol::message::Acks;
///
/// let options = ProducerOptions {
///     acks: Acks::Written,
///     partitioner: Partitioner::RoundRobin,
///     linger: Duration::from_millis(2),
///     ..ProducerOptions::default()
/// };
/// assert_eq!(options.in_flight_batches_max, 1);
/// ```
#[derive(Clone, Debug)]
pub struct ProducerOptions {
    /// Acknowledgement level; `Durable` (fsynced) by default: safe by default, fast by choice.
    /// With `Acks::None` the server sends nothing back: a record counts as delivered once it
    /// is handed to the connection, and its receipt has no offset.
    pub acks: Acks,
    /// Partition choice.
    pub partitioner: Partitioner,
    /// Largest batch sent in one go, in encoded bytes.
    pub batch_bytes_max: usize,
    /// Batches per partition on the wire at once; further records wait (backpressure).
    pub in_flight_batches_max: usize,
    /// Records accepted by `send` but not yet on the wire; `send` waits beyond this.
    pub queued_records_max: usize,
    /// How long a partial batch waits for more records before it is sent; zero (the default)
    /// sends as soon as the partition has room on the wire.
    pub linger: Duration,
    /// Number records for exactly-once appends across retries.
    pub idempotent: bool,
    /// How long a batch keeps being retried after connection failures before its records
    /// fail (only idempotent producers retry).
    pub delivery_timeout: Duration,
}

impl Default for ProducerOptions {
    fn default() -> Self {
        ProducerOptions {
            acks: Acks::Durable,
            partitioner: Partitioner::Key,
            batch_bytes_max: 512 << 10,
            in_flight_batches_max: 1,
            queued_records_max: 100_000,
            linger: Duration::ZERO,
            idempotent: true,
            delivery_timeout: Duration::from_secs(120),
        }
    }
}

/// Where a record landed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Delivery {
    /// Partition.
    pub partition: u32,
    /// Offset in the partition; `None` with `Acks::None`, where the server does not say.
    pub offset: Option<u64>,
}

/// The outcome of one `send`.
pub type Receipt = Result<Delivery, ClientError>;

struct Queued {
    record: Record,
    done: oneshot::Sender<Receipt>,
}

enum Command {
    Send(Queued),
    Flush(oneshot::Sender<()>),
}

/// Sends records to one stream. Cheap to share behind an `Arc`: `send` takes `&self`.
///
/// ```no_run
/// # async fn demo() -> Result<(), memstream_client::ClientError> {
/// use std::sync::Arc;
/// use memstream_client::{Client, Producer, ProducerOptions, Record};
///
/// let client = Arc::new(Client::connect("127.0.0.1:7878").await?);
/// let producer = Producer::new(client, "orders", ProducerOptions::default()).await?;
/// let receipt = producer.send(Record::value("order #1").with_key("customer-9")).await;
/// let delivery = receipt.await?;
/// println!("stored at {}:{:?}", delivery.partition, delivery.offset);
/// producer.flush().await;
/// # Ok(()) }
/// ```
pub struct Producer {
    tx: mpsc::Sender<Command>,
    partitions: u32,
}

impl Producer {
    /// A producer for `stream` over `client`; asks the server for the partition count.
    pub async fn new(
        client: Arc<Client>,
        stream: &str,
        options: ProducerOptions,
    ) -> Result<Producer, ClientError> {
        let partitions = client
            .admin()
            .describe_stream(stream)
            .await?
            .partitions
            .len() as u32;
        let producer_id = if options.idempotent { random_id() } else { 0 };
        let (tx, rx) = mpsc::channel(options.queued_records_max.max(1));
        let worker = Worker {
            client,
            stream: stream.to_owned(),
            queues: (0..partitions).map(|_| PartitionQueue::default()).collect(),
            producer_id,
            round_robin: 0,
            options,
            flushes: Vec::new(),
        };
        tokio::spawn(worker.run(rx));
        Ok(Producer { tx, partitions })
    }

    /// The stream's partition count.
    pub fn partitions(&self) -> u32 {
        self.partitions
    }

    /// Queues `record`; the returned future resolves to where it landed once the server
    /// acknowledged it at the producer's `acks` level. Waits while `queued_records_max`
    /// records are queued (backpressure). The record is queued even if the returned future
    /// is dropped unawaited.
    pub async fn send(&self, record: Record) -> impl Future<Output = Receipt> {
        let (done, rx) = oneshot::channel();
        let queued = self.tx.send(Command::Send(Queued { record, done })).await;
        async move {
            queued.map_err(|_| ClientError::Closed { reason: None })?;
            rx.await
                .unwrap_or(Err(ClientError::Closed { reason: None }))
        }
    }

    /// Sends every record queued so far without waiting for `linger`, and returns once each
    /// has its receipt.
    pub async fn flush(&self) {
        let (done, rx) = oneshot::channel();
        if self.tx.send(Command::Flush(done)).await.is_ok() {
            let _ = rx.await;
        }
    }
}

/// A batch on the wire, kept until acknowledged so that it can be sent again.
struct Sent {
    partition: u32,
    base_sequence: u32,
    epoch: u16,
    request: Request,
    waiters: Vec<oneshot::Sender<Receipt>>,
    first_sent: Instant,
    attempts: u32,
}

#[derive(Default)]
struct PartitionQueue {
    pending: VecDeque<Queued>,
    /// Encoded bytes of `pending`, roughly.
    pending_bytes: usize,
    /// When the oldest pending record arrived (for `linger`).
    oldest: Option<Instant>,
    in_flight: usize,
    next_sequence: u32,
    /// Raised after a batch failed for good: the server then accepts sequence 0 again.
    epoch: u16,
    /// Batches to send again, by base sequence; they go before anything new.
    retry: BTreeMap<u32, Sent>,
}

type InFlight = Pin<Box<dyn Future<Output = (Sent, Result<Delivery, ClientError>)> + Send>>;

struct Worker {
    client: Arc<Client>,
    stream: String,
    queues: Vec<PartitionQueue>,
    producer_id: u64,
    round_robin: u32,
    options: ProducerOptions,
    flushes: Vec<oneshot::Sender<()>>,
}

impl Worker {
    async fn run(mut self, mut rx: mpsc::Receiver<Command>) {
        let mut in_flight: FuturesUnordered<InFlight> = FuturesUnordered::new();
        let mut open = true;
        loop {
            let idle = in_flight.is_empty()
                && self
                    .queues
                    .iter()
                    .all(|q| q.pending.is_empty() && q.retry.is_empty());
            if idle {
                for done in self.flushes.drain(..) {
                    let _ = done.send(());
                }
                if !open {
                    return;
                }
            }
            // Without a sender or with a flush waiting, linger no longer applies.
            let hurry = !open || !self.flushes.is_empty();
            let deadline = if hurry { None } else { self.linger_deadline() };
            tokio::select! {
                command = rx.recv(), if open => match command {
                    Some(first) => {
                        let mut touched = Vec::new();
                        self.command(first, &mut touched);
                        // Take whatever else is already waiting: it joins the same batches.
                        while let Ok(more) = rx.try_recv() {
                            self.command(more, &mut touched);
                        }
                        touched.sort_unstable();
                        touched.dedup();
                        let hurry = !self.flushes.is_empty();
                        for p in touched {
                            self.dispatch(p, hurry, &mut in_flight);
                        }
                    }
                    None => {
                        open = false;
                        self.dispatch_all(true, &mut in_flight);
                    }
                },
                Some((sent, result)) = in_flight.next(), if !in_flight.is_empty() => {
                    let partition = sent.partition;
                    self.settle(sent, result);
                    self.dispatch(partition, hurry, &mut in_flight);
                }
                () = sleep_until(deadline), if deadline.is_some() => {
                    self.dispatch_all(false, &mut in_flight);
                }
            }
            if !open || !self.flushes.is_empty() {
                self.dispatch_all(true, &mut in_flight);
            }
        }
    }

    fn command(&mut self, command: Command, touched: &mut Vec<u32>) {
        match command {
            Command::Send(queued) => touched.extend(self.enqueue(queued)),
            Command::Flush(done) => {
                self.flushes.push(done);
                touched.extend(0..self.queues.len() as u32);
            }
        }
    }

    /// The earliest time a lingering partial batch is due, if any partition has one.
    fn linger_deadline(&self) -> Option<Instant> {
        if self.options.linger.is_zero() {
            return None;
        }
        self.queues
            .iter()
            .filter(|q| q.in_flight < self.options.in_flight_batches_max && q.retry.is_empty())
            .filter_map(|q| q.oldest)
            .min()
            .map(|t| t + self.options.linger)
    }

    /// Hands a finished batch's outcome to its records, or queues it for a retry.
    fn settle(&mut self, sent: Sent, result: Result<Delivery, ClientError>) {
        let Some(q) = self.queues.get_mut(sent.partition as usize) else {
            return;
        };
        q.in_flight -= 1;
        match result {
            Ok(delivery) => {
                for (i, done) in sent.waiters.into_iter().enumerate() {
                    let _ = done.send(Ok(Delivery {
                        offset: delivery.offset.map(|base| base + i as u64),
                        ..delivery
                    }));
                }
            }
            Err(e)
                if self.producer_id != 0
                    && e.is_retriable()
                    && self.client.options().reconnect.enabled
                    && sent.first_sent.elapsed() < self.options.delivery_timeout =>
            {
                tracing::debug!(partition = sent.partition, error = %e, "batch will be retried");
                q.retry.insert(sent.base_sequence, sent);
            }
            Err(e) => {
                if self.producer_id != 0 && sent.epoch == q.epoch {
                    // The server never stored this batch, so later sequence numbers would be
                    // out of order: start a new epoch, which the server accepts from zero.
                    q.epoch = q.epoch.wrapping_add(1);
                    q.next_sequence = 0;
                }
                for done in sent.waiters {
                    let _ = done.send(Err(clone_error(&e)));
                }
            }
        }
    }

    /// Puts a record in its partition's queue; `None` (and an error to the sender) when the
    /// partition does not exist.
    fn enqueue(&mut self, queued: Queued) -> Option<u32> {
        let partitions = self.queues.len() as u32;
        let partition = match (self.options.partitioner, &queued.record.key) {
            (Partitioner::Explicit(p), _) => p,
            (Partitioner::Key, Some(key)) => partition_for_key(key, partitions),
            _ => {
                self.round_robin = self.round_robin.wrapping_add(1);
                self.round_robin % partitions.max(1)
            }
        };
        match self.queues.get_mut(partition as usize) {
            Some(q) => {
                q.pending_bytes += encoded_len(&queued.record, q.pending.len() as u32);
                q.oldest.get_or_insert_with(Instant::now);
                q.pending.push_back(queued);
                Some(partition)
            }
            None => {
                let _ = queued.done.send(Err(ClientError::Server {
                    code: ErrorCode::PartitionNotFound.as_u16(),
                    name: ErrorCode::PartitionNotFound.name(),
                    message: format!("stream `{}` has no partition {partition}", self.stream),
                }));
                None
            }
        }
    }

    fn dispatch_all(&mut self, hurry: bool, in_flight: &mut FuturesUnordered<InFlight>) {
        for p in 0..self.queues.len() as u32 {
            self.dispatch(p, hurry, in_flight);
        }
    }

    /// Sends as many batches for `partition` as its in-flight limit allows: retries first, in
    /// sequence order once nothing else is on the wire; then new records, unless they linger.
    fn dispatch(
        &mut self,
        partition: u32,
        hurry: bool,
        in_flight: &mut FuturesUnordered<InFlight>,
    ) {
        let max_bytes = self.options.batch_bytes_max;
        let max_in_flight = self.options.in_flight_batches_max.max(1);
        let linger = self.options.linger;
        let Some(q) = self.queues.get_mut(partition as usize) else {
            return;
        };
        if !q.retry.is_empty() {
            if q.in_flight > 0 {
                return;
            }
            while q.in_flight < max_in_flight {
                let Some((_, mut sent)) = q.retry.pop_first() else {
                    break;
                };
                sent.attempts += 1;
                q.in_flight += 1;
                in_flight.push(send(self.client.clone(), sent, self.options.acks));
            }
            return;
        }
        while q.in_flight < max_in_flight && !q.pending.is_empty() {
            let full = q.pending_bytes >= max_bytes;
            let due = q.oldest.is_none_or(|t| t.elapsed() >= linger);
            if !(hurry || full || due) {
                break;
            }
            let now_ms = now_ms();
            let mut builder = BatchBuilder::default();
            let mut waiters = Vec::new();
            while let Some(next) = q.pending.front() {
                let len = encoded_len(&next.record, waiters.len() as u32);
                if !waiters.is_empty() && builder.encoded_len() + len > max_bytes {
                    break;
                }
                let Some(queued) = q.pending.pop_front() else {
                    break;
                };
                let r = &queued.record;
                let headers: Vec<(&str, &[u8])> = r
                    .headers
                    .iter()
                    .map(|(n, v)| (n.as_str(), &v[..]))
                    .collect();
                builder.push(
                    r.timestamp_ms.unwrap_or(now_ms),
                    r.key.as_deref(),
                    &r.value,
                    &headers,
                );
                q.pending_bytes = q.pending_bytes.saturating_sub(len);
                waiters.push(queued.done);
            }
            if q.pending.is_empty() {
                q.pending_bytes = 0;
                q.oldest = None;
            }
            let count = waiters.len() as u32;
            let base_sequence = q.next_sequence;
            q.next_sequence = q.next_sequence.wrapping_add(count);
            let batch = builder.finish(self.producer_id, q.epoch, base_sequence);
            let request = Request::Produce(ProduceRequest {
                stream: self.stream.clone(),
                acks: self.options.acks,
                batches: vec![ProduceBatch {
                    selector: PartitionSelector::Explicit(partition),
                    batch,
                }],
            });
            q.in_flight += 1;
            let sent = Sent {
                partition,
                base_sequence,
                epoch: q.epoch,
                request,
                waiters,
                first_sent: Instant::now(),
                attempts: 0,
            };
            in_flight.push(send(self.client.clone(), sent, self.options.acks));
        }
    }
}

/// Sends (or re-sends) one batch; a retry first waits a little longer each time, so that a
/// failing server is not hammered.
fn send(client: Arc<Client>, sent: Sent, acks: Acks) -> InFlight {
    Box::pin(async move {
        if sent.attempts > 0 {
            let backoff = Duration::from_millis(10) * (1u32 << sent.attempts.min(7));
            tokio::time::sleep(backoff.min(Duration::from_secs(1))).await;
        }
        let result = if acks == Acks::None {
            let frame = sent.request.to_frame(0);
            client
                .send_only(Opcode::Produce, frame.payload)
                .await
                .map(|()| Delivery {
                    partition: sent.partition,
                    offset: None,
                })
        } else {
            produce(&client, &sent.request).await
        };
        (sent, result)
    })
}

async fn sleep_until(deadline: Option<Instant>) {
    match deadline {
        Some(deadline) => tokio::time::sleep_until(deadline).await,
        None => std::future::pending().await,
    }
}

/// Bytes `record` adds to a batch (timestamp delta taken as 0: one or two bytes off at most).
fn encoded_len(record: &Record, offset_delta: u32) -> usize {
    let headers: Vec<(&str, &[u8])> = record
        .headers
        .iter()
        .map(|(n, v)| (n.as_str(), &v[..]))
        .collect();
    BatchBuilder::record_len(
        0,
        offset_delta,
        record.key.as_deref(),
        &record.value,
        &headers,
    )
}

/// Sends one PRODUCE and turns its single result into (partition, base offset).
async fn produce(client: &Client, request: &Request) -> Result<Delivery, ClientError> {
    let frame = client.call(request).await?;
    let response = ProduceResponse::decode(&frame.payload)
        .map_err(|e| ClientError::Malformed(e.to_string()))?;
    let result = response
        .results
        .first()
        .ok_or_else(|| ClientError::Malformed("empty PRODUCE response".into()))?;
    if result.error_code != 0 {
        let name = ErrorCode::from_u16(result.error_code).map_or("UNKNOWN", ErrorCode::name);
        return Err(ClientError::Server {
            code: result.error_code,
            name,
            message: format!("batch refused: {name}"),
        });
    }
    Ok(Delivery {
        partition: result.partition,
        offset: Some(result.base_offset),
    })
}

fn clone_error(e: &ClientError) -> ClientError {
    match e {
        ClientError::Server {
            code,
            name,
            message,
        } => ClientError::Server {
            code: *code,
            name,
            message: message.clone(),
        },
        ClientError::Closed { reason } => ClientError::Closed {
            reason: reason.clone(),
        },
        ClientError::Timeout(d) => ClientError::Timeout(*d),
        other => ClientError::Malformed(other.to_string()),
    }
}

fn now_ms() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as u64)
}

/// A random non-zero id (std's hasher is randomly keyed per process, and each `RandomState`
/// gets new keys).
pub(crate) fn random_id() -> u64 {
    use std::hash::{BuildHasher, Hasher};
    let mut h = std::collections::hash_map::RandomState::new().build_hasher();
    h.write_u128(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos()),
    );
    h.finish().max(1)
}
