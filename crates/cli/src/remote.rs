//! What every client command shares: the `--server` flag, the login flags, a runtime, a
//! connection.

use std::future::Future;
use std::path::PathBuf;
use std::sync::Arc;

use anyhow::Context as _;
use clap::Args;
use memstream_client::{Client, ClientOptions, ClientTls, Credentials};

/// Where a client command connects and how: the flags every client command shares.
#[derive(Args, Clone, Debug)]
pub struct Connect {
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
    /// Connect with TLS; the server's certificate must name the --server host.
    #[arg(long, env = "MEMSTREAM_TLS")]
    pub tls: bool,
    /// CA certificates (PEM) to trust for --tls (default: the system's).
    #[arg(long, value_name = "FILE", env = "MEMSTREAM_CA_FILE")]
    pub ca_file: Option<PathBuf>,
    /// Client certificate (PEM) for mutual TLS, with its key; implies --tls.
    #[arg(long, value_name = "FILE")]
    pub cert: Option<PathBuf>,
}

/// The server a client command talks to, and who to log in as.
#[derive(Args, Clone, Debug)]
pub struct ServerArg {
    #[command(flatten)]
    pub connect: Connect,
    /// The client certificate's private key (PEM).
    #[arg(long, value_name = "FILE", requires = "cert")]
    pub key: Option<PathBuf>,
}

/// [`ServerArg`] for `memstream produce`, whose `--key` is the record key: the client
/// certificate's key is `--tls-key` there.
#[derive(Args, Clone, Debug)]
pub struct ProduceServerArg {
    #[command(flatten)]
    pub connect: Connect,
    /// The client certificate's private key (PEM) (`--key` elsewhere).
    #[arg(long, value_name = "FILE", requires = "cert")]
    pub tls_key: Option<PathBuf>,
}

impl From<ProduceServerArg> for ServerArg {
    fn from(a: ProduceServerArg) -> ServerArg {
        ServerArg {
            connect: a.connect,
            key: a.tls_key,
        }
    }
}

impl std::ops::Deref for ServerArg {
    type Target = Connect;
    fn deref(&self) -> &Connect {
        &self.connect
    }
}

impl ServerArg {
    /// The login, when a user was given.
    pub fn credentials(&self) -> anyhow::Result<Option<Credentials>> {
        let Some(user) = &self.user else {
            return Ok(None);
        };
        let password = login_password(user, self.password_file.as_deref())?;
        Ok(Some(Credentials::new(user.clone(), password)))
    }

    /// Client options with the login and TLS.
    pub fn options(&self) -> anyhow::Result<ClientOptions> {
        Ok(ClientOptions {
            credentials: self.credentials()?,
            tls: self.tls()?,
            ..ClientOptions::default()
        })
    }

    fn tls(&self) -> anyhow::Result<Option<ClientTls>> {
        if !(self.tls || self.cert.is_some() || self.ca_file.is_some()) {
            return Ok(None);
        }
        let files = memstream_net::tls::ClientTlsFiles {
            ca_file: self.ca_file.clone(),
            cert_file: self.cert.clone(),
            key_file: self.key.clone(),
        };
        let config = memstream_net::tls::client_config(&files)?;
        Ok(Some(ClientTls {
            config,
            server_name: Some(host_of(&self.server).to_owned()),
        }))
    }

    /// Connects, with a one-line error naming the address.
    pub async fn connect(&self) -> anyhow::Result<Arc<Client>> {
        Client::connect_with(self.server.as_str(), self.options()?)
            .await
            .map(Arc::new)
            .map_err(|e| anyhow::anyhow!("cannot connect to {}: {e}", self.server))
    }
}

/// The host of `host:port`, brackets off an IPv6 address: the name a TLS certificate must
/// carry.
pub fn host_of(address: &str) -> &str {
    address
        .rsplit_once(':')
        .map_or(address, |(h, _)| h)
        .trim_matches(['[', ']'])
}

/// The password `user` logs in with: the first line of `file`, else MEMSTREAM_PASSWORD.
pub fn login_password(user: &str, file: Option<&std::path::Path>) -> anyhow::Result<Vec<u8>> {
    match file {
        Some(file) => read_password_file(file),
        None => std::env::var("MEMSTREAM_PASSWORD")
            .map(String::into_bytes)
            .map_err(|_| {
                anyhow::anyhow!(
                    "--user {user} needs a password: --password-file FILE or MEMSTREAM_PASSWORD"
                )
            }),
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
