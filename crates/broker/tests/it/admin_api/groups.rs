//! Consumer groups through the admin API: members, lag, offset resets, deletion.

use std::sync::Arc;

use memstream_client::{Client, Partitioner};
use memstream_protocol::message::StreamSettings;

use super::{json, member_that_committed, produce};
use crate::common::{http, TestServer};

#[tokio::test]
async fn a_group_shows_its_members_and_lag_and_is_deleted_once_empty() {
    let server = TestServer::start(|_| {}).await;
    let api = server.admin;
    let client = Arc::new(Client::connect(server.addr).await.unwrap());
    client
        .admin()
        .create_stream("jobs", 1, StreamSettings::default())
        .await
        .unwrap();
    produce(&client, "jobs", Partitioner::RoundRobin, 5).await;
    let member = member_that_committed(&client, "workers", "jobs", 2).await;

    let (_, _, body) = http(api, "GET", "/api/v1/groups", &[], None).await;
    assert_eq!(json(&body)["groups"][0]["name"], "workers");
    let (status, _, body) = http(api, "GET", "/api/v1/groups/workers", &[], None).await;
    assert_eq!(status, 200);
    let group = json(&body);
    assert_eq!(group["state"], "stable");
    assert_eq!(group["members"].as_array().unwrap().len(), 1);
    assert_eq!(group["members"][0]["assignment"][0]["stream"], "jobs");
    let lag = &group["partitions"][0];
    assert_eq!(
        (lag["committed"].clone(), lag["end_offset"].clone()),
        (2.into(), 5.into())
    );
    assert_eq!(
        (lag["lag"].clone(), group["total_lag"].clone()),
        (3.into(), 3.into())
    );

    let (status, _, body) = http(api, "DELETE", "/api/v1/groups/workers", &[], None).await;
    assert_eq!(
        (status, json(&body)["code"].clone()),
        (409, "GROUP_NOT_EMPTY".into())
    );
    let offsets = "/api/v1/groups/workers/offsets";
    let (status, _, body) = http(
        api,
        "PATCH",
        offsets,
        &[],
        Some(r#"{"stream":"jobs","to":"earliest"}"#),
    )
    .await;
    assert_eq!(
        (status, json(&body)["code"].clone()),
        (409, "GROUP_NOT_EMPTY".into())
    );
    member.close().await.unwrap();

    // Empty now: reset to the start, to an offset, to the end; the lag follows.
    let lag_of = |body: &str| json(body)["total_lag"].clone();
    for (reset, offset, lag) in [
        (r#"{"stream":"jobs","to":"earliest"}"#, 0, 5),
        (
            r#"{"stream":"jobs","partitions":[0],"to":"offset","offset":4}"#,
            4,
            1,
        ),
        (r#"{"stream":"jobs","to":"offset","offset":99}"#, 5, 0),
        (
            r#"{"stream":"jobs","to":"time","time":"2000-01-01T00:00:00Z"}"#,
            0,
            5,
        ),
        (r#"{"stream":"jobs","to":"latest"}"#, 5, 0),
    ] {
        let (status, _, body) = http(api, "PATCH", offsets, &[], Some(reset)).await;
        assert_eq!(status, 200, "{reset}: {body}");
        assert_eq!(json(&body)["offsets"][0]["offset"], offset, "{reset}");
        let (_, _, body) = http(api, "GET", "/api/v1/groups/workers", &[], None).await;
        assert_eq!(lag_of(&body), lag, "{reset}");
    }
    let (status, _, body) = http(
        api,
        "PATCH",
        offsets,
        &[],
        Some(r#"{"stream":"jobs","to":"offset"}"#),
    )
    .await;
    assert!(status == 400 && json(&body)["message"].as_str().unwrap().contains("offset"));
    let (status, _, _) = http(api, "DELETE", "/api/v1/groups/workers", &[], None).await;
    assert_eq!(status, 204);
    let (status, _, _) = http(api, "GET", "/api/v1/groups/workers", &[], None).await;
    assert_eq!(status, 404);
    server.stop().await;
}
