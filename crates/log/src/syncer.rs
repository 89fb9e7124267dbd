//! [`Syncer`]: the shared fsync service. A fixed number of threads serve a queue of disk
//! partitions that need a sync, whatever the number of partitions.
//!
//! A partition is in the queue at most once. A request for a partition whose sync is running
//! marks it to be synced again right after, so a burst of appends and waiters costs one sync
//! in flight plus one queued, never one each (group commit). Interval policies arm a
//! per-partition timer on the first unsynced append; when it fires the partition is queued.

use std::cmp::Ordering as CmpOrdering;
use std::collections::{BinaryHeap, VecDeque};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Condvar, Mutex, Weak};
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant};

use crate::lock;
use crate::partition::Inner;

/// The shared fsync service. Clones are handles to the same threads; the threads stop at
/// [`Syncer::shutdown`] or when the last handle (partitions hold one) is dropped.
#[derive(Clone)]
pub struct Syncer {
    handle: Arc<Handle>,
}

impl std::fmt::Debug for Syncer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Syncer")
            .field("shut_down", &self.is_shut_down())
            .finish_non_exhaustive()
    }
}

struct Handle {
    shared: Arc<Shared>,
    threads: Mutex<Vec<JoinHandle<()>>>,
}

struct Shared {
    queue: Mutex<Queue>,
    wake: Condvar,
    /// Every disk partition opened with this Syncer, for the final sync at shutdown.
    registry: Mutex<Vec<Weak<Inner>>>,
    shut_down: AtomicBool,
    /// No thread could be started: syncs run on the requesting thread.
    inline: AtomicBool,
}

#[derive(Default)]
struct Queue {
    ready: VecDeque<Arc<Inner>>,
    timers: BinaryHeap<Timer>,
    timer_seq: u64,
    shutdown: bool,
}

/// Where one partition stands; guarded by the partition's own small mutex.
#[derive(Debug, Default)]
pub(crate) struct SyncSchedule {
    queued: bool,
    running: bool,
    again: bool,
    timer_armed: bool,
}

struct Timer {
    deadline: Instant,
    seq: u64,
    partition: Arc<Inner>,
}

impl PartialEq for Timer {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other) == CmpOrdering::Equal
    }
}

impl Eq for Timer {}

impl PartialOrd for Timer {
    fn partial_cmp(&self, other: &Self) -> Option<CmpOrdering> {
        Some(self.cmp(other))
    }
}

impl Ord for Timer {
    /// Reversed, so the `BinaryHeap` pops the earliest deadline first.
    fn cmp(&self, other: &Self) -> CmpOrdering {
        (other.deadline, other.seq).cmp(&(self.deadline, self.seq))
    }
}

impl Syncer {
    /// Starts `threads` sync threads (at least one).
    pub fn new(threads: usize) -> Syncer {
        let shared = Arc::new(Shared {
            queue: Mutex::default(),
            wake: Condvar::new(),
            registry: Mutex::default(),
            shut_down: AtomicBool::new(false),
            inline: AtomicBool::new(false),
        });
        let mut handles = Vec::new();
        for i in 0..threads.max(1) {
            let worker = Arc::clone(&shared);
            match thread::Builder::new()
                .name(format!("memstream-sync-{i}"))
                .spawn(move || worker.run())
            {
                Ok(handle) => handles.push(handle),
                Err(e) => tracing::error!(error = %e, "cannot start sync thread"),
            }
        }
        if handles.is_empty() {
            tracing::error!("no sync thread: syncing on the requesting threads");
            shared.inline.store(true, Ordering::Release);
        }
        Syncer {
            handle: Arc::new(Handle {
                shared,
                threads: Mutex::new(handles),
            }),
        }
    }

    /// Stops the threads, then syncs every open disk partition that has unsynced data.
    /// Afterwards appends to those partitions and new waits fail with `LogError::Closed`.
    /// Idempotent.
    pub fn shutdown(&self) {
        self.handle.shutdown();
    }

    pub(crate) fn is_shut_down(&self) -> bool {
        self.handle.shared.shut_down.load(Ordering::Acquire)
    }

    /// Remembers a disk partition for the final sync.
    pub(crate) fn register(&self, partition: &Arc<Inner>) {
        let mut registry = lock(&self.handle.shared.registry);
        // Prune dropped partitions only when the vector would grow: amortised O(1).
        if registry.len() == registry.capacity() {
            registry.retain(|p| p.strong_count() > 0);
        }
        registry.push(Arc::downgrade(partition));
    }

