//! The security stores as an operator meets them: tokens and basic credentials on the admin
//! listener over TLS with curl, a revoked or expired token, everything surviving a restart,
//! and the files staying whole when a `memstream user add` is killed mid-write.

use std::time::Duration;

use crate::common::start_env;
use crate::kafka_clients::run;

const ADMIN_PW: &str = "adm1n-pw";

async fn ok(args: &[&str], stdin: &str) -> String {
    let (ok, out, err) = run(env!("CARGO_BIN_EXE_memstream"), args, stdin).await;
    assert!(ok, "memstream {args:?}: {err}");
    out
}

/// `curl` over TLS; returns the HTTP status.
async fn status(ca: &str, url: &str, auth: &[&str]) -> String {
    let mut args = vec![
        "-s",
        "-o",
        "/dev/null",
        "-w",
        "%{http_code}",
        "--cacert",
        ca,
    ];
    args.extend_from_slice(auth);
    args.push(url);
    let (_, out, err) = run("curl", &args, "").await;
    assert!(!out.is_empty(), "curl: {err}");
    out
}

#[tokio::test]
async fn admin_tokens_and_basic_over_tls_revocation_expiry_and_restarts() {
    let dir = tempfile::tempdir().unwrap();
    let ca = memstream_net::test_certs::TestCa::new(dir.path(), "admin");
    let cert = ca.server("server");
    let data = dir.path().join("data");
    std::fs::create_dir(&data).unwrap();
    let d = data.to_str().unwrap();
    ok(
        &["user", "add", "admin", "--data-dir", d],
        &format!("{ADMIN_PW}\n"),
    )
    .await;
    ok(&["user", "add", "bob", "--data-dir", d], "bob-pw\n").await;
    ok(
        &[
            "acl",
            "add",
            "--principal",
            "User:bob",
            "--operation",
            "read",
            "--stream-prefix",
            "logs.",
            "--data-dir",
            d,
        ],
        "",
    )
    .await;
    let token = ok(
        &[
            "token",
            "create",
            "--name",
            "ops",
            "--user",
            "admin",
            "--data-dir",
            d,
        ],
        "",
    )
    .await;
    let token = token.trim().to_owned();
    assert!(token.starts_with("mst_"), "{token}");
    let expired = ok(
        &[
            "token",
            "create",
            "--name",
            "gone",
            "--user",
            "admin",
            "--expires-in-days",
            "0",
            "--data-dir",
            d,
        ],
        "",
    )
    .await;
    let stored = std::fs::read_to_string(data.join("tokens.json")).unwrap();
    assert!(!stored.contains(&token[4..]), "tokens are stored hashed");
    // A token of its own: the principal User:prometheus, allowed by an ACL.
    let scraper = ok(
        &["token", "create", "--name", "prometheus", "--data-dir", d],
        "",
    )
    .await;
    let scraper = scraper.trim().to_owned();
    let describe = [
        "acl",
        "add",
        "--principal",
        "User:prometheus",
        "--operation",
        "describe",
        "--cluster",
        "--data-dir",
        d,
    ];
    ok(&describe, "").await;

    let (cert_file, key_file) = (
        cert.cert_file.to_str().unwrap(),
        cert.key_file.to_str().unwrap(),
    );
    let env = [
        ("MEMSTREAM_AUTH__ENABLED", "true"),
        ("MEMSTREAM_AUTH__SUPERUSERS", "admin"),
        ("MEMSTREAM_AUTH__FAILURE_DELAY_MS", "10"),
        ("MEMSTREAM_ADMIN__TLS__CERT_FILE", cert_file),
        ("MEMSTREAM_ADMIN__TLS__KEY_FILE", key_file),
    ];
    let ca_file = ca.ca_file.to_str().unwrap();
    let bearer = |t: &str| format!("Authorization: Bearer {t}");
    {
        let (server, _, admin, _) = start_env(&data, &env).await;
        let metrics = format!("https://{admin}/metrics");
        let ops = bearer(&token);
        assert_eq!(status(ca_file, &metrics, &["-H", &ops]).await, "200");
        let own = bearer(&scraper);
        assert_eq!(status(ca_file, &metrics, &["-H", &own]).await, "200");
        let gone = bearer(expired.trim());
        assert_eq!(status(ca_file, &metrics, &["-H", &gone]).await, "401");
        assert_eq!(status(ca_file, &metrics, &[]).await, "401");
        let basic = format!("admin:{ADMIN_PW}");
        assert_eq!(status(ca_file, &metrics, &["-u", &basic]).await, "200");
        assert_eq!(
            status(ca_file, &metrics, &["-u", "bob:bob-pw"]).await,
            "403"
        );
        assert_eq!(
            status(ca_file, &format!("https://{admin}/health"), &[]).await,
            "200"
        );
        // Plain HTTP to the TLS listener gets nothing; the server goes on.
        let (_, code, _) = run(
            "curl",
            &[
                "-s",
                "-o",
                "/dev/null",
                "-w",
                "%{http_code}",
                &format!("http://{admin}/health"),
            ],
            "",
        )
        .await;
        assert_eq!(code, "000");
        assert_eq!(status(ca_file, &metrics, &["-H", &ops]).await, "200");
        drop(server);
    }
    // Stopped (SIGKILL): the lock is stale, and offline commands take it.
    let lock_free = async {
        loop {
            let (ok, _, _) = run(
                env!("CARGO_BIN_EXE_memstream"),
                &["token", "revoke", "ops", "--data-dir", d],
                "",
            )
            .await;
            if ok {
                break;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    };
    tokio::time::timeout(crate::common::WAIT, lock_free)
        .await
        .expect("the killed server's lock is released");
    let (_server, _, admin, _) = start_env(&data, &env).await;
    let metrics = format!("https://{admin}/metrics");
    assert_eq!(
        status(ca_file, &metrics, &["-H", &bearer(&token)]).await,
        "401",
        "revoked"
    );
    let basic = format!("admin:{ADMIN_PW}");
    assert_eq!(
        status(ca_file, &metrics, &["-u", &basic]).await,
        "200",
        "users survive a restart"
    );
}

#[tokio::test]
async fn a_sigkill_mid_write_leaves_the_user_and_acl_files_whole() {
    let seed = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .subsec_nanos() as u64;
    println!("seed {seed}");
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path().to_str().unwrap();
    let mut state = seed | 1;
    let mut next = move || {
        // xorshift: the kill delays, reproducible from the seed.
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    };
    // How long one add takes here (debug or release, a loaded machine or not): the kills
    // land from its start to past its end.
    let started = std::time::Instant::now();
    ok(&["user", "add", "probe", "--data-dir", d], "pw\n").await;
    let span = (started.elapsed().as_micros() as u64 * 3 / 2).max(1);
    let mut added = vec!["probe".to_string()];
    for i in 0..16 {
        let name = format!("u{i}");
        let mut child = tokio::process::Command::new(env!("CARGO_BIN_EXE_memstream"))
            .args(["user", "add", &name, "--data-dir", d])
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .kill_on_drop(true)
            .spawn()
            .unwrap();
        use tokio::io::AsyncWriteExt;
        let mut stdin = child.stdin.take().unwrap();
        stdin.write_all(b"pw\n").await.unwrap();
        drop(stdin);
        tokio::time::sleep(Duration::from_micros(next() % span)).await;
        let _ = child.start_kill();
        let status = tokio::time::timeout(crate::common::WAIT, child.wait())
            .await
            .unwrap()
            .unwrap();
        if status.success() {
            added.push(name.clone());
        }
        // Whatever happened, the store reads, and holds every add that completed.
        let list = ok(&["user", "list", "--data-dir", d], "").await;
        for name in &added {
            assert!(
                list.lines().any(|l| l.starts_with(&format!("{name} "))),
                "seed {seed}: {name} lost:\n{list}"
            );
        }
        let args = [
            "acl",
            "add",
            "--principal",
            &format!("User:{}", name),
            "--operation",
            "read",
            "--stream",
            "s",
            "--data-dir",
            d,
        ];
        ok(&args, "").await;
    }
    let acls = ok(&["acl", "list", "--data-dir", d], "").await;
    assert_eq!(acls.lines().count(), 16, "seed {seed}: {acls}");
    println!(
        "seed {seed}: {} of 16 adds completed before their kill",
        added.len()
    );
}
