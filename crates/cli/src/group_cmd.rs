//! `memstream group list|describe`.

use std::process::ExitCode;

use clap::Subcommand;
use memstream_protocol::message::NO_OFFSET;
use serde_json::json;

use crate::remote::{block_on, ServerArg};

/// Consumer-group inspection.
#[derive(Subcommand, Debug)]
pub enum GroupCommand {
    /// List groups.
    List {
        /// JSON for scripts.
        #[arg(long)]
        json: bool,
        #[command(flatten)]
        server: ServerArg,
    },
    /// Members, assignments and lag per partition.
    Describe {
        /// Group name.
        name: String,
        /// JSON for scripts.
        #[arg(long)]
        json: bool,
        #[command(flatten)]
        server: ServerArg,
    },
    /// Delete an empty group and its committed offsets (refused while it has members).
    Delete {
        /// Group name.
        name: String,
        #[command(flatten)]
        server: ServerArg,
    },
}

/// Runs a group command.
pub fn run(command: GroupCommand) -> anyhow::Result<ExitCode> {
    block_on(async move {
        match command {
            GroupCommand::List { json, server } => {
                let groups = server.connect().await?.admin().list_groups().await?;
                if json {
                    println!("{}", serde_json::to_string_pretty(&groups)?);
                } else {
                    for g in groups {
                        println!("{g}");
                    }
                }
            }
            GroupCommand::Describe { name, json, server } => {
                let d = server
                    .connect()
                    .await?
                    .admin()
                    .describe_group(&name)
                    .await?;
                let state = ["empty", "rebalancing", "stable"]
                    .get(usize::from(d.state))
                    .copied()
                    .unwrap_or("unknown");
                let committed = |c: u64| if c == NO_OFFSET { None } else { Some(c) };
                if json {
                    let members: Vec<_> = d
                        .members
                        .iter()
                        .map(|m| json!({"member_id": m.member_id, "session_timeout_ms": m.session_timeout_ms,
                            "assignment": m.assignment.iter().map(|p| json!({"stream": p.stream, "partition": p.partition})).collect::<Vec<_>>()}))
                        .collect();
                    let partitions: Vec<_> = d
                        .partitions
                        .iter()
                        .map(|p| json!({"stream": p.stream, "partition": p.partition, "committed": committed(p.committed), "end_offset": p.end_offset, "lag": p.lag,
                            "out_of_range": committed(p.committed).is_some_and(|c| c > p.end_offset)}))
                        .collect();
                    let out = json!({"group": d.group, "state": state, "generation": d.generation, "members": members, "partitions": partitions});
                    println!("{}", serde_json::to_string_pretty(&out)?);
                } else {
                    println!(
                        "group {}: {state}, generation {}, {} member(s)",
                        d.group,
                        d.generation,
                        d.members.len()
                    );
                    for m in &d.members {
                        let owned: Vec<String> = m
                            .assignment
                            .iter()
                            .map(|p| format!("{}/{}", p.stream, p.partition))
                            .collect();
                        println!("  {} owns {}", m.member_id, owned.join(" "));
                    }
                    println!(
                        "{:<30} {:>9} {:>12} {:>12} {:>10}",
                        "STREAM", "PARTITION", "COMMITTED", "END", "LAG"
                    );
                    for p in d.partitions {
                        // A commit past the end (the records it counted are gone, as in a
                        // memory stream after a restart): members start by their reset policy.
                        let c = match committed(p.committed) {
                            None => "-".to_owned(),
                            Some(c) if c > p.end_offset => format!("{c} (out of range)"),
                            Some(c) => c.to_string(),
                        };
                        println!(
                            "{:<30} {:>9} {:>12} {:>12} {:>10}",
                            p.stream, p.partition, c, p.end_offset, p.lag
                        );
                    }
                }
            }
            GroupCommand::Delete { name, server } => {
                server.connect().await?.admin().delete_group(&name).await?;
                println!("deleted group {name}");
            }
        }
        Ok(ExitCode::SUCCESS)
    })
}
