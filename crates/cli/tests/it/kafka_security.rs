//! Security on, end to end with the release tools: users and ACLs made with `memstream user`
//! and `memstream acl` on the stopped server's data directory, then kcat, confluent-kafka and
//! kafka-python over SASL (SCRAM) on the Kafka listener, and the CLI logging in over the
//! native protocol.

use crate::common::start_env;
use crate::kafka_clients::{kcat, python, root, run};

const ALICE_PW: &str = "wonder land";
const ADMIN_PW: &str = "s3cr3t-admin";

/// Runs `memstream args`; returns (success, stdout, stderr).
async fn memstream(args: &[&str], stdin: &str) -> (bool, String, String) {
    run(env!("CARGO_BIN_EXE_memstream"), args, stdin).await
}

async fn ok(args: &[&str], stdin: &str) -> String {
    let (ok, out, err) = memstream(args, stdin).await;
    assert!(ok, "memstream {args:?}: {err}");
    out
}

#[tokio::test]
async fn users_acls_and_real_kafka_clients_over_sasl_scram() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    std::fs::create_dir(&data).unwrap();
    let d = data.to_str().unwrap();
    let pw_file = dir.path().join("alice.pw");
    std::fs::write(&pw_file, format!("{ALICE_PW}\n")).unwrap();
    let pw = pw_file.to_str().unwrap();

    // Users: from a file, and from stdin. Never argv.
    ok(
        &[
            "user",
            "add",
            "alice",
            "--password-file",
            pw,
            "--data-dir",
            d,
        ],
        "",
    )
    .await;
    ok(
        &["user", "add", "admin", "--data-dir", d],
        &format!("{ADMIN_PW}\n"),
    )
    .await;
    let listed = ok(&["user", "list", "--data-dir", d], "").await;
    assert!(
        listed.contains("alice") && listed.contains("SCRAM-SHA-512"),
        "{listed}"
    );
    let stored = std::fs::read_to_string(data.join("users.json")).unwrap();
    assert!(!stored.contains(ALICE_PW) && !stored.contains(ADMIN_PW));
    for acl in [
        &["--operation", "write", "--stream", "sasl"][..],
        &["--operation", "read", "--stream", "sasl"],
        &["--operation", "read", "--group", "*"],
    ] {
        let mut args = vec!["acl", "add", "--principal", "User:alice", "--data-dir", d];
        args.extend_from_slice(acl);
        ok(&args, "").await;
    }
    let acls = ok(&["acl", "list", "--data-dir", d], "").await;
    assert_eq!(acls.lines().count(), 3, "{acls}");

    let (_server, native, _admin, kafka) = start_env(
        &data,
        &[
            ("MEMSTREAM_AUTH__ENABLED", "true"),
            ("MEMSTREAM_AUTH__SUPERUSERS", "admin"),
            // Every client here is 127.0.0.1, and the wrong-password checks fail on
            // purpose (librdkafka retries them): the throttle would refuse the rest.
            ("MEMSTREAM_AUTH__MAX_FAILURES_PER_MINUTE", "100000"),
        ],
    )
    .await;
    // The data directory is locked while the server runs.
    let (locked, _, err) = memstream(&["user", "list", "--data-dir", d], "").await;
    assert!(!locked && err.contains("stop the server"), "{err}");

    // The CLI logs in over the native protocol; without a login it is told what to pass.
    let (refused, _, err) = memstream(&["stream", "list", "--server", &native], "").await;
    assert!(!refused && err.contains("--user"), "{err}");
    let admin = ["--server", native.as_str(), "--user", "admin"];
    let as_admin = |args: &[&str]| -> Vec<String> {
        args.iter()
            .chain(admin.iter())
            .map(|s| s.to_string())
            .collect()
    };
    for stream in ["sasl", "denied"] {
        let args = as_admin(&["stream", "create", stream, "--partitions", "1"]);
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let (ok, _, err) = run_env(&args, &[("MEMSTREAM_PASSWORD", ADMIN_PW)]).await;
        assert!(ok, "{err}");
    }

    // kcat (librdkafka) with SCRAM-SHA-512.
    let kcat = kcat();
    let sasl = |user: &str, password: &str| -> Vec<String> {
        [
            "-b",
            kafka.as_str(),
            "-X",
            "security.protocol=SASL_PLAINTEXT",
            "-X",
            "sasl.mechanisms=SCRAM-SHA-512",
            "-X",
            &format!("sasl.username={user}"),
            "-X",
            &format!("sasl.password={password}"),
        ]
        .iter()
        .map(|s| s.to_string())
        .collect()
    };
    let with = |base: &[String], more: &[&str]| -> Vec<String> {
        base.iter()
            .cloned()
            .chain(more.iter().map(|s| s.to_string()))
            .collect()
    };
    let alice = sasl("alice", ALICE_PW);
    let args = with(&alice, &["-P", "-t", "sasl", "-p", "0"]);
    let (produced, _, err) = run(kcat, &strs(&args), "one\ntwo\nthree\n").await;
    assert!(produced, "{err}");
    let args = with(
        &alice,
        &["-C", "-t", "sasl", "-o", "beginning", "-e", "-f", "%s\\n"],
    );
    let (consumed, out, err) = run(kcat, &strs(&args), "").await;
    assert!(consumed, "{err}");
    assert_eq!(out.lines().collect::<Vec<_>>(), ["one", "two", "three"]);
    let args = with(&alice, &["-L"]);
    let (_, out, _) = run(kcat, &strs(&args), "").await;
    assert!(
        out.contains("\"sasl\"") && !out.contains("\"denied\""),
        "metadata shows only what alice may describe: {out}"
    );
    let args = with(&sasl("alice", "wrong"), &["-L", "-m", "10"]);
    let (listed, out, err) = run(kcat, &strs(&args), "").await;
    assert!(!listed, "{out}");
    assert!(err.contains("Authentication failed"), "{err}");

    // confluent-kafka and kafka-python.
    let script = root().join("crates/cli/tests/kafka/sasl.py");
    for args in [
        vec!["confluent", "sasl", "denied", "alice", ALICE_PW],
        vec!["kafka-python", "sasl", "alice", ALICE_PW],
        vec!["confluent-acls", "admin", ADMIN_PW],
        vec!["kafka-python-acls", "admin", ADMIN_PW],
        vec!["confluent-users", "admin", ADMIN_PW],
    ] {
        let mut all = vec![script.to_str().unwrap(), kafka.as_str()];
        all.extend(args.iter().copied());
        let (passed, out, err) = run(python(), &all, "").await;
        assert!(passed, "sasl.py {args:?}:\n{out}\n{err}");
        println!("{}", out.trim());
    }

    // What Kafka clients wrote, read natively as alice.
    let args = [
        "consume",
        "sasl",
        "--from",
        "earliest",
        "--count",
        "3",
        "--server",
        &native,
        "--user",
        "alice",
        "--password-file",
        pw,
    ];
    let out = ok(&args, "").await;
    assert_eq!(
        out.lines().collect::<Vec<_>>(),
        ["one", "two", "three"],
        "{out}"
    );

    // A revoked permission takes effect on the next request.
    let all = [
        script.to_str().unwrap(),
        kafka.as_str(),
        "confluent-revoke",
        "sasl",
        "alice",
        ALICE_PW,
        "admin",
        ADMIN_PW,
    ];
    let (passed, out, err) = run(python(), &all, "").await;
    assert!(passed, "sasl.py confluent-revoke:\n{out}\n{err}");
    println!("{}", out.trim());
}

