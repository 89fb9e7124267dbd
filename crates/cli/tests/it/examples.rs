//! The client crate's examples, run against a real `memstream serve`: they must build (CI
//! builds them with the tests) and do what their documentation says.

use std::path::PathBuf;
use std::process::Stdio;

use crate::common;

use common::{start, WAIT};
use memstream_client::Client;
use tokio::process::Command;

/// The examples' binaries, built beside this test (`target/<profile>/examples/`). `cargo test`
/// builds them with the tests; another runner may not, so build them when missing.
fn example(name: &str) -> PathBuf {
    let exe = std::env::current_exe().expect("test binary path");
    let profile_dir = exe
        .parent()
        .and_then(|deps| deps.parent())
        .expect("target/<profile>/deps/<test>");
    let path = profile_dir.join("examples").join(name);
    if !path.exists() {
        let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
        let status = std::process::Command::new(cargo)
            .args(["build", "-p", "memstream-client", "--examples"])
            .status()
            .expect("run cargo");
        assert!(status.success(), "building the examples failed");
    }
    path
}

/// Runs an example to completion; returns its stdout.
async fn run(name: &str, server: &str, args: &[&str]) -> String {
    let output = tokio::time::timeout(
        WAIT,
        Command::new(example(name))
            .args(args)
            .env("MEMSTREAM_SERVER", server)
            .env_remove("RUST_LOG")
            .stdin(Stdio::null())
            .kill_on_drop(true)
            .output(),
    )
    .await
    .expect("example finished in time")
    .expect("example ran");
    let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
    assert!(
        output.status.success(),
        "{name} failed: {}\nstdout: {stdout}\nstderr: {}",
        output.status,
        String::from_utf8_lossy(&output.stderr)
    );
    stdout
}

#[tokio::test]
async fn producer_consumer_and_group_examples_work_against_a_server() {
    let dir = tempfile::tempdir().unwrap();
    let (mut server, addr) = start(dir.path()).await;

    let produced = run("producer", &addr, &["orders", "12"]).await;
    assert!(produced.contains("created stream orders"), "{produced}");
    assert_eq!(produced.matches(" -> partition ").count(), 12, "{produced}");
    assert!(produced.contains("sent 12 records to orders"), "{produced}");

    let consumed = run("consumer", &addr, &["orders", "12"]).await;
    assert_eq!(consumed.matches("value=order ").count(), 12, "{consumed}");
    assert!(consumed.contains("key=customer-"), "{consumed}");
    assert!(
        consumed.contains("read 12 records from orders"),
        "{consumed}"
    );

    let grouped = run("group", &addr, &["orders", "billing", "12"]).await;
    assert!(
        grouped.contains("generation 1: assigned partitions [0, 1, 2]"),
        "{grouped}"
    );
    assert!(grouped.contains("committed 12 records"), "{grouped}");

    // The group committed everything it read: no lag left.
    let client = Client::connect(addr.as_str()).await.unwrap();
    let described = client.admin().describe_group("billing").await.unwrap();
    assert_eq!(described.partitions.len(), 3);
    assert!(
        described.partitions.iter().all(|p| p.lag == 0),
        "{:?}",
        described.partitions
    );
    client.close().await.unwrap();

    server.kill().await.unwrap();
}
