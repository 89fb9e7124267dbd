//! [`ApiStats`]: requests, errors and latency per API of one protocol, indexed by the
//! front-end's own API table (native opcodes, Kafka API keys), so an update is an index and
//! three relaxed atomic adds: no map, no lock, no label built on the request path.

use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::time::Duration;

use crate::{text, Histogram, LATENCY_US};

/// One protocol's per-API counters and latency histograms.
#[derive(Debug)]
pub struct ApiStats {
    names: Vec<&'static str>,
    requests: Vec<AtomicU64>,
    errors: Vec<AtomicU64>,
    latency: Vec<Histogram>,
}

impl ApiStats {
    /// Counters for the APIs `names`, indexed as given.
    pub fn new(names: Vec<&'static str>) -> ApiStats {
        ApiStats {
            requests: names.iter().map(|_| AtomicU64::new(0)).collect(),
            errors: names.iter().map(|_| AtomicU64::new(0)).collect(),
            latency: names.iter().map(|_| Histogram::new(LATENCY_US)).collect(),
            names,
        }
    }

    /// The API at `index` answered after `elapsed`, with an error or not. An index out of
    /// the table is ignored.
    pub fn record(&self, index: usize, elapsed: Duration, error: bool) {
        let (Some(requests), Some(errors), Some(latency)) = (
            self.requests.get(index),
            self.errors.get(index),
            self.latency.get(index),
        ) else {
            return;
        };
        requests.fetch_add(1, Relaxed);
        if error {
            errors.fetch_add(1, Relaxed);
        }
        latency.observe_duration(elapsed);
    }

    /// Requests answered so far by the API at `index`.
    pub fn requests(&self, index: usize) -> u64 {
        self.requests.get(index).map_or(0, |r| r.load(Relaxed))
    }

    /// `<prefix>_requests_total`, `<prefix>_request_errors_total` (helped by `errors`, what
    /// an error is for this protocol) and `<prefix>_request_duration_seconds`, labelled
    /// `api`, for the APIs used so far; `what` names the protocol.
    pub fn render(&self, out: &mut String, prefix: &str, what: &str, errors: &str) {
        let used: Vec<usize> = (0..self.names.len())
            .filter(|&i| self.requests(i) > 0)
            .collect();
        let name = format!("{prefix}_requests_total");
        text::family(
            out,
            &name,
            "counter",
            &format!("Requests answered on the {what} protocol, by API."),
        );
        for &i in &used {
            let labels = text::labels(&[("api", self.names[i])]);
            text::sample(out, &name, &labels, self.requests(i));
        }
        let name = format!("{prefix}_request_errors_total");
        text::family(out, &name, "counter", errors);
        for &i in &used {
            let labels = text::labels(&[("api", self.names[i])]);
            text::sample(out, &name, &labels, self.errors[i].load(Relaxed));
        }
        let name = format!("{prefix}_request_duration_seconds");
        text::family(
            out,
            &name,
            "histogram",
            &format!(
                "Time from a {what} request read to its answer ready (long polls included), by API."
            ),
        );
        for &i in &used {
            text::histogram(
                out,
                &name,
                &[("api", self.names[i])],
                &self.latency[i].snapshot(),
                1e6,
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_apis_used_are_rendered() {
        let stats = ApiStats::new(vec!["PRODUCE", "FETCH"]);
        stats.record(1, Duration::from_micros(80), false);
        stats.record(1, Duration::from_micros(80), true);
        stats.record(7, Duration::ZERO, false);
        let mut out = String::new();
        stats.render(&mut out, "x", "native", "Errors.");
        assert!(out.contains("x_requests_total{api=\"FETCH\"} 2\n"), "{out}");
        assert!(
            out.contains("x_request_errors_total{api=\"FETCH\"} 1\n"),
            "{out}"
        );
        assert!(
            out.contains("x_request_duration_seconds_bucket{api=\"FETCH\",le=\"0.0001\"} 2\n"),
            "{out}"
        );
        assert!(!out.contains("PRODUCE"), "{out}");
    }
}
