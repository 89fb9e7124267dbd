//! `memstream top`: a live terminal view of a server, like `nats top`: the node's rates,
//! connections and lag, its streams and its consumer groups, redrawn at every snapshot of
//! the admin API's live view (`GET /api/v1/events`, one per `admin.events_interval_ms`).

mod feed;
mod view;

use std::io::IsTerminal as _;
use std::path::PathBuf;

use anyhow::Context as _;
use clap::Args;
use ratatui::crossterm::event::{self, Event, KeyCode, KeyEventKind, KeyModifiers};
use tokio::sync::{mpsc, watch};

use feed::{Feed, Target};
use view::Sort;

/// Keys (and resizes) waiting to be handled; a terminal sends few.
const INPUT_QUEUE: usize = 16;

#[derive(Args, Debug)]
pub struct TopArgs {
    /// The server's admin (HTTP) listener.
    #[arg(long, env = "MEMSTREAM_ADMIN", default_value = "127.0.0.1:7879")]
    pub admin: String,
    /// User to log in as (HTTP basic), when the server requires authentication.
    #[arg(long, env = "MEMSTREAM_USER", value_name = "NAME")]
    pub user: Option<String>,
    /// File holding the password (its first line); else MEMSTREAM_PASSWORD.
    #[arg(long, value_name = "FILE")]
    pub password_file: Option<PathBuf>,
    /// File holding an admin token (`memstream token create`), used instead of --user.
    #[arg(long, value_name = "FILE")]
    pub token_file: Option<PathBuf>,
    /// Connect with TLS (the admin listener's [admin.tls]).
    #[arg(long, env = "MEMSTREAM_TLS")]
    pub tls: bool,
    /// CA certificates (PEM) to trust for --tls (default: the system's).
    #[arg(long, value_name = "FILE", env = "MEMSTREAM_CA_FILE")]
    pub ca_file: Option<PathBuf>,
    /// Client certificate (PEM) for mutual TLS, with --key; implies --tls.
    #[arg(long, value_name = "FILE")]
    pub cert: Option<PathBuf>,
    /// The client certificate's private key (PEM).
    #[arg(long, value_name = "FILE", requires = "cert")]
    pub key: Option<PathBuf>,
}

impl TopArgs {
    fn target(&self) -> anyhow::Result<Target> {
        use base64::Engine as _;
        let authorization = match (&self.token_file, &self.user) {
            (Some(file), _) => {
                let token = crate::remote::read_password_file(file)
                    .with_context(|| format!("the token file {}", file.display()))?;
                Some(format!("Bearer {}", String::from_utf8_lossy(&token)))
            }
            (None, Some(user)) => {
                let password = crate::remote::login_password(user, self.password_file.as_deref())?;
                let mut pair = format!("{user}:").into_bytes();
                pair.extend_from_slice(&password);
                Some(format!(
                    "Basic {}",
                    base64::engine::general_purpose::STANDARD.encode(pair)
                ))
            }
            (None, None) => None,
        };
        let tls = if self.tls || self.cert.is_some() || self.ca_file.is_some() {
            let files = memstream_net::tls::ClientTlsFiles {
                ca_file: self.ca_file.clone(),
                cert_file: self.cert.clone(),
                key_file: self.key.clone(),
            };
            let config = memstream_net::tls::client_config(&files)?;
            Some((config, crate::remote::host_of(&self.admin).to_owned()))
        } else {
            None
        };
        Ok(Target {
            admin: self.admin.clone(),
            authorization,
            tls,
        })
    }
}

/// `memstream top` on a runtime of its own.
pub fn run_blocking(args: TopArgs) -> anyhow::Result<std::process::ExitCode> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    runtime.block_on(run(args))?;
    Ok(std::process::ExitCode::SUCCESS)
}

/// Runs until the user quits (q, Esc or Ctrl-C).
pub async fn run(args: TopArgs) -> anyhow::Result<()> {
    anyhow::ensure!(
        std::io::stdout().is_terminal(),
        "memstream top draws on a terminal; for scripts, read GET /api/v1/events or /metrics"
    );
    let target = args.target()?;
    let (tx, mut feed) = watch::channel(Feed::Connecting);
    let follower = tokio::spawn(feed::follow(target, tx));
    let (keys_tx, mut keys) = mpsc::channel(INPUT_QUEUE);
    // crossterm reads the terminal with blocking calls: on a thread of its own, which ends
    // when the channel closes.
    std::thread::spawn(move || loop {
        match event::poll(std::time::Duration::from_millis(250)) {
            Ok(true) => match event::read() {
                Ok(e) => {
                    if keys_tx.blocking_send(e).is_err() {
                        return;
                    }
                }
                Err(_) => return,
            },
            Ok(false) if keys_tx.is_closed() => return,
            Ok(false) => {}
            Err(_) => return,
        }
    });
    let mut terminal = ratatui::init();
    let mut sort = Sort::default();
    let result = loop {
        let current = feed.borrow().clone();
        if let Err(e) = terminal.draw(|f| view::draw(f, &args.admin, &current, sort)) {
            break Err(e.into());
        }
        tokio::select! {
            changed = feed.changed() => {
                if changed.is_err() {
                    break Ok(());
                }
            }
            key = keys.recv() => match key {
                Some(Event::Key(k)) if k.kind == KeyEventKind::Press => match k.code {
                    KeyCode::Char('q') | KeyCode::Esc => break Ok(()),
                    KeyCode::Char('c') if k.modifiers.contains(KeyModifiers::CONTROL) => break Ok(()),
                    KeyCode::Char('s') => sort = sort.next(),
                    _ => {}
                },
                Some(_) => {}
                None => break Ok(()),
            },
        }
    };
    ratatui::restore();
    follower.abort();
    result
}

#[cfg(test)]
mod tests {
    use clap::Parser as _;

    use super::*;

    #[derive(clap::Parser)]
    struct Cli {
        #[command(flatten)]
        top: TopArgs,
    }

    #[test]
    fn credentials_become_the_authorization_header() {
        let dir = tempfile::tempdir().unwrap();
        let pw = dir.path().join("pw");
        std::fs::write(&pw, "s3cret\n").unwrap();
        let token = dir.path().join("token");
        std::fs::write(&token, "ms_abc\n").unwrap();
        let pw = pw.to_str().unwrap();
        let args = Cli::parse_from(["top", "--user", "ops", "--password-file", pw]).top;
        // base64("ops:s3cret")
        assert_eq!(
            args.target().unwrap().authorization.as_deref(),
            Some("Basic b3BzOnMzY3JldA==")
        );
        let args = Cli::parse_from(["top", "--token-file", token.to_str().unwrap()]).top;
        assert_eq!(
            args.target().unwrap().authorization.as_deref(),
            Some("Bearer ms_abc")
        );
        let args = Cli::parse_from(["top"]).top;
        let target = args.target().unwrap();
        assert_eq!(
            (target.admin.as_str(), target.authorization),
            ("127.0.0.1:7879", None)
        );
        assert!(target.tls.is_none());
        // The name TLS checks: the host of host:port.
        assert_eq!(
            crate::remote::host_of("broker.example:7879"),
            "broker.example"
        );
        assert_eq!(crate::remote::host_of("[::1]:7879"), "::1");
    }
}
