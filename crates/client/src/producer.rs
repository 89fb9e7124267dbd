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
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

use bytes::Bytes;
use futures_util::stream::{FuturesUnordered, StreamExt};
use memstream_protocol::batch::{
    restamp_producer, sequence_after, BatchBuilder, Compression, BATCH_HEADER_LEN,
    NO_PRODUCER_EPOCH, NO_PRODUCER_ID, NO_SEQUENCE,
};
use memstream_protocol::message::{
    Acks, InitProducer, PartitionSelector, ProduceBatch, ProduceRequest, ProduceResponse,
};
use memstream_protocol::{partition_for_key, ErrorCode, Opcode, Request, HEADER_LEN};
use tokio::sync::Notify;
use tokio::time::Instant;

use crate::client::Client;
use crate::clock::WallClock;
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

/// Most batches a producer keeps on the wire per partition: the server remembers the last 5
/// batches of each producer and partition to recognise retries, so more could not be retried
/// safely. [`ProducerOptions::in_flight_batches_max`] is capped at this.
pub const IN_FLIGHT_BATCHES_MAX: usize = 5;

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
/// assert_eq!(options.in_flight_batches_max, 4);
/// ```
#[derive(Clone, Debug)]
pub struct ProducerOptions {
    /// Acknowledgement level; `Durable` (fsynced) by default: safe by default, fast by choice.
    /// With `Acks::None` the server sends nothing back: a record counts as delivered once it
    /// is handed to the connection, and its receipt has no offset.
    pub acks: Acks,
    /// Partition choice.
    pub partitioner: Partitioner,
    /// Largest batch sent in one go, in encoded bytes (lowered to what fits the server's frame
    /// limit).
    pub batch_bytes_max: usize,
    /// Batches per partition on the wire at once, 1 ..= [`IN_FLIGHT_BATCHES_MAX`]; further
    /// records wait (backpressure).
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
    /// Codec for the batches this producer builds; `none` by default. The server stores
    /// compressed batches as they come, and consumers decompress them.
    pub compression: Compression,
}

