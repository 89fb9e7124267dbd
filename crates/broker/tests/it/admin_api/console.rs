//! The web console's files and the live view (`/api/v1/events`) over real TCP. The console
//! itself is tested in a real browser by `crates/cli/tests/it/console.rs`.

use std::sync::Arc;
use std::time::Duration;

use memstream_client::{Client, Partitioner};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use super::{json, produce};
use crate::common::{http, TestServer, WAIT};

fn header<'a>(head: &'a str, name: &str) -> Option<&'a str> {
    head.lines().find_map(|line| {
        let (n, v) = line.split_once(':')?;
        n.eq_ignore_ascii_case(name).then(|| v.trim())
    })
}

#[tokio::test]
async fn every_console_route_serves_the_app_with_a_strict_policy() {
    let server = TestServer::start(|_| {}).await;
    let api = server.admin;
    let (_, _, index) = http(api, "GET", "/", &[], None).await;
    assert!(index.contains("/console/app.js"), "{index}");
    for page in [
        "/",
        "/streams",
        "/streams/orders",
        "/groups",
        "/groups/billing",
        "/connections",
        "/config",
    ] {
        let (status, head, body) = http(api, "GET", page, &[], None).await;
        assert_eq!(status, 200, "{page}: {head}");
        assert_eq!(body, index, "{page} serves the app");
        assert_eq!(
            header(&head, "content-type"),
            Some("text/html; charset=utf-8")
        );
        let csp = header(&head, "content-security-policy").unwrap_or_default();
        assert!(csp.contains("script-src 'self'"), "{page}: {csp}");
        assert!(!csp.contains("unsafe-inline"), "{page}: {csp}");
    }
    // The files the app loads, each with an ETag that answers 304.
    for (file, kind) in [
        ("/console/app.js", "text/javascript"),
        ("/console/ui.js", "text/javascript"),
        ("/console/pages.js", "text/javascript"),
        ("/console/browser.js", "text/javascript"),
        ("/console/app.css", "text/css"),
    ] {
        let (status, head, body) = http(api, "GET", file, &[], None).await;
        assert_eq!(status, 200, "{file}");
        assert!(
            header(&head, "content-type").is_some_and(|t| t.starts_with(kind)),
            "{file}: {head}"
        );
        assert!(!body.is_empty());
        let tag = header(&head, "etag").expect("an etag").to_owned();
        let (status, _, body) = http(api, "GET", file, &[("if-none-match", &tag)], None).await;
        assert_eq!((status, body.as_str()), (304, ""), "{file}");
    }
    // Not the app: paths it has no page for, and files that are not there.
    for path in ["/streams/a/b", "/console/nope.js", "/nope"] {
        let (status, _, body) = http(api, "GET", path, &[], None).await;
        assert_eq!(
            (status, json(&body)["code"].clone()),
            (404, "NOT_FOUND".into()),
            "{path}"
        );
    }
}

/// Reads Server-Sent Events from `stream` until `done` accepts a snapshot's JSON.
async fn until_snapshot(
    stream: &mut TcpStream,
    buffer: &mut Vec<u8>,
    mut done: impl FnMut(&serde_json::Value) -> bool,
) -> serde_json::Value {
    tokio::time::timeout(WAIT, async {
        loop {
            let text = String::from_utf8_lossy(buffer).into_owned();
            let mut consumed = 0;
            for event in text.split_inclusive("\n\n").filter(|e| e.ends_with("\n\n")) {
                consumed += event.len();
                if let Some(data) = event.lines().find_map(|l| l.strip_prefix("data: ")) {
                    let snapshot: serde_json::Value = serde_json::from_str(data).unwrap();
                    if done(&snapshot) {
                        return snapshot;
                    }
                }
            }
            buffer.drain(..consumed);
            let mut chunk = [0u8; 4096];
            let n = stream.read(&mut chunk).await.unwrap();
            assert_ne!(n, 0, "the event stream ended");
            buffer.extend_from_slice(&chunk[..n]);
        }
    })
    .await
    .expect("a snapshot within the wait")
}

