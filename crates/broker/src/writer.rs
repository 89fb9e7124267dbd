//! The write side of a connection: a byte-budgeted queue and a task that coalesces frames.
//!
//! Producers of frames (request handlers, and later push subscriptions) hand whole [`Frame`]s
//! to a [`WriteQueue`]. Each frame first takes its encoded size from a byte budget of
//! `network.max_write_queue_bytes`; when the budget is spent, senders wait (backpressure), so
//! a peer that stops reading cannot grow server memory. The writer task drains every frame
//! that is ready, up to `network.write_coalesce_bytes`, and writes them with one vectored
//! syscall: small payloads are copied next to their headers, large ones go out as their own
//! slice without a copy. Budget is returned once the bytes are in the kernel.
//!
//! Push subscriptions run *on* the writer task ([`WriteQueue::run_on_writer`]): the log's
//! arrival watch wakes the writer itself, which reads the partition and writes the PUSH in the
//! same turn, instead of waking a subscription task that then wakes the writer (one task
//! hand-off per push fewer; docs/ARCHITECTURE.md, "Hand-offs on the record path").

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use bytes::Bytes;
use futures_util::future::{AbortHandle, Abortable};
use futures_util::stream::{FuturesUnordered, StreamExt};
use memstream_protocol::outbox::Outbox;
use memstream_protocol::Frame;
use tokio::io::{AsyncWrite, AsyncWriteExt};
use tokio::sync::{mpsc, Semaphore};

use crate::metrics::Metrics;

struct Outbound {
    response: Response,
    /// Budget taken for this frame, returned after it is written.
    permits: u32,
}

/// The connection was closed; the frame was not queued.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Closed;

/// Work that runs on the writer task: a push subscription.
type Pusher = Pin<Box<dyn Future<Output = ()> + Send>>;

/// Stops a future started with [`WriteQueue::run_on_writer`] when dropped.
pub(crate) struct PusherHandle(AbortHandle);

impl Drop for PusherHandle {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// The sending side of a connection's outbound queue. Cheap to clone.
#[derive(Clone)]
pub struct WriteQueue {
    tx: mpsc::UnboundedSender<Outbound>,
    pushers: mpsc::UnboundedSender<Pusher>,
    budget: Arc<Semaphore>,
    budget_max: u32,
}

impl WriteQueue {
    fn permits_for(&self, response: &Response) -> u32 {
        u32::try_from(response.encoded_len())
            .unwrap_or(u32::MAX)
            .min(self.budget_max)
    }

    /// Queues `response`, waiting while the queue holds `max_write_queue_bytes`.
    pub(crate) async fn send(&self, response: impl Into<Response>) -> Result<(), Closed> {
        let response = response.into();
        let permits = self.permits_for(&response);
        self.budget
            .acquire_many(permits)
            .await
            .map_err(|_| Closed)?
            .forget();
        self.tx
            .send(Outbound { response, permits })
            .map_err(|_| Closed)
    }

    /// Queues a connection's final control frame (GOODBYE, or the error that closes it) at
    /// once, outside the byte budget: it must not wait behind responses that are themselves
    /// waiting for budget. At most one or two such frames exist per connection, each small.
    pub fn send_control(&self, frame: Frame) -> Result<(), Closed> {
        self.tx
            .send(Outbound {
                response: frame.into(),
                permits: 0,
            })
            .map_err(|_| Closed)
    }

    /// Runs `pusher` on the writer task, beside the writes, until it finishes or the handle is
    /// dropped. What it queues is written by the task it runs on, without a wake-up of
    /// another task. It must not wait on anything the writer itself has to do other than
    /// budget (which the writer returns between polls).
    pub(crate) fn run_on_writer(
        &self,
        pusher: impl Future<Output = ()> + Send + 'static,
    ) -> Result<PusherHandle, Closed> {
        let (handle, registration) = AbortHandle::new_pair();
        let pusher = Abortable::new(pusher, registration);
        self.pushers
            .send(Box::pin(async move {
                let _ = pusher.await;
            }))
            .map_err(|_| Closed)?;
        Ok(PusherHandle(handle))
    }