impl Default for ProducerOptions {
    fn default() -> Self {
        ProducerOptions {
            acks: Acks::Durable,
            partitioner: Partitioner::Key,
            batch_bytes_max: 512 << 10,
            in_flight_batches_max: 4,
            queued_records_max: 100_000,
            linger: Duration::ZERO,
            idempotent: true,
            delivery_timeout: Duration::from_secs(120),
            compression: Compression::None,
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

/// Bytes of a one-batch PRODUCE request besides the stream name and the batch: str16 length,
/// acks, batch count, selector, partition, batch length.
const PRODUCE_HEAD_BYTES: usize = 2 + 1 + 2 + 1 + 4 + 4;

/// A record's parts, borrowed for the moment it is encoded.
struct Fields<'a> {
    key: Option<&'a [u8]>,
    value: &'a [u8],
    headers: &'a [(&'a str, &'a [u8])],
    timestamp_ms: Option<u64>,
}

/// One batch's outcome, shared by the receipts of its records: one allocation and one wake-up
/// per batch, not per record.
#[derive(Default)]
struct BatchAck {
    outcome: OnceLock<Result<Delivery, ClientError>>,
    settled: Notify,
}

impl BatchAck {
    fn settle(&self, outcome: Result<Delivery, ClientError>) {
        let _ = self.outcome.set(outcome);
        self.settled.notify_waiters();
    }

    async fn wait(&self) -> &Result<Delivery, ClientError> {
        // Most receipts are awaited after their batch settled: no waiter registration then.
        if let Some(outcome) = self.outcome.get() {
            return outcome;
        }
        loop {
            let settled = self.settled.notified();
            tokio::pin!(settled);
            settled.as_mut().enable();
            if let Some(outcome) = self.outcome.get() {
                return outcome;
            }
            settled.await;
        }
    }

    /// The receipt of the record at `index` in the batch.
    async fn receipt(self: Arc<Self>, index: u32) -> Receipt {
        match self.wait().await {
            Ok(d) => Ok(Delivery {
                partition: d.partition,
                offset: d.offset.map(|base| base + u64::from(index)),
            }),
            Err(e) => Err(e.clone()),
        }
    }
}

/// Records of one partition encoded into a batch that has not left yet.
struct OpenBatch {
    builder: BatchBuilder,
    ack: Arc<BatchAck>,
    /// When its first record arrived (for `linger`).
    since: Instant,
}

/// What `send` and the worker share, under one lock held for a record's encoding.
struct State {
    /// Per partition: the batch records join, then sealed batches waiting for the wire.
    open: Vec<Option<OpenBatch>>,
    sealed: Vec<VecDeque<OpenBatch>>,
    /// Buffer size for a new batch, per partition: the last batch's size.
    capacity: Vec<usize>,
    round_robin: u32,
    /// Records in open and sealed batches.
    queued_records: usize,
    /// Flushes in progress: while any is, partial batches do not linger.
    flushing: usize,
    /// Acknowledgements of the batches not yet settled, oldest first (settled ones are
    /// pruned from the front as new batches open): what a flush waits for.
    outstanding: VecDeque<Arc<BatchAck>>,
    /// The `Producer` was dropped: send what is queued, then stop.
    closed: bool,
    /// The worker stopped (it only does once closed and drained).
    stopped: bool,
    /// Timestamps for records that bring none.
    clock: WallClock,
}

struct Shared {
    state: Mutex<State>,
    /// Wakes the worker: records arrived, a flush was asked, the producer was dropped.
    wake: Notify,
    /// Wakes senders waiting for room (`queued_records_max`).
    room: Notify,
}

impl Shared {
    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.state
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

/// Sends records to one stream. Share it behind an `Arc`: `send` takes `&self`.
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
///
/// Dropping the producer sends what is queued; the receipts still resolve.
pub struct Producer {
    shared: Arc<Shared>,
    options: ProducerOptions,
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
        let (producer_id, epoch) = if options.idempotent {
            // The server allocates ids, so no two producers ever share one.
            let frame = client.call(&Request::InitProducer).await?;
            let init = InitProducer::decode(&frame.payload)
                .map_err(|e| ClientError::Malformed(e.to_string()))?;
            (init.producer_id, init.producer_epoch)
        } else {
            (NO_PRODUCER_ID, NO_PRODUCER_EPOCH)
        };
        // A batch must fit one PRODUCE frame: header, the request's head, then the batch.
        let frame_room = (client.server().limits.max_frame_bytes as usize)
            .saturating_sub(HEADER_LEN + PRODUCE_HEAD_BYTES + stream.len());
        let options = ProducerOptions {
            batch_bytes_max: options
                .batch_bytes_max
                .clamp(BATCH_HEADER_LEN + 1, frame_room.max(BATCH_HEADER_LEN + 1)),
            in_flight_batches_max: options
                .in_flight_batches_max
                .clamp(1, IN_FLIGHT_BATCHES_MAX),
            ..options
        };
        let n = partitions as usize;
        let shared = Arc::new(Shared {
            state: Mutex::new(State {
                open: (0..n).map(|_| None).collect(),
                sealed: (0..n).map(|_| VecDeque::new()).collect(),
                capacity: vec![1024; n],
                round_robin: 0,
                queued_records: 0,
                flushing: 0,
                outstanding: VecDeque::new(),
                closed: false,
                stopped: false,
                clock: WallClock::new(),
            }),
            wake: Notify::new(),
            room: Notify::new(),
        });
        let worker = Worker {
            client,
            shared: shared.clone(),
            stream: stream.to_owned(),
            partitions: (0..n)
                .map(|_| PartitionWire {
                    epoch,
                    ..PartitionWire::default()
                })
                .collect(),
            producer_id,
            options: options.clone(),
        };
        tokio::spawn(worker.run());
        Ok(Producer {
            shared,
            options,
            partitions,
        })
    }

    /// The stream's partition count.
    pub fn partitions(&self) -> u32 {
        self.partitions
    }

    /// Encodes `record` into its partition's next batch; the returned future resolves to
    /// where it landed once the server acknowledged it at the producer's `acks` level. Waits
    /// while `queued_records_max` records are queued (backpressure). The record is sent even
    /// if the returned future is dropped unawaited.
    pub async fn send(&self, record: Record) -> impl Future<Output = Receipt> + Send + 'static {
        let headers: Vec<(&str, &[u8])> = record
            .headers
            .iter()
            .map(|(n, v)| (n.as_str(), &v[..]))
            .collect();
        let fields = Fields {
            key: record.key.as_deref(),
            value: &record.value,
            headers: &headers,
            timestamp_ms: record.timestamp_ms,
        };
        let queued = self.queue(fields).await;
        async move {
            let (ack, index) = queued?;
            ack.receipt(index).await
        }
    }

    /// [`send`](Self::send) for a record given as borrowed bytes, timestamped now and without
    /// headers. The bytes are copied into the batch at once, so nothing needs to be allocated
    /// per record.
    ///
    /// ```no_run
    /// # async fn demo(producer: memstream_client::Producer) -> Result<(), memstream_client::ClientError> {
    /// let mut line = String::new();
    /// for i in 0..3 {
    ///     line.clear();
    ///     line.push_str(&format!("event {i}"));
    ///     producer.send_value(Some(b"sensor-1"), line.as_bytes()).await.await?;
    /// }
    /// # Ok(()) }
    /// ```
    pub async fn send_value(
        &self,
        key: Option<&[u8]>,
        value: &[u8],
    ) -> impl Future<Output = Receipt> + Send + 'static {
        let fields = Fields {
            key,
            value,
            headers: &[],
            timestamp_ms: None,
        };
        let queued = self.queue(fields).await;
        async move {
            let (ack, index) = queued?;
            ack.receipt(index).await
        }
    }

