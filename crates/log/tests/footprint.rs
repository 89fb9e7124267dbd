//! An empty memory partition must be cheap: measured with a counting global allocator.
//!
//! This file holds a single test so that no other test allocates while it measures, and
//! only the test's own thread is counted: the harness's threads allocate when they like
//! (seen once on a loaded machine: 900 bytes during the read loop).
#![allow(unsafe_code)] // a counting global allocator, delegating to System

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::sync::atomic::{AtomicIsize, Ordering};

use memstream_log::{FsyncPolicy, LogConfig, Partition};

/// Net heap bytes allocated.
static LIVE_BYTES: AtomicIsize = AtomicIsize::new(0);

thread_local! {
    /// Whether this thread's allocations are counted (const: no allocation to set up).
    static MEASURED: Cell<bool> = const { Cell::new(false) };
}

fn measured() -> bool {
    MEASURED.try_with(Cell::get).unwrap_or(false)
}

struct Counting;

// SAFETY: forwards to the system allocator unchanged; only counts.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        if measured() {
            LIVE_BYTES.fetch_add(layout.size() as isize, Ordering::SeqCst);
        }
        // SAFETY: same contract as our caller's.
        unsafe { System.alloc(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        if measured() {
            LIVE_BYTES.fetch_sub(layout.size() as isize, Ordering::SeqCst);
        }
        // SAFETY: same contract as our caller's.
        unsafe { System.dealloc(ptr, layout) }
    }
}

#[global_allocator]
static ALLOCATOR: Counting = Counting;

/// What an idle partition may cost, handle plus heap.
const EMPTY_PARTITION_BYTES_MAX: usize = 1024;

#[test]
fn an_empty_memory_partition_costs_less_than_a_kibibyte() {
    MEASURED.with(|m| m.set(true));
    let config = LogConfig {
        segment_bytes: 1 << 30,
        retention_bytes: 1 << 30,
        retention_ms: 0,
        index_interval_bytes: 4096,
        fsync: FsyncPolicy::Never,
    };
    let partitions_count = 1000;
    let before = LIVE_BYTES.load(Ordering::SeqCst);
    let partitions: Vec<Partition> = (0..partitions_count)
        .map(|_| Partition::open_memory(config.clone()))
        .collect();
    let heap = (LIVE_BYTES.load(Ordering::SeqCst) - before) as usize
        - partitions.capacity() * std::mem::size_of::<Partition>();
    // Reads and offset queries on an empty partition allocate nothing either.
    let after_open = LIVE_BYTES.load(Ordering::SeqCst);
    for p in &partitions {
        assert_eq!(
            (p.start_offset(), p.end_offset(), p.size_bytes()),
            (0, 0, 0)
        );
        assert_eq!(p.offset_for_timestamp(5), 0);
    }
    assert_eq!(LIVE_BYTES.load(Ordering::SeqCst), after_open);
    let per_partition = std::mem::size_of::<Partition>() + heap / partitions_count;
    println!(
        "empty memory partition: {} bytes handle + {} bytes heap = {per_partition} bytes",
        std::mem::size_of::<Partition>(),
        heap / partitions_count
    );
    assert!(
        per_partition < EMPTY_PARTITION_BYTES_MAX,
        "{per_partition} bytes"
    );
}
