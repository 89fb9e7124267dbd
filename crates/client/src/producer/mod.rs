//! The producer: `send` a record, get back where it landed; records are batched naturally.
//!
//! Natural batching: each partition has at most `in_flight_batches_max` batches on the wire.
//! A record sent while the partition is idle goes out at once, alone (low latency); records
//! sent while a batch is on the wire queue up and leave together as the next batch, up to
//! `batch_bytes_max` (high throughput when busy). `linger` optionally holds a partial batch
//! back for more records to join.
//!
//! Idempotence: the producer gets its id from the server (INIT_PRODUCER) and numbers each
//! partition's records.
//! A batch whose connection dropped is sent again, with the same numbers, after the client
//! reconnects; the server stores it once and answers with its original offset, so a retry
//! never duplicates. Retries go out in sequence order, before any newer batch of the
//! partition.
//!
//! Modules: `types` (the public types), this file (the batch accumulator behind `send`, and
//! the `Producer` handle), `worker` (the task that sends batches: in-flight limits, retries,
//! epochs and renumbering).

mod types;
mod worker;

use std::collections::VecDeque;
use std::future::Future;
use std::sync::{Arc, Mutex, OnceLock};

use memstream_protocol::batch::{
    BatchBuilder, BATCH_HEADER_LEN, NO_PRODUCER_EPOCH, NO_PRODUCER_ID,
};
use memstream_protocol::message::InitProducer;
use memstream_protocol::{partition_for_key, ErrorCode, Request, HEADER_LEN};
use tokio::sync::Notify;
use tokio::time::Instant;

use crate::client::Client;
use crate::clock::WallClock;
use crate::error::ClientError;

pub use types::{Delivery, Partitioner, ProducerOptions, Receipt, Record, IN_FLIGHT_BATCHES_MAX};
pub(crate) use worker::random_id;
use worker::{PartitionWire, Worker};

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
            partitions: (0..n).map(|_| PartitionWire::at_epoch(epoch)).collect(),
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
