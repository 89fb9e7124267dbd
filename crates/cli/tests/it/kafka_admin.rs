//! Kafka topic administration driven by real clients against a real `memstream serve`:
//! confluent-kafka's AdminClient (`tests/kafka/admin.py`, librdkafka) for every admin API
//! and its error cases, then kcat's metadata listing of the partitions it created. The
//! clients come from `scripts/interop-setup`; without them the test fails saying so.

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;

use tokio::process::Command;

use crate::common::start_with_kafka;

/// Bound on one client run (a hung client fails the test instead of hanging it).
const CLIENT_TIMEOUT: Duration = Duration::from_secs(180);

fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// The interpreter `scripts/interop-setup` installs confluent-kafka into.
fn python() -> PathBuf {
    let python = workspace_root().join("target/interop/venv/bin/python");
    assert!(
        python.exists(),
        "{} is missing: run scripts/interop-setup (it installs confluent-kafka and kcat)",
        python.display()
    );
    python
}

/// Runs `program args`, bounded by [`CLIENT_TIMEOUT`]; panics with its output unless it
/// exits 0. Returns its standard output.
async fn run(program: &Path, args: &[&str]) -> String {
    let child = Command::new(program)
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .unwrap_or_else(|e| {
            panic!(
                "cannot run {}: {e} (run scripts/interop-setup)",
                program.display()
            )
        });
    let out = tokio::time::timeout(CLIENT_TIMEOUT, child.wait_with_output())
        .await
        .unwrap_or_else(|_| {
            panic!(
                "{} {args:?} did not finish in {CLIENT_TIMEOUT:?}",
                program.display()
            )
        })
        .expect("client output");
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        out.status.success(),
        "{} {args:?} failed ({}):\n--- stdout\n{stdout}\n--- stderr\n{}",
        program.display(),
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    stdout
}

/// Where kcat is: `scripts/interop-setup` installs the Debian package.
fn kcat() -> PathBuf {
    let found = std::env::var_os("PATH").and_then(|paths| {
        std::env::split_paths(&paths)
            .map(|dir| dir.join("kcat"))
            .find(|p| p.is_file())
    });
    found.unwrap_or_else(|| panic!("kcat is not installed: run scripts/interop-setup"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn confluent_admin_client_creates_describes_alters_grows_and_deletes_topics() {
    let dir = tempfile::tempdir().unwrap();
    let (_server, _native, kafka) = start_with_kafka(dir.path()).await;
    let script = workspace_root().join("crates/cli/tests/kafka/admin.py");
    let kept = "adm-kept";
    let out = run(&python(), &[script.to_str().unwrap(), &kafka, kept]).await;
    assert!(out.contains("checks passed"), "admin.py:\n{out}");

    // kcat's metadata listing sees the partitions CreatePartitions added.
    let listing = run(&kcat(), &["-b", &kafka, "-L", "-t", kept]).await;
    assert!(
        listing.contains(&format!("topic \"{kept}\" with 6 partitions")),
        "kcat -L:\n{listing}"
    );
    for p in 0..6 {
        assert!(
            listing.contains(&format!("partition {p}, leader")),
            "kcat -L lists partition {p}:\n{listing}"
        );
    }
}
