//! Metric primitives with no I/O and no dependencies: [`Histogram`] (fixed buckets, relaxed
//! atomics, one `fetch_add` per bucket hit) and [`text`], the Prometheus text exposition
//! format (0.0.4) with label values escaped.
//!
//! Updates are meant to be made once per request, batch or fsync, never per record: a
//! histogram observation is a short scan over at most [`BUCKETS_MAX`] bounds and three
//! relaxed atomic adds.

pub mod api;
pub mod text;

pub use api::ApiStats;

use std::sync::atomic::{AtomicU64, Ordering::Relaxed};

/// Most finite bucket bounds a histogram has.
pub const BUCKETS_MAX: usize = 24;

/// Latency bounds in microseconds: 50 µs to 10 s.
pub const LATENCY_US: &[u64] = &[
    50, 100, 250, 500, 1_000, 2_500, 5_000, 10_000, 25_000, 50_000, 100_000, 250_000, 500_000,
    1_000_000, 2_500_000, 5_000_000, 10_000_000,
];

/// Size bounds in bytes: 64 B to 16 MiB, by fours.
pub const SIZE_BYTES: &[u64] = &[
    64,
    256,
    1 << 10,
    4 << 10,
    16 << 10,
    64 << 10,
    256 << 10,
    1 << 20,
    4 << 20,
    16 << 20,
];

/// Count bounds (records in a batch): 1 to 65536, by fours.
pub const COUNTS: &[u64] = &[1, 4, 16, 64, 256, 1024, 4096, 16384, 65536];

/// A cumulative histogram over fixed bounds (`le`), with a sum and a count.
#[derive(Debug)]
pub struct Histogram {
    bounds: &'static [u64],
    /// One per bound, then +Inf. Not cumulative: summed when rendered.
    buckets: Box<[AtomicU64]>,
    sum: AtomicU64,
    count: AtomicU64,
}

/// A histogram at one moment.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Snapshot {
    /// The bounds, with the cumulative count at or under each.
    pub buckets: Vec<(u64, u64)>,
    /// Every observation, +Inf included.
    pub count: u64,
    /// The sum of the observations.
    pub sum: u64,
}

impl Histogram {
    /// A histogram over `bounds` (ascending; at most [`BUCKETS_MAX`], more are ignored).
    pub fn new(bounds: &'static [u64]) -> Histogram {
        let bounds = &bounds[..bounds.len().min(BUCKETS_MAX)];
        Histogram {
            bounds,
            buckets: (0..=bounds.len()).map(|_| AtomicU64::new(0)).collect(),
            sum: AtomicU64::new(0),
            count: AtomicU64::new(0),
        }
    }

    /// Counts one observation of `value`.
    pub fn observe(&self, value: u64) {
        let index = self
            .bounds
            .iter()
            .position(|&b| value <= b)
            .unwrap_or(self.bounds.len());
        if let Some(bucket) = self.buckets.get(index) {
            bucket.fetch_add(1, Relaxed);
        }
        self.sum.fetch_add(value, Relaxed);
        self.count.fetch_add(1, Relaxed);
    }

    /// Counts a duration in microseconds.
    pub fn observe_duration(&self, elapsed: std::time::Duration) {
        self.observe(u64::try_from(elapsed.as_micros()).unwrap_or(u64::MAX));
    }

    /// The counts now (relaxed: concurrent observations may be half in).
    pub fn snapshot(&self) -> Snapshot {
        let mut cumulative = 0u64;
        let buckets = self
            .bounds
            .iter()
            .zip(self.buckets.iter())
            .map(|(&bound, bucket)| {
                cumulative = cumulative.saturating_add(bucket.load(Relaxed));
                (bound, cumulative)
            })
            .collect();
        let inf = self.buckets.last().map_or(0, |b| b.load(Relaxed));
        Snapshot {
            buckets,
            count: cumulative.saturating_add(inf),
            sum: self.sum.load(Relaxed),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn observations_land_in_the_first_bucket_that_holds_them() {
        let h = Histogram::new(&[10, 100]);
        for v in [0, 10, 11, 100, 101, 5000] {
            h.observe(v);
        }
        let s = h.snapshot();
        assert_eq!(s.buckets, vec![(10, 2), (100, 4)]);
        assert_eq!(s.count, 6);
        assert_eq!(s.sum, 5222);
    }

    #[test]
    fn durations_are_microseconds() {
        let h = Histogram::new(LATENCY_US);
        h.observe_duration(std::time::Duration::from_millis(3));
        let s = h.snapshot();
        assert_eq!(s.sum, 3000);
        assert_eq!(s.buckets.iter().find(|(b, _)| *b == 2_500).unwrap().1, 0);
        assert_eq!(s.buckets.iter().find(|(b, _)| *b == 5_000).unwrap().1, 1);
    }
}
