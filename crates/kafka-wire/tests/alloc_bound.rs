//! Decoding allocates in proportion to the bytes received, never to what length fields
//! claim: a counting allocator measures the peak while random frames of every API and version
//! are decoded, and the peak stays within a small multiple of the frame. (Its own binary: it
//! installs a global allocator.)

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicUsize, Ordering};

use bytes::{BufMut, Bytes, BytesMut};
use memstream_kafka_wire::api::{self, SUPPORTED};
use memstream_kafka_wire::request;

struct Counting;

static LIVE: AtomicUsize = AtomicUsize::new(0);
static PEAK: AtomicUsize = AtomicUsize::new(0);

// SAFETY: forwards every call to the system allocator unchanged; only counts bytes.
#[allow(unsafe_code)]
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let now = LIVE.fetch_add(layout.size(), Ordering::Relaxed) + layout.size();
        PEAK.fetch_max(now, Ordering::Relaxed);
        // SAFETY: the caller's layout is passed through unchanged.
        unsafe { System.alloc(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        LIVE.fetch_sub(layout.size(), Ordering::Relaxed);
        // SAFETY: `ptr` came from `alloc` with this layout.
        unsafe { System.dealloc(ptr, layout) }
    }
}

#[global_allocator]
static ALLOCATOR: Counting = Counting;

/// Most bytes decoding may hold per byte of request: every decoded entry costs at least one
/// byte on the wire and at most a few dozen in memory (an empty compact string is one byte
/// and a 24-byte `String`), and a growing `Vec` may hold twice its entries.
const AMPLIFICATION_MAX: usize = 64;

/// A deterministic byte source (xorshift), so a failure is reproducible from the seed.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
}

#[test]
fn decoding_allocates_in_proportion_to_the_frame() {
    let seed = 0x5eed_u64;
    println!("seed {seed:#x}");
    let mut rng = Rng(seed);
    let mut worst = (0usize, 1usize, "");
    for spec in SUPPORTED {
        for version in spec.min..=spec.max {
            for round in 0..200 {
                let len = (rng.next() % 4096) as usize;
                let mut b = BytesMut::new();
                b.put_i16(spec.key);
                b.put_i16(version);
                b.put_i32(1);
                b.put_i16(-1);
                if api::spec(spec.key).is_some_and(|s| s.is_flexible(version)) {
                    b.put_u8(0);
                }
                // Mostly tiny bytes (lengths and counts that fit), some large claims.
                for _ in 0..len {
                    let r = rng.next();
                    b.put_u8(if r.is_multiple_of(5) {
                        (r >> 8) as u8
                    } else {
                        (r % 3) as u8
                    });
                }
                let frame = b.freeze();
                let size = frame.len();
                let before = LIVE.load(Ordering::Relaxed);
                PEAK.store(before, Ordering::Relaxed);
                let decoded = request::decode(Bytes::clone(&frame));
                let peak = PEAK.load(Ordering::Relaxed).saturating_sub(before);
                drop(decoded);
                if peak * worst.1 > worst.0 * size {
                    worst = (peak, size, spec.name);
                }
                assert!(
                    peak <= size * AMPLIFICATION_MAX + 4096,
                    "{} v{version} round {round}: {peak} bytes for a {size}-byte frame",
                    spec.name
                );
            }
        }
    }
    println!(
        "worst: {} bytes for a {}-byte {} frame ({:.1}x)",
        worst.0,
        worst.1,
        worst.2,
        worst.0 as f64 / worst.1 as f64
    );
}
