//! The running configuration through the admin API: origins and reloads.

use serde_json::Value;

use super::json;
use crate::common::{http, TestServer};

#[tokio::test]
async fn the_config_shows_each_origin_and_reloads_through_the_api() {
    use memstream_broker::config::{self, ConfigHandle, ConfigSources};
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("memstream.toml");
    std::fs::write(&path, "[streams]\nretention_ms = 1000\n").unwrap();
    let data = dir.path().join("data");
    let flag = |key: &str, value: String, flag: &str| config::Override {
        key: key.into(),
        value,
        flag: flag.into(),
    };
    let sources = ConfigSources {
        file: Some(path.clone()),
        env: vec![("MEMSTREAM_NETWORK__MAX_CONNECTIONS".into(), "77".into())],
        overrides: vec![
            flag("server.listen", "127.0.0.1:0".into(), "--listen"),
            flag("admin.listen", "127.0.0.1:0".into(), "--admin-listen"),
            flag("kafka.enabled", "false".into(), "--kafka-enabled"),
            flag("server.data_dir", data.display().to_string(), "--data-dir"),
        ],
    };
    let loaded = config::load(&sources).unwrap();
    let server = TestServer::start_with(ConfigHandle::new(loaded, sources)).await;
    let api = server.admin;
    let entry = |body: &str, key: &str| -> Value {
        json(body)["keys"]
            .as_array()
            .unwrap()
            .iter()
            .find(|e| e["key"] == key)
            .cloned()
            .unwrap_or_else(|| panic!("no {key}"))
    };
    let (status, _, body) = http(api, "GET", "/api/v1/config", &[], None).await;
    assert_eq!(status, 200, "{body}");
    let retention = entry(&body, "streams.retention_ms");
    assert_eq!(retention["value"], 1000);
    assert_eq!(retention["origin"], format!("file {}", path.display()));
    assert_eq!(retention["live"], true);
    let connections = entry(&body, "network.max_connections");
    assert_eq!(
        (connections["value"].clone(), connections["origin"].clone()),
        (77.into(), "env MEMSTREAM_NETWORK__MAX_CONNECTIONS".into())
    );
    assert_eq!(entry(&body, "server.data_dir")["origin"], "flag --data-dir");
    assert_eq!(entry(&body, "streams.partitions")["origin"], "default");
    assert_eq!(entry(&body, "server.listen")["live"], false);

    // A changed file, reloaded through the API.
    std::fs::write(
        &path,
        "[streams]\nretention_ms = 2000\nretention_bytes = 5\n",
    )
    .unwrap();
    let (status, _, body) = http(api, "POST", "/api/v1/config/reload", &[], None).await;
    assert_eq!(status, 200, "{body}");
    let applied = json(&body)["applied"].clone();
    assert_eq!(
        applied,
        serde_json::json!(["streams.retention_bytes", "streams.retention_ms"])
    );
    let (_, _, body) = http(api, "GET", "/api/v1/config", &[], None).await;
    assert_eq!(entry(&body, "streams.retention_ms")["value"], 2000);
    assert_eq!(
        entry(&body, "streams.retention_bytes")["origin"],
        format!("file {}", path.display())
    );
    // A bad file is refused naming the key; the running value stays.
    std::fs::write(&path, "[streams]\nretention_ms = -4\n").unwrap();
    let (status, _, body) = http(api, "POST", "/api/v1/config/reload", &[], None).await;
    let error = json(&body);
    assert_eq!(
        (status, error["code"].clone()),
        (400, "INVALID_CONFIG".into())
    );
    assert!(
        error["message"].as_str().unwrap().contains("retention_ms"),
        "{error}"
    );
    let (_, _, body) = http(api, "GET", "/api/v1/config", &[], None).await;
    assert_eq!(entry(&body, "streams.retention_ms")["value"], 2000);
    let (status, _, body) = http(api, "GET", "/api/v1/cluster", &[], None).await;
    assert_eq!(
        (status, json(&body)["nodes"][0]["role"].clone()),
        (200, "standalone".into())
    );
    server.stop().await;
}
