//! Consumes a stream as a member of a consumer group: prints its partition assignments as
//! they change and the records of the partitions it owns, commits, and leaves.
//!
//! ```sh
//! cargo run -p memstream-client --example group -- orders billing 10
//! ```
//!
//! Arguments: stream (default `example`), group (default `example-group`), number of records
//! to read before leaving (default 10). Run it twice at once to see the partitions split.
//! The server address comes from `MEMSTREAM_SERVER` (default `127.0.0.1:7878`).

use std::sync::Arc;

use memstream_client::{Client, ClientError, Commit, GroupConsumer, GroupEvent, GroupOptions};

#[tokio::main]
async fn main() -> Result<(), ClientError> {
    let mut args = std::env::args().skip(1);
    let stream = args.next().unwrap_or_else(|| "example".to_owned());
    let group = args.next().unwrap_or_else(|| "example-group".to_owned());
    let count: usize = args.next().and_then(|n| n.parse().ok()).unwrap_or(10);
    let server = std::env::var("MEMSTREAM_SERVER").unwrap_or_else(|_| "127.0.0.1:7878".into());

    let client = Arc::new(Client::connect(server.as_str()).await?);
    // Manual commits: the offsets are committed after the records are handled.
    let options = GroupOptions {
        commit: Commit::Manual,
        ..GroupOptions::default()
    };
    let mut member = GroupConsumer::join(client, &group, &[&stream], options).await?;
    println!("joined {group} as {}", member.member_id());
    let mut read = 0;
    while read < count {
        let Some(event) = member.next().await else {
            break;
        };
        match event? {
            GroupEvent::Assigned {
                generation,
                partitions,
            } => {
                let owned: Vec<u32> = partitions.iter().map(|p| p.partition).collect();
                println!("generation {generation}: assigned partitions {owned:?}");
            }
            GroupEvent::Revoked { partitions } => {
                println!("revoked {} partitions", partitions.len());
                member.commit().await?;
            }
            GroupEvent::Record(record) => {
                println!(
                    "{}@{}: {}",
                    record.partition,
                    record.offset,
                    String::from_utf8_lossy(&record.value)
                );
                read += 1;
            }
        }
    }
    member.commit().await?;
    println!("committed {read} records");
    member.close().await?;
    Ok(())
}