    /// Queues `response` if the budget allows it right now; otherwise gives it back.
    pub(crate) fn try_send(&self, response: Response) -> Result<(), Response> {
        let permits = self.permits_for(&response);
        match self.budget.try_acquire_many(permits) {
            Ok(p) => p.forget(),
            Err(_) => return Err(response),
        }
        self.tx
            .send(Outbound { response, permits })
            .map_err(|rejected| rejected.0.response)
    }
}

/// Creates a queue and the writer future that drains it into `sink`.
///
/// The writer finishes when every [`WriteQueue`] clone is dropped and the queue is empty: it
/// then flushes and shuts down the write half (sending FIN). It returns early on an I/O error.
#[cfg(test)]
pub fn channel<W>(
    sink: W,
    max_write_queue_bytes: u64,
    write_coalesce_bytes: u32,
    metrics: Arc<Metrics>,
) -> (
    WriteQueue,
    impl std::future::Future<Output = std::io::Result<()>>,
)
where
    W: AsyncWrite + Unpin,
{
    channel_counted(
        sink,
        max_write_queue_bytes,
        write_coalesce_bytes,
        metrics,
        None,
    )
}

/// [`channel`], also counting the bytes written into the connection's registry entry.
pub fn channel_counted<W>(
    sink: W,
    max_write_queue_bytes: u64,
    write_coalesce_bytes: u32,
    metrics: Arc<Metrics>,
    conn: Option<Arc<memstream_net::registry::Conn>>,
) -> (
    WriteQueue,
    impl std::future::Future<Output = std::io::Result<()>>,
)
where
    W: AsyncWrite + Unpin,
{
    let budget_max = u32::try_from(max_write_queue_bytes).unwrap_or(u32::MAX);
    let budget = Arc::new(Semaphore::new(budget_max as usize));
    let (tx, rx) = mpsc::unbounded_channel();
    let (pushers, new_pushers) = mpsc::unbounded_channel();
    let queue = WriteQueue {
        tx,
        pushers,
        budget: budget.clone(),
        budget_max,
    };
    let writer = Writer {
        sink,
        rx,
        new_pushers,
        budget,
        coalesce_bytes: write_coalesce_bytes as usize,
        metrics,
        conn,
    };
    (queue, writer.run())
}

struct Writer<W> {
    sink: W,
    rx: mpsc::UnboundedReceiver<Outbound>,
    new_pushers: mpsc::UnboundedReceiver<Pusher>,
    budget: Arc<Semaphore>,
    coalesce_bytes: usize,
    metrics: Arc<Metrics>,
    conn: Option<Arc<memstream_net::registry::Conn>>,
}

impl<W: AsyncWrite + Unpin> Writer<W> {
    /// Writes batches until the queue closes, then flushes and shuts the sink down. Between
    /// writes it polls the pushers that run on it. (The queue closes once every sender is
    /// gone, the pushers' own included: a pusher ends when its handle is dropped.)
    async fn run(mut self) -> std::io::Result<()> {
        let mut outbox = Outbox::new();
        let mut pushers = FuturesUnordered::<Pusher>::new();
        loop {
            let first = tokio::select! {
                out = self.rx.recv() => match out {
                    Some(out) => out,
                    None => break,
                },
                Some(pusher) = self.new_pushers.recv() => {
                    pushers.push(pusher);
                    continue;
                }
                Some(()) = pushers.next(), if !pushers.is_empty() => continue,
            };
            let mut frames = 0u64;
            let mut bytes = 0usize;
            let mut permits = 0u64;
            let mut next = Some(first);
            while let Some(out) = next.take() {
                frames += 1;
                bytes += out.response.encoded_len();
                permits += u64::from(out.permits);
                outbox.push(&out.response.frame, &out.response.tail);
                if bytes < self.coalesce_bytes {
                    next = self.rx.try_recv().ok();
                }
            }
            memstream_net::write_outbox(&mut self.sink, &mut outbox).await?;
            self.metrics.frames_out(frames, bytes as u64);
            if let Some(conn) = &self.conn {
                conn.wrote(bytes);
            }
            self.budget.add_permits(permits as usize);
        }
        self.sink.flush().await?;
        self.sink.shutdown().await
    }
}

/// A response: a frame, and optionally stored bytes sent after its payload as more payload
/// (record batches, without copying them into the frame).
#[derive(Debug)]
pub(crate) struct Response {
    pub frame: Frame,
    pub tail: Vec<Bytes>,
}

impl Response {
    /// Bytes on the wire.
    pub fn encoded_len(&self) -> usize {
        self.frame.encoded_len() + self.tail.iter().map(Bytes::len).sum::<usize>()
    }
}

impl From<Frame> for Response {
    fn from(frame: Frame) -> Response {
        Response {
            frame,
            tail: Vec::new(),
        }
    }
}

/// The current time in ms since the Unix epoch (record timestamps, retention).
pub(crate) fn now_ms() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as u64)
}

#[cfg(test)]
mod tests {
    use super::*;
    use bytes::Bytes;
    use futures_util::StreamExt;
    use memstream_protocol::{FrameCodec, Opcode};
    use std::io::IoSlice;
    use tokio_util::codec::FramedRead;

    fn ping(id: u64, len: usize) -> Frame {
        Frame::request(Opcode::Ping, id, Bytes::from(vec![id as u8; len]))
    }

