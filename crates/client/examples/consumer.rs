//! Reads a stream from its start through a push subscription and prints each record.
//!
//! ```sh
//! cargo run -p memstream-client --example consumer -- orders 10
//! ```
//!
//! Arguments: stream or pattern (default `example`), number of records to read before
//! stopping (default 10). The server address comes from `MEMSTREAM_SERVER` (default
//! `127.0.0.1:7878`). Credit is managed by the subscription: it grants the server more bytes
//! as records are taken, so a slow reader slows the server down instead of buffering.

use std::sync::Arc;

use memstream_client::{Client, ClientError, Subscription};
use memstream_protocol::message::OffsetSpec;

#[tokio::main]
async fn main() -> Result<(), ClientError> {
    let mut args = std::env::args().skip(1);
    let stream = args.next().unwrap_or_else(|| "example".to_owned());
    let count: usize = args.next().and_then(|n| n.parse().ok()).unwrap_or(10);
    let server = std::env::var("MEMSTREAM_SERVER").unwrap_or_else(|_| "127.0.0.1:7878".into());

    let client = Arc::new(Client::connect(server.as_str()).await?);
    let mut subscription =
        Subscription::start(client, &stream, OffsetSpec::Earliest, 1 << 20).await?;
    let mut read = 0;
    while read < count {
        let Some(record) = subscription.next().await else {
            break;
        };
        let record = record?;
        let key = record
            .key
            .as_ref()
            .map(|k| String::from_utf8_lossy(k).into_owned())
            .unwrap_or_default();
        println!(
            "{}/{}@{} key={key} value={}",
            record.stream,
            record.partition,
            record.offset,
            String::from_utf8_lossy(&record.value)
        );
        read += 1;
    }
    subscription.close().await?;
    println!("read {read} records from {stream}");
    Ok(())
}
