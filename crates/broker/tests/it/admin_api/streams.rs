//! Streams and their records through the admin API.

use std::sync::Arc;
use std::time::Duration;

use memstream_client::{Client, Partitioner, Producer, ProducerOptions, Record};
use memstream_protocol::message::{OffsetSpec, StreamSettings};

use super::{json, produce};
use crate::common::{http, TestServer};

#[tokio::test]
async fn streams_through_the_api_create_describe_change_and_delete() {
    let server = TestServer::start(|_| {}).await;
    let api = server.admin;
    let (status, _, body) = http(api, "GET", "/api/v1/streams", &[], None).await;
    assert_eq!(
        (status, json(&body)),
        (200, serde_json::json!({"streams": []}))
    );

    let create =
        r#"{"name":"orders","partitions":2,"settings":{"storage":"memory","retention_ms":60000}}"#;
    let (status, _, body) = http(api, "POST", "/api/v1/streams", &[], Some(create)).await;
    assert_eq!(status, 201, "{body}");
    let created = json(&body);
    assert_eq!(created["name"], "orders");
    assert_eq!(created["partitions"].as_array().unwrap().len(), 2);
    assert_eq!(created["settings"]["retention_ms"], 60000);
    let (status, _, body) = http(api, "POST", "/api/v1/streams", &[], Some(create)).await;
    assert_eq!(
        (status, json(&body)["code"].clone()),
        (409, "STREAM_ALREADY_EXISTS".into())
    );

    // Records produced natively show in the list and the description.
    let client = Arc::new(Client::connect(server.addr).await.unwrap());
    produce(&client, "orders", Partitioner::Explicit(1), 3).await;
    let (_, _, body) = http(api, "GET", "/api/v1/streams", &[], None).await;
    let listed = json(&body)["streams"][0].clone();
    assert_eq!(
        (listed["name"].clone(), listed["records"].clone()),
        ("orders".into(), 3.into())
    );
    assert_eq!(listed["storage"], "memory");
    // What went in and out: produced counted at append, consumed when served.
    assert_eq!(
        (
            listed["produced_records"].clone(),
            listed["consumed_records"].clone()
        ),
        (3.into(), 0.into())
    );
    assert!(listed["produced_bytes"].as_u64().unwrap() > 0, "{listed}");
    let fetched = client
        .fetch("orders", 1, OffsetSpec::Earliest, 1 << 20, Duration::ZERO)
        .await
        .unwrap();
    assert_eq!(fetched.records.len(), 3);
    let (_, _, body) = http(api, "GET", "/api/v1/streams", &[], None).await;
    let listed = json(&body)["streams"][0].clone();
    assert_eq!(listed["consumed_records"], 3, "{listed}");
    assert_eq!(
        listed["consumed_bytes"], listed["produced_bytes"],
        "{listed}"
    );
    assert!(listed["produce_records_per_sec"].is_number(), "{listed}");
    let (status, _, body) = http(api, "GET", "/api/v1/streams/orders", &[], None).await;
    assert_eq!(status, 200);
    let p1 = json(&body)["partitions"][1].clone();
    assert_eq!(
        (p1["start_offset"].clone(), p1["end_offset"].clone()),
        (0.into(), 3.into())
    );
    assert!(p1["segments"].as_u64().unwrap() >= 1, "{p1}");
    assert_eq!(p1["replicas"], serde_json::json!([p1["leader"]]), "{p1}");

    // HEAD where GET works: the same status, no body.
    let (status, head, body) = http(api, "HEAD", "/api/v1/streams/orders", &[], None).await;
    assert_eq!((status, body.as_str()), (200, ""), "{head}");

    // Live settings: a value, then null for the default again.
    let (status, _, body) = http(
        api,
        "PATCH",
        "/api/v1/streams/orders",
        &[],
        Some(r#"{"retention_ms":1000}"#),
    )
    .await;
    assert_eq!(
        (status, json(&body)["settings"]["retention_ms"].clone()),
        (200, 1000.into())
    );
    let (_, _, body) = http(
        api,
        "PATCH",
        "/api/v1/streams/orders",
        &[],
        Some(r#"{"retention_ms":null}"#),
    )
    .await;
    let default = memstream_broker::config::Config::default()
        .streams
        .retention_ms;
    assert_eq!(
        json(&body)["settings"]["retention_ms"],
        default,
        "the [streams] default"
    );
    let (status, _, body) = http(
        api,
        "PATCH",
        "/api/v1/streams/orders",
        &[],
        Some(r#"{"storage":"disk"}"#),
    )
    .await;
    assert_eq!(
        (status, json(&body)["code"].clone()),
        (400, "INVALID_ARGUMENT".into())
    );

    let (status, _, _) = http(api, "DELETE", "/api/v1/streams/orders", &[], None).await;
    assert_eq!(status, 204);
    let (status, _, body) = http(api, "GET", "/api/v1/streams/orders", &[], None).await;
    let error = json(&body);
    assert_eq!(
        (status, error["code"].clone()),
        (404, "STREAM_NOT_FOUND".into())
    );
    assert!(
        error["message"].as_str().unwrap().contains("orders"),
        "{error}"
    );
    server.stop().await;
}

#[tokio::test]
async fn the_message_browser_reads_pages_by_offset_time_and_filter_and_produces() {
    let server = TestServer::start(|c| c.admin.max_page_records = 3).await;
    let api = server.admin;
    let client = Arc::new(Client::connect(server.addr).await.unwrap());
    client
        .admin()
        .create_stream("events", 2, StreamSettings::default())
        .await
        .unwrap();
    let records = "/api/v1/streams/events/partitions/1/records";
    let bodies = [
        r#"{"key":"user-1","value":{"kind":"signup","id":1},"headers":{"source":"web"}}"#,
        r#"{"key":"user-2","value":"plain text"}"#,
        r#"{"value":"third"}"#,
        r#"{"key":"user-1","value":{"kind":"login","id":1}}"#,
    ];
    for (i, body) in bodies.iter().enumerate() {
        let (status, _, answer) = http(api, "POST", records, &[], Some(body)).await;
        assert_eq!(status, 201, "{answer}");
        assert_eq!(json(&answer)["offset"], i);
    }
    // Also bytes that are not UTF-8, produced natively.
    let options = ProducerOptions {
        partitioner: Partitioner::Explicit(1),
        ..ProducerOptions::default()
    };
    let producer = Producer::new(client.clone(), "events", options)
        .await
        .unwrap();
    producer
        .send(Record::value(vec![0xff, 0x00, 0x10]).with_key("bin"))
        .await
        .await
        .unwrap();

    // From offset 0: the limit is cut to admin.max_page_records (3).
    let (status, _, body) = http(
        api,
        "GET",
        &format!("{records}?offset=0&limit=10"),
        &[],
        None,
    )
    .await;
    assert_eq!(status, 200, "{body}");
    let page = json(&body);
    assert_eq!(
        (page["start_offset"].clone(), page["end_offset"].clone()),
        (0.into(), 5.into())
    );
    let got = page["records"].as_array().unwrap();
    assert_eq!(got.len(), 3);
    assert_eq!(got[0]["key"]["data"], "user-1");
    assert_eq!(got[0]["value"]["encoding"], "json");
    assert_eq!(got[0]["value"]["data"]["kind"], "signup");
    assert_eq!(got[0]["headers"][0]["name"], "source");
    assert_eq!(got[0]["headers"][0]["value"]["data"], "web");
    assert_eq!(
        got[1]["value"],
        serde_json::json!({"encoding": "utf8", "data": "plain text", "size": 10})
    );
    assert!(got[2]["key"].is_null());
    assert!(got[0]["timestamp"].as_str().unwrap().ends_with('Z'));
    assert_eq!(page["next_offset"], 3);

    // The next page; without an offset, the latest.
    let (_, _, body) = http(api, "GET", &format!("{records}?offset=3"), &[], None).await;
    let page = json(&body);
    let offsets: Vec<u64> = page["records"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["offset"].as_u64().unwrap())
        .collect();
    assert_eq!(offsets, [3, 4]);
    assert_eq!(
        page["records"][1]["value"],
        serde_json::json!({"encoding": "hex", "data": "ff0010", "size": 3})
    );
    let (_, _, body) = http(api, "GET", &format!("{records}?limit=2"), &[], None).await;
    assert_eq!(json(&body)["from_offset"], 3);

    // Filters on key and value; hex on request.
    let (_, _, body) = http(
        api,
        "GET",
        &format!("{records}?offset=0&key=user-1"),
        &[],
        None,
    )
    .await;
    let page = json(&body);
    let offsets: Vec<u64> = page["records"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["offset"].as_u64().unwrap())
        .collect();
    assert_eq!(offsets, [0, 3]);
    let (_, _, body) = http(
        api,
        "GET",
        &format!("{records}?offset=0&value=login&format=hex"),
        &[],
        None,
    )
    .await;
    let page = json(&body);
    assert_eq!(page["records"].as_array().unwrap().len(), 1);
    assert_eq!(page["records"][0]["key"]["encoding"], "hex");

    // By time: every record is at or after a time in the past, none after one in the future.
    let (_, _, body) = http(
        api,
        "GET",
        &format!("{records}?time=2000-01-01T00:00:00Z"),
        &[],
        None,
    )
    .await;
    assert_eq!(json(&body)["from_offset"], 0);
    let (_, _, body) = http(
        api,
        "GET",
        &format!("{records}?time=2999-01-01T00:00:00Z"),
        &[],
        None,
    )
    .await;
    assert_eq!(json(&body)["records"].as_array().unwrap().len(), 0);

    // Bad parameters name themselves; a missing partition is 404.
    for (query, name) in [
        ("?time=yesterday", "time"),
        ("?offset=x", "offset"),
        ("?offset=1&time=2000-01-01T00:00:00Z", "time"),
        ("?colour=red", "colour"),
    ] {
        let (status, _, body) = http(api, "GET", &format!("{records}{query}"), &[], None).await;
        let error = json(&body);
        assert_eq!(
            (status, error["code"].clone()),
            (400, "INVALID_ARGUMENT".into()),
            "{query}"
        );
        assert!(
            error["message"].as_str().unwrap().contains(name),
            "{query}: {error}"
        );
    }
    let (status, _, body) = http(
        api,
        "GET",
        "/api/v1/streams/events/partitions/7/records",
        &[],
        None,
    )
    .await;
    assert_eq!(
        (status, json(&body)["code"].clone()),
        (404, "PARTITION_NOT_FOUND".into())
    );
    let (status, _, _) = http(
        api,
        "GET",
        "/api/v1/streams/events/partitions/one/records",
        &[],
        None,
    )
    .await;
    assert_eq!(status, 400);
    server.stop().await;
}

#[tokio::test]
async fn a_page_reads_at_most_admin_max_page_bytes() {
    let server = TestServer::start(|c| c.admin.max_page_bytes = 64 << 10).await;
    let api = server.admin;
    let client = Client::connect(server.addr).await.unwrap();
    client
        .admin()
        .create_stream("big", 1, StreamSettings::default())
        .await
        .unwrap();
    let records = "/api/v1/streams/big/partitions/0/records";
    let body = format!(r#"{{"value":"{}"}}"#, "v".repeat(30_000));
    for _ in 0..10 {
        let (status, _, answer) = http(api, "POST", records, &[], Some(&body)).await;
        assert_eq!(status, 201, "{answer}");
    }
    let (_, _, answer) = http(
        api,
        "GET",
        &format!("{records}?offset=0&limit=10"),
        &[],
        None,
    )
    .await;
    let page = json(&answer);
    let got = page["records"].as_array().unwrap().len();
    // Two 30 KB batches fit 64 KiB, a third does not.
    assert!((1..=3).contains(&got), "{got} records in one page");
    assert_eq!(page["next_offset"], got);
    server.stop().await;
}
