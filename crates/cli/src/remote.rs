//! What every client command shares: the `--server` flag, the login flags, a runtime, a
//! connection.

use std::future::Future;
use std::path::PathBuf;
use std::sync::Arc;

use anyhow::Context as _;
use clap::Args;
use memstream_client::{Client, ClientOptions, Credentials};

/// The server a client command talks to, and who to log in as.
#[derive(Args, Clone, Debug)]
pub struct ServerArg {
    /// Server address.
    #[arg(long, env = "MEMSTREAM_SERVER", default_value = "127.0.0.1:7878")]
    pub server: String,
    /// User to log in as, when the server requires authentication.
    #[arg(long, env = "MEMSTREAM_USER", value_name = "NAME")]
    pub user: Option<String>,
    /// File holding the password (its first line). Without it the password comes from
    /// MEMSTREAM_PASSWORD; it is never taken from the command line.
    #[arg(long, value_name = "FILE")]
    pub password_file: Option<PathBuf>,
}

impl ServerArg {
    /// The login, when a user was given.
    pub fn credentials(&self) -> anyhow::Result<Option<Credentials>> {
        let Some(user) = &self.user else {
            return Ok(None);
        };
        let password = match &self.password_file {
            Some(file) => read_password_file(file)?,
            None => std::env::var("MEMSTREAM_PASSWORD")
                .map(String::into_bytes)
                .map_err(|_| {
                    anyhow::anyhow!(
                        "--user {user} needs a password: --password-file FILE or MEMSTREAM_PASSWORD"
                    )
                })?,
        };
        Ok(Some(Credentials::new(user.clone(), password)))
    }

    /// Client options with the login.
    pub fn options(&self) -> anyhow::Result<ClientOptions> {
        Ok(ClientOptions {
            credentials: self.credentials()?,
            ..ClientOptions::default()
        })
    }

    /// Connects, with a one-line error naming the address.
    pub async fn connect(&self) -> anyhow::Result<Arc<Client>> {
        Client::connect_with(self.server.as_str(), self.options()?)
            .await
            .map(Arc::new)
            .map_err(|e| anyhow::anyhow!("cannot connect to {}: {e}", self.server))
    }
}

/// A password from a file: its first line, without the line ending.
pub fn read_password_file(file: &std::path::Path) -> anyhow::Result<Vec<u8>> {
    let text = std::fs::read(file)
        .with_context(|| format!("cannot read the password file {}", file.display()))?;
    let line = text.split(|b| *b == b'\n').next().unwrap_or_default();
    let line = line.strip_suffix(b"\r").unwrap_or(line);
    anyhow::ensure!(
        !line.is_empty(),
        "the password file {} is empty",
        file.display()
    );
    Ok(line.to_vec())
}

/// Runs a client command on a small runtime.
pub fn block_on<T>(future: impl Future<Output = anyhow::Result<T>>) -> anyhow::Result<T> {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?
        .block_on(future)
}
