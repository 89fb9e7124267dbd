//! `memstream user` and `memstream acl` with `--server`: a running server's users and ACLs
//! changed over its native listener (TLS and a SCRAM login as a superuser), taking effect for
//! the next request, and refused to a user without ALTER on the cluster.

use crate::common::start_env;
use crate::kafka_clients::run;

async fn memstream<S: AsRef<str>>(args: &[S], stdin: &str) -> (bool, String, String) {
    let args: Vec<&str> = args.iter().map(AsRef::as_ref).collect();
    run(env!("CARGO_BIN_EXE_memstream"), &args, stdin).await
}

async fn ok<S: AsRef<str>>(args: &[S], stdin: &str) -> String {
    let (ok, out, err) = memstream(args, stdin).await;
    assert!(ok, "memstream {:?}: {err}", strs(args));
    out
}

async fn fails<S: AsRef<str>>(args: &[S], stdin: &str) -> String {
    let (ok, out, err) = memstream(args, stdin).await;
    assert!(!ok, "memstream {:?} should fail: {out}", strs(args));
    err
}

fn strs<S: AsRef<str>>(args: &[S]) -> Vec<&str> {
    args.iter().map(AsRef::as_ref).collect()
}

#[tokio::test]
async fn users_and_acls_are_managed_through_a_running_server() {
    let dir = tempfile::tempdir().unwrap();
    let ca = memstream_net::test_certs::TestCa::new(dir.path(), "online");
    let cert = ca.server("server");
    let data = dir.path().join("data");
    std::fs::create_dir(&data).unwrap();
    let d = data.to_str().unwrap();
    let file = |name: &str, text: &str| {
        let path = dir.path().join(name);
        std::fs::write(&path, format!("{text}\n")).unwrap();
        path.to_str().unwrap().to_owned()
    };
    let (admin_pw, carol_pw, carol_new) = (
        file("admin.pw", "s3cret-admin"),
        file("carol.pw", "carol-one"),
        file("carol2.pw", "carol-two"),
    );
    ok(&["user", "add", "admin", "--data-dir", d], "s3cret-admin\n").await;
    let (cert_file, key_file) = (
        cert.cert_file.to_str().unwrap(),
        cert.key_file.to_str().unwrap(),
    );
    let (_server, native, _, _) = start_env(
        &data,
        &[
            ("MEMSTREAM_AUTH__ENABLED", "true"),
            ("MEMSTREAM_AUTH__SUPERUSERS", "admin"),
            ("MEMSTREAM_AUTH__FAILURE_DELAY_MS", "10"),
            ("MEMSTREAM_NETWORK__TLS__CERT_FILE", cert_file),
            ("MEMSTREAM_NETWORK__TLS__KEY_FILE", key_file),
        ],
    )
    .await;
    let ca_file = ca.ca_file.to_str().unwrap();
    let tls = ["--server", &native, "--tls", "--ca-file", ca_file];
    let with = |head: &[&str], tail: &[&str]| -> Vec<String> {
        head.iter()
            .chain(tls.iter())
            .chain(tail)
            .map(|s| s.to_string())
            .collect()
    };
    // The user commands log in with --login-password-file (--password-file is the new
    // user's); the ACL commands with --password-file, like every client command.
    let as_admin_user = ["--user", "admin", "--login-password-file", &admin_pw];
    let as_admin = ["--user", "admin", "--password-file", &admin_pw];

    let mut add = vec!["user", "add", "carol", "--password-file", &carol_pw];
    add.extend_from_slice(&as_admin_user);
    let out = ok(&with(&add, &[]), "").await;
    assert!(out.contains("user carol added"), "{out}");
    let err = fails(&with(&add, &[]), "").await;
    assert!(err.contains("USER_ALREADY_EXISTS"), "{err}");
    let out = ok(&with(&["user", "list"], &as_admin_user), "").await;
    assert!(
        out.lines()
            .any(|l| l.starts_with("carol ") && l.contains("SCRAM-SHA-256,SCRAM-SHA-512")),
        "{out}"
    );

    // carol may not manage users, nor (yet) write.
    let as_carol = ["--user", "carol", "--password-file", &carol_pw];
    let as_carol_user = ["--user", "carol", "--login-password-file", &carol_pw];
    let err = fails(&with(&["user", "list"], &as_carol_user), "").await;
    assert!(err.contains("NOT_AUTHORIZED"), "{err}");
    ok(
        &with(
            &["stream", "create", "app.events", "--partitions", "1"],
            &as_admin,
        ),
        "",
    )
    .await;
    let produce = with(&["produce", "app.events"], &as_carol);
    let (written, _, err) = memstream(&produce, "one\n").await;
    assert!(!written && err.contains("NOT_AUTHORIZED"), "{err}");

    // Granted online: her next produce is allowed; revoked: refused again.
    let grant = [
        "--principal",
        "User:carol",
        "--operation",
        "write",
        "--stream-prefix",
        "app.",
    ];
    let mut acl_add = vec!["acl", "add"];
    acl_add.extend_from_slice(&grant);
    let out = ok(&with(&acl_add, &as_admin), "").await;
    assert!(out.contains("added: User:carol allow write"), "{out}");
    let (written, _, err) = memstream(&produce, "one\n").await;
    assert!(written, "{err}");
    let out = ok(
        &with(&["acl", "list", "--principal", "User:carol"], &as_admin),
        "",
    )
    .await;
    assert!(out.contains("on stream app.*(prefix)"), "{out}");
    let mut acl_remove = vec!["acl", "remove"];
    acl_remove.extend_from_slice(&grant);
    let out = ok(&with(&acl_remove, &as_admin), "").await;
    assert!(out.contains("removed: User:carol"), "{out}");
    let err = fails(&with(&acl_remove, &as_admin), "").await;
    assert!(err.contains("no ACL matches"), "{err}");
    let (written, _, err) = memstream(&produce, "two\n").await;
    assert!(!written && err.contains("NOT_AUTHORIZED"), "{err}");

    // A new password online: the old one stops working.
    let mut passwd = vec!["user", "passwd", "carol", "--password-file", &carol_new];
    passwd.extend_from_slice(&as_admin_user);
    ok(&with(&passwd, &[]), "").await;
    let err = fails(&with(&["stream", "list"], &as_carol), "").await;
    assert!(err.contains("AUTHENTICATION_FAILED"), "{err}");
    let as_carol_new = ["--user", "carol", "--password-file", &carol_new];
    ok(&with(&["stream", "list"], &as_carol_new), "").await;

    let mut remove = vec!["user", "remove", "carol"];
    remove.extend_from_slice(&as_admin_user);
    ok(&with(&remove, &[]), "").await;
    let err = fails(&with(&remove, &[]), "").await;
    assert!(err.contains("USER_NOT_FOUND"), "{err}");

    // --server and --data-dir are two different places; --iterations is for --server.
    let err = fails(&["user", "list", "--server", &native, "--data-dir", d], "").await;
    assert!(err.contains("cannot be used with"), "{err}");
    let err = fails(
        &[
            "user",
            "add",
            "dave",
            "--iterations",
            "5000",
            "--data-dir",
            d,
        ],
        "pw\n",
    )
    .await;
    assert!(err.contains("--server"), "{err}");
}
