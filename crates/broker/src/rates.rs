//! Produce and consume rates per stream, for the admin API: every [`RATE_INTERVAL`] a
//! sampler sums each stream's partition counters (`memstream_log::Traffic`) and keeps the
//! rate over the last interval. One entry per stream, dropped with the stream, so the map
//! is bounded by the streams there are.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use memstream_engine::streams::Streams;
use memstream_log::TrafficTotals;
use serde::Serialize;

/// How often rates are sampled (and so the window they are measured over).
pub const RATE_INTERVAL: Duration = Duration::from_secs(2);

/// A stream's rates over the last interval.
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize)]
pub struct StreamRates {
    pub produce_records_per_sec: f64,
    pub produce_bytes_per_sec: f64,
    pub consume_records_per_sec: f64,
    pub consume_bytes_per_sec: f64,
}

#[derive(Debug, Default)]
struct State {
    at: Option<Instant>,
    /// Totals at the last sample, by stream name and id (a recreated stream starts over).
    totals: HashMap<String, (u64, TrafficTotals)>,
    rates: HashMap<String, StreamRates>,
}

/// The rates of every stream.
#[derive(Debug, Default)]
pub struct Rates {
    state: Mutex<State>,
}

/// The sum of a stream's partitions' counters.
pub fn stream_totals(streams: &Streams, name: &str) -> Option<(u64, TrafficTotals)> {
    let stream = streams.get(name).ok()?;
    let totals = stream
        .partitions()
        .iter()
        .fold(TrafficTotals::default(), |sum, p| sum.plus(p.log.traffic()));
    Some((stream.id(), totals))
}

fn per_sec(now: u64, before: u64, secs: f64) -> f64 {
    now.saturating_sub(before) as f64 / secs
}

impl Rates {
    /// Takes a sample of every stream now.
    pub fn sample(&self, streams: &Streams, now: Instant) {
        let mut state = self.state.lock().unwrap_or_else(PoisonError::into_inner);
        let secs = state
            .at
            .map(|at| now.saturating_duration_since(at).as_secs_f64())
            .filter(|s| *s > 0.0);
        let mut totals = HashMap::new();
        let mut rates = HashMap::new();
        for summary in streams.list() {
            let Some((id, now_totals)) = stream_totals(streams, &summary.name) else {
                continue;
            };
            let before = state
                .totals
                .get(&summary.name)
                .filter(|(was, _)| *was == id);
            if let (Some((_, b)), Some(secs)) = (before, secs) {
                rates.insert(
                    summary.name.clone(),
                    StreamRates {
                        produce_records_per_sec: per_sec(now_totals.records_in, b.records_in, secs),
                        produce_bytes_per_sec: per_sec(now_totals.bytes_in, b.bytes_in, secs),
                        consume_records_per_sec: per_sec(
                            now_totals.records_out,
                            b.records_out,
                            secs,
                        ),
                        consume_bytes_per_sec: per_sec(now_totals.bytes_out, b.bytes_out, secs),
                    },
                );
            }
            totals.insert(summary.name, (id, now_totals));
        }
        *state = State {
            at: Some(now),
            totals,
            rates,
        };
    }

    /// The rates of `stream` over the last interval (zero before two samples).
    pub fn of(&self, stream: &str) -> StreamRates {
        self.state
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .rates
            .get(stream)
            .copied()
            .unwrap_or_default()
    }
}

/// Samples every [`RATE_INTERVAL`] until shutdown.
pub(crate) async fn run(shared: Arc<crate::state::Shared>) {
    loop {
        shared.rates.sample(&shared.engine.streams, Instant::now());
        tokio::select! {
            () = shared.shutdown.cancelled() => return,
            () = tokio::time::sleep(RATE_INTERVAL) => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use memstream_engine::streams::{
        AppendLimits, NewStream, Placement, SettingsOverrides, Storage,
    };
    use memstream_protocol::batch::{BatchBuilder, NO_PRODUCER_ID};

    #[test]
    fn rates_are_the_change_over_the_interval_and_forget_deleted_streams() {
        let dir = tempfile::tempdir().unwrap();
        let streams = Streams::open(dir.path(), 1, 1000).unwrap();
        let cfg = crate::config::Config::default();
        let new = NewStream {
            name: "s".into(),
            partitions: 1,
            settings: SettingsOverrides {
                storage: Some(Storage::Memory),
                ..SettingsOverrides::default()
            },
        };
        let stream = streams.create(&new, &cfg.streams, 1 << 20).unwrap();
        let limits = AppendLimits {
            decompressed_bytes_max: 1 << 20,
            producers_max: 10,
        };
        let append = |n: usize| {
            let mut b = BatchBuilder::with_capacity(1024);
            for _ in 0..n {
                b.push(1, None, b"0123456789", &[]);
            }
            let batch = b.finish(NO_PRODUCER_ID, -1, -1);
            stream
                .append(Placement::Partition(0), &batch, &limits, 1)
                .unwrap();
            batch.len()
        };
        let rates = Rates::default();
        let t0 = Instant::now();
        rates.sample(&streams, t0);
        assert_eq!(
            rates.of("s"),
            StreamRates::default(),
            "one sample: no rate yet"
        );
        let bytes = append(10) + append(10);
        let log = &stream.partition(0).unwrap().log;
        let read = log.read(0, 1 << 20).unwrap();
        log.served(&read.batches);
        rates.sample(&streams, t0 + Duration::from_secs(2));
        let r = rates.of("s");
        assert_eq!(r.produce_records_per_sec, 10.0);
        assert_eq!(r.produce_bytes_per_sec, bytes as f64 / 2.0);
        assert_eq!(r.consume_records_per_sec, 10.0);
        rates.sample(&streams, t0 + Duration::from_secs(4));
        assert_eq!(rates.of("s").produce_records_per_sec, 0.0, "nothing new");
        streams.delete("s").unwrap();
        rates.sample(&streams, t0 + Duration::from_secs(6));
        assert!(rates.state.lock().unwrap().totals.is_empty());
    }
}
