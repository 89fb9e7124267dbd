//! Shared by the binary's tests: a real `memstream serve` on ephemeral ports.
#![allow(dead_code)] // each test binary uses a different subset

use std::process::Stdio;
use std::time::Duration;

use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};

/// Generous bound for any single wait in a test; never a pass/fail timing threshold.
pub const WAIT: Duration = Duration::from_secs(60);

/// Starts `memstream serve` with its data in `dir`; returns the process (killed on drop) and
/// the address it listens on.
pub async fn start(dir: &std::path::Path) -> (Child, String) {
    start_via(dir, &[]).await
}

/// Like [`start`], with the server run through `wrapper` (a command and its arguments that
/// end by executing the rest of the line, such as `prlimit --fsize=N --`).
pub async fn start_via(dir: &std::path::Path, wrapper: &[&str]) -> (Child, String) {
    let (child, addr, _, _) = spawn(dir, wrapper, &[]).await;
    (child, addr)
}

/// Like [`start`]; also returns the admin (HTTP) address.
pub async fn start_with_admin(dir: &std::path::Path) -> (Child, String, String) {
    let (child, addr, admin, _) = spawn(dir, &[], &[]).await;
    (child, addr, admin)
}

/// Like [`start`]; returns the native, admin and Kafka addresses.
pub async fn start_all(dir: &std::path::Path) -> (Child, String, String, String) {
    spawn(dir, &[], &[]).await
}

/// Like [`start`]; also returns the Kafka listener's address.
pub async fn start_with_kafka(dir: &std::path::Path) -> (Child, String, String) {
    let (child, addr, _, kafka) = spawn(dir, &[], &[]).await;
    (child, addr, kafka)
}

/// Like [`start_all`], with `env` set for the server (configuration keys, say).
pub async fn start_env(
    dir: &std::path::Path,
    env: &[(&str, &str)],
) -> (Child, String, String, String) {
    spawn(dir, &[], env).await
}

async fn spawn(
    dir: &std::path::Path,
    wrapper: &[&str],
    env: &[(&str, &str)],
) -> (Child, String, String, String) {
    let mut command = match wrapper.split_first() {
        Some((program, args)) => {
            let mut c = Command::new(program);
            c.args(args).arg(env!("CARGO_BIN_EXE_memstream"));
            c
        }
        None => Command::new(env!("CARGO_BIN_EXE_memstream")),
    };
    let mut child = command
        .args([
            "serve",
            "--listen",
            "127.0.0.1:0",
            "--admin-listen",
            "127.0.0.1:0",
            "--kafka-listen",
            "127.0.0.1:0",
            "--data-dir",
        ])
        .arg(dir)
        .env_remove("RUST_LOG")
        .env("MEMSTREAM_LOG__LEVEL", "warn")
        .envs(env.iter().copied())
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .expect("spawn memstream");
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let (addr, admin, kafka) = tokio::time::timeout(WAIT, async {
        let (mut addr, mut admin, mut kafka) = (None, None, None);
        while let Some(line) = lines.next_line().await.unwrap() {
            if let Some(a) = line.strip_prefix("memstream listening on ") {
                addr = Some(a.to_owned());
            } else if let Some(a) = line.strip_prefix("memstream admin listening on ") {
                admin = Some(a.to_owned());
            } else if let Some(a) = line.strip_prefix("memstream kafka listening on ") {
                kafka = Some(a.to_owned());
            }
            if let (Some(addr), Some(admin), Some(kafka)) = (&addr, &admin, &kafka) {
                return (addr.clone(), admin.clone(), kafka.clone());
            }
        }
        panic!("server exited before listening");
    })
    .await
    .expect("server starts");
    tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });
    (child, addr, admin, kafka)
}
