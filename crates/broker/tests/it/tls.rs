//! TLS on the native and admin listeners: clients verify the server, mutual TLS names the
//! principal, a reload takes a new certificate without dropping established connections, and
//! plaintext clients on a TLS listener are refused while the server goes on.

use std::sync::Arc;

use bytes::Bytes;
use memstream_auth::acl::{Acl, Operation, PatternType, Permission, ResourcePattern, ResourceType};
use memstream_broker::config::{Config, ConfigHandle};
use memstream_client::{Client, ClientError, ClientOptions, ClientTls};
use memstream_engine::access::Access;
use memstream_net::test_certs::{CertFiles, TestCa};
use memstream_net::tls::{client_config, ClientTlsFiles};
use memstream_net::TlsConfig;
use memstream_protocol::message::StreamSettings;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use crate::common::{test_config, TestServer, WAIT};

fn tls_section(server: &CertFiles, client_ca: Option<&std::path::Path>) -> TlsConfig {
    TlsConfig {
        cert_file: server.cert_file.clone(),
        key_file: server.key_file.clone(),
        client_ca_file: client_ca.map(|p| p.to_path_buf()).unwrap_or_default(),
    }
}

fn options(ca: &TestCa, client: Option<&CertFiles>) -> ClientOptions {
    let config = client_config(&ClientTlsFiles {
        ca_file: Some(ca.ca_file.clone()),
        cert_file: client.map(|c| c.cert_file.clone()),
        key_file: client.map(|c| c.key_file.clone()),
    })
    .unwrap();
    ClientOptions {
        tls: Some(ClientTls {
            config,
            server_name: Some("localhost".into()),
        }),
        ..ClientOptions::default()
    }
}

async fn ping(client: &Client) {
    let echoed = client.ping(Bytes::from_static(b"tls")).await.unwrap();
    assert_eq!(&echoed[..], b"tls");
}

#[tokio::test]
async fn clients_verify_the_server_and_a_reload_swaps_the_certificate_under_live_connections() {
    let dir = tempfile::tempdir().unwrap();
    let ca = TestCa::new(dir.path(), "first");
    let server_cert = ca.server("server");
    let mut cfg = test_config(&dir.path().join("data"));
    std::fs::create_dir_all(&cfg.server.data_dir).unwrap();
    cfg.network.tls = tls_section(&server_cert, None);
    let server = TestServer::start_with(ConfigHandle::fixed(cfg)).await;

    let live = Client::connect_with(server.addr, options(&ca, None))
        .await
        .unwrap();
    ping(&live).await;
    // Without TLS: the server refuses, and goes on serving.
    let plain = Client::connect(server.addr).await;
    assert!(plain.is_err(), "a plaintext client on a TLS listener");
    ping(&live).await;

    // A new certificate from another CA: clients that trust only it fail until the reload.
    let next_ca = TestCa::new(dir.path(), "next");
    let renewed = next_ca.server("renewed");
    let err = Client::connect_with(server.addr, options(&next_ca, None))
        .await
        .err()
        .expect("not trusted yet");
    assert!(matches!(err, ClientError::Tls(_)), "{err}");
    std::fs::copy(&renewed.cert_file, &server_cert.cert_file).unwrap();
    std::fs::copy(&renewed.key_file, &server_cert.key_file).unwrap();
    server.handle.reload_config().unwrap();
    let fresh = Client::connect_with(server.addr, options(&next_ca, None))
        .await
        .unwrap();
    ping(&fresh).await;
    ping(&live).await;

    // A bad certificate is refused at reload; the one in use stays.
    std::fs::write(&server_cert.cert_file, "garbage\n").unwrap();
    server.handle.reload_config().unwrap();
    let again = Client::connect_with(server.addr, options(&next_ca, None))
        .await
        .unwrap();
    ping(&again).await;
    server.stop().await;
}

fn allow(who: &str, stream: &str, op: Operation) -> Acl {
    Acl {
        principal: who.into(),
        host: "*".into(),
        resource: ResourcePattern {
            resource_type: ResourceType::Stream,
            name: stream.into(),
            pattern_type: PatternType::Literal,
        },
        operation: op,
        permission: Permission::Allow,
    }
}

#[tokio::test]
async fn a_client_certificate_is_the_principal_with_mutual_tls() {
    let dir = tempfile::tempdir().unwrap();
    let ca = TestCa::new(dir.path(), "t");
    let server_cert = ca.server("server");
    let admin = ca.issue("admin", "admin", &["admin.example"]);
    let alice = ca.issue("alice", "alice", &["alice.example"]);
    let data = dir.path().join("data");
    std::fs::create_dir_all(&data).unwrap();
    let mut cfg: Config = test_config(&data);
    cfg.network.tls = tls_section(&server_cert, Some(&ca.ca_file));
    cfg.admin.tls = tls_section(&server_cert, Some(&ca.ca_file));
    cfg.auth.enabled = true;
    cfg.auth.superusers = vec!["admin".into()];
    {
        let access = Access::open(Some(&data), &cfg.auth).unwrap();
        access
            .authorizer
            .add(vec![allow("User:alice", "orders", Operation::Describe)])
            .unwrap();
    }
    let server = TestServer::start_with(ConfigHandle::fixed(cfg)).await;

    // No certificate: the handshake fails.
    assert!(Client::connect_with(server.addr, options(&ca, None))
        .await
        .is_err());
    let root = Arc::new(
        Client::connect_with(server.addr, options(&ca, Some(&admin)))
            .await
            .unwrap(),
    );
    for stream in ["orders", "secret"] {
        root.admin()
            .create_stream(stream, 1, StreamSettings::default())
            .await
            .unwrap();
    }
    let a = Client::connect_with(server.addr, options(&ca, Some(&alice)))
        .await
        .unwrap();
    a.admin().describe_stream("orders").await.unwrap();
    let err = a.admin().describe_stream("secret").await.unwrap_err();
    assert!(
        err.to_string().contains("User:alice may not describe"),
        "{err}"
    );

    // The admin listener over TLS, the certificate as the login.
    let status = |client: Option<&CertFiles>| {
        let config = client_config(&ClientTlsFiles {
            ca_file: Some(ca.ca_file.clone()),
            cert_file: client.map(|c| c.cert_file.clone()),
            key_file: client.map(|c| c.key_file.clone()),
        })
        .unwrap();
        let addr = server.admin;
        async move {
            let tcp = tokio::net::TcpStream::connect(addr).await.unwrap();
            let mut s = memstream_net::tls::connect(config, "localhost", tcp)
                .await
                .unwrap();
            s.write_all(b"GET /metrics HTTP/1.1\r\nhost: x\r\nconnection: close\r\n\r\n")
                .await
                .unwrap();
            let mut out = String::new();
            let _ = tokio::time::timeout(WAIT, s.read_to_string(&mut out))
                .await
                .unwrap();
            out.lines().next().unwrap_or("").to_owned()
        }
    };
    assert!(status(Some(&admin)).await.contains("200"));
    assert!(status(Some(&alice)).await.contains("403"));
    server.stop().await;
}

#[tokio::test]
async fn a_tls_client_on_the_plaintext_listener_fails_clearly_and_the_server_goes_on() {
    let dir = tempfile::tempdir().unwrap();
    let ca = TestCa::new(dir.path(), "t");
    let server = TestServer::start(|_| {}).await;
    let err = Client::connect_with(server.addr, options(&ca, None))
        .await
        .err()
        .expect("no TLS here");
    assert!(matches!(err, ClientError::Tls(_)), "{err}");
    server.assert_serving().await;
    server.stop().await;
}
