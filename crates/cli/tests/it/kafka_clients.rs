//! Real Kafka clients against `memstream serve`'s Kafka listener: kcat (librdkafka), Python's
//! confluent-kafka (librdkafka 2.x) and kafka-python (an independent implementation), plus
//! records crossing between the Kafka and the native protocol. The clients come from
//! `scripts/interop-setup` (CI runs it); a missing client fails the test with that hint.

use std::path::PathBuf;
use std::process::Stdio;

use tokio::io::AsyncWriteExt;
use tokio::process::Command;

use crate::common::{start_with_kafka, WAIT};

/// The workspace root.
pub(crate) fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// The interop virtualenv's Python, with confluent-kafka and kafka-python.
pub(crate) fn python() -> PathBuf {
    let python = root().join("target/interop/venv/bin/python");
    assert!(
        python.exists(),
        "{} is missing: run scripts/interop-setup (it installs kcat, confluent-kafka and kafka-python)",
        python.display()
    );
    python
}

pub(crate) fn kcat() -> &'static str {
    assert!(
        std::process::Command::new("kcat")
            .arg("-V")
            .output()
            .is_ok_and(|o| o.status.success()),
        "kcat is missing: run scripts/interop-setup"
    );
    "kcat"
}

/// Runs `program args` with `stdin`; returns (success, stdout, stderr), bounded by [`WAIT`]
/// (the clients' own waits are shorter).
pub(crate) async fn run(
    program: impl AsRef<std::ffi::OsStr>,
    args: &[&str],
    stdin: &str,
) -> (bool, String, String) {
    let mut child = Command::new(program)
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .expect("spawn");
    let mut input = child.stdin.take().unwrap();
    match input.write_all(stdin.as_bytes()).await {
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => {}
        written => written.unwrap(),
    }
    drop(input);
    let out = tokio::time::timeout(WAIT * 4, child.wait_with_output())
        .await
        .expect("the client finishes")
        .unwrap();
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

async fn memstream(server: &str, args: &[&str], stdin: &str) -> String {
    let mut all = vec!["--server", server];
    all.splice(0..0, args.iter().copied());
    let (ok, out, err) = run(env!("CARGO_BIN_EXE_memstream"), &all, stdin).await;
    assert!(ok, "memstream {args:?}: {err}");
    out
}

async fn script(kafka: &str, args: &[&str]) {
    let path = root().join("crates/cli/tests/kafka/clients.py");
    let mut all = vec![path.to_str().unwrap(), kafka];
    all.extend_from_slice(args);
    let (ok, out, err) = run(python(), &all, "").await;
    assert!(ok, "clients.py {args:?} failed:\n{out}\n{err}");
    assert!(out.contains("ok:"), "{out}");
    println!("{}", out.trim());
}

#[tokio::test]
async fn kcat_metadata_produce_consume_and_group_mode_across_protocols() {
    let kcat = kcat();
    let dir = tempfile::tempdir().unwrap();
    let (_server, native, kafka) = start_with_kafka(dir.path()).await;
    let b = ["-b", kafka.as_str()];
    let (ok, out, err) = run(kcat, &[&b[..], &["-L"]].concat(), "").await;
    assert!(ok && out.contains("broker 1 at"), "{out}{err}");

    // Produce with keys and a header (the topic is created by Metadata).
    let (ok, _, err) = run(
        kcat,
        &[
            &b[..],
            &["-P", "-t", "kc", "-p", "0", "-K:", "-H", "source=kcat"],
        ]
        .concat(),
        "k1:one\nk2:two\nk3:three\n",
    )
    .await;
    assert!(ok, "{err}");
    let consume = |from: &'static str| {
        let args: Vec<String> = [
            &b[..],
            &[
                "-C",
                "-t",
                "kc",
                "-o",
                from,
                "-e",
                "-f",
                "%k|%s|%h|%o|%T\\n",
            ],
        ]
        .concat()
        .iter()
        .map(|s| s.to_string())
        .collect();
        async move {
            let args: Vec<&str> = args.iter().map(String::as_str).collect();
            let (ok, out, err) = run(kcat, &args, "").await;
            assert!(ok, "{err}");
            out.lines().map(str::to_owned).collect::<Vec<_>>()
        }
    };
    let all = consume("beginning").await;
    let fields: Vec<Vec<&str>> = all.iter().map(|l| l.split('|').collect()).collect();
    assert_eq!(fields.len(), 3, "{all:?}");
    assert_eq!(fields[0][..4], ["k1", "one", "source=kcat", "0"]);
    assert_eq!(fields[2][..4], ["k3", "three", "source=kcat", "2"]);
    assert!(consume("end").await.is_empty());
    let from_one = consume("1").await;
    assert_eq!(from_one.len(), 2);
    assert!(from_one[0].starts_with("k2|two|"), "{from_one:?}");
    let last = consume("-1").await;
    assert_eq!(last.len(), 1);
    assert!(last[0].starts_with("k3|"));

    // kcat's records read natively: key, header and timestamp intact.
    let json = memstream(
        &native,
        &["consume", "kc", "--count", "3", "--format", "json"],
        "",
    )
    .await;
    let first: serde_json::Value = serde_json::from_str(json.lines().next().unwrap()).unwrap();
    assert_eq!(first["key"], "k1");
    assert_eq!(first["value"], "one");
    assert_eq!(first["headers"]["source"], "kcat");
    assert_eq!(
        first["timestamp"].as_u64().unwrap().to_string(),
        fields[0][4]
    );

    // A native record read by kcat.
    memstream(
        &native,
        &["produce", "kc", "--key", "nk", "--header", "via=native"],
        "native\n",
    )
    .await;
    let native_rec = consume("3").await;
    let f: Vec<&str> = native_rec[0].split('|').collect();
    assert_eq!(f[..4], ["nk", "native", "via=native", "3"]);
    let json = memstream(
        &native,
        &[
            "consume", "kc", "--from", "3", "--count", "1", "--format", "json",
        ],
        "",
    )
    .await;
    let rec: serde_json::Value = serde_json::from_str(json.trim()).unwrap();
    assert_eq!(rec["timestamp"].as_u64().unwrap().to_string(), f[4]);

    // Group mode: consume everything, commit, and a second run finds nothing new.
    let group = [
        &b[..],
        &[
            "-G",
            "kcg",
            "kc",
            "-X",
            "auto.offset.reset=earliest",
            "-e",
            "-f",
            "%s\\n",
        ],
    ]
    .concat();
    let (ok, out, err) = run(kcat, &group, "").await;
    assert!(ok, "{err}");
    assert_eq!(out.lines().count(), 4, "{out}");
    let (ok, out, err) = run(kcat, &group, "").await;
    assert!(ok && out.is_empty(), "{out}{err}");
    let described = memstream(&native, &["group", "describe", "kcg"], "").await;
    let row = described
        .lines()
        .find(|l| l.starts_with("kc "))
        .unwrap_or_else(|| panic!("{described}"));
    let cols: Vec<&str> = row.split_whitespace().collect();
    assert_eq!(cols[1..], ["0", "4", "4", "0"], "{described}");
}

