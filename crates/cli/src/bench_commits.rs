//! `memstream bench --commit-groups N`: offset commits per second, and the fsyncs they cost,
//! for N groups each committing in a loop on its own connection (the group-commit figure).

use std::process::ExitCode;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use memstream_client::Client;
use memstream_protocol::message::{
    CommitOffsets, CreateStream, JoinGroup, Joined, PartitionOffset, StorageKind, StreamSettings,
};
use memstream_protocol::Request;
use serde_json::json;

/// Runs `groups` committers for `seconds` against a server of our own (on disk, in a
/// temporary directory) and prints commits/s and fsyncs.
pub async fn run(groups: u32, seconds: u64, json_out: bool) -> anyhow::Result<ExitCode> {
    let own = crate::bench::OwnServer::start(false).await?;
    let (addr, admin_addr) = (own.addr.clone(), own.admin.clone());

    let admin = Client::connect(addr.as_str()).await?;
    let create = Request::CreateStream(CreateStream {
        name: "commits".into(),
        partitions: 1,
        settings: StreamSettings {
            storage: Some(StorageKind::Disk),
            ..StreamSettings::default()
        },
    });
    admin.call(&create).await?;
    let fsyncs_before = store_fsyncs(&admin_addr).await?;

    let commits = Arc::new(AtomicU64::new(0));
    let deadline = Instant::now() + Duration::from_secs(seconds);
    let mut tasks = Vec::new();
    for g in 0..groups {
        let client = Client::connect(addr.as_str()).await?;
        let commits = commits.clone();
        tasks.push(tokio::spawn(async move {
            let group = format!("bench-{g}");
            let join = Request::JoinGroup(JoinGroup {
                group: group.clone(),
                member_id: String::new(),
                session_timeout_ms: 60_000,
                streams: vec!["commits".into()],
            });
            let frame = client.call(&join).await?;
            let me = Joined::decode(&frame.payload)?;
            let mut offset = 0u64;
            while Instant::now() < deadline {
                offset += 1;
                let commit = Request::CommitOffsets(CommitOffsets {
                    group: group.clone(),
                    member_id: me.member_id.clone(),
                    generation: me.generation,
                    offsets: vec![PartitionOffset {
                        stream: "commits".into(),
                        partition: 0,
                        offset,
                    }],
                });
                client.call(&commit).await?;
                commits.fetch_add(1, Ordering::Relaxed);
            }
            anyhow::Ok(())
        }));
    }
    let started = Instant::now();
    for t in tasks {
        t.await??;
    }
    let elapsed = started.elapsed().as_secs_f64();
    let commits = commits.load(Ordering::Relaxed);
    let fsyncs = store_fsyncs(&admin_addr).await? - fsyncs_before;
    own.handle.shutdown();
    let _ = own.task.await;

    let rate = commits as f64 / elapsed;
    let per_fsync = commits as f64 / fsyncs.max(1) as f64;
    if json_out {
        let out = json!({"groups": groups, "seconds": elapsed, "commits": commits,
            "commits_per_s": rate.round(), "fsyncs": fsyncs,
            "commits_per_fsync": (per_fsync * 10.0).round() / 10.0});
        println!("{}", serde_json::to_string_pretty(&out)?);
    } else {
        println!("{groups} groups committing for {elapsed:.1} s (disk, fsync per write)");
        println!(
            "commits: {commits} ({rate:.0}/s), fsyncs: {fsyncs} ({per_fsync:.1} commits per fsync)"
        );
    }
    Ok(ExitCode::SUCCESS)
}

/// `memstream_offset_store_fsyncs_total` from the server's `/metrics`.
async fn store_fsyncs(admin: &str) -> anyhow::Result<u64> {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut conn = tokio::net::TcpStream::connect(admin).await?;
    conn.write_all(b"GET /metrics HTTP/1.1\r\nhost: memstream\r\n\r\n")
        .await?;
    let mut text = String::new();
    conn.read_to_string(&mut text).await?;
    text.lines()
        .find_map(|l| l.strip_prefix("memstream_offset_store_fsyncs_total "))
        .and_then(|v| v.trim().parse().ok())
        .ok_or_else(|| anyhow::anyhow!("/metrics lacks memstream_offset_store_fsyncs_total"))
}
