//! The client commands against the real server: stream admin, produce, consume, group, and
//! one-line errors.

use std::process::Stdio;

use crate::common;

use common::{start, WAIT};
use tokio::io::AsyncWriteExt;
use tokio::process::Command;

/// Runs `memstream ARGS` against `server` with `stdin`; returns (success, stdout, stderr).
async fn memstream(server: &str, args: &[&str], stdin: &str) -> (bool, String, String) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_memstream"))
        .args(args)
        .env("MEMSTREAM_SERVER", server)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    let mut input = child.stdin.take().unwrap();
    // A command that fails on its arguments exits without reading its input.
    match input.write_all(stdin.as_bytes()).await {
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => {}
        written => written.unwrap(),
    }
    drop(input);
    let out = tokio::time::timeout(WAIT, child.wait_with_output())
        .await
        .expect("command finishes")
        .unwrap();
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[tokio::test]
async fn stream_produce_consume_and_group_commands() {
    let dir = tempfile::tempdir().unwrap();
    let (mut server, addr) = start(dir.path()).await;
    let (ok, out, err) = memstream(
        &addr,
        &[
            "stream",
            "create",
            "cli.s",
            "--partitions",
            "2",
            "--storage",
            "memory",
        ],
        "",
    )
    .await;
    assert!(ok, "{err}");
    assert!(out.contains("created stream cli.s"));

    let (ok, out, err) = memstream(
        &addr,
        &[
            "produce",
            "cli.s",
            "--key",
            "k",
            "--header",
            "h=1",
            "--verbose",
        ],
        "one\ntwo\nthree\n",
    )
    .await;
    assert!(ok, "{err}");
    let offsets: Vec<&str> = out.lines().collect();
    assert_eq!(offsets.len(), 3, "{out}");
    assert!(offsets
        .iter()
        .all(|l| l.ends_with(":0") || l.ends_with(":1") || l.ends_with(":2")));

    let (ok, out, err) = memstream(&addr, &["consume", "cli.s", "--format", "json"], "").await;
    assert!(ok, "{err}");
    let values: Vec<serde_json::Value> = out
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let texts: Vec<&str> = values
        .iter()
        .map(|v| v["value"].as_str().unwrap())
        .collect();
    assert_eq!(texts, ["one", "two", "three"]);
    assert_eq!(values[0]["key"], "k");
    assert_eq!(values[0]["headers"]["h"], "1");

    let (ok, out, _) = memstream(
        &addr,
        &["consume", "cli.s", "--from", "1", "--count", "1"],
        "",
    )
    .await;
    assert!(ok);
    assert_eq!(out, "two\n");

    let (ok, out, _) = memstream(&addr, &["stream", "list", "--json"], "").await;
    assert!(ok);
    let list: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(list[0]["name"], "cli.s");
    assert_eq!(list[0]["partitions"], 2);
    let (ok, out, _) = memstream(&addr, &["stream", "describe", "cli.s"], "").await;
    assert!(ok && out.contains("storage memory"), "{out}");
    let (ok, _, _) = memstream(&addr, &["group", "list"], "").await;
    assert!(ok);

    // User errors: one line on stderr, non-zero exit, no panic or backtrace.
    let (ok, _, err) = memstream(&addr, &["stream", "describe", "nope"], "").await;
    assert!(!ok);
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(
        err.contains("STREAM_NOT_FOUND") && !err.contains("panicked"),
        "{err}"
    );
    let (ok, _, err) = memstream(&addr, &["stream", "delete", "cli.s"], "").await;
    assert!(ok, "{err}");
    server.kill().await.unwrap();
    let (ok, _, err) = memstream(&addr, &["stream", "list"], "").await;
    assert!(!ok);
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(err.starts_with("error: cannot connect to"), "{err}");
}

#[tokio::test]
async fn bench_verifies_exactly_once_delivery_with_its_own_server() {
    let out = Command::new(env!("CARGO_BIN_EXE_memstream"))
        .args([
            "bench",
            "--messages",
            "20000",
            "--size",
            "64",
            "--producers",
            "2",
            "--consumers",
            "2",
            "--partitions",
            "3",
            "--json",
        ])
        .env_remove("MEMSTREAM_SERVER")
        .stdin(Stdio::null())
        .output();
    let out = tokio::time::timeout(WAIT, out)
        .await
        .expect("bench finishes")
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report["exactly_once_in_order"], true, "{report}");
    assert_eq!(report["consume"].as_array().unwrap().len(), 2);
    for consumer in report["consume"].as_array().unwrap() {
        assert_eq!(consumer["messages"], 20000);
    }
    assert!(report["latency"]["p99_us"].as_u64().is_some());
}

