//! Connections through the admin API: native and Kafka ones listed with what they did, and
//! closed on request.

use tokio::io::{AsyncReadExt, AsyncWriteExt};

use super::json;
use crate::common::{http, TestServer, WAIT};

/// The connection of `protocol` in the list, if open.
async fn find(api: std::net::SocketAddr, protocol: &str) -> Option<serde_json::Value> {
    let (_, _, body) = http(api, "GET", "/api/v1/connections", &[], None).await;
    json(&body)["connections"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["protocol"] == protocol)
        .cloned()
}

/// Waits (bounded) until `protocol` has no open connection.
async fn gone(api: std::net::SocketAddr, protocol: &str) {
    tokio::time::timeout(WAIT, async {
        while find(api, protocol).await.is_some() {
            tokio::task::yield_now().await;
        }
    })
    .await
    .unwrap_or_else(|_| panic!("the {protocol} connection stays listed"));
}

#[tokio::test]
async fn native_and_kafka_connections_are_listed_and_closed_on_request() {
    let server = TestServer::start(|_| {}).await;
    let api = server.admin;
    let client = memstream_client::Client::connect_with(
        server.addr,
        memstream_client::ClientOptions {
            client_name: "billing-worker".into(),
            ..memstream_client::ClientOptions::default()
        },
    )
    .await
    .unwrap();
    client.admin().list_streams().await.unwrap();
    let native = find(api, "native")
        .await
        .expect("the native client is listed");
    assert_eq!(native["client"], "billing-worker");
    assert_eq!(native["principal"], "User:ANONYMOUS");
    assert!(native["requests"].as_u64().unwrap() >= 2, "{native}");
    assert!(native["bytes_in"].as_u64().unwrap() > 0 && native["bytes_out"].as_u64().unwrap() > 0);
    assert_eq!(
        native["peer"].as_str().unwrap().split(':').next(),
        Some("127.0.0.1")
    );

    // A Kafka client: ApiVersions v0 with client.id "probe".
    let (_, _, body) = http(api, "GET", "/api/v1/node", &[], None).await;
    let kafka_addr = json(&body)["listeners"]["kafka"]["address"]
        .as_str()
        .expect("a Kafka listener")
        .to_owned();
    let mut kafka = tokio::net::TcpStream::connect(&kafka_addr).await.unwrap();
    let mut request = vec![0, 18, 0, 0, 0, 0, 0, 1, 0, 5];
    request.extend_from_slice(b"probe");
    let mut framed = (request.len() as u32).to_be_bytes().to_vec();
    framed.extend(request);
    kafka.write_all(&framed).await.unwrap();
    let mut size = [0u8; 4];
    kafka.read_exact(&mut size).await.unwrap();
    let mut answer = vec![0u8; u32::from_be_bytes(size) as usize];
    kafka.read_exact(&mut answer).await.unwrap();
    let listed = find(api, "kafka")
        .await
        .expect("the Kafka client is listed");
    assert_eq!(
        (listed["client"].clone(), listed["requests"].clone()),
        ("probe".into(), 1.into())
    );

    // Closed on request: the native client is told GOODBYE, the Kafka socket reaches EOF.
    for conn in [&native, &listed] {
        let path = format!("/api/v1/connections/{}", conn["id"]);
        let (status, _, body) = http(api, "DELETE", &path, &[], None).await;
        assert_eq!(status, 202, "{body}");
    }
    let mut rest = Vec::new();
    let eof = tokio::time::timeout(WAIT, kafka.read_to_end(&mut rest)).await;
    assert!(eof.is_ok(), "the Kafka connection is closed");
    gone(api, "native").await;
    gone(api, "kafka").await;
    let (status, _, body) = http(api, "DELETE", "/api/v1/connections/999999", &[], None).await;
    assert_eq!(
        (status, json(&body)["code"].clone()),
        (404, "CONNECTION_NOT_FOUND".into())
    );
    server.stop().await;
}
