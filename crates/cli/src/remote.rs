//! What every client command shares: the `--server` flag, a runtime, a connection.

use std::future::Future;
use std::sync::Arc;

use clap::Args;
use memstream_client::Client;

/// The server a client command talks to.
#[derive(Args, Clone, Debug)]
pub struct ServerArg {
    /// Server address.
    #[arg(long, env = "MEMSTREAM_SERVER", default_value = "127.0.0.1:7878")]
    pub server: String,
}

impl ServerArg {
    /// Connects, with a one-line error naming the address.
    pub async fn connect(&self) -> anyhow::Result<Arc<Client>> {
        Client::connect(self.server.as_str())
            .await
            .map(Arc::new)
            .map_err(|e| anyhow::anyhow!("cannot connect to {}: {e}", self.server))
    }
}

/// Runs a client command on a small runtime.
pub fn block_on<T>(future: impl Future<Output = anyhow::Result<T>>) -> anyhow::Result<T> {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?
        .block_on(future)
}
