use super::*;
use crate::test_certs::TestCa;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

fn files(server: &crate::test_certs::CertFiles, ca: Option<&Path>) -> TlsConfig {
    TlsConfig {
        cert_file: server.cert_file.clone(),
        key_file: server.key_file.clone(),
        client_ca_file: ca.map(Path::to_path_buf).unwrap_or_default(),
    }
}

async fn listener() -> (tokio::net::TcpListener, std::net::SocketAddr) {
    let l = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let a = l.local_addr().unwrap();
    (l, a)
}

/// Echoes one line over TLS; returns the client certificate's name.
async fn serve_once(
    tls: Arc<ServerTls>,
    l: tokio::net::TcpListener,
) -> Result<Option<String>, AcceptError> {
    let (tcp, _) = l.accept().await.unwrap();
    let (mut s, name) = tls.accept(tcp).await?;
    let mut buf = [0u8; 5];
    s.read_exact(&mut buf).await.unwrap();
    s.write_all(&buf).await.unwrap();
    s.flush().await.unwrap();
    Ok(name)
}

#[tokio::test]
async fn a_client_verifies_the_server_and_mutual_tls_names_the_client() {
    let dir = tempfile::tempdir().unwrap();
    let ca = TestCa::new(dir.path(), "t");
    let server = ca.server("server");
    let alice = ca.issue("alice", "alice", &["alice.example"]);
    let tls = Arc::new(ServerTls::load("network.tls", &files(&server, Some(&ca.ca_file))).unwrap());
    assert!(tls.mutual());
    let (l, addr) = listener().await;
    let task = tokio::spawn(serve_once(tls, l));
    let config = client_config(&ClientTlsFiles {
        ca_file: Some(ca.ca_file.clone()),
        cert_file: Some(alice.cert_file.clone()),
        key_file: Some(alice.key_file.clone()),
    })
    .unwrap();
    let mut s = connect(config, "127.0.0.1", TcpStream::connect(addr).await.unwrap())
        .await
        .unwrap();
    s.write_all(b"hello").await.unwrap();
    let mut back = [0u8; 5];
    s.read_exact(&mut back).await.unwrap();
    assert_eq!(&back, b"hello");
    assert_eq!(task.await.unwrap().unwrap().as_deref(), Some("alice"));
}

#[tokio::test]
async fn the_wrong_name_an_unknown_ca_and_plaintext_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let ca = TestCa::new(dir.path(), "t");
    let other = TestCa::new(dir.path(), "other");
    let server = ca.server("server");
    let tls = Arc::new(ServerTls::load("kafka.tls", &files(&server, None)).unwrap());

    // The name is checked.
    let (l, addr) = listener().await;
    let task = tokio::spawn(serve_once(tls.clone(), l));
    let trusting = client_config(&ClientTlsFiles {
        ca_file: Some(ca.ca_file.clone()),
        ..ClientTlsFiles::default()
    })
    .unwrap();
    let err = connect(
        trusting.clone(),
        "example.com",
        TcpStream::connect(addr).await.unwrap(),
    )
    .await
    .unwrap_err();
    assert!(err.to_string().contains("certificate"), "{err}");
    assert!(task.await.unwrap().is_err());

    // A CA the client does not trust.
    let (l, addr) = listener().await;
    let task = tokio::spawn(serve_once(tls.clone(), l));
    let distrusting = client_config(&ClientTlsFiles {
        ca_file: Some(other.ca_file.clone()),
        ..ClientTlsFiles::default()
    })
    .unwrap();
    assert!(connect(
        distrusting,
        "localhost",
        TcpStream::connect(addr).await.unwrap()
    )
    .await
    .is_err());
    assert!(task.await.unwrap().is_err());

    // A plaintext client is told apart from a failed handshake.
    let (l, addr) = listener().await;
    let task = tokio::spawn(serve_once(tls, l));
    let mut plain = TcpStream::connect(addr).await.unwrap();
    plain.write_all(b"MSTR\x01").await.unwrap();
    let err = task.await.unwrap().unwrap_err();
    assert!(matches!(err, AcceptError::NotTls(0x4d)), "{err}");
    assert!(err.to_string().contains("requires TLS"), "{err}");
}