    /// Waits for room, then encodes the record.
    async fn queue(&self, fields: Fields<'_>) -> Result<(Arc<BatchAck>, u32), ClientError> {
        let max = self.options.queued_records_max.max(1);
        {
            // The common case: there is room, and no waiter needs registering.
            let mut state = self.shared.lock();
            if state.stopped {
                return Err(ClientError::Closed { reason: None });
            }
            if state.queued_records < max {
                return self.enqueue(&mut state, &fields);
            }
        }
        loop {
            let room = self.shared.room.notified();
            tokio::pin!(room);
            room.as_mut().enable();
            {
                let mut state = self.shared.lock();
                if state.stopped {
                    return Err(ClientError::Closed { reason: None });
                }
                if state.queued_records < max {
                    return self.enqueue(&mut state, &fields);
                }
            }
            room.await;
        }
    }

    /// Puts `record` into its partition's open batch, sealing that batch first when the record
    /// would take it over `batch_bytes_max`.
    fn enqueue(
        &self,
        state: &mut State,
        record: &Fields<'_>,
    ) -> Result<(Arc<BatchAck>, u32), ClientError> {
        let partitions = self.partitions;
        let partition = match (self.options.partitioner, record.key) {
            (Partitioner::Explicit(p), _) => p,
            (Partitioner::Key, Some(key)) => partition_for_key(key, partitions),
            _ => {
                state.round_robin = state.round_robin.wrapping_add(1);
                state.round_robin % partitions.max(1)
            }
        };
        let p = partition as usize;
        if p >= state.open.len() {
            return Err(ClientError::Server {
                code: ErrorCode::PartitionNotFound.as_u16(),
                name: ErrorCode::PartitionNotFound.name(),
                message: format!("the stream has no partition {partition}"),
            });
        }
        let headers = record.headers;
        let timestamp_ms = match record.timestamp_ms {
            Some(ms) => ms,
            None => state.clock.now_ms(),
        };
        let max_bytes = self.options.batch_bytes_max;
        let alone =
            BATCH_HEADER_LEN + BatchBuilder::record_len(0, 0, record.key, record.value, headers);
        if alone > max_bytes {
            return Err(ClientError::InvalidArgument(format!(
                "a record of {alone} encoded bytes does not fit a batch of at most {max_bytes} \
                 bytes (batch_bytes_max, or the server's frame limit)"
            )));
        }
        if let Some(open) = &state.open[p] {
            let len = open
                .builder
                .next_record_len(timestamp_ms, record.key, record.value, headers);
            if open.builder.encoded_len() + len > max_bytes {
                let full = state.open[p].take().expect("checked above");
                state.capacity[p] = full.builder.encoded_len();
                state.sealed[p].push_back(full);
            }
        }
        let capacity = state.capacity[p];
        if state.open[p].is_none() {
            while state
                .outstanding
                .front()
                .is_some_and(|ack| ack.outcome.get().is_some())
            {
                state.outstanding.pop_front();
            }
            let ack: Arc<BatchAck> = Arc::default();
            state.outstanding.push_back(ack.clone());
            state.open[p] = Some(OpenBatch {
                builder: BatchBuilder::compressed(
                    self.options.compression,
                    capacity.clamp(1024, max_bytes.max(1024)),
                ),
                ack,
                since: Instant::now(),
            });
        }
        let open = state.open[p].as_mut().expect("opened above");
        let index = open.builder.record_count();
        open.builder
            .push(timestamp_ms, record.key, record.value, headers);
        let ack = open.ack.clone();
        state.queued_records += 1;
        // The first record of a batch may be sendable at once; later ones join it.
        if index == 0 || state.queued_records == 1 {
            self.shared.wake.notify_one();
        }
        Ok((ack, index))
    }

