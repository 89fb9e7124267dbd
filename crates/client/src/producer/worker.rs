//! The worker task of a producer: takes finished batches, keeps at most
//! `in_flight_batches_max` per partition on the wire, retries idempotent batches after
//! connection failures, and starts a new epoch (renumbering what follows) when a batch fails
//! for good or the partition forgot the producer.

use std::collections::BTreeMap;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use futures_util::stream::{FuturesUnordered, StreamExt};
use memstream_protocol::batch::{
    restamp_producer, sequence_after, NO_PRODUCER_EPOCH, NO_PRODUCER_ID, NO_SEQUENCE,
};
use memstream_protocol::message::{
    Acks, PartitionSelector, ProduceBatch, ProduceRequest, ProduceResponse,
};
use memstream_protocol::{ErrorCode, Opcode, Request};
use tokio::time::Instant;

use crate::client::Client;
use crate::error::ClientError;

use super::{BatchAck, Delivery, ProducerOptions, Shared};

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
pub(super) struct PartitionWire {
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

impl PartitionWire {
    /// A partition's state for a producer whose first epoch is `epoch`.
    pub(super) fn at_epoch(epoch: i16) -> PartitionWire {
        PartitionWire {
            epoch,
            ..PartitionWire::default()
        }
    }
}

type InFlight = Pin<Box<dyn Future<Output = (Sent, Result<Delivery, ClientError>)> + Send>>;

pub(super) struct Worker {
    pub(super) client: Arc<Client>,
    pub(super) shared: Arc<Shared>,
    pub(super) stream: String,
    pub(super) partitions: Vec<PartitionWire>,
    /// [`NO_PRODUCER_ID`] when not idempotent.
    pub(super) producer_id: i64,
    pub(super) options: ProducerOptions,
}

impl Worker {
    pub(super) async fn run(mut self) {
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