    /// Asks for a sync of `partition` as soon as possible; `false` after shutdown.
    pub(crate) fn request(&self, partition: &Arc<Inner>) -> bool {
        let shared = &self.handle.shared;
        if shared.shut_down.load(Ordering::Acquire) {
            return false;
        }
        if shared.inline.load(Ordering::Acquire) {
            partition.sync_now();
        } else {
            shared.enqueue(partition);
        }
        true
    }

    /// Asks for a sync of `partition` within `interval_ms`, unless one is already planned.
    pub(crate) fn schedule(&self, partition: &Arc<Inner>, interval_ms: u64) {
        let shared = &self.handle.shared;
        let Some(disk) = &partition.disk else {
            return;
        };
        if shared.inline.load(Ordering::Acquire) {
            self.request(partition);
            return;
        }
        if std::mem::replace(&mut lock(&disk.schedule).timer_armed, true) {
            return;
        }
        let mut queue = lock(&shared.queue);
        queue.timer_seq = queue.timer_seq.saturating_add(1);
        let timer = Timer {
            deadline: Instant::now()
                .checked_add(Duration::from_millis(interval_ms))
                .unwrap_or_else(Instant::now),
            seq: queue.timer_seq,
            partition: Arc::clone(partition),
        };
        queue.timers.push(timer);
        drop(queue);
        shared.wake.notify_one();
    }
}

impl Handle {
    fn shutdown(&self) {
        let shared = &self.shared;
        shared.shut_down.store(true, Ordering::Release);
        lock(&shared.queue).shutdown = true;
        shared.wake.notify_all();
        let threads = std::mem::take(&mut *lock(&self.threads));
        let me = thread::current().id();
        for t in threads {
            // The last handle can be dropped on a sync thread; it cannot join itself.
            if t.thread().id() != me && t.join().is_err() {
                tracing::error!("a sync thread panicked");
            }
        }
        let live: Vec<Arc<Inner>> = lock(&shared.registry)
            .iter()
            .filter_map(Weak::upgrade)
            .collect();
        for partition in &live {
            partition.sync_now();
            if let Some(disk) = &partition.disk {
                disk.wake_waiters();
            }
        }
        let mut queue = lock(&shared.queue);
        queue.ready.clear();
        queue.timers.clear();
    }
}

impl Drop for Handle {
    fn drop(&mut self) {
        self.shutdown();
    }
}

impl Shared {
    /// Queues `partition` unless it is queued; if its sync is running, has it run again.
    fn enqueue(&self, partition: &Arc<Inner>) {
        let Some(disk) = &partition.disk else {
            return;
        };
        let push = {
            let mut s = lock(&disk.schedule);
            if s.running {
                s.again = true;
                false
            } else {
                !std::mem::replace(&mut s.queued, true)
            }
        };
        if push {
            lock(&self.queue).ready.push_back(Arc::clone(partition));
            self.wake.notify_one();
        }
    }

    /// A sync thread: take the next due partition, sync it, repeat until shutdown.
    fn run(&self) {
        let mut fired = Vec::new();
        loop {
            let job = {
                let mut queue = lock(&self.queue);
                loop {
                    if queue.shutdown {
                        return;
                    }
                    let now = Instant::now();
                    while queue.timers.peek().is_some_and(|t| t.deadline <= now) {
                        fired.extend(queue.timers.pop().map(|t| t.partition));
                    }
                    if !fired.is_empty() {
                        break None;
                    }
                    if let Some(partition) = queue.ready.pop_front() {
                        break Some(partition);
                    }
                    let wait = queue
                        .timers
                        .peek()
                        .map(|t| t.deadline.saturating_duration_since(now));
                    queue = match wait {
                        Some(timeout) => {
                            let (queue, _) = self
                                .wake
                                .wait_timeout(queue, timeout)
                                .unwrap_or_else(std::sync::PoisonError::into_inner);
                            queue
                        }
                        None => self
                            .wake
                            .wait(queue)
                            .unwrap_or_else(std::sync::PoisonError::into_inner),
                    };
                }
            };
            for partition in fired.drain(..) {
                if let Some(disk) = &partition.disk {
                    lock(&disk.schedule).timer_armed = false;
                }
                self.enqueue(&partition);
            }
            if let Some(partition) = job {
                self.sync(&partition);
            }
        }
    }

    fn sync(&self, partition: &Arc<Inner>) {
        let Some(disk) = &partition.disk else {
            return;
        };
        {
            let mut s = lock(&disk.schedule);
            s.queued = false;
            s.running = true;
        }
        partition.sync_now();
        let again = {
            let mut s = lock(&disk.schedule);
            s.running = false;
            std::mem::take(&mut s.again)
        };
        if again {
            self.enqueue(partition);
        }
    }
}
