//! The real `memstream` binary: start with no config file, signals, reload, config commands.

use std::path::Path;
use std::process::Stdio;
use std::time::Duration;

use bytes::{Bytes, BytesMut};
use memstream_client::Client;
use memstream_protocol::{ErrorBody, ErrorCode, Frame, FrameCodec, HelloRequest, Opcode};
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader, Lines};
use tokio::net::TcpStream;
use tokio::process::{Child, ChildStderr, Command};
use tokio_util::codec::Decoder;

const WAIT: Duration = Duration::from_secs(30);

struct Running {
    child: Child,
    addr: String,
    stderr: Lines<BufReader<ChildStderr>>,
    /// Kept open so the server never writes to a closed pipe.
    _stdout: Lines<BufReader<tokio::process::ChildStdout>>,
}

impl Running {
    /// Starts `memstream serve` on ephemeral ports inside `dir`, plus `extra` args and env.
    async fn start(dir: &Path, extra: &[&str], env: &[(&str, &str)]) -> Running {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_memstream"));
        cmd.arg("serve")
            .args(["--listen", "127.0.0.1:0", "--admin-listen", "127.0.0.1:0"])
            .args(["--kafka-listen", "127.0.0.1:0"])
            .args(extra)
            .current_dir(dir)
            .env_remove("RUST_LOG")
            .envs(env.iter().copied())
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .kill_on_drop(true);
        let mut child = cmd.spawn().expect("spawn memstream");
        let mut stdout = BufReader::new(child.stdout.take().unwrap()).lines();
        let stderr = BufReader::new(child.stderr.take().unwrap()).lines();
        let addr = tokio::time::timeout(WAIT, async {
            while let Some(line) = stdout.next_line().await.unwrap() {
                if let Some(addr) = line.strip_prefix("memstream listening on ") {
                    return addr.to_owned();
                }
            }
            panic!("memstream exited before listening");
        })
        .await
        .expect("server starts");
        Running {
            child,
            addr,
            stderr,
            _stdout: stdout,
        }
    }

    #[allow(unsafe_code)]
    fn signal(&self, sig: i32) {
        let pid = self.child.id().expect("running") as i32;
        // SAFETY: kill(2) with a pid we spawned and own; no memory is shared.
        assert_eq!(unsafe { libc::kill(pid, sig) }, 0);
    }

    /// Waits for a log line on stderr containing `needle`.
    async fn log_line(&mut self, needle: &str) -> String {
        let mut seen = Vec::new();
        let found = tokio::time::timeout(WAIT, async {
            while let Some(line) = self.stderr.next_line().await.unwrap() {
                if line.contains(needle) {
                    return Some(line);
                }
                seen.push(line);
            }
            None
        })
        .await;
        match found {
            Ok(Some(line)) => line,
            Ok(None) => panic!("stderr ended before a line with {needle:?}; saw {seen:#?}"),
            Err(_) => panic!("no log line with {needle:?}; saw {seen:#?}"),
        }
    }

    async fn exit_code(mut self) -> i32 {
        let status = tokio::time::timeout(WAIT, self.child.wait())
            .await
            .expect("process exits")
            .unwrap();
        status.code().expect("exit code, not a signal")
    }
}

#[tokio::test]
async fn starts_without_a_config_file_and_stops_on_sigterm() {
    let dir = tempfile::tempdir().unwrap();
    let server = Running::start(dir.path(), &[], &[]).await;
    let client = Client::connect(server.addr.as_str()).await.unwrap();
    assert_eq!(client.server().server_name, "memstream");
    assert_eq!(
        client.ping(Bytes::from_static(b"x")).await.unwrap(),
        Bytes::from_static(b"x")
    );
    // The default data directory is created relative to the working directory.
    assert!(dir.path().join("memstream-data").is_dir());
    server.signal(libc::SIGTERM);
    assert_eq!(server.exit_code().await, 0);
}