    /// Sends every record queued so far without waiting for `linger`, and returns once each
    /// has its receipt (records sent meanwhile by other tasks are not waited for).
    pub async fn flush(&self) {
        let pending: Vec<Arc<BatchAck>> = {
            let mut state = self.shared.lock();
            state.flushing += 1;
            state.outstanding.iter().cloned().collect()
        };
        // Lingering resumes when this flush ends, however it ends.
        let _flushing = Flushing(&self.shared);
        self.shared.wake.notify_one();
        for ack in pending {
            let _ = ack.wait().await;
        }
    }
}

/// Counts a flush in progress.
struct Flushing<'a>(&'a Shared);

impl Drop for Flushing<'_> {
    fn drop(&mut self) {
        self.0.lock().flushing -= 1;
    }
}

impl Drop for Producer {
    fn drop(&mut self) {
        self.shared.lock().closed = true;
        self.shared.wake.notify_one();
    }
}

/// A batch on the wire, kept until acknowledged so that it can be sent again.
struct Sent {
    partition: u32,
    base_sequence: i32,
    epoch: i16,
    /// Records in the batch.
    count: u32,
    request: Request,
    ack: Arc<BatchAck>,
    first_sent: Instant,
    attempts: u32,
}

/// The worker's own state of one partition.
#[derive(Default)]
struct PartitionWire {
    in_flight: usize,
    next_sequence: i32,
    /// Raised after a batch failed for good: the server then accepts sequence 0 again.
    epoch: i16,
    /// Batches to send again, by base sequence; they go before anything new.
    retry: BTreeMap<i32, Sent>,
    /// The epoch was raised while batches of the old one were on the wire: nothing new goes
    /// until they are back (to be renumbered and resent first, in order).
    draining: bool,
}

type InFlight = Pin<Box<dyn Future<Output = (Sent, Result<Delivery, ClientError>)> + Send>>;

struct Worker {
    client: Arc<Client>,
    shared: Arc<Shared>,
    stream: String,
    partitions: Vec<PartitionWire>,
    /// [`NO_PRODUCER_ID`] when not idempotent.
    producer_id: i64,
    options: ProducerOptions,
}