#[tokio::test]
async fn the_live_view_streams_snapshots_that_follow_the_data() {
    let server = TestServer::start(|c| c.admin.events_interval_ms = 100).await;
    let client = Arc::new(Client::connect(server.addr).await.unwrap());
    client
        .admin()
        .create_stream("orders", 2, Default::default())
        .await
        .unwrap();
    let mut stream = TcpStream::connect(server.admin).await.unwrap();
    stream
        .write_all(b"GET /api/v1/events HTTP/1.1\r\nhost: x\r\n\r\n")
        .await
        .unwrap();
    let mut buffer = Vec::new();
    // The head, then events (chunked: the sizes are between them, not in them).
    let head = tokio::time::timeout(WAIT, async {
        loop {
            let mut chunk = [0u8; 4096];
            let n = stream.read(&mut chunk).await.unwrap();
            assert_ne!(n, 0);
            buffer.extend_from_slice(&chunk[..n]);
            let text = String::from_utf8_lossy(&buffer).into_owned();
            if let Some((head, rest)) = text.split_once("\r\n\r\n") {
                let (head, rest) = (head.to_owned(), rest.as_bytes().to_vec());
                buffer = rest;
                return head;
            }
        }
    })
    .await
    .unwrap();
    assert!(head.starts_with("HTTP/1.1 200"), "{head}");
    assert_eq!(header(&head, "content-type"), Some("text/event-stream"));
    let first = until_snapshot(&mut stream, &mut buffer, |_| true).await;
    assert_eq!(first["streams"][0]["name"], "orders", "{first}");
    assert_eq!(first["streams"][0]["records"], 0);
    // Records produced show in a later snapshot, with the node's totals.
    produce(&client, "orders", Partitioner::Explicit(0), 4).await;
    let later = until_snapshot(&mut stream, &mut buffer, |s| s["records"] == 4).await;
    assert_eq!(later["streams"][0]["produced_records"], 4, "{later}");
    assert!(
        later["connections"]["native"].as_u64().unwrap() >= 1,
        "{later}"
    );
    assert!(later["uptime_ms"].is_u64());
    // The stream ends at shutdown.
    server.handle.shutdown();
    let ended = tokio::time::timeout(WAIT, async {
        let mut chunk = [0u8; 4096];
        loop {
            match stream.read(&mut chunk).await {
                Ok(0) | Err(_) => return,
                Ok(_) => tokio::time::sleep(Duration::ZERO).await,
            }
        }
    })
    .await;
    assert!(ended.is_ok(), "the event stream ends at shutdown");
}

/// With security on, the console's own requests (`X-Requested-With`) get their 401 without
/// the challenge that would open the browser's login dialog; others get it. The live view
/// needs credentials like the rest of the API.
#[tokio::test]
async fn with_security_on_the_console_gets_a_quiet_401_and_the_live_view_needs_a_login() {
    let secure = crate::security::secure().await;
    let api = secure.server.admin;
    let (status, _, body) = http(api, "GET", "/streams", &[], None).await;
    assert_eq!(status, 200, "the app itself is open: {body}");
    let (status, head, _) = http(api, "GET", "/api/v1/events", &[], None).await;
    assert_eq!(status, 401);
    assert!(header(&head, "www-authenticate").is_some(), "{head}");
    let scripted = [("x-requested-with", "memstream-console")];
    let (status, head, body) = http(api, "GET", "/api/v1/streams", &scripted, None).await;
    assert_eq!(
        (status, json(&body)["code"].clone()),
        (401, "AUTHENTICATION_REQUIRED".into())
    );
    assert_eq!(header(&head, "www-authenticate"), None, "{head}");
    // With the token: the event stream opens (its head is enough here).
    let mut stream = TcpStream::connect(api).await.unwrap();
    let request = format!(
        "GET /api/v1/events HTTP/1.1\r\nhost: x\r\nauthorization: Bearer {}\r\n\r\n",
        secure.token
    );
    stream.write_all(request.as_bytes()).await.unwrap();
    let mut buffer = Vec::new();
    let _ = until_snapshot_after_head(&mut stream, &mut buffer).await;
}

async fn until_snapshot_after_head(stream: &mut TcpStream, buffer: &mut Vec<u8>) -> String {
    tokio::time::timeout(WAIT, async {
        loop {
            let mut chunk = [0u8; 4096];
            let n = stream.read(&mut chunk).await.unwrap();
            assert_ne!(n, 0, "closed before the first event");
            buffer.extend_from_slice(&chunk[..n]);
            let text = String::from_utf8_lossy(buffer).into_owned();
            if text.contains("event: snapshot") {
                assert!(text.starts_with("HTTP/1.1 200"), "{text}");
                return text;
            }
        }
    })
    .await
    .expect("the first event within the wait")
}