fn strs(v: &[String]) -> Vec<&str> {
    v.iter().map(String::as_str).collect()
}

/// Runs `memstream args` with `env`.
async fn run_env(args: &[&str], env: &[(&str, &str)]) -> (bool, String, String) {
    let out = tokio::time::timeout(
        crate::common::WAIT,
        tokio::process::Command::new(env!("CARGO_BIN_EXE_memstream"))
            .args(args)
            .envs(env.iter().copied())
            .stdin(std::process::Stdio::null())
            .output(),
    )
    .await
    .expect("memstream finishes")
    .unwrap();
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// SASL_SSL: kcat and confluent-kafka with SCRAM-SHA-512 over TLS (and PLAIN, which only
/// TLS listeners offer), the CLI over TLS to the native listener, and a plaintext client
/// refused by the TLS listener.
#[tokio::test]
async fn sasl_ssl_with_kcat_confluent_kafka_and_the_cli() {
    let dir = tempfile::tempdir().unwrap();
    let ca = memstream_net::test_certs::TestCa::new(dir.path(), "test");
    let cert = ca.server("server");
    let data = dir.path().join("data");
    std::fs::create_dir(&data).unwrap();
    let d = data.to_str().unwrap();
    ok(
        &["user", "add", "alice", "--data-dir", d],
        &format!("{ALICE_PW}\n"),
    )
    .await;
    for acl in [
        &["--operation", "all", "--stream", "tls"][..],
        &["--operation", "read", "--group", "*"],
        &["--operation", "create", "--cluster"],
    ] {
        let mut args = vec!["acl", "add", "--principal", "User:alice", "--data-dir", d];
        args.extend_from_slice(acl);
        ok(&args, "").await;
    }
    let (cert_file, key_file) = (
        cert.cert_file.to_str().unwrap(),
        cert.key_file.to_str().unwrap(),
    );
    let (_server, native, _admin, kafka) = start_env(
        &data,
        &[
            ("MEMSTREAM_AUTH__ENABLED", "true"),
            ("MEMSTREAM_KAFKA__TLS__CERT_FILE", cert_file),
            ("MEMSTREAM_KAFKA__TLS__KEY_FILE", key_file),
            ("MEMSTREAM_NETWORK__TLS__CERT_FILE", cert_file),
            ("MEMSTREAM_NETWORK__TLS__KEY_FILE", key_file),
        ],
    )
    .await;
    let ca_file = ca.ca_file.to_str().unwrap();

    // The CLI: TLS with the CA, then SCRAM.
    let login = ["--user", "alice", "--tls", "--ca-file", ca_file];
    let mut args = vec![
        "stream",
        "create",
        "tls",
        "--partitions",
        "1",
        "--server",
        &native,
    ];
    args.extend_from_slice(&login);
    let (created, _, err) = run_env(&args, &[("MEMSTREAM_PASSWORD", ALICE_PW)]).await;
    assert!(created, "{err}");
    let (plain, _, err) = run_env(
        &["stream", "list", "--server", &native, "--user", "alice"],
        &[("MEMSTREAM_PASSWORD", ALICE_PW)],
    )
    .await;
    assert!(!plain, "a plaintext client on the TLS listener: {err}");

    let kcat = kcat();
    let over_tls = |mechanism: &str| -> Vec<String> {
        [
            "-b",
            kafka.as_str(),
            "-X",
            "security.protocol=SASL_SSL",
            "-X",
            &format!("ssl.ca.location={ca_file}"),
            "-X",
            &format!("sasl.mechanisms={mechanism}"),
            "-X",
            "sasl.username=alice",
            "-X",
            &format!("sasl.password={ALICE_PW}"),
        ]
        .iter()
        .map(|s| s.to_string())
        .collect()
    };
    for (mechanism, line) in [("SCRAM-SHA-512", "scram"), ("PLAIN", "plain")] {
        let mut args = over_tls(mechanism);
        args.extend(["-P", "-t", "tls", "-p", "0"].map(String::from));
        let (produced, _, err) = run(kcat, &strs(&args), &format!("{line}\n")).await;
        assert!(produced, "{mechanism}: {err}");
    }
    let mut args = over_tls("SCRAM-SHA-512");
    args.extend(["-C", "-t", "tls", "-o", "beginning", "-e", "-f", "%s\\n"].map(String::from));
    let (consumed, out, err) = run(kcat, &strs(&args), "").await;
    assert!(consumed, "{err}");
    assert_eq!(out.lines().collect::<Vec<_>>(), ["scram", "plain"]);
    // SASL_PLAINTEXT against the TLS listener fails.
    let args = [
        "-b",
        kafka.as_str(),
        "-X",
        "security.protocol=SASL_PLAINTEXT",
        "-X",
        "sasl.mechanisms=SCRAM-SHA-512",
        "-X",
        "sasl.username=alice",
        "-X",
        "sasl.password=x",
        "-L",
        "-m",
        "5",
    ];
    let (listed, _, _) = run(kcat, &args, "").await;
    assert!(!listed, "plaintext against the TLS listener");

    let script = root().join("crates/cli/tests/kafka/sasl.py");
    let all = [
        script.to_str().unwrap(),
        kafka.as_str(),
        "confluent-ssl",
        "tls",
        "alice",
        ALICE_PW,
        ca_file,
    ];
    let (passed, out, err) = run(python(), &all, "").await;
    assert!(passed, "sasl.py confluent-ssl:\n{out}\n{err}");
    println!("{}", out.trim());
}
