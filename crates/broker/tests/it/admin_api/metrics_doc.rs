//! docs/metrics.md lists exactly the metric families `/metrics` exports, and the Grafana
//! dashboard (docs/grafana/memstream.json) queries only those.

use std::collections::BTreeSet;

use crate::common::{http, TestServer};

fn workspace_file(path: &str) -> String {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    std::fs::read_to_string(root.join(path)).unwrap_or_else(|e| panic!("{path}: {e}"))
}

/// Every `memstream_...` word in `text`.
fn metric_words(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut rest = text;
    while let Some(at) = rest.find("memstream_") {
        let word: String = rest[at..]
            .chars()
            .take_while(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || *c == '_')
            .collect();
        rest = &rest[at + word.len()..];
        out.push(word);
    }
    out
}

#[tokio::test]
async fn the_metrics_doc_and_the_dashboard_match_what_is_exported() {
    let server = TestServer::start(|_| {}).await;
    let (status, _, text) = http(server.admin, "GET", "/metrics", &[], None).await;
    assert_eq!(status, 200);
    let exported: BTreeSet<String> = text
        .lines()
        .filter_map(|l| l.strip_prefix("# TYPE "))
        .filter_map(|l| l.split(' ').next())
        .map(str::to_owned)
        .collect();
    let doc = workspace_file("docs/metrics.md");
    let documented: BTreeSet<String> = doc
        .lines()
        .filter_map(|l| l.strip_prefix("| `"))
        .filter_map(|l| l.split('`').next())
        .filter(|name| name.starts_with("memstream_"))
        .map(str::to_owned)
        .collect();
    assert_eq!(
        documented.difference(&exported).collect::<Vec<_>>(),
        Vec::<&String>::new(),
        "documented in docs/metrics.md but not exported"
    );
    assert_eq!(
        exported.difference(&documented).collect::<Vec<_>>(),
        Vec::<&String>::new(),
        "exported but not in docs/metrics.md"
    );
    let dashboard = workspace_file("docs/grafana/memstream.json");
    let parsed: serde_json::Value =
        serde_json::from_str(&dashboard).expect("the dashboard is JSON");
    assert!(parsed["panels"].as_array().is_some_and(|p| p.len() >= 10));
    for word in metric_words(&dashboard) {
        let family = ["_bucket", "_sum", "_count"]
            .iter()
            .find_map(|s| word.strip_suffix(s).filter(|b| exported.contains(*b)))
            .unwrap_or(&word);
        assert!(
            exported.contains(family),
            "the dashboard queries {word}, which /metrics does not export"
        );
    }
    server.stop().await;
}