impl Worker {
    async fn run(mut self) {
        let mut in_flight: FuturesUnordered<InFlight> = FuturesUnordered::new();
        let shared = self.shared.clone();
        loop {
            let wake = shared.wake.notified();
            tokio::pin!(wake);
            wake.as_mut().enable();
            let deadline = match self.take_batches(&mut in_flight) {
                Step::Stop => return,
                Step::Wait(deadline) => deadline,
            };
            tokio::select! {
                () = &mut wake => {}
                Some((sent, result)) = in_flight.next(), if !in_flight.is_empty() => {
                    self.settle(sent, result);
                }
                () = sleep_until(deadline), if deadline.is_some() => {}
            }
        }
    }

    /// Moves every batch that may go now onto the wire; says when to look again.
    fn take_batches(&mut self, in_flight: &mut FuturesUnordered<InFlight>) -> Step {
        let max_in_flight = self.options.in_flight_batches_max.max(1);
        let linger = self.options.linger;
        let mut taken = Vec::new();
        let mut deadline: Option<Instant> = None;
        let mut freed = 0usize;
        {
            let mut state = self.shared.lock();
            let hurry = state.closed || state.flushing > 0;
            for (p, wire) in self.partitions.iter_mut().enumerate() {
                if !wire.retry.is_empty() || wire.draining {
                    if wire.in_flight == 0 {
                        wire.draining = false;
                        while wire.in_flight < max_in_flight {
                            let Some((_, mut sent)) = wire.retry.pop_first() else {
                                break;
                            };
                            if sent.epoch != wire.epoch {
                                renumber(&mut sent, wire);
                            }
                            sent.attempts += 1;
                            wire.in_flight += 1;
                            in_flight.push(send(self.client.clone(), sent, self.options.acks));
                        }
                    }
                    continue;
                }
                while wire.in_flight < max_in_flight {
                    let batch = match state.sealed[p].pop_front() {
                        Some(batch) => batch,
                        None => match &state.open[p] {
                            Some(open) if hurry || open.since.elapsed() >= linger => {
                                state.open[p].take().expect("checked above")
                            }
                            Some(open) => {
                                let due = open.since + linger;
                                deadline = Some(deadline.map_or(due, |d| d.min(due)));
                                break;
                            }
                            None => break,
                        },
                    };
                    freed += batch.builder.record_count() as usize;
                    wire.in_flight += 1;
                    taken.push((p as u32, batch));
                }
            }
            state.queued_records -= freed;
            let idle = in_flight.is_empty()
                && taken.is_empty()
                && state.queued_records == 0
                && self.partitions.iter().all(|w| w.retry.is_empty());
            if idle && state.closed {
                state.stopped = true;
                return Step::Stop;
            }
        }
        if freed > 0 {
            self.shared.room.notify_waiters();
        }
        for (partition, batch) in taken {
            let wire = &mut self.partitions[partition as usize];
            let count = batch.builder.record_count();
            let base_sequence = wire.next_sequence;
            wire.next_sequence = sequence_after(wire.next_sequence, count);
            let request = Request::Produce(ProduceRequest {
                stream: self.stream.clone(),
                acks: self.options.acks,
                batches: vec![ProduceBatch {
                    selector: PartitionSelector::Explicit(partition),
                    batch: if self.producer_id == NO_PRODUCER_ID {
                        batch
                            .builder
                            .finish(NO_PRODUCER_ID, NO_PRODUCER_EPOCH, NO_SEQUENCE)
                    } else {
                        batch
                            .builder
                            .finish(self.producer_id, wire.epoch, base_sequence)
                    },
                }],
            });
            let sent = Sent {
                partition,
                base_sequence,
                epoch: wire.epoch,
                count,
                request,
                ack: batch.ack,
                first_sent: Instant::now(),
                attempts: 0,
            };
            in_flight.push(send(self.client.clone(), sent, self.options.acks));
        }
        Step::Wait(deadline)
    }

