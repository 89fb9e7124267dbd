//! Users and ACLs changed through a running server (USER_PUT, USER_DELETE, USER_LIST,
//! ACL_CREATE, ACL_LIST, ACL_DELETE): who may, what each answers, and that a change takes
//! effect at once.

use memstream_auth::acl::{AclFilter, Operation, PatternFilter, PatternType, ResourceType};
use memstream_client::ClientError;
use memstream_protocol::message::{PutMode, StreamSettings, WireMechanism};
use memstream_protocol::ErrorCode;

use crate::security::{allow, login, secure};

fn code<T>(r: Result<T, ClientError>) -> Option<ErrorCode> {
    match r {
        Ok(_) => panic!("expected a refusal"),
        Err(e) => e.code(),
    }
}

#[tokio::test]
async fn a_superuser_manages_users_through_the_server_and_others_may_not() {
    let s = secure().await;
    let root = login(&s, "root", b"t00r").await.unwrap();
    let alice = login(&s, "alice", b"wonderland").await.unwrap();

    // alice has no ALTER or DESCRIBE on the cluster.
    let refused = alice
        .admin()
        .put_user("mallory", b"x", PutMode::Upsert, 4096)
        .await;
    assert_eq!(code(refused), Some(ErrorCode::NotAuthorized));
    assert_eq!(
        code(alice.admin().list_users().await),
        Some(ErrorCode::NotAuthorized)
    );
    assert_eq!(
        code(alice.admin().delete_user("root").await),
        Some(ErrorCode::NotAuthorized)
    );

    // root adds bob, who can then log in; adding him again is refused.
    let admin = root.admin();
    admin
        .put_user("bob", b"builder", PutMode::Create, 4096)
        .await
        .unwrap();
    login(&s, "bob", b"builder").await.expect("bob logs in");
    assert_eq!(
        code(admin.put_user("bob", b"other", PutMode::Create, 4096).await),
        Some(ErrorCode::UserAlreadyExists)
    );
    assert_eq!(
        code(admin.put_user("nobody", b"x", PutMode::Update, 4096).await),
        Some(ErrorCode::UserNotFound)
    );

    // A new password replaces the old one.
    admin
        .put_user("bob", b"fixer", PutMode::Update, 8192)
        .await
        .unwrap();
    assert_eq!(
        code(login(&s, "bob", b"builder").await),
        Some(ErrorCode::AuthenticationFailed)
    );
    login(&s, "bob", b"fixer").await.expect("the new password");

    let users = admin.list_users().await.unwrap();
    let names: Vec<&str> = users.iter().map(|u| u.name.as_str()).collect();
    assert_eq!(names, ["alice", "bob", "root"]);
    let bob = users.iter().find(|u| u.name == "bob").unwrap();
    assert_eq!(
        bob.mechanisms,
        [
            (WireMechanism::ScramSha256, 8192),
            (WireMechanism::ScramSha512, 8192)
        ]
    );

    // Bad input gets its reason, and the store is unchanged.
    let weak = admin.put_user("carol", b"x", PutMode::Create, 1).await;
    assert_eq!(code(weak), Some(ErrorCode::InvalidArgument));
    let bad_name = admin.put_user("", b"x", PutMode::Create, 4096).await;
    assert!(bad_name.is_err());
    assert_eq!(admin.list_users().await.unwrap().len(), 3);

    admin.delete_user("bob").await.unwrap();
    assert_eq!(
        code(admin.delete_user("bob").await),
        Some(ErrorCode::UserNotFound)
    );
    assert_eq!(
        code(login(&s, "bob", b"fixer").await),
        Some(ErrorCode::AuthenticationFailed)
    );
}

#[tokio::test]
async fn acls_changed_through_the_server_apply_to_the_next_request() {
    let s = secure().await;
    let root = login(&s, "root", b"t00r").await.unwrap();
    let alice = login(&s, "alice", b"wonderland").await.unwrap();
    let settings = StreamSettings::default();
    assert_eq!(
        code(
            alice
                .admin()
                .create_stream("inv-1", 1, settings.clone())
                .await
        ),
        Some(ErrorCode::NotAuthorized)
    );
    assert_eq!(
        code(alice.admin().list_acls(&AclFilter::default()).await),
        Some(ErrorCode::NotAuthorized)
    );

    // Granted: alice's open connection may create at once (its cached denial is dropped).
    let grant = allow(
        "User:alice",
        ResourceType::Cluster,
        "kafka-cluster",
        Operation::Create,
    );
    root.admin()
        .create_acls(std::slice::from_ref(&grant))
        .await
        .unwrap();
    alice
        .admin()
        .create_stream("inv-1", 1, settings.clone())
        .await
        .expect("allowed after the grant");

    // Listed by a filter; the invalid is refused whole.
    let alices = AclFilter {
        principal: Some("User:alice".into()),
        ..AclFilter::default()
    };
    let listed = root.admin().list_acls(&alices).await.unwrap();
    assert!(listed.contains(&grant), "{listed:?}");
    let on_cluster = AclFilter {
        resource_type: Some(ResourceType::Cluster),
        ..AclFilter::default()
    };
    assert_eq!(
        root.admin().list_acls(&on_cluster).await.unwrap(),
        std::slice::from_ref(&grant)
    );
    let bad = allow("alice", ResourceType::Stream, "x", Operation::Read);
    let refused = root.admin().create_acls(&[grant.clone(), bad]).await;
    assert_eq!(code(refused), Some(ErrorCode::InvalidArgument));
    assert_eq!(root.admin().list_acls(&on_cluster).await.unwrap().len(), 1);

    // Revoked: the next request is refused.
    let exact = AclFilter {
        principal: Some("User:alice".into()),
        resource_type: Some(ResourceType::Cluster),
        name: Some("kafka-cluster".into()),
        pattern: PatternFilter::Exact(PatternType::Literal),
        operation: Some(Operation::Create),
        ..AclFilter::default()
    };
    let removed = root.admin().delete_acls(&exact).await.unwrap();
    assert_eq!(removed, [grant]);
    assert_eq!(
        code(alice.admin().create_stream("inv-2", 1, settings).await),
        Some(ErrorCode::NotAuthorized)
    );
    assert!(root.admin().delete_acls(&exact).await.unwrap().is_empty());
}
