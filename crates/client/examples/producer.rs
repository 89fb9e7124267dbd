//! Sends records to a stream and prints where each landed.
//!
//! ```sh
//! memstream serve &                      # a server on 127.0.0.1:7878
//! cargo run -p memstream-client --example producer -- orders 10
//! ```
//!
//! Arguments: stream (default `example`), number of records (default 10). The server address
//! comes from `MEMSTREAM_SERVER` (default `127.0.0.1:7878`). The stream is created (memory
//! storage, 3 partitions) if it does not exist.

use std::sync::Arc;

use memstream_client::{Client, ClientError, Producer, ProducerOptions, Record};
use memstream_protocol::message::{Acks, StorageKind, StreamSettings};
use memstream_protocol::ErrorCode;

#[tokio::main]
async fn main() -> Result<(), ClientError> {
    let mut args = std::env::args().skip(1);
    let stream = args.next().unwrap_or_else(|| "example".to_owned());
    let count: usize = args.next().and_then(|n| n.parse().ok()).unwrap_or(10);
    let server = std::env::var("MEMSTREAM_SERVER").unwrap_or_else(|_| "127.0.0.1:7878".into());

    let client = Arc::new(Client::connect(server.as_str()).await?);
    let settings = StreamSettings {
        storage: Some(StorageKind::Memory),
        ..StreamSettings::default()
    };
    match client.admin().create_stream(&stream, 3, settings).await {
        Ok(()) => println!("created stream {stream}"),
        Err(e) if e.code() == Some(ErrorCode::StreamAlreadyExists) => {}
        Err(e) => return Err(e),
    }

    // Written (in the log) is enough here; the default is Durable (fsynced).
    let options = ProducerOptions {
        acks: Acks::Written,
        ..ProducerOptions::default()
    };
    let producer = Producer::new(client, &stream, options).await?;
    // Queue every record first: they share batches. Each send returns a receipt to await.
    let mut receipts = Vec::with_capacity(count);
    for i in 0..count {
        let record = Record::value(format!("order {i}"))
            .with_key(format!("customer-{}", i % 3))
            .with_header("source", "example");
        receipts.push(producer.send(record).await);
    }
    for (i, receipt) in receipts.into_iter().enumerate() {
        let delivery = receipt.await?;
        let offset = delivery.offset.unwrap_or_default();
        println!(
            "order {i} -> partition {} offset {offset}",
            delivery.partition
        );
    }
    println!("sent {count} records to {stream}");
    Ok(())
}