    /// Hands a finished batch's outcome to its records, or keeps it for a retry.
    fn settle(&mut self, sent: Sent, result: Result<Delivery, ClientError>) {
        let Some(wire) = self.partitions.get_mut(sent.partition as usize) else {
            return;
        };
        wire.in_flight -= 1;
        match result {
            Ok(delivery) => sent.ack.settle(Ok(delivery)),
            // The partition forgot this producer (evicted, or its batches deleted): a new
            // epoch starts at sequence 0, and the batch goes again, renumbered, first.
            Err(e)
                if e.code() == Some(ErrorCode::UnknownProducerId)
                    && self.producer_id != NO_PRODUCER_ID
                    && sent.first_sent.elapsed() < self.options.delivery_timeout =>
            {
                if sent.epoch == wire.epoch {
                    wire.epoch = wire.epoch.checked_add(1).unwrap_or(0);
                    wire.next_sequence = 0;
                    wire.draining = wire.in_flight > 0;
                }
                tracing::debug!(
                    partition = sent.partition,
                    "producer unknown to the partition; new epoch"
                );
                wire.retry.insert(sent.base_sequence, sent);
            }
            Err(e)
                if self.producer_id != NO_PRODUCER_ID
                    && sent.first_sent.elapsed() < self.options.delivery_timeout
                    && ((e.is_retriable() && self.client.options().reconnect.enabled)
                        // A batch that overtook earlier ones still being retried (sent on
                        // the new connection before their failures arrived) goes again
                        // after them.
                        // A batch of an epoch given up (it followed one that failed for good)
                        // goes again, renumbered in the new epoch.
                        || (e.code() == Some(ErrorCode::OutOfOrderSequence)
                            && (sent.epoch != wire.epoch
                                || wire.in_flight > 0
                                || !wire.retry.is_empty()))) =>
            {
                tracing::debug!(partition = sent.partition, error = %e, "batch will be retried");
                wire.retry.insert(sent.base_sequence, sent);
            }
            Err(e) => {
                if self.producer_id != NO_PRODUCER_ID && sent.epoch == wire.epoch {
                    // The server never stored this batch, so later sequence numbers would be
                    // out of order: start a new epoch, which the server accepts from zero.
                    // Batches of the old epoch still on the wire come back refused and are
                    // renumbered; nothing new overtakes them meanwhile.
                    // Epochs are 0 ..= i16::MAX, as Kafka's.
                    wire.epoch = wire.epoch.checked_add(1).unwrap_or(0);
                    wire.next_sequence = 0;
                    wire.draining = wire.in_flight > 0;
                }
                sent.ack.settle(Err(e));
            }
        }
    }
}

/// Gives a batch of an abandoned epoch the next sequence numbers of the current one.
fn renumber(sent: &mut Sent, wire: &mut PartitionWire) {
    if let Request::Produce(produce) = &mut sent.request {
        if let Some(last) = produce.batches.last_mut() {
            let mut batch = bytes::BytesMut::from(&last.batch[..]);
            restamp_producer(&mut batch, wire.epoch, wire.next_sequence);
            last.batch = batch.freeze();
        }
    }
    sent.epoch = wire.epoch;
    sent.base_sequence = wire.next_sequence;
    wire.next_sequence = sequence_after(wire.next_sequence, sent.count);
}

enum Step {
    /// Look again when woken, when a batch completes, or at this linger deadline.
    Wait(Option<Instant>),
    /// Closed and drained.
    Stop,
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
            let (head, batch) = split_produce(&sent.request);
            client
                .send_only(Opcode::Produce, head, batch)
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

/// Sends one PRODUCE and turns its single result into (partition, base offset).
async fn produce(client: &Client, request: &Request) -> Result<Delivery, ClientError> {
    let (head, batch) = split_produce(request);
    let frame = client
        .request_with_tail(Opcode::Produce, head, batch)
        .await?;
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

/// A PRODUCE request's payload as its encoded head and its (last) batch, which follows the
/// head on the wire straight from the batch's buffer.
fn split_produce(request: &Request) -> (Bytes, Option<Bytes>) {
    match request {
        Request::Produce(produce) => {
            let mut head = bytes::BytesMut::new();
            produce.encode_head(&mut head);
            (
                head.freeze(),
                produce.batches.last().map(|b| b.batch.clone()),
            )
        }
        other => (other.to_frame(0).payload, None),
    }
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
