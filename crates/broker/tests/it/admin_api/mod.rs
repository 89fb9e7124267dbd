//! The admin REST API (`/api/v1`) over real TCP: node, streams and groups as a client sees
//! them, the JSON error shape with its stable codes, HEAD, 404/405/413, and with security on
//! the same ACLs as every listener (401 without credentials, 403 naming what was needed,
//! lists filtered to what the caller may see).

mod config;
mod connections;
mod console;
mod groups;
mod metrics;
mod metrics_doc;
mod security;
mod streams;

use std::sync::Arc;

use memstream_client::{
    Client, Commit, GroupConsumer, GroupEvent, GroupOptions, Partitioner, Producer,
    ProducerOptions, Record,
};
use serde_json::Value;

use crate::common::{http, TestServer, WAIT};

/// `count` records into `stream`, acknowledged.
pub(crate) async fn produce(
    client: &Arc<Client>,
    stream: &str,
    partitioner: Partitioner,
    count: u8,
) {
    let options = ProducerOptions {
        partitioner,
        ..ProducerOptions::default()
    };
    let producer = Producer::new(client.clone(), stream, options)
        .await
        .unwrap();
    let mut receipts = Vec::new();
    for i in 0..count {
        receipts.push(producer.send(Record::value(vec![i])).await);
    }
    for r in receipts {
        r.await.unwrap();
    }
}

/// A member of `group` on `stream` that has read `records` records and committed them
/// (manual commits), still in the group.
pub(crate) async fn member_that_committed(
    client: &Arc<Client>,
    group: &str,
    stream: &str,
    records: usize,
) -> GroupConsumer {
    let options = GroupOptions {
        commit: Commit::Manual,
        ..GroupOptions::default()
    };
    let mut member = GroupConsumer::join(client.clone(), group, &[stream], options)
        .await
        .unwrap();
    let mut read = 0;
    while read < records {
        let event = tokio::time::timeout(WAIT, member.next()).await.unwrap();
        if let Some(Ok(GroupEvent::Record(_))) = event {
            read += 1;
        }
    }
    member.commit().await.unwrap();
    member
}

pub(crate) fn json(body: &str) -> Value {
    serde_json::from_str(body).unwrap_or_else(|e| panic!("not JSON ({e}): {body}"))
}

