//! `GET /metrics`: the labelled series (per partition, per group), their bound, request
//! histograms per API, the log's histograms and connections per listener, as a Prometheus
//! scraper reads them.

use std::sync::Arc;

use memstream_client::{Client, Partitioner};
use memstream_protocol::message::StreamSettings;

use super::{member_that_committed, produce};
use crate::common::{http, TestServer};

/// The value of the sample `series` (name and labels exactly as rendered).
fn value(text: &str, series: &str) -> Option<f64> {
    text.lines()
        .find_map(|l| l.strip_prefix(series)?.strip_prefix(' '))
        .and_then(|v| v.parse().ok())
}

#[tokio::test]
async fn metrics_label_partitions_and_groups_within_their_bounds() {
    let server = TestServer::start(|c| c.admin.metrics_max_partitions = 3).await;
    let client = Arc::new(Client::connect(server.addr).await.unwrap());
    let admin = client.admin();
    admin
        .create_stream("a.jobs", 2, StreamSettings::default())
        .await
        .unwrap();
    admin
        .create_stream("b.logs", 2, StreamSettings::default())
        .await
        .unwrap();
    produce(&client, "a.jobs", Partitioner::Explicit(1), 5).await;
    let member = member_that_committed(&client, "workers", "a.jobs", 2).await;

    let (status, _, text) = http(server.admin, "GET", "/metrics", &[], None).await;
    assert_eq!(status, 200);
    let p = |name: &str, stream: &str, partition: u32| {
        value(
            &text,
            &format!("{name}{{stream=\"{stream}\",partition=\"{partition}\"}}"),
        )
    };
    assert_eq!(p("memstream_partition_end_offset", "a.jobs", 1), Some(5.0));
    assert_eq!(
        p("memstream_partition_produced_records_total", "a.jobs", 1),
        Some(5.0)
    );
    assert!(p("memstream_partition_consumed_records_total", "a.jobs", 1).unwrap() >= 2.0);
    assert!(p("memstream_partition_bytes", "a.jobs", 1).unwrap() > 0.0);
    // admin.metrics_max_partitions = 3: a.jobs's two and b.logs's first; the last is counted.
    assert_eq!(p("memstream_partition_end_offset", "b.logs", 0), Some(0.0));
    assert_eq!(
        p("memstream_partition_end_offset", "b.logs", 1),
        None,
        "{text}"
    );
    assert_eq!(
        value(
            &text,
            "memstream_metrics_series_omitted{kind=\"partition\"}"
        ),
        Some(1.0)
    );
    // The group's lag and members.
    assert_eq!(
        value(&text, "memstream_group_lag{group=\"workers\"}"),
        Some(3.0)
    );
    assert_eq!(
        value(&text, "memstream_group_members{group=\"workers\"}"),
        Some(1.0)
    );
    // Requests per API, with latency histograms; the log's batch histograms.
    assert!(value(&text, "memstream_requests_total{api=\"PRODUCE\"}").unwrap() >= 1.0);
    assert!(
        value(
            &text,
            "memstream_request_duration_seconds_bucket{api=\"PRODUCE\",le=\"+Inf\"}"
        )
        .unwrap()
            >= 1.0,
        "{text}"
    );
    assert!(value(&text, "memstream_log_append_batch_records_count").unwrap() >= 1.0);
    assert_eq!(
        value(&text, "memstream_listener_connections{listener=\"admin\"}"),
        Some(1.0),
        "this scrape's own connection"
    );
    assert!(value(&text, "memstream_listener_connections{listener=\"native\"}").unwrap() >= 1.0);
    // Every sample line is `name{labels} number`, under a # TYPE of its family.
    for line in text
        .lines()
        .filter(|l| !l.starts_with('#') && !l.is_empty())
    {
        let (_, number) = line.rsplit_once(' ').expect(line);
        assert!(number.parse::<f64>().is_ok(), "{line}");
    }
    drop(member);
    server.stop().await;
}
