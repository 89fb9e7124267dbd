//! The producer: `send` a record, get back its (partition, offset); records are batched
//! naturally.
//!
//! Natural batching: each partition has at most `in_flight_batches_max` batches on the wire.
//! A record sent while the partition is idle goes out at once, alone (low latency); records
//! sent while a batch is on the wire queue up and leave together as the next batch, up to
//! `batch_bytes_max` (high throughput when busy). No timer is needed for either.
//!
//! Idempotence: the producer has a random non-zero id and numbers each partition's records;
//! the server stores a retried batch once and answers with its original offset.

use std::collections::VecDeque;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use bytes::Bytes;
use futures_util::stream::{FuturesUnordered, StreamExt};
use memstream_protocol::batch::BatchBuilder;
use memstream_protocol::message::{
    Acks, PartitionSelector, ProduceBatch, ProduceRequest, ProduceResponse,
};
use memstream_protocol::{partition_for_key, ErrorCode, Request};
use tokio::sync::{mpsc, oneshot};

use crate::client::Client;
use crate::error::ClientError;

/// A record to send.
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
#[derive(Clone, Debug)]
pub struct ProducerOptions {
    /// Acknowledgement level; `Durable` (fsynced) by default: safe by default, fast by choice.
    pub acks: Acks,
    /// Partition choice.
    pub partitioner: Partitioner,
    /// Largest batch sent in one go, in encoded bytes.
    pub batch_bytes_max: usize,
    /// Batches per partition on the wire at once.
    pub in_flight_batches_max: usize,
    /// Records accepted by `send` but not yet on the wire; `send` waits beyond this.
    pub queued_records_max: usize,
    /// Number records for exactly-once appends across retries.
    pub idempotent: bool,
}

impl Default for ProducerOptions {
    fn default() -> Self {
        ProducerOptions {
            acks: Acks::Durable,
            partitioner: Partitioner::Key,
            batch_bytes_max: 512 << 10,
            in_flight_batches_max: 1,
            queued_records_max: 100_000,
            idempotent: true,
        }
    }
}

/// Where a record landed.
pub type Receipt = Result<(u32, u64), ClientError>;

struct Queued {
    record: Record,
    done: oneshot::Sender<Receipt>,
}

/// Sends records to one stream.
pub struct Producer {
    tx: mpsc::Sender<Queued>,
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
        };
        tokio::spawn(worker.run(rx));
        Ok(Producer { tx })
    }

    /// Queues `record`; the returned future resolves to its (partition, offset) once the
    /// server acknowledged it at the producer's `acks` level. Waits while
    /// `queued_records_max` records are queued (backpressure).
    pub async fn send(&self, record: Record) -> impl Future<Output = Receipt> {
        let (done, rx) = oneshot::channel();
        let queued = self.tx.send(Queued { record, done }).await;
        async move {
            queued.map_err(|_| ClientError::Closed { reason: None })?;
            rx.await
                .unwrap_or(Err(ClientError::Closed { reason: None }))
        }
    }
}

#[derive(Default)]
struct PartitionQueue {
    pending: VecDeque<Queued>,
    in_flight: usize,
    next_sequence: u32,
}

type InFlight = Pin<Box<dyn Future<Output = (u32, Vec<oneshot::Sender<Receipt>>, Receipt)> + Send>>;

struct Worker {
    client: Arc<Client>,
    stream: String,
    queues: Vec<PartitionQueue>,
    producer_id: u64,
    round_robin: u32,
    options: ProducerOptions,
}

impl Worker {
    async fn run(mut self, mut rx: mpsc::Receiver<Queued>) {
        let mut in_flight: FuturesUnordered<InFlight> = FuturesUnordered::new();
        let mut open = true;
        while open || !in_flight.is_empty() || self.queues.iter().any(|q| !q.pending.is_empty()) {
            tokio::select! {
                queued = rx.recv(), if open => match queued {
                    Some(first) => {
                        let mut touched = vec![self.enqueue(first)];
                        // Take whatever else is already waiting: it joins the same batches.
                        while let Ok(more) = rx.try_recv() {
                            touched.push(self.enqueue(more));
                        }
                        touched.sort_unstable();
                        touched.dedup();
                        for p in touched.into_iter().flatten() {
                            self.dispatch(p, &mut in_flight);
                        }
                    }
                    None => open = false,
                },
                Some((partition, waiters, receipt)) = in_flight.next(), if !in_flight.is_empty() => {
                    for (i, done) in waiters.into_iter().enumerate() {
                        let _ = done.send(receipt.as_ref().map(|&(p, base)| (p, base + i as u64)).map_err(clone_error));
                    }
                    if let Some(q) = self.queues.get_mut(partition as usize) {
                        q.in_flight -= 1;
                    }
                    self.dispatch(partition, &mut in_flight);
                }
                else => break,
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

    /// Sends as many batches for `partition` as its in-flight limit allows.
    fn dispatch(&mut self, partition: u32, in_flight: &mut FuturesUnordered<InFlight>) {
        let now_ms = now_ms();
        let max_bytes = self.options.batch_bytes_max;
        let Some(q) = self.queues.get_mut(partition as usize) else {
            return;
        };
        while q.in_flight < self.options.in_flight_batches_max && !q.pending.is_empty() {
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
                waiters.push(queued.done);
            }
            let count = waiters.len() as u32;
            let base_sequence = q.next_sequence;
            q.next_sequence = q.next_sequence.wrapping_add(count);
            let batch = builder.finish(self.producer_id, 0, base_sequence);
            q.in_flight += 1;
            let client = self.client.clone();
            let request = Request::Produce(ProduceRequest {
                stream: self.stream.clone(),
                acks: self.options.acks,
                batches: vec![ProduceBatch {
                    selector: PartitionSelector::Explicit(partition),
                    batch,
                }],
            });
            in_flight.push(Box::pin(async move {
                let receipt = produce(&client, &request).await;
                (partition, waiters, receipt)
            }));
        }
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
async fn produce(client: &Client, request: &Request) -> Receipt {
    let frame = client.call(request).await?;
    let response = ProduceResponse::decode(&frame.payload)
        .map_err(|e| ClientError::Malformed(e.to_string()))?;
    let result = response
        .results
        .first()
        .ok_or_else(|| ClientError::Malformed("empty PRODUCE response".into()))?;
    if result.error_code != 0 {
        return Err(ClientError::Server {
            code: result.error_code,
            name: ErrorCode::from_u16(result.error_code).map_or("UNKNOWN", ErrorCode::name),
            message: "batch refused".into(),
        });
    }
    Ok((result.partition, result.base_offset))
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

/// A random non-zero producer id (std's hasher is randomly keyed per process).
fn random_id() -> u64 {
    use std::hash::{BuildHasher, Hasher};
    let mut h = std::collections::hash_map::RandomState::new().build_hasher();
    h.write_u128(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos()),
    );
    h.finish().max(1)
}