#[tokio::test]
async fn bad_requests_get_json_errors_with_stable_codes() {
    let server = TestServer::start(|c| c.admin.max_request_body_bytes = 1024).await;
    let api = server.admin;
    let cases: &[(&str, &str, Option<&str>, u16, &str)] = &[
        ("GET", "/api/v1/nothing", None, 404, "NOT_FOUND"),
        ("GET", "/index.html", None, 404, "NOT_FOUND"),
        ("POST", "/streams", None, 405, "METHOD_NOT_ALLOWED"),
        ("PUT", "/api/v1/streams", None, 405, "METHOD_NOT_ALLOWED"),
        (
            "POST",
            "/api/v1/streams",
            Some("{not json"),
            400,
            "INVALID_ARGUMENT",
        ),
        (
            "POST",
            "/api/v1/streams",
            Some(r#"{"name":"x","colour":1}"#),
            400,
            "INVALID_ARGUMENT",
        ),
        (
            "POST",
            "/api/v1/streams",
            Some(r#"{"name":"bad name!"}"#),
            400,
            "INVALID_STREAM_NAME",
        ),
        (
            "PATCH",
            "/api/v1/streams/x",
            Some("{}"),
            400,
            "INVALID_ARGUMENT",
        ),
        (
            "DELETE",
            "/api/v1/groups/none",
            None,
            404,
            "GROUP_NOT_FOUND",
        ),
    ];
    for (method, path, body, status, code) in cases {
        let (got, head, answer) = http(api, method, path, &[], *body).await;
        assert_eq!(got, *status, "{method} {path}: {head}\n{answer}");
        let error = json(&answer);
        assert_eq!(error["code"], *code, "{method} {path}: {answer}");
        assert!(error["message"].as_str().is_some_and(|m| !m.is_empty()));
        assert!(head.contains("content-type: application/json"), "{head}");
    }
    // Over admin.max_request_body_bytes: 413, and the server goes on.
    let big = format!(r#"{{"name":"{}"}}"#, "a".repeat(2000));
    let (status, _, body) = http(api, "POST", "/api/v1/streams", &[], Some(&big)).await;
    assert_eq!(
        (status, json(&body)["code"].clone()),
        (413, "PAYLOAD_TOO_LARGE".into())
    );
    let (status, _, body) = http(api, "GET", "/api/v1/node", &[], None).await;
    assert_eq!(status, 200);
    let node = json(&body);
    assert_eq!(node["name"], "memstream");
    assert_eq!(
        node["listeners"]["native"]["address"],
        server.addr.to_string()
    );
    assert_eq!(node["listeners"]["admin"]["tls"], false);
    assert_eq!(node["security"], false);
    server.stop().await;
}

/// The `paths` of `docs/api/openapi.yaml`: (method, path) for each operation.
fn documented_routes() -> Vec<(String, String)> {
    let doc = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../docs/api/openapi.yaml"
    ))
    .expect("docs/api/openapi.yaml");
    let mut routes = Vec::new();
    let mut in_paths = false;
    let mut path = String::new();
    for line in doc.lines() {
        if !line.starts_with(' ') {
            in_paths = line == "paths:";
            continue;
        }
        if !in_paths {
            continue;
        }
        // Two spaces: a path; four: an operation (or `parameters`) under it.
        if let Some(p) = line.strip_prefix("  ").filter(|l| !l.starts_with(' ')) {
            path = p.trim_end_matches(':').to_owned();
        } else if let Some(op) = line.strip_prefix("    ").filter(|l| !l.starts_with(' ')) {
            let op = op.trim_end_matches(':');
            if ["get", "post", "put", "patch", "delete"].contains(&op) {
                routes.push((op.to_uppercase(), path.clone()));
            }
        }
    }
    routes
}

#[tokio::test]
async fn the_openapi_document_lists_exactly_the_routes_served() {
    let mut documented = documented_routes();
    let mut served: Vec<(String, String)> = memstream_broker::admin_routes()
        .iter()
        .map(|(m, p)| (m.to_string(), p.to_string()))
        .collect();
    documented.sort();
    served.sort();
    assert_eq!(
        documented, served,
        "docs/api/openapi.yaml against the router"
    );
    // And the router answers each (not the no-route 404, not 405).
    let server = TestServer::start(|_| {}).await;
    for (method, path) in &served {
        if path == "/api/v1/events" {
            // An endless event stream: console.rs reads it.
            continue;
        }
        let path = path
            .replace("{name}", "none")
            .replace("{partition}", "0")
            .replace("{id}", "0");
        let body = (method == "POST" || method == "PATCH").then_some("{}");
        let (status, _, answer) = http(server.admin, method, &path, &[], body).await;
        assert_ne!(status, 405, "{method} {path}: {answer}");
        if status == 404 {
            assert_ne!(
                json(&answer)["code"],
                "NOT_FOUND",
                "{method} {path} has no route"
            );
        }
    }
    server.stop().await;
}

/// Every answer carries a request id: the client's own when it is short printable ASCII
/// (a proxy's, to correlate logs), else one of the server's.
#[tokio::test]
async fn every_answer_carries_a_request_id() {
    let server = TestServer::start(|_| {}).await;
    let id_of = |head: &str| {
        head.lines()
            .find_map(|l| l.strip_prefix("x-request-id: "))
            .map(str::to_owned)
    };
    let (_, head, _) = http(server.admin, "GET", "/api/v1/node", &[], None).await;
    let first = id_of(&head).expect("an id");
    let (_, head, _) = http(server.admin, "GET", "/nope", &[], None).await;
    let second = id_of(&head).expect("an id on errors too");
    assert_ne!(first, second);
    let given = [("x-request-id", "lb-7f3a")];
    let (_, head, _) = http(server.admin, "GET", "/api/v1/node", &given, None).await;
    assert_eq!(id_of(&head).as_deref(), Some("lb-7f3a"));
    let long = "x".repeat(65);
    let (_, head, _) = http(
        server.admin,
        "GET",
        "/api/v1/node",
        &[("x-request-id", &long)],
        None,
    )
    .await;
    assert_ne!(id_of(&head).as_deref(), Some(long.as_str()));
    server.stop().await;
}
