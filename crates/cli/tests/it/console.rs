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

use crate::common::start_with_admin;
use crate::kafka_clients::{python, root};

/// The whole browser session's bound (each of its waits is bounded at 60 s too).
const SESSION: Duration = Duration::from_secs(600);

#[tokio::test]
async fn the_console_works_in_a_real_browser() {
    for tool in ["/usr/bin/chromium", "/usr/bin/chromedriver"] {
        assert!(
            std::path::Path::new(tool).exists(),
            "{tool} is missing: run scripts/interop-setup (it installs chromium and chromium-driver)"
        );
    }
    let dir = tempfile::tempdir().unwrap();
    let (mut server, addr, admin) = start_with_admin(dir.path()).await;
    let mut command = Command::new(python());
    command
        .arg(root().join("crates/cli/tests/console/console_test.py"))
        .arg(format!("http://{admin}"))
        .arg(&addr)
        .arg(env!("CARGO_BIN_EXE_memstream"));
    if let Some(shots) = std::env::var_os("MEMSTREAM_CONSOLE_SCREENSHOTS") {
        let shots = root().join(shots);
        std::fs::create_dir_all(&shots).unwrap();
        command.arg(shots);
    }
    let run = command.kill_on_drop(true).output();
    let output = tokio::time::timeout(SESSION, run)
        .await
        .expect("the browser session ends within its bound")
        .expect("run the console test");
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        output.status.success(),
        "console test failed\nstdout:\n{stdout}\nstderr:\n{stderr}"
    );
    assert!(stdout.contains("console ok"), "{stdout}");
    println!("{stdout}");
    server.kill().await.unwrap();
}