#[tokio::test]
async fn sigint_with_requests_in_flight_answers_them_and_exits_zero() {
    let dir = tempfile::tempdir().unwrap();
    let server = Running::start(dir.path(), &[], &[]).await;
    let mut stream = TcpStream::connect(server.addr.as_str()).await.unwrap();
    let mut out = BytesMut::new();
    HelloRequest::new(1, 1, "t").to_frame(1).encode(&mut out);
    for id in 2..=5000u64 {
        Frame::request(Opcode::Ping, id, Bytes::from_static(&[1; 64])).encode(&mut out);
    }
    stream.write_all(&out).await.unwrap();
    let mut codec = FrameCodec::new(u32::MAX);
    let mut buf = BytesMut::new();
    // Wait for the first answers, then interrupt.
    while buf.len() < 200 {
        stream.read_buf(&mut buf).await.unwrap();
    }
    server.signal(libc::SIGINT);
    let mut ids = Vec::new();
    let mut goodbye = None;
    loop {
        while let Some(frame) = codec.decode(&mut buf).unwrap() {
            if frame.opcode == Opcode::Goodbye.as_u8() {
                goodbye = Some(frame);
            } else {
                ids.push(frame.correlation_id);
            }
        }
        let n = tokio::time::timeout(WAIT, stream.read_buf(&mut buf))
            .await
            .expect("server keeps talking until it closes")
            .unwrap_or(0);
        if n == 0 {
            break;
        }
    }
    let goodbye = goodbye.expect("GOODBYE before close");
    let body = ErrorBody::decode(&goodbye.payload).unwrap();
    assert_eq!(body.known_code(), Some(ErrorCode::ShuttingDown));
    assert_eq!(ids, (1..=ids.len() as u64).collect::<Vec<_>>());
    assert_eq!(server.exit_code().await, 0);
}

#[tokio::test]
async fn a_second_signal_exits_at_once() {
    let dir = tempfile::tempdir().unwrap();
    let mut server = Running::start(
        dir.path(),
        &[],
        &[
            ("MEMSTREAM_SERVER__SHUTDOWN_TIMEOUT_MS", "600000"),
            ("MEMSTREAM_NETWORK__MAX_WRITE_QUEUE_BYTES", "1048576"),
        ],
    )
    .await;
    // A client that never reads keeps the graceful shutdown waiting for its write queue.
    let mut stream = TcpStream::connect(server.addr.as_str()).await.unwrap();
    let mut out = BytesMut::new();
    HelloRequest::new(1, 1, "t").to_frame(1).encode(&mut out);
    for id in 2..=40_000u64 {
        Frame::request(Opcode::Ping, id, Bytes::from_static(&[2; 1000])).encode(&mut out);
    }
    let (_read_half, mut write_half) = stream.split();
    // The server stops reading once its queue is full, so this write never completes.
    let _ = tokio::time::timeout(Duration::from_millis(500), write_half.write_all(&out)).await;
    server.signal(libc::SIGTERM);
    server.log_line("shutting down gracefully").await;
    server.signal(libc::SIGTERM);
    assert_eq!(server.exit_code().await, 130);
}

#[tokio::test]
async fn sighup_reloads_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("memstream.toml");
    std::fs::write(
        &file,
        "[server]\nconfig_poll_ms = 3600000\n[network]\nmax_connections = 10\n",
    )
    .unwrap();
    let mut server = Running::start(dir.path(), &["--config", file.to_str().unwrap()], &[]).await;
    let first = Client::connect(server.addr.as_str()).await.unwrap();
    std::fs::write(
        &file,
        "[server]\nconfig_poll_ms = 3600000\n[network]\nmax_connections = 1\n",
    )
    .unwrap();
    server.signal(libc::SIGHUP);
    let line = server.log_line("configuration reloaded").await;
    assert!(line.contains("applied=1"), "{line}");
    let refused = Client::connect(server.addr.as_str())
        .await
        .err()
        .expect("over the limit");
    assert_eq!(
        refused.code(),
        Some(ErrorCode::TooManyConnections),
        "{refused}"
    );
    first.ping(Bytes::new()).await.unwrap();
    server.signal(libc::SIGTERM);
    assert_eq!(server.exit_code().await, 0);
}

#[tokio::test]
async fn invalid_configuration_names_the_key() {
    let dir = tempfile::tempdir().unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_memstream"))
        .args(["serve", "--listen", "127.0.0.1:0"])
        .current_dir(dir.path())
        .env("MEMSTREAM_NETWORK__MAX_CONNECTIONS", "zero")
        .output()
        .await
        .unwrap();
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("network.max_connections"), "{stderr}");
    assert!(stderr.contains("zero"), "{stderr}");
}

