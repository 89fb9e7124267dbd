//! The README's "A short session", run as written against a real server: every command's
//! output must be what the README shows (record timestamps aside), so the README stays true.

use crate::common;

use std::process::Stdio;

use common::{start_all, WAIT};
use tokio::process::Command;

/// The console block of the README's session: (command, expected output lines).
fn session() -> Vec<(String, Vec<String>)> {
    let readme = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../../README.md"))
        .expect("README.md");
    let section = &readme[readme
        .find("## A short session")
        .expect("the session section")..];
    let start = section.find("```console\n").expect("a console block") + "```console\n".len();
    let block = &section[start..start + section[start..].find("```").expect("closed block")];
    let mut steps: Vec<(String, Vec<String>)> = Vec::new();
    for line in block.lines() {
        if let Some(command) = line.strip_prefix("$ ") {
            steps.push((command.to_owned(), Vec::new()));
        } else if let Some((_, out)) = steps.last_mut() {
            if !line.is_empty() {
                out.push(line.to_owned());
            }
        }
    }
    steps
}

/// Record timestamps and round-trip times differ from run to run.
fn normalise(line: &str) -> String {
    let mut line = line.to_owned();
    for key in ["\"timestamp\":", "time="] {
        if let Some(at) = line.find(key) {
            let rest = &line[at + key.len()..];
            let digits = rest
                .bytes()
                .take_while(|b| b.is_ascii_digit() || *b == b'.')
                .count();
            line = format!("{}{key}N{}", &line[..at], &rest[digits..]);
        }
    }
    line
}

#[tokio::test]
async fn the_readme_session_prints_what_the_readme_shows() {
    let dir = tempfile::tempdir().unwrap();
    let (mut server, addr, admin, kafka) = start_all(dir.path()).await;
    let bin = env!("CARGO_BIN_EXE_memstream");
    let bin_dir = std::path::Path::new(bin)
        .parent()
        .unwrap()
        .display()
        .to_string();
    let path = format!("{bin_dir}:{}", std::env::var("PATH").unwrap_or_default());
    let mut checked = 0;
    for (command, expected) in session() {
        // The server is already running (on other ports); the kill would stop the real one.
        if command.contains("serve &") || command.starts_with("kill") {
            continue;
        }
        let command = command
            .replace("cargo run -q -p memstream --", "memstream")
            .replace("cargo run --release -p memstream --", "memstream")
            .replace("127.0.0.1:7879", &admin)
            .replace("127.0.0.1:9092", &kafka);
        if command.contains("kcat") {
            crate::kafka_clients::kcat();
        }
        if command.starts_with("curl")
            && std::process::Command::new("curl")
                .arg("--version")
                .output()
                .is_err()
        {
            panic!("the README session uses curl; install it (CI does)");
        }
        let out = Command::new("sh")
            .args(["-c", &command])
            .env("PATH", &path)
            .env("MEMSTREAM_SERVER", &addr)
            .env_remove("RUST_LOG")
            .stdin(Stdio::null())
            .output();
        let out = tokio::time::timeout(WAIT, out)
            .await
            .expect("command finishes")
            .unwrap();
        let stdout = String::from_utf8_lossy(&out.stdout);
        // "..." in the README elides the rest of a command's output.
        let shown: Vec<&String> = expected
            .iter()
            .take_while(|l| l.as_str() != "...")
            .collect();
        let elided = shown.len() < expected.len();
        let mut got: Vec<String> = stdout.lines().map(normalise).collect();
        if elided {
            got.truncate(shown.len());
        }
        let want: Vec<String> = shown
            .iter()
            .map(|l| normalise(&l.replace("127.0.0.1:7878", &addr)))
            .collect();
        assert_eq!(
            got,
            want,
            "`{command}` printed\n{stdout}\nstderr: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        checked += 1;
    }
    assert!(checked >= 9, "only {checked} commands checked");

    // The "Kafka clients" snippet, run as written (after the session, as the README says).
    let section = &readme()[readme()
        .find("## Kafka clients")
        .expect("the Kafka section")..];
    let start = section.find("```python\n").expect("a python block") + "```python\n".len();
    let snippet = section[start..start + section[start..].find("```").unwrap()]
        .replace("127.0.0.1:9092", &kafka);
    let shown = section
        .split_once("prints `")
        .and_then(|(_, rest)| rest.split_once('`'))
        .expect("the printed line")
        .0;
    let out = Command::new(crate::kafka_clients::python())
        .args(["-c", &snippet])
        .stdin(Stdio::null())
        .output();
    let out = tokio::time::timeout(WAIT, out)
        .await
        .expect("snippet finishes")
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(String::from_utf8_lossy(&out.stdout).trim(), shown);
    server.kill().await.unwrap();
}

fn readme() -> String {
    std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../../README.md"))
        .expect("README.md")
}