    #[tokio::test]
    async fn frames_arrive_whole_and_in_order_across_sizes() {
        let (client, server) = tokio::io::duplex(1024);
        let (queue, writer) = channel(server, 1 << 20, 8192, Arc::new(Metrics::default()));
        let writer = tokio::spawn(writer);
        let sizes = [0usize, 1, 100, 4096, 4097, 70_000, 3, 0, 9000];
        let sent: Vec<Frame> = sizes
            .iter()
            .enumerate()
            .map(|(i, &n)| ping(i as u64 + 1, n))
            .collect();
        for f in &sent {
            queue.send(f.clone()).await.unwrap();
        }
        drop(queue);
        let got: Vec<Frame> = FramedRead::new(client, FrameCodec::new(1 << 20))
            .map(|r| r.unwrap())
            .collect()
            .await;
        assert_eq!(got, sent);
        writer.await.unwrap().unwrap();
    }

    #[tokio::test(start_paused = true)]
    async fn a_peer_that_does_not_read_bounds_the_queue() {
        // The peer never reads; the duplex pipe holds 64 bytes.
        let (_client, server) = tokio::io::duplex(64);
        let budget = 1000u64;
        let (queue, writer) = channel(server, budget, 4096, Arc::new(Metrics::default()));
        tokio::spawn(writer);
        let mut queued = 0u64;
        loop {
            match queue.try_send(ping(1, 60).into()) {
                Ok(()) => queued += 100,
                Err(_) => break,
            }
            tokio::time::sleep(std::time::Duration::from_millis(1)).await;
        }
        // The writer's first batch is stuck in the pipe and keeps its budget until written.
        assert_eq!(queued, budget);
        assert!(queue.try_send(ping(2, 60).into()).is_err());
    }

    #[tokio::test]
    async fn a_pusher_writes_through_the_writer_and_ends_when_its_handle_drops() {
        let (client, server) = tokio::io::duplex(1 << 16);
        let (queue, writer) = channel(server, 1 << 20, 8192, Arc::new(Metrics::default()));
        let writer = tokio::spawn(writer);
        let (tx, mut rx) = mpsc::unbounded_channel::<u64>();
        let pusher_queue = queue.clone();
        let handle = queue
            .run_on_writer(async move {
                while let Some(id) = rx.recv().await {
                    pusher_queue.send(ping(id, 10)).await.unwrap();
                }
            })
            .unwrap();
        let mut frames = FramedRead::new(client, FrameCodec::new(1 << 20));
        for id in [7, 8] {
            tx.send(id).unwrap();
            assert_eq!(frames.next().await.unwrap().unwrap(), ping(id, 10));
        }
        // The pusher would wait for `tx` forever; dropping its handle ends it, and with it
        // the last sender, so the writer finishes and closes the stream.
        drop(handle);
        drop(queue);
        tokio::time::timeout(std::time::Duration::from_secs(60), writer)
            .await
            .expect("the writer ends once the pusher is stopped")
            .unwrap()
            .unwrap();
        assert!(frames.next().await.is_none());
        drop(tx);
    }

    /// Records the size of every write call.
    struct CountingSink(std::sync::Arc<std::sync::Mutex<Vec<usize>>>);

    impl AsyncWrite for CountingSink {
        fn poll_write(
            self: std::pin::Pin<&mut Self>,
            _: &mut std::task::Context<'_>,
            buf: &[u8],
        ) -> std::task::Poll<std::io::Result<usize>> {
            self.0.lock().unwrap().push(buf.len());
            std::task::Poll::Ready(Ok(buf.len()))
        }

        fn poll_write_vectored(
            self: std::pin::Pin<&mut Self>,
            _: &mut std::task::Context<'_>,
            bufs: &[IoSlice<'_>],
        ) -> std::task::Poll<std::io::Result<usize>> {
            let n = bufs.iter().map(|b| b.len()).sum();
            self.0.lock().unwrap().push(n);
            std::task::Poll::Ready(Ok(n))
        }

        fn is_write_vectored(&self) -> bool {
            true
        }

        fn poll_flush(
            self: std::pin::Pin<&mut Self>,
            _: &mut std::task::Context<'_>,
        ) -> std::task::Poll<std::io::Result<()>> {
            std::task::Poll::Ready(Ok(()))
        }

        fn poll_shutdown(
            self: std::pin::Pin<&mut Self>,
            _: &mut std::task::Context<'_>,
        ) -> std::task::Poll<std::io::Result<()>> {
            std::task::Poll::Ready(Ok(()))
        }
    }

    #[tokio::test]
    async fn frames_ready_together_share_a_write_up_to_the_coalesce_limit() {
        let writes = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
        // Each frame is 100 bytes on the wire; batches stop once 250 bytes are gathered.
        let (queue, writer) = channel(
            CountingSink(writes.clone()),
            1 << 20,
            250,
            Arc::new(Metrics::default()),
        );
        for id in 0..10 {
            queue.send(ping(id, 60)).await.unwrap();
        }
        drop(queue);
        writer.await.unwrap();
        // Ten frames queued before the writer ran: three frames (300 bytes) per syscall, then
        // the remainder.
        assert_eq!(*writes.lock().unwrap(), [300, 300, 300, 100]);
    }
}