#[tokio::test]
async fn a_reload_takes_a_new_certificate_and_keeps_the_old_one_when_the_new_is_bad() {
    let dir = tempfile::tempdir().unwrap();
    let ca = TestCa::new(dir.path(), "t");
    let server = ca.server("server");
    let tls = ServerTls::load("admin.tls", &files(&server, None)).unwrap();
    assert!(tls.reload_if_changed().is_none(), "nothing changed");
    let before = tls.current.load_full();

    // A key that does not match the certificate: refused, the old configuration stays.
    let stranger = ca.issue("stranger", "x", &["x"]);
    std::fs::copy(&stranger.key_file, &server.key_file).unwrap();
    let err = tls.reload().unwrap_err();
    assert!(err.to_string().contains("admin.tls"), "{err}");
    assert!(Arc::ptr_eq(&before, &tls.current.load_full()));

    // A good new pair is taken.
    let renewed = ca.server("renewed");
    std::fs::copy(&renewed.cert_file, &server.cert_file).unwrap();
    std::fs::copy(&renewed.key_file, &server.key_file).unwrap();
    tls.reload().unwrap();
    assert!(!Arc::ptr_eq(&before, &tls.current.load_full()));
}

#[test]
fn bad_files_name_their_key() {
    let dir = tempfile::tempdir().unwrap();
    let missing = TlsConfig {
        cert_file: dir.path().join("nope.pem"),
        key_file: dir.path().join("nope.key"),
        client_ca_file: PathBuf::new(),
    };
    let err = ServerTls::load("network.tls", &missing).unwrap_err();
    assert!(err.to_string().contains("network.tls.cert_file"), "{err}");
    std::fs::write(dir.path().join("empty.pem"), "not pem\n").unwrap();
    let err = load_certs("x.cert_file", &dir.path().join("empty.pem")).unwrap_err();
    assert!(err.to_string().contains("no PEM certificate"), "{err}");
    assert!(looks_like_tls(&[0x16, 0x03, 0x01]));
    assert!(!looks_like_tls(b"MSTR"));
}

/// The server picks AES-128-GCM even for a client that lists AES-256-GCM first (as
/// OpenSSL's default list does), and our own client lists it first.
#[tokio::test]
async fn aes_128_gcm_is_negotiated_whatever_the_client_prefers() {
    let dir = tempfile::tempdir().unwrap();
    let ca = TestCa::new(dir.path(), "t");
    let server = ca.server("server");
    let tls = Arc::new(ServerTls::load("network.tls", &files(&server, None)).unwrap());
    let roots = super::roots("--ca-file", &ca.ca_file).unwrap();
    let default_order = Arc::new(
        ClientConfig::builder_with_provider(Arc::new(rustls::crypto::ring::default_provider()))
            .with_protocol_versions(VERSIONS)
            .unwrap()
            .with_root_certificates(roots)
            .with_no_client_auth(),
    );
    assert_eq!(
        default_order.crypto_provider().cipher_suites[0].suite(),
        rustls::CipherSuite::TLS13_AES_256_GCM_SHA384,
        "the client under test prefers AES-256"
    );
    let ours = client_config(&ClientTlsFiles {
        ca_file: Some(ca.ca_file.clone()),
        ..ClientTlsFiles::default()
    })
    .unwrap();
    assert_eq!(
        ours.crypto_provider().cipher_suites[0].suite(),
        rustls::CipherSuite::TLS13_AES_128_GCM_SHA256
    );
    for config in [default_order, ours] {
        let (l, addr) = listener().await;
        let task = tokio::spawn(serve_once(tls.clone(), l));
        let mut s = connect(config, "127.0.0.1", TcpStream::connect(addr).await.unwrap())
            .await
            .unwrap();
        s.write_all(b"hello").await.unwrap();
        let mut back = [0u8; 5];
        s.read_exact(&mut back).await.unwrap();
        let suite = s.get_ref().1.negotiated_cipher_suite().unwrap().suite();
        assert_eq!(suite, rustls::CipherSuite::TLS13_AES_128_GCM_SHA256);
        task.await.unwrap().unwrap();
    }
}
