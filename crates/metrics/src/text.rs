//! The Prometheus text exposition format (0.0.4): `# HELP` and `# TYPE` once per family,
//! then one line per series. Label values are escaped (`\`, `"`, newline), so a stream or
//! group name cannot break the format.

use std::fmt::Write as _;

use crate::Snapshot;

/// A label value, escaped.
pub fn escape(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for c in value.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '"' => out.push_str("\\\""),
            '\n' => out.push_str("\\n"),
            c => out.push(c),
        }
    }
    out
}

/// `{a="x",b="y"}`, or nothing for no labels.
pub fn labels(pairs: &[(&str, &str)]) -> String {
    if pairs.is_empty() {
        return String::new();
    }
    let inner: Vec<String> = pairs
        .iter()
        .map(|(k, v)| format!("{k}=\"{}\"", escape(v)))
        .collect();
    format!("{{{}}}", inner.join(","))
}

/// The family's `# HELP` and `# TYPE` lines.
pub fn family(out: &mut String, name: &str, kind: &str, help: &str) {
    let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} {kind}");
}

/// One sample line.
pub fn sample(out: &mut String, name: &str, labels: &str, value: impl std::fmt::Display) {
    let _ = writeln!(out, "{name}{labels} {value}");
}

/// A histogram's series (`_bucket` with `le`, `_sum`, `_count`) under `labels` (from
/// [`labels`], without `le`); bounds and sum are divided by `scale` (1e6 renders
/// microseconds as seconds).
pub fn histogram(out: &mut String, name: &str, pairs: &[(&str, &str)], s: &Snapshot, scale: f64) {
    for (bound, count) in &s.buckets {
        let le = format!("{}", *bound as f64 / scale);
        let mut with_le: Vec<(&str, &str)> = pairs.to_vec();
        with_le.push(("le", &le));
        sample(out, &format!("{name}_bucket"), &labels(&with_le), count);
    }
    let mut with_inf: Vec<(&str, &str)> = pairs.to_vec();
    with_inf.push(("le", "+Inf"));
    sample(out, &format!("{name}_bucket"), &labels(&with_inf), s.count);
    let sum = s.sum as f64 / scale;
    sample(out, &format!("{name}_sum"), &labels(pairs), sum);
    sample(out, &format!("{name}_count"), &labels(pairs), s.count);
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Histogram;

    #[test]
    fn label_values_cannot_break_the_format() {
        assert_eq!(
            labels(&[("stream", "a\"b\\c\nd")]),
            "{stream=\"a\\\"b\\\\c\\nd\"}"
        );
        assert_eq!(labels(&[]), "");
    }

    #[test]
    fn a_histogram_renders_cumulative_buckets_in_seconds() {
        let h = Histogram::new(&[1_000, 10_000]);
        h.observe(500);
        h.observe(20_000);
        let mut out = String::new();
        histogram(
            &mut out,
            "x_seconds",
            &[("api", "PRODUCE")],
            &h.snapshot(),
            1e6,
        );
        assert_eq!(
            out,
            "x_seconds_bucket{api=\"PRODUCE\",le=\"0.001\"} 1\n\
             x_seconds_bucket{api=\"PRODUCE\",le=\"0.01\"} 1\n\
             x_seconds_bucket{api=\"PRODUCE\",le=\"+Inf\"} 2\n\
             x_seconds_sum{api=\"PRODUCE\"} 0.0205\n\
             x_seconds_count{api=\"PRODUCE\"} 2\n"
        );
    }
}
