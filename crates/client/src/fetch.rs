//! Pull consumption: FETCH record batches from one partition, by offset, with long polling.

use std::collections::VecDeque;
use std::sync::Arc;
use std::time::Duration;

use memstream_protocol::message::{FetchRequest, FetchResponse, OffsetSpec};
use memstream_protocol::{ErrorCode, Request};

use crate::client::Client;
use crate::consumer::{decode_batches, ConsumedRecord};
use crate::error::ClientError;

/// One FETCH's answer.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Fetched {
    /// The records from the asked offset on (none below it).
    pub records: Vec<ConsumedRecord>,
    /// Where the next fetch continues.
    pub next_offset: u64,
    /// The partition's first retained offset.
    pub start_offset: u64,
    /// The partition's end: the offset the next record written will get.
    pub end_offset: u64,
}

impl Client {
    /// Reads records of one partition from `from`, at most about `max_bytes` (at least one
    /// batch when there is one), waiting up to `max_wait` for records when there are none.
    ///
    /// ```no_run
    /// # async fn demo() -> Result<(), memstream_client::ClientError> {
    /// use std::time::Duration;
    /// use memstream_protocol::message::OffsetSpec;
    /// let client = memstream_client::Client::connect("127.0.0.1:7878").await?;
    /// let fetched = client
    ///     .fetch("orders", 0, OffsetSpec::Earliest, 1 << 20, Duration::ZERO)
    ///     .await?;
    /// for record in &fetched.records {
    ///     println!("{}: {:?}", record.offset, record.value);
    /// }
    /// # Ok(()) }
    /// ```
    pub async fn fetch(
        &self,
        stream: &str,
        partition: u32,
        from: OffsetSpec,
        max_bytes: u32,
        max_wait: Duration,
    ) -> Result<Fetched, ClientError> {
        let max_wait_ms = u32::try_from(max_wait.as_millis()).unwrap_or(u32::MAX);
        let request = Request::Fetch(FetchRequest {
            stream: stream.to_owned(),
            partition,
            from,
            max_bytes,
            max_wait_ms,
        });
        // The server may hold the answer for `max_wait` (long poll): allow for it.
        let frame = self
            .call_with_timeout(&request, max_wait + self.options().request_timeout)
            .await?;
        let response = FetchResponse::decode(&frame.payload)
            .map_err(|e| ClientError::Malformed(e.to_string()))?;
        let floor = match from {
            OffsetSpec::Offset(o) => o,
            _ => 0,
        };
        let mut records = VecDeque::new();
        let name: Arc<str> = Arc::from(stream);
        decode_batches(&name, partition, &response.batches, floor, &mut records)?;
        Ok(Fetched {
            records: records.into(),
            next_offset: response.header.next_offset,
            start_offset: response.header.start_offset,
            end_offset: response.header.end_offset,
        })
    }
}

/// Polls one partition in order: each [`poll`](Self::poll) returns the records after the
/// previous one's.
///
/// ```no_run
/// # async fn demo() -> Result<(), memstream_client::ClientError> {
/// use std::sync::Arc;
/// use std::time::Duration;
/// use memstream_client::{Client, PartitionReader};
/// use memstream_protocol::message::OffsetSpec;
///
/// let client = Arc::new(Client::connect("127.0.0.1:7878").await?);
/// let mut reader = PartitionReader::new(client, "orders", 0, OffsetSpec::Timestamp(1_700_000_000_000));
/// loop {
///     for record in reader.poll(Duration::from_millis(500)).await? {
///         println!("{}: {:?}", record.offset, record.value);
///     }
/// }
/// # }
/// ```
pub struct PartitionReader {
    client: Arc<Client>,
    stream: String,
    partition: u32,
    position: OffsetSpec,
    /// Most bytes per fetch.
    pub max_bytes: u32,
}

impl PartitionReader {
    /// A reader of `stream`/`partition` starting at `from`.
    pub fn new(client: Arc<Client>, stream: &str, partition: u32, from: OffsetSpec) -> Self {
        PartitionReader {
            client,
            stream: stream.to_owned(),
            partition,
            position: from,
            max_bytes: 1 << 20,
        }
    }

    /// The offset the next poll reads from, once the first poll resolved the start.
    pub fn position(&self) -> Option<u64> {
        match self.position {
            OffsetSpec::Offset(o) => Some(o),
            _ => None,
        }
    }

    /// The next records, waiting up to `max_wait` when there are none yet (then the result is
    /// empty). When retention removed the records at the position, reading goes on from the
    /// partition's new start, as a Kafka consumer with `auto.offset.reset = earliest` would.
    pub async fn poll(&mut self, max_wait: Duration) -> Result<Vec<ConsumedRecord>, ClientError> {
        let fetched = match self
            .client
            .fetch(
                &self.stream,
                self.partition,
                self.position,
                self.max_bytes,
                max_wait,
            )
            .await
        {
            Err(e) if e.code() == Some(ErrorCode::OffsetOutOfRange) => {
                tracing::warn!(stream = %self.stream, partition = self.partition, position = ?self.position,
                    "position no longer retained; continuing from the partition's start");
                self.client
                    .fetch(
                        &self.stream,
                        self.partition,
                        OffsetSpec::Earliest,
                        self.max_bytes,
                        max_wait,
                    )
                    .await?
            }
            other => other?,
        };
        self.position = OffsetSpec::Offset(fetched.next_offset);
        Ok(fetched.records)
    }
}
