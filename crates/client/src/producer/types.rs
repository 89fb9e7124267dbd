//! The producer's public types: records, options, where a record landed.

use std::time::Duration;

use bytes::Bytes;
use memstream_protocol::batch::Compression;
use memstream_protocol::message::Acks;

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