#[tokio::test]
async fn consume_with_a_group_resumes_from_its_commits_and_acks_none_produces() {
    let dir = tempfile::tempdir().unwrap();
    let (mut server, addr) = start(dir.path()).await;
    let (ok, _, err) = memstream(
        &addr,
        &[
            "stream",
            "create",
            "g.s",
            "--partitions",
            "2",
            "--storage",
            "memory",
        ],
        "",
    )
    .await;
    assert!(ok, "{err}");
    let (ok, out, err) = memstream(
        &addr,
        &["produce", "g.s", "--acks", "none", "--verbose"],
        "a\nb\nc\nd\n",
    )
    .await;
    assert!(ok, "{err}");
    assert_eq!(
        out.lines().filter(|l| l.ends_with(":-")).count(),
        4,
        "{out}"
    );

    // A group member reads everything there is and commits it.
    let (ok, out, err) = memstream(&addr, &["consume", "g.s", "--group", "readers"], "").await;
    assert!(ok, "{err}");
    let mut first: Vec<&str> = out.lines().collect();
    first.sort_unstable();
    assert_eq!(first, ["a", "b", "c", "d"]);

    // The next run of the same group gets only what arrived since.
    let (ok, _, err) = memstream(&addr, &["produce", "g.s", "--acks", "written"], "e\nf\n").await;
    assert!(ok, "{err}");
    let (ok, out, err) = memstream(&addr, &["consume", "g.s", "--group", "readers"], "").await;
    assert!(ok, "{err}");
    let mut second: Vec<&str> = out.lines().collect();
    second.sort_unstable();
    assert_eq!(second, ["e", "f"]);

    let (ok, out, err) = memstream(&addr, &["group", "describe", "readers"], "").await;
    assert!(ok, "{err}");
    assert!(out.contains("g.s"), "{out}");

    // The consumers have left: the group can be deleted, and then starts from scratch.
    let (ok, out, err) = memstream(&addr, &["group", "delete", "readers"], "").await;
    assert!(ok, "{err}");
    assert_eq!(out, "deleted group readers\n");
    let (ok, _, err) = memstream(&addr, &["group", "delete", "readers"], "").await;
    assert!(!ok && err.contains("GROUP_NOT_FOUND"), "{err}");
    let (ok, out, err) = memstream(&addr, &["group", "list"], "").await;
    assert!(ok && !out.contains("readers"), "{out}{err}");
    server.kill().await.unwrap();
}

#[tokio::test]
async fn compressed_batches_are_stored_compressed_and_read_back_by_every_codec() {
    let dir = tempfile::tempdir().unwrap();
    let (mut server, addr) = start(dir.path()).await;
    let lines: String = (0..200)
        .map(|i| format!("{{\"order_id\":{i},\"status\":\"paid\",\"customer\":\"c-{i:03}\"}}\n"))
        .collect();
    let mut sizes = Vec::new();
    for codec in ["none", "gzip", "snappy", "lz4", "zstd"] {
        let stream = format!("z.{codec}");
        let (ok, _, err) = memstream(&addr, &["stream", "create", &stream], "").await;
        assert!(ok, "{err}");
        let args = [
            "produce",
            stream.as_str(),
            "--partition",
            "0",
            "--compression",
            codec,
        ];
        let (ok, _, err) = memstream(&addr, &args, &lines).await;
        assert!(ok, "{codec}: {err}");
        let (ok, out, err) = memstream(&addr, &["consume", &stream, "--count", "200"], "").await;
        assert!(ok, "{codec}: {err}");
        assert_eq!(out, lines, "{codec}: every record back, in order");
        let (ok, out, err) = memstream(&addr, &["stream", "describe", &stream, "--json"], "").await;
        assert!(ok, "{err}");
        let d: serde_json::Value = serde_json::from_str(&out).unwrap();
        sizes.push((codec, d["partitions"][0]["size_bytes"].as_u64().unwrap()));
    }
    let plain = sizes[0].1;
    for (codec, size) in &sizes[1..] {
        assert!(
            *size * 2 < plain,
            "{codec}: {size} bytes stored, {plain} uncompressed"
        );
    }
    let (ok, _, err) = memstream(
        &addr,
        &["produce", "z.none", "--compression", "brotli"],
        "x\n",
    )
    .await;
    assert!(!ok && err.contains("brotli"), "{err}");
    server.kill().await.unwrap();
}

