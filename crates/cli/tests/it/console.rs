//! The web console in a real browser: `crates/cli/tests/console/console_test.py` drives
//! headless Chromium (Debian's `chromium` and `chromium-driver`) with Selenium against a real
//! `memstream serve`: every page with no console errors, the message browser, a group's lag
//! appearing and dropping to zero, live updates without a reload, a narrow screen, the
//! keyboard. The browser and Selenium come from `scripts/interop-setup` (CI runs it).
//!
//! `MEMSTREAM_CONSOLE_SCREENSHOTS=docs/console` (a path from the workspace root) also saves
//! a screenshot of every page there, with some traffic for the charts (about a minute more).

use std::time::Duration;

use tokio::process::Command;

use crate::common::{start_env, start_with_admin};
use crate::kafka_clients::{python, root};

/// The whole browser session's bound (each of its waits is bounded at 60 s too).
const SESSION: Duration = Duration::from_secs(600);

fn browser_installed() {
    for tool in ["/usr/bin/chromium", "/usr/bin/chromedriver"] {
        assert!(
            std::path::Path::new(tool).exists(),
            "{tool} is missing: run scripts/interop-setup (it installs chromium and chromium-driver)"
        );
    }
}

/// Runs `command` (a browser session) within [`SESSION`]; returns its stdout.
async fn session(mut command: Command) -> String {
    let run = command.kill_on_drop(true).output();
    let output = tokio::time::timeout(SESSION, run)
        .await
        .expect("the browser session ends within its bound")
        .expect("run the console test");
    let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        output.status.success(),
        "console test failed\nstdout:\n{stdout}\nstderr:\n{stderr}"
    );
    println!("{stdout}");
    stdout
}

fn screenshots() -> Option<std::path::PathBuf> {
    let shots = root().join(std::env::var_os("MEMSTREAM_CONSOLE_SCREENSHOTS")?);
    std::fs::create_dir_all(&shots).unwrap();
    Some(shots)
}

#[tokio::test]
async fn the_console_works_in_a_real_browser() {
    browser_installed();
    let dir = tempfile::tempdir().unwrap();
    let (mut server, addr, admin) = start_with_admin(dir.path()).await;
    let mut command = Command::new(python());
    command
        .arg(root().join("crates/cli/tests/console/console_test.py"))
        .arg(format!("http://{admin}"))
        .arg(&addr)
        .arg(env!("CARGO_BIN_EXE_memstream"));
    command.args(screenshots());
    let stdout = session(command).await;
    assert!(stdout.contains("console ok"), "{stdout}");
    server.kill().await.unwrap();
}

/// With security on: the console's login dialog, a wrong password refused, the right one
/// accepted and kept across a reload, writes through the API with it.
#[tokio::test]
async fn the_console_logs_in_to_a_secure_server() {
    browser_installed();
    let dir = tempfile::tempdir().unwrap();
    let password_file = dir.path().join("admin.pw");
    std::fs::write(&password_file, "c0nsole-pw\n").unwrap();
    let data = dir.path().join("data");
    std::fs::create_dir_all(&data).unwrap();
    let added = Command::new(env!("CARGO_BIN_EXE_memstream"))
        .args(["user", "add", "admin", "--password-file"])
        .arg(&password_file)
        .arg("--data-dir")
        .arg(&data)
        .output()
        .await
        .unwrap();
    assert!(added.status.success(), "{added:?}");
    let env = [
        ("MEMSTREAM_AUTH__ENABLED", "true"),
        ("MEMSTREAM_AUTH__SUPERUSERS", "admin"),
    ];
    let (mut server, _, admin, _) = start_env(&data, &env).await;
    let mut command = Command::new(python());
    command
        .arg(root().join("crates/cli/tests/console/console_login_test.py"))
        .arg(format!("http://{admin}"))
        .args(["admin", "c0nsole-pw"]);
    command.args(screenshots());
    let stdout = session(command).await;
    assert!(stdout.contains("console login ok"), "{stdout}");
    server.kill().await.unwrap();
}
