//! The admin API with security on: credentials, ACLs, and the security stores.

use memstream_auth::acl::{Acl, Operation, PatternType, ResourceType};

use super::json;
use crate::common::http;
use crate::security::{allow, secure};

#[tokio::test]
async fn with_security_on_the_api_honours_tokens_and_acls() {
    let s = secure().await;
    let api = s.server.admin;
    let root = format!("Bearer {}", s.token);
    let alice = format!(
        "Basic {}",
        base64::Engine::encode(
            &base64::engine::general_purpose::STANDARD,
            "alice:wonderland"
        )
    );
    // No credentials: 401 asking for them.
    let (status, head, body) = http(api, "GET", "/api/v1/streams", &[], None).await;
    assert_eq!(
        (status, json(&body)["code"].clone()),
        (401, "AUTHENTICATION_REQUIRED".into())
    );
    assert!(
        head.to_lowercase().contains("www-authenticate: basic"),
        "{head}"
    );
    let (status, _, _) = http(
        api,
        "GET",
        "/api/v1/streams",
        &[("authorization", "Bearer mst_nope")],
        None,
    )
    .await;
    assert_eq!(status, 401);
    // The health check stays open.
    let (status, _, _) = http(api, "GET", "/health", &[], None).await;
    assert_eq!(status, 200);

    // root (a superuser, by token) creates two streams; alice sees only hers.
    for name in ["orders", "payroll"] {
        let body = format!(r#"{{"name":"{name}","partitions":1}}"#);
        let (status, _, answer) = http(
            api,
            "POST",
            "/api/v1/streams",
            &[("authorization", &root)],
            Some(&body),
        )
        .await;
        assert_eq!(status, 201, "{answer}");
    }
    let names = |body: &str| -> Vec<String> {
        json(body)["streams"]
            .as_array()
            .unwrap()
            .iter()
            .map(|s| s["name"].as_str().unwrap().to_owned())
            .collect()
    };
    let (_, _, body) = http(
        api,
        "GET",
        "/api/v1/streams",
        &[("authorization", &root)],
        None,
    )
    .await;
    assert_eq!(names(&body), ["orders", "payroll"]);
    let (_, _, body) = http(
        api,
        "GET",
        "/api/v1/streams",
        &[("authorization", &alice)],
        None,
    )
    .await;
    assert_eq!(names(&body), ["orders"]);
    let (status, _, body) = http(
        api,
        "GET",
        "/api/v1/streams/payroll",
        &[("authorization", &alice)],
        None,
    )
    .await;
    let error = json(&body);
    assert_eq!(
        (status, error["code"].clone()),
        (403, "NOT_AUTHORIZED".into())
    );
    assert!(
        error["message"].as_str().unwrap().contains("describe"),
        "{error}"
    );
    let (status, _, _) = http(
        api,
        "DELETE",
        "/api/v1/streams/orders",
        &[("authorization", &alice)],
        None,
    )
    .await;
    assert_eq!(status, 403);
    let (status, _, _) = http(
        api,
        "POST",
        "/api/v1/streams",
        &[("authorization", &alice)],
        Some(r#"{"name":"mine"}"#),
    )
    .await;
    assert_eq!(status, 403);
    let (status, _, _) = http(
        api,
        "GET",
        "/api/v1/node",
        &[("authorization", &alice)],
        None,
    )
    .await;
    assert_eq!(status, 403, "node needs DESCRIBE on the cluster");

    // A grant takes effect on the next request.
    let grant: Acl = Acl {
        resource: memstream_auth::acl::ResourcePattern {
            pattern_type: PatternType::Literal,
            ..allow(
                "User:alice",
                ResourceType::Cluster,
                "kafka-cluster",
                Operation::Describe,
            )
            .resource
        },
        ..allow(
            "User:alice",
            ResourceType::Cluster,
            "kafka-cluster",
            Operation::Describe,
        )
    };
    let root_client = crate::security::login(&s, "root", b"t00r").await.unwrap();
    root_client.admin().create_acls(&[grant]).await.unwrap();
    let (status, _, body) = http(
        api,
        "GET",
        "/api/v1/node",
        &[("authorization", &alice)],
        None,
    )
    .await;
    assert_eq!(
        (status, json(&body)["security"].clone()),
        (200, true.into())
    );
}

#[tokio::test]
async fn users_acls_and_tokens_are_managed_through_the_api() {
    let s = secure().await;
    let api = s.server.admin;
    let root_token = format!("Bearer {}", s.token);
    let root = [("authorization", root_token.as_str())];
    let alice_basic = format!(
        "Basic {}",
        base64::Engine::encode(
            &base64::engine::general_purpose::STANDARD,
            "alice:wonderland"
        )
    );
    let alice = [("authorization", alice_basic.as_str())];
    for path in ["/api/v1/users", "/api/v1/acls", "/api/v1/tokens"] {
        let (status, _, _) = http(api, "GET", path, &alice, None).await;
        assert_eq!(status, 403, "{path} needs DESCRIBE on the cluster");
    }

    // Users: add, read, change the password, remove.
    let (status, _, body) = http(
        api,
        "POST",
        "/api/v1/users",
        &root,
        Some(r#"{"name":"dave","password":"d1"}"#),
    )
    .await;
    assert_eq!(status, 201, "{body}");
    let (status, _, body) = http(
        api,
        "POST",
        "/api/v1/users",
        &root,
        Some(r#"{"name":"dave","password":"d1"}"#),
    )
    .await;
    assert_eq!(
        (status, json(&body)["code"].clone()),
        (409, "USER_ALREADY_EXISTS".into())
    );
    let (_, _, body) = http(api, "GET", "/api/v1/users", &root, None).await;
    let names: Vec<String> = json(&body)["users"]
        .as_array()
        .unwrap()
        .iter()
        .map(|u| u["name"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(names, ["alice", "dave", "root"]);
    assert!(
        !body.contains("stored_key") && !body.contains("salt"),
        "{body}"
    );
    let (_, _, body) = http(api, "GET", "/api/v1/users/dave", &root, None).await;
    assert_eq!(json(&body)["mechanisms"][1]["mechanism"], "SCRAM-SHA-512");
    crate::security::login(&s, "dave", b"d1")
        .await
        .expect("dave logs in");
    let (status, _, _) = http(
        api,
        "PATCH",
        "/api/v1/users/dave",
        &root,
        Some(r#"{"password":"d2"}"#),
    )
    .await;
    assert_eq!(status, 204);
    assert!(crate::security::login(&s, "dave", b"d1").await.is_err());
    crate::security::login(&s, "dave", b"d2")
        .await
        .expect("the new password");
    let (status, _, _) = http(api, "DELETE", "/api/v1/users/dave", &root, None).await;
    assert_eq!(status, 204);
    let (status, _, body) = http(api, "GET", "/api/v1/users/dave", &root, None).await;
    assert_eq!(
        (status, json(&body)["code"].clone()),
        (404, "USER_NOT_FOUND".into())
    );

    // ACLs: a grant for alice applies at once; removed by filter, it stops.
    let grant = r#"{"principal":"User:alice","host":"*","resource":{"resource_type":"cluster","name":"kafka-cluster","pattern_type":"literal"},"operation":"describe","permission":"allow"}"#;
    let (status, _, body) = http(api, "POST", "/api/v1/acls", &root, Some(grant)).await;
    assert_eq!(
        (status, json(&body)["added"].clone()),
        (201, 1.into()),
        "{body}"
    );
    let (status, _, _) = http(api, "GET", "/api/v1/node", &alice, None).await;
    assert_eq!(status, 200);
    let (_, _, body) = http(
        api,
        "GET",
        "/api/v1/acls?principal=User:alice&resource_type=cluster",
        &root,
        None,
    )
    .await;
    assert_eq!(json(&body)["acls"].as_array().unwrap().len(), 1);
    let (status, _, body) = http(api, "DELETE", "/api/v1/acls", &root, None).await;
    assert_eq!(status, 400, "removing needs a filter: {body}");
    let (status, _, body) = http(api, "GET", "/api/v1/acls?operation=fly", &root, None).await;
    assert!(
        status == 400
            && json(&body)["message"]
                .as_str()
                .unwrap()
                .contains("operation")
    );
    let (status, _, body) = http(
        api,
        "DELETE",
        "/api/v1/acls?principal=User:alice&resource_type=cluster",
        &root,
        None,
    )
    .await;
    assert_eq!(
        (status, json(&body)["removed"].as_array().unwrap().len()),
        (200, 1)
    );
    let (status, _, _) = http(api, "GET", "/api/v1/node", &alice, None).await;
    assert_eq!(status, 403);

    // Tokens: made here, shown once, used, revoked.
    let (status, _, body) = http(
        api,
        "POST",
        "/api/v1/tokens",
        &root,
        Some(r#"{"name":"ci","user":"root"}"#),
    )
    .await;
    assert_eq!(status, 201, "{body}");
    let secret = json(&body)["token"].as_str().unwrap().to_owned();
    let ci = format!("Bearer {secret}");
    let (status, _, _) = http(api, "GET", "/api/v1/node", &[("authorization", &ci)], None).await;
    assert_eq!(status, 200);
    let (_, _, body) = http(api, "GET", "/api/v1/tokens", &root, None).await;
    assert!(
        body.contains("\"ci\"") && !body.contains(&secret[4..]),
        "{body}"
    );
    let (status, _, _) = http(
        api,
        "POST",
        "/api/v1/tokens",
        &root,
        Some(r#"{"name":"x","user":"nobody"}"#),
    )
    .await;
    assert_eq!(status, 404);
    let (status, _, _) = http(api, "DELETE", "/api/v1/tokens/ci", &root, None).await;
    assert_eq!(status, 204);
    let (status, _, _) = http(api, "GET", "/api/v1/node", &[("authorization", &ci)], None).await;
    assert_eq!(status, 401, "revoked");
}