#[tokio::test]
async fn confluent_kafka_idempotent_producer() {
    let dir = tempfile::tempdir().unwrap();
    let (_server, _native, kafka) = start_with_kafka(dir.path()).await;
    script(&kafka, &["confluent-idempotent", "idem"]).await;
}

/// Three consumers share a 6-partition topic; one leaves and another joins; every record is
/// consumed exactly once, with each assignment strategy librdkafka has.
#[tokio::test]
async fn confluent_kafka_groups_share_partitions_exactly_once_with_every_assignor() {
    let dir = tempfile::tempdir().unwrap();
    let (_server, native, kafka) = start_with_kafka(dir.path()).await;
    for strategy in ["range", "roundrobin", "cooperative-sticky"] {
        let topic = format!("six-{strategy}");
        memstream(
            &native,
            &["stream", "create", &topic, "--partitions", "6"],
            "",
        )
        .await;
        script(&kafka, &["confluent-group", &topic, "6", strategy]).await;
        let described = memstream(&native, &["group", "describe", &format!("g-{topic}")], "").await;
        let lagging: Vec<&str> = described
            .lines()
            .filter(|l| l.starts_with(&topic))
            .filter(|l| l.split_whitespace().last() != Some("0"))
            .collect();
        assert!(
            lagging.is_empty(),
            "every partition committed to its end: {described}"
        );
    }
}

/// Static membership (`group.instance.id`): a restarted member gets its partitions back
/// without a rebalance of the others.
#[tokio::test]
async fn confluent_kafka_static_members_restart_without_a_rebalance() {
    let dir = tempfile::tempdir().unwrap();
    let (_server, native, kafka) = start_with_kafka(dir.path()).await;
    memstream(
        &native,
        &["stream", "create", "statics", "--partitions", "6"],
        "",
    )
    .await;
    script(&kafka, &["confluent-static", "statics"]).await;
}

#[tokio::test]
async fn kafka_python_produces_consumes_in_a_group_and_finds_offsets_by_time() {
    let dir = tempfile::tempdir().unwrap();
    let (_server, _native, kafka) = start_with_kafka(dir.path()).await;
    script(&kafka, &["kafka-python", "kp"]).await;
}

/// kcat configured for SASL against this PLAINTEXT listener: SaslHandshake is answered
/// ILLEGAL_SASL_STATE (as by a PLAINTEXT Kafka listener), so kcat fails within its metadata
/// timeout (`-m 10`) saying why, rather than hanging.
#[tokio::test]
async fn kcat_configured_for_sasl_fails_in_bounded_time_naming_sasl() {
    let kcat = kcat();
    let dir = tempfile::tempdir().unwrap();
    let (_server, _native, kafka) = start_with_kafka(dir.path()).await;
    let started = std::time::Instant::now();
    let (ok, out, err) = run(
        kcat,
        &[
            "-b",
            &kafka,
            "-X",
            "security.protocol=SASL_PLAINTEXT",
            "-X",
            "sasl.mechanisms=PLAIN",
            "-X",
            "sasl.username=u",
            "-X",
            "sasl.password=p",
            "-L",
            "-m",
            "10",
        ],
        "",
    )
    .await;
    let took = started.elapsed();
    assert!(!ok, "kcat -L over SASL succeeded: {out}");
    // librdkafka's words for the handshake refused with ILLEGAL_SASL_STATE.
    assert!(
        err.contains("SASL PLAIN mechanism handshake failed")
            && err.contains("Request not valid in current SASL state"),
        "{err}"
    );
    assert!(err.contains("Failed to acquire metadata"), "{err}");
    assert!(took < WAIT, "kcat took {took:?}");
}

/// Without an authorizer the ACL APIs are SECURITY_DISABLED: confluent-kafka's create_acls
/// and delete_acls raise it (its describe_acls drops the error: see clients.py), and
/// kafka-python's describe_acls and create_acls report it.
#[tokio::test]
async fn acl_admin_calls_get_security_disabled_from_confluent_kafka_and_kafka_python() {
    let dir = tempfile::tempdir().unwrap();
    let (_server, _native, kafka) = start_with_kafka(dir.path()).await;
    script(&kafka, &["confluent-acls"]).await;
    script(&kafka, &["kafka-python-acls"]).await;
}
