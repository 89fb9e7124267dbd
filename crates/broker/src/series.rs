//! The labelled part of `/metrics`: per partition and per group series, bounded by
//! `admin.metrics_max_partitions` and `admin.metrics_max_groups` (streams by name, then
//! partitions in order; groups by name; what is left out is counted in
//! `memstream_metrics_series_omitted`), the log's histograms and the connections open per
//! listener. Built when scraped, from counters the data path keeps anyway: a scrape costs
//! a walk over the streams and groups, the data path nothing more.

use memstream_metrics::text::{family, histogram, labels, sample};

use crate::state::Shared;

/// The per-partition gauges and counters: (name, type, help, value).
type PartitionSeries = (&'static str, &'static str, &'static str, fn(&Row) -> u64);

struct Row {
    start: u64,
    end: u64,
    bytes: u64,
    traffic: memstream_log::TrafficTotals,
}

const PARTITION_SERIES: &[PartitionSeries] = &[
    ("memstream_partition_start_offset", "gauge", "A partition's first offset held.", |r| r.start),
    ("memstream_partition_end_offset", "gauge", "A partition's next offset (its end).", |r| r.end),
    ("memstream_partition_bytes", "gauge", "Bytes a partition holds, in RAM or on disk.", |r| r.bytes),
    ("memstream_partition_produced_records_total", "counter", "Records appended to a partition since the server started.", |r| r.traffic.records_in),
    ("memstream_partition_produced_bytes_total", "counter", "Bytes of batches appended to a partition since the server started.", |r| r.traffic.bytes_in),
    ("memstream_partition_consumed_records_total", "counter", "Records served from a partition (fetches and pushes, both protocols) since the server started.", |r| r.traffic.records_out),
    ("memstream_partition_consumed_bytes_total", "counter", "Bytes of batches served from a partition since the server started.", |r| r.traffic.bytes_out),
];

/// Appends the labelled series to `out`.
pub(crate) fn render(shared: &Shared, out: &mut String) {
    let cfg = shared.config.load();
    let streams = &shared.engine.streams;
    let mut rows: Vec<(String, u32, Row)> = Vec::new();
    let mut omitted_partitions = 0u64;
    let max_partitions = cfg.admin.metrics_max_partitions as usize;
    for summary in streams.list() {
        let Ok(stream) = streams.get(&summary.name) else {
            continue;
        };
        for (p, partition) in stream.partitions().iter().enumerate() {
            if rows.len() >= max_partitions {
                omitted_partitions += 1;
                continue;
            }
            let log = &partition.log;
            rows.push((
                summary.name.clone(),
                u32::try_from(p).unwrap_or(u32::MAX),
                Row {
                    start: log.start_offset(),
                    end: log.end_offset(),
                    bytes: log.size_bytes(),
                    traffic: log.traffic(),
                },
            ));
        }
    }
    for (name, kind, help, value) in PARTITION_SERIES {
        family(out, name, kind, help);
        for (stream, partition, row) in &rows {
            let partition = partition.to_string();
            let l = labels(&[("stream", stream), ("partition", &partition)]);
            sample(out, name, &l, value(row));
        }
    }

    let groups = &shared.engine.groups;
    let max_groups = cfg.admin.metrics_max_groups as usize;
    let summaries = groups.list_summaries();
    let omitted_groups = summaries.len().saturating_sub(max_groups) as u64;
    let mut lag = String::new();
    let mut members = String::new();
    for g in summaries.into_iter().take(max_groups) {
        let Ok(info) = groups.describe(&g.group, streams) else {
            continue;
        };
        let l = labels(&[("group", &g.group)]);
        sample(
            &mut lag,
            "memstream_group_lag",
            &l,
            info.partitions.iter().map(|p| p.lag).sum::<u64>(),
        );
        sample(
            &mut members,
            "memstream_group_members",
            &l,
            info.members.len(),
        );
    }
    family(out, "memstream_group_lag", "gauge", "Records a group has yet to consume: end offsets less committed offsets, over its committed partitions.");
    out.push_str(&lag);
    family(
        out,
        "memstream_group_members",
        "gauge",
        "Members of a group now.",
    );
    out.push_str(&members);

    family(out, "memstream_metrics_series_omitted", "gauge", "Partitions and groups left out of the labelled series by admin.metrics_max_partitions and admin.metrics_max_groups.");
    sample(
        out,
        "memstream_metrics_series_omitted",
        &labels(&[("kind", "partition")]),
        omitted_partitions,
    );
    sample(
        out,
        "memstream_metrics_series_omitted",
        &labels(&[("kind", "group")]),
        omitted_groups,
    );

    family(
        out,
        "memstream_listener_connections",
        "gauge",
        "Connections open now, by listener.",
    );
    let open = [
        ("native", shared.metrics.connections_active()),
        ("kafka", shared.kafka_metrics.connections_open()),
        ("admin", shared.metrics.admin_connections()),
    ];
    for (listener, count) in open {
        sample(
            out,
            "memstream_listener_connections",
            &labels(&[("listener", listener)]),
            count,
        );
    }

    use memstream_log::metrics::{APPEND_BATCH_BYTES, APPEND_BATCH_RECORDS, FSYNC_LATENCY_US};
    family(out, "memstream_log_fsync_duration_seconds", "histogram", "Time of each fsync of a disk partition (group commit: one fsync makes many batches durable).");
    histogram(
        out,
        "memstream_log_fsync_duration_seconds",
        &[],
        &FSYNC_LATENCY_US.snapshot(),
        1e6,
    );
    family(
        out,
        "memstream_log_append_batch_bytes",
        "histogram",
        "Bytes of each batch appended, every protocol.",
    );
    histogram(
        out,
        "memstream_log_append_batch_bytes",
        &[],
        &APPEND_BATCH_BYTES.snapshot(),
        1.0,
    );
    family(
        out,
        "memstream_log_append_batch_records",
        "histogram",
        "Records in each batch appended, every protocol.",
    );
    histogram(
        out,
        "memstream_log_append_batch_records",
        &[],
        &APPEND_BATCH_RECORDS.snapshot(),
        1.0,
    );
}
