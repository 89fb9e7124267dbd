//! `memstream top` under a real pseudo-terminal (tmux): its first screen shows the server's
//! streams and groups from the admin API's live view, and `q` quits it.

use std::process::Command;
use std::time::{Duration, Instant};

use crate::common::{start_with_admin, WAIT};

fn tmux(socket: &str, args: &[&str]) -> std::process::Output {
    Command::new("tmux")
        .args(["-L", socket])
        .args(args)
        .output()
        .expect("tmux is missing: apt-get install tmux (.ci/run installs it)")
}

/// Runs `check` on the pane's text until it holds, within [`WAIT`].
fn until_screen(socket: &str, what: &str, check: impl Fn(&str) -> bool) -> String {
    let deadline = Instant::now() + WAIT;
    loop {
        let screen =
            String::from_utf8_lossy(&tmux(socket, &["capture-pane", "-p", "-t", "top"]).stdout)
                .into_owned();
        if check(&screen) {
            return screen;
        }
        assert!(
            Instant::now() < deadline,
            "{what} within {WAIT:?}; the screen:\n{screen}"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

#[tokio::test]
async fn top_shows_streams_and_groups_and_quits_on_q() {
    let dir = tempfile::tempdir().unwrap();
    let (_server, addr, admin) = start_with_admin(dir.path()).await;
    let memstream = env!("CARGO_BIN_EXE_memstream");
    let cli = |args: &[&str], stdin: &str| {
        use std::io::Write as _;
        let mut child = Command::new(memstream)
            .args(args)
            .args(["--server", &addr])
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::null())
            .spawn()
            .unwrap();
        child
            .stdin
            .take()
            .unwrap()
            .write_all(stdin.as_bytes())
            .unwrap();
        assert!(child.wait().unwrap().success(), "memstream {args:?}");
    };
    cli(&["stream", "create", "orders", "--partitions", "3"], "");
    cli(
        &["produce", "orders", "--partition", "0"],
        "one\ntwo\nthree\n",
    );
    cli(
        &["consume", "orders", "--group", "billing", "--count", "1"],
        "",
    );

    let socket = format!("memstream-top-{}", std::process::id());
    let command = format!("{memstream} top --admin {admin}");
    let started = tmux(
        &socket,
        &[
            "new-session",
            "-d",
            "-s",
            "top",
            "-x",
            "120",
            "-y",
            "30",
            &command,
        ],
    );
    assert!(started.status.success(), "{started:?}");
    let screen = until_screen(&socket, "the first screen with orders and billing", |s| {
        s.contains("orders") && s.contains("billing")
    });
    assert!(
        screen.contains(&format!("memstream top: {admin}")),
        "{screen}"
    );
    assert!(screen.contains("streams (1)"), "{screen}");
    // billing committed 1 of 3 on partition 0: its lag is 2.
    let billing = screen.lines().find(|l| l.contains("billing")).unwrap();
    assert!(
        billing.trim_end_matches(['│', ' ']).ends_with('2'),
        "{billing}"
    );
    // `s` changes the sort, `q` quits (the session ends with it).
    tmux(&socket, &["send-keys", "-t", "top", "s"]);
    until_screen(&socket, "the sort by name", |s| s.contains("(by name)"));
    tmux(&socket, &["send-keys", "-t", "top", "q"]);
    let deadline = Instant::now() + WAIT;
    while tmux(&socket, &["has-session", "-t", "top"])
        .status
        .success()
    {
        assert!(Instant::now() < deadline, "top did not quit on q");
        std::thread::sleep(Duration::from_millis(100));
    }
    tmux(&socket, &["kill-server"]);
}