#[tokio::test]
async fn a_second_server_on_the_data_dir_or_the_port_gets_one_clear_line() {
    let dir = tempfile::tempdir().unwrap();
    let first = Running::start(dir.path(), &[], &[]).await;
    let run_second = |args: Vec<String>| {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_memstream"));
        cmd.arg("serve")
            .args(args)
            .current_dir(dir.path())
            .env_remove("RUST_LOG")
            .stdin(Stdio::null());
        async move {
            tokio::time::timeout(WAIT, cmd.output())
                .await
                .unwrap()
                .unwrap()
        }
    };
    // Other ports, same data directory: refused before it opens anything.
    let ephemeral = [
        "--listen",
        "127.0.0.1:0",
        "--admin-listen",
        "127.0.0.1:0",
        "--kafka-listen",
        "127.0.0.1:0",
    ];
    let out = run_second(ephemeral.iter().map(|s| s.to_string()).collect()).await;
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    let errors: Vec<&str> = stderr.lines().filter(|l| l.starts_with("error:")).collect();
    assert_eq!(errors.len(), 1, "{stderr}");
    let pid = first.child.id().unwrap().to_string();
    assert!(
        errors[0].contains("in use by another memstream server") && errors[0].contains(&pid),
        "{stderr}"
    );
    // Its port: the OS error is said once.
    let other = tempfile::tempdir().unwrap();
    let args = vec![
        "--listen".to_string(),
        first.addr.clone(),
        "--data-dir".to_string(),
        other.path().display().to_string(),
    ];
    let out = run_second(args).await;
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(
        stderr.matches("Address already in use").count(),
        1,
        "{stderr}"
    );
    first.signal(libc::SIGTERM);
    assert_eq!(first.exit_code().await, 0);
    // Released on exit: a new server starts on the same directory.
    let again = Running::start(dir.path(), &[], &[]).await;
    again.signal(libc::SIGTERM);
    assert_eq!(again.exit_code().await, 0);
}

#[tokio::test]
async fn config_show_names_where_each_value_came_from() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("m.toml");
    std::fs::write(&file, "[network]\nidle_timeout_ms = 1234\n").unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_memstream"))
        .args([
            "config",
            "show",
            "--config",
            file.to_str().unwrap(),
            "--listen",
            "127.0.0.1:9999",
        ])
        .env("MEMSTREAM_NETWORK__MAX_CONNECTIONS", "5000")
        .output()
        .await
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8(out.stdout).unwrap();
    let line = |key: &str| {
        text.lines()
            .find(|l| l.trim_start().starts_with(&format!("{key} =")))
            .unwrap_or_else(|| panic!("{key} missing in\n{text}"))
            .to_owned()
    };
    assert!(line("max_connections").contains("5000"));
    assert!(line("max_connections").contains("MEMSTREAM_NETWORK__MAX_CONNECTIONS"));
    assert!(line("idle_timeout_ms").contains("1234"));
    assert!(line("idle_timeout_ms").contains("m.toml"));
    assert!(line("listen").contains("--listen") || text.contains("--listen"));
    assert!(line("max_frame_bytes").contains("default"));
}

#[tokio::test]
async fn config_check_accepts_good_files_and_explains_bad_ones() {
    let dir = tempfile::tempdir().unwrap();
    let good = dir.path().join("good.toml");
    std::fs::write(&good, "[network]\nmax_connections = 50\n").unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_memstream"))
        .args(["config", "check", good.to_str().unwrap()])
        .output()
        .await
        .unwrap();
    assert!(out.status.success());

    let bad = dir.path().join("bad.toml");
    std::fs::write(&bad, "[network]\nmax_frame_bytes = 10\n").unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_memstream"))
        .args(["config", "check", bad.to_str().unwrap()])
        .output()
        .await
        .unwrap();
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("network.max_frame_bytes") && stderr.contains("10"),
        "{stderr}"
    );
}

#[tokio::test]
async fn sighup_changes_the_log_level_live_and_flags_restart_keys() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("memstream.toml");
    let write = |level: &str, data_dir: &str| {
        std::fs::write(
            &file,
            format!(
                "[server]\nconfig_poll_ms = 3600000\ndata_dir = \"{data_dir}\"\n[log]\nlevel = \"{level}\"\n"
            ),
        )
        .unwrap();
    };
    write("warn", "data-a");
    let mut server = Running::start(dir.path(), &["--config", file.to_str().unwrap()], &[]).await;
    write("info", "data-b");
    server.signal(libc::SIGHUP);
    // Logged at warn: visible before and after the change.
    let line = server.log_line("server.data_dir").await;
    assert!(line.contains("WARN"), "{line}");
    // Logged at info: only visible once the new level is in force.
    server.log_line("log level changed").await;
    server.signal(libc::SIGTERM);
    assert_eq!(server.exit_code().await, 0);
    assert!(dir.path().join("data-a").is_dir() && !dir.path().join("data-b").exists());
}
