//! `memstream stream create|list|describe|delete`.

use std::process::ExitCode;

use clap::{Subcommand, ValueEnum};
use memstream_protocol::message::{FsyncMode, StorageKind, StreamSettings};
use serde_json::json;

use crate::remote::{block_on, ServerArg};

/// Storage of a new stream.
#[derive(Clone, Copy, Debug, ValueEnum)]
pub enum Storage {
    /// RAM only, bounded by retention.
    Memory,
    /// Segment files on disk.
    Disk,
}

/// Fsync policy of a new disk stream.
#[derive(Clone, Copy, Debug, ValueEnum)]
pub enum Fsync {
    /// After every append (group-committed).
    Always,
    /// Every fsync interval.
    Interval,
    /// Only for producers asking for durable acks.
    Never,
}

/// Stream administration.
#[derive(Subcommand, Debug)]
pub enum StreamCommand {
    /// Create a stream.
    Create {
        /// Stream name.
        name: String,
        /// Partitions (default: the server's).
        #[arg(long)]
        partitions: Option<u32>,
        /// memory or disk (default: the server's).
        #[arg(long, value_enum)]
        storage: Option<Storage>,
        /// always, interval or never (default: the server's).
        #[arg(long, value_enum)]
        fsync: Option<Fsync>,
        /// Bytes retained per partition (0 = unlimited).
        #[arg(long)]
        retention_bytes: Option<u64>,
        /// Age retained in ms (0 = unlimited).
        #[arg(long)]
        retention_ms: Option<u64>,
        #[command(flatten)]
        server: ServerArg,
    },
    /// List streams.
    List {
        /// JSON for scripts.
        #[arg(long)]
        json: bool,
        #[command(flatten)]
        server: ServerArg,
    },
    /// Show a stream's settings and partitions.
    Describe {
        /// Stream name.
        name: String,
        /// JSON for scripts.
        #[arg(long)]
        json: bool,
        #[command(flatten)]
        server: ServerArg,
    },
    /// Delete a stream and its data.
    Delete {
        /// Stream name.
        name: String,
        #[command(flatten)]
        server: ServerArg,
    },
}

fn storage_name(kind: Option<StorageKind>) -> &'static str {
    match kind {
        Some(StorageKind::Memory) => "memory",
        Some(StorageKind::Disk) => "disk",
        None => "-",
    }
}

/// Runs a stream command.
pub fn run(command: StreamCommand) -> anyhow::Result<ExitCode> {
    block_on(async move {
        match command {
            StreamCommand::Create {
                name,
                partitions,
                storage,
                fsync,
                retention_bytes,
                retention_ms,
                server,
            } => {
                let settings = StreamSettings {
                    storage: storage.map(|s| match s {
                        Storage::Memory => StorageKind::Memory,
                        Storage::Disk => StorageKind::Disk,
                    }),
                    fsync: fsync.map(|f| match f {
                        Fsync::Always => FsyncMode::Always,
                        Fsync::Interval => FsyncMode::Interval,
                        Fsync::Never => FsyncMode::Never,
                    }),
                    retention_bytes,
                    retention_ms,
                    ..StreamSettings::default()
                };
                let client = server.connect().await?;
                client
                    .admin()
                    .create_stream(&name, partitions.unwrap_or(0), settings)
                    .await?;
                println!("created stream {name}");
            }
            StreamCommand::List { json, server } => {
                let streams = server.connect().await?.admin().list_streams().await?;
                if json {
                    let list: Vec<_> = streams
                        .iter()
                        .map(|s| json!({"name": s.name, "partitions": s.partitions, "storage": storage_name(Some(s.storage))}))
                        .collect();
                    println!("{}", serde_json::to_string_pretty(&list)?);
                } else {
                    println!("{:<40} {:>10}  STORAGE", "NAME", "PARTITIONS");
                    for s in streams {
                        println!(
                            "{:<40} {:>10}  {}",
                            s.name,
                            s.partitions,
                            storage_name(Some(s.storage))
                        );
                    }
                }
            }
            StreamCommand::Describe { name, json, server } => {
                let d = server
                    .connect()
                    .await?
                    .admin()
                    .describe_stream(&name)
                    .await?;
                let s = &d.settings;
                if json {
                    let partitions: Vec<_> = d
                        .partitions
                        .iter()
                        .map(|p| json!({"partition": p.partition, "start_offset": p.start_offset, "end_offset": p.end_offset, "durable_offset": p.durable_offset, "size_bytes": p.size_bytes,
                            "corrupt": p.corrupt.iter().map(|c| json!({"from_offset": c.from_offset, "description": c.description})).collect::<Vec<_>>()}))
                        .collect();
                    let out = json!({
                        "name": d.name,
                        "storage": storage_name(s.storage),
                        "retention_bytes": s.retention_bytes,
                        "retention_ms": s.retention_ms,
                        "segment_bytes": s.segment_bytes,
                        "max_message_bytes": s.max_message_bytes,
                        "fsync": s.fsync.map(|f| format!("{f:?}").to_lowercase()),
                        "fsync_interval_ms": s.fsync_interval_ms,
                        "partitions": partitions,
                    });
                    println!("{}", serde_json::to_string_pretty(&out)?);
                } else {
                    println!(
                        "stream {}: storage {}, fsync {}",
                        d.name,
                        storage_name(s.storage),
                        s.fsync
                            .map_or("-".into(), |f| format!("{f:?}").to_lowercase())
                    );
                    println!(
                        "{:>9} {:>14} {:>14} {:>14} {:>14}",
                        "PARTITION", "START", "END", "DURABLE", "BYTES"
                    );
                    for p in &d.partitions {
                        println!(
                            "{:>9} {:>14} {:>14} {:>14} {:>14}",
                            p.partition,
                            p.start_offset,
                            p.end_offset,
                            p.durable_offset,
                            p.size_bytes
                        );
                    }
                    for p in &d.partitions {
                        for c in &p.corrupt {
                            println!(
                                "partition {}: corrupt from offset {} ({}); consume from a later offset to skip it",
                                p.partition, c.from_offset, c.description
                            );
                        }
                    }
                }
            }
            StreamCommand::Delete { name, server } => {
                server.connect().await?.admin().delete_stream(&name).await?;
                println!("deleted stream {name}");
            }
        }
        Ok(ExitCode::SUCCESS)
    })
}