#[tokio::test]
async fn bench_compresses_json_payloads() {
    let out = Command::new(env!("CARGO_BIN_EXE_memstream"))
        .args([
            "bench",
            "--messages",
            "20000",
            "--size",
            "200",
            "--compression",
            "zstd",
            "--payload",
            "json",
            "--json",
        ])
        .env_remove("MEMSTREAM_SERVER")
        .stdin(Stdio::null())
        .output();
    let out = tokio::time::timeout(WAIT, out)
        .await
        .expect("bench finishes")
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report["exactly_once_in_order"], true, "{report}");
    assert_eq!(report["stored"]["codec"], "zstd");
    let ratio = report["stored"]["ratio"].as_f64().unwrap();
    assert!(ratio < 0.5, "zstd stored {ratio} of the JSON bytes");
}

#[tokio::test]
async fn produce_fails_with_the_servers_error_when_the_disk_is_full_and_recovers_without_a_restart()
{
    // A full disk, made real: the server's soft file-size limit stops its segment file at 256 KiB
    // (with SIGXFSZ ignored, as a shell `trap` passes it on, writes past it fail with EFBIG).
    let dir = tempfile::tempdir().unwrap();
    let wrapper = [
        "prlimit",
        "--fsize=262144:unlimited",
        "--",
        "sh",
        "-c",
        "trap '' XFSZ; exec \"$0\" \"$@\"",
    ];
    let (mut server, addr) = common::start_via(dir.path(), &wrapper).await;
    let pid = server.id().expect("running").to_string();
    let (ok, _, err) = memstream(
        &addr,
        &["stream", "create", "full", "--storage", "disk"],
        "",
    )
    .await;
    assert!(ok, "{err}");
    let lines: String = (0..1000)
        .map(|i| format!("{i:04}{}\n", "x".repeat(996)))
        .collect();
    let (ok, _, err) = memstream(&addr, &["produce", "full", "--partition", "0"], &lines).await;
    assert!(!ok, "a full disk must fail the produce");
    assert!(
        err.contains("STORAGE_ERROR") || err.contains("PARTITION_FENCED"),
        "{err}"
    );
    assert!(err.contains("record(s) not acknowledged"), "{err}");

    // Room again: the partition takes writes once its retry interval has passed, without a
    // restart. (Each attempt inside the interval is refused at once, so this loop is bounded
    // by WAIT, not by a sleep.)
    let raised = std::process::Command::new("prlimit")
        .args(["--pid", &pid, "--fsize=unlimited"])
        .output()
        .unwrap();
    assert!(
        raised.status.success(),
        "prlimit: {}",
        String::from_utf8_lossy(&raised.stderr)
    );
    let recovered = tokio::time::timeout(WAIT, async {
        loop {
            let (ok, _, _) =
                memstream(&addr, &["produce", "full", "--partition", "0"], "after\n").await;
            if ok {
                return;
            }
            tokio::time::sleep(std::time::Duration::from_millis(200)).await;
        }
    })
    .await;
    assert!(recovered.is_ok(), "the partition never took writes again");
    let (ok, out, err) = memstream(&addr, &["stream", "describe", "full", "--json"], "").await;
    assert!(ok, "{err}");
    let d: serde_json::Value = serde_json::from_str(&out).unwrap();
    let end = d["partitions"][0]["end_offset"].as_u64().unwrap();
    let (ok, out, err) =
        memstream(&addr, &["consume", "full", "--count", &end.to_string()], "").await;
    assert!(ok, "{err}");
    let got: Vec<&str> = out.lines().collect();
    assert_eq!(got.last(), Some(&"after"), "the new record is last");
    for (i, line) in got[..got.len() - 1].iter().enumerate() {
        assert!(
            line.starts_with(&format!("{i:04}")),
            "record {i} is {line:.8}"
        );
    }
    server.kill().await.unwrap();
}
