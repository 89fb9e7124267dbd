//! `memstream consume STREAM`: print records as they are pushed.

use std::process::ExitCode;

use clap::{Args, ValueEnum};
use std::collections::HashMap;

use memstream_client::{
    Commit, ConsumedRecord, GroupConsumer, GroupEvent, GroupOptions, Subscription,
};
use memstream_protocol::message::{OffsetSpec, NO_OFFSET};
use serde_json::json;

use crate::remote::{block_on, ServerArg};

/// Output format.
#[derive(Clone, Copy, Debug, ValueEnum)]
pub enum Format {
    /// The value as text, one record per line.
    Text,
    /// One JSON object per line: stream, partition, offset, timestamp, key, headers, value.
    Json,
    /// The value bytes as they are.
    Raw,
}

/// Arguments of `memstream consume`.
#[derive(Args, Debug)]
pub struct ConsumeArgs {
    /// Stream (or pattern: `orders.*`, `orders.>`) to read.
    stream: String,
    /// Where to start: `earliest`, `latest`, an offset, `@MS` (ms since the Unix epoch) or an
    /// RFC 3339 time (`2026-12-02T10:00:00Z`). With `--group`, only for partitions the group
    /// has committed nothing for.
    #[arg(long, default_value = "earliest")]
    from: String,
    /// Consume as a member of this consumer group: share the partitions with the other
    /// members, start from the group's committed offsets and commit what was printed.
    #[arg(long)]
    group: Option<String>,
    /// Stop after this many records.
    #[arg(long)]
    count: Option<u64>,
    /// Keep waiting for new records instead of stopping at the end.
    #[arg(long)]
    follow: bool,
    /// Output format.
    #[arg(long, value_enum, default_value = "text")]
    format: Format,
    #[command(flatten)]
    server: ServerArg,
}

/// `--from`: `earliest`, `latest`, an offset, `@MS` (ms since the Unix epoch) or an RFC 3339
/// time such as `2026-12-02T10:00:00Z`.
fn parse_from(from: &str) -> anyhow::Result<OffsetSpec> {
    let invalid = || {
        anyhow::anyhow!(
            "--from {from}: expected earliest, latest, an offset, @MS or an RFC 3339 time \
             (2026-12-02T10:00:00Z)"
        )
    };
    Ok(match from {
        "earliest" => OffsetSpec::Earliest,
        "latest" => OffsetSpec::Latest,
        t if t.starts_with('@') => OffsetSpec::Timestamp(t[1..].parse().map_err(|_| invalid())?),
        o if o.bytes().all(|b| b.is_ascii_digit()) => {
            OffsetSpec::Offset(o.parse().map_err(|_| invalid())?)
        }
        t => {
            let at = humantime::parse_rfc3339_weak(t).map_err(|_| invalid())?;
            let ms = at
                .duration_since(std::time::UNIX_EPOCH)
                .map_err(|_| invalid())?
                .as_millis();
            OffsetSpec::Timestamp(u64::try_from(ms).map_err(|_| invalid())?)
        }
    })
}

fn print(record: &ConsumedRecord, format: Format) -> anyhow::Result<()> {
    use std::io::Write;
    let mut out = std::io::stdout().lock();
    match format {
        Format::Text => writeln!(out, "{}", String::from_utf8_lossy(&record.value))?,
        Format::Raw => out.write_all(&record.value)?,
        Format::Json => {
            let headers: serde_json::Map<String, serde_json::Value> = record
                .headers
                .iter()
                .map(|(n, v)| (n.clone(), json!(String::from_utf8_lossy(v))))
                .collect();
            let line = json!({
                "stream": &*record.stream,
                "partition": record.partition,
                "offset": record.offset,
                "timestamp": record.timestamp_ms,
                "key": record.key.as_ref().map(|k| String::from_utf8_lossy(k).into_owned()),
                "headers": headers,
                "value": String::from_utf8_lossy(&record.value),
            });
            writeln!(out, "{line}")?;
        }
    }
    Ok(())
}

/// Prints records until `--count`, or (without `--follow`) until every partition's end as it
/// was when the command started.
pub fn run(args: ConsumeArgs) -> anyhow::Result<ExitCode> {
    let from = parse_from(&args.from)?;
    if args.group.is_some() {
        return run_group(args, from);
    }
    block_on(async move {
        let client = args.server.connect().await?;
        // Where "the end" is, for a plain stream name without --follow.
        let mut ends = HashMap::new();
        if !args.follow {
            let d = client.admin().describe_stream(&args.stream).await?;
            for p in d.partitions {
                ends.insert(p.partition, p.end_offset);
            }
        }
        let mut sub = Subscription::start(client, &args.stream, from, 1 << 20).await?;
        // Where each partition stands: the subscription knows where it started.
        let mut positions: HashMap<u32, u64> = sub
            .positions()
            .into_iter()
            .map(|p| (p.partition, p.offset))
            .collect();
        let mut printed = 0u64;
        while args.count.is_none_or(|c| printed < c)
            && (args.follow || !caught_up(&ends, &positions))
        {
            let Some(record) = sub.next().await else {
                anyhow::bail!("connection to {} closed", args.server.server);
            };
            let record = record?;
            positions.insert(record.partition, record.offset + 1);
            print(&record, args.format)?;
            printed += 1;
        }
        Ok(ExitCode::SUCCESS)
    })
}

/// Whether every partition in `ends` has been read up to its end.
fn caught_up(ends: &HashMap<u32, u64>, positions: &HashMap<u32, u64>) -> bool {
    ends.iter()
        .all(|(p, end)| positions.get(p).copied().unwrap_or(0) >= *end)
}

/// `consume --group`: a group member; without `--follow` it stops once its partitions are
/// read up to their ends as they were at the start, then commits and leaves.
fn run_group(args: ConsumeArgs, from: OffsetSpec) -> anyhow::Result<ExitCode> {
    let group = args.group.clone().unwrap_or_default();
    block_on(async move {
        let client = args.server.connect().await?;
        let mut stream_ends = HashMap::new();
        for p in client
            .admin()
            .describe_stream(&args.stream)
            .await?
            .partitions
        {
            stream_ends.insert(p.partition, p.end_offset);
        }
        let options = GroupOptions {
            start: from,
            commit: Commit::Auto(std::time::Duration::from_secs(1)),
            ..GroupOptions::default()
        };
        let mut member =
            GroupConsumer::join(client.clone(), &group, &[&args.stream], options).await?;
        let mut ends: HashMap<u32, u64> = HashMap::new();
        let mut positions: HashMap<u32, u64> = HashMap::new();
        let mut printed = 0u64;
        while args.count.is_none_or(|c| printed < c) {
            let Some(event) = member.next().await else {
                anyhow::bail!("connection to {} closed", args.server.server);
            };
            match event? {
                GroupEvent::Assigned { partitions, .. } => {
                    // Where each owned partition starts: its committed offset, or `--from`.
                    let described = client.admin().describe_group(&group).await?;
                    ends.clear();
                    positions.clear();
                    for p in partitions.iter().filter(|p| p.stream == args.stream) {
                        let end = stream_ends.get(&p.partition).copied().unwrap_or(0);
                        let committed = described
                            .partitions
                            .iter()
                            .find(|l| l.stream == p.stream && l.partition == p.partition)
                            .map_or(NO_OFFSET, |l| l.committed);
                        let start = match (committed, from) {
                            (c, _) if c != NO_OFFSET => c,
                            (_, OffsetSpec::Latest) => end,
                            (_, OffsetSpec::Offset(o)) => o,
                            _ => 0,
                        };
                        ends.insert(p.partition, end);
                        positions.insert(p.partition, start);
                    }
                }
                GroupEvent::Revoked { .. } => {}
                GroupEvent::Record(record) => {
                    positions.insert(record.partition, record.offset + 1);
                    print(&record, args.format)?;
                    printed += 1;
                }
            }
            if !args.follow && caught_up(&ends, &positions) {
                break;
            }
        }
        member.commit().await?;
        member.close().await?;
        Ok(ExitCode::SUCCESS)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn from_accepts_offsets_timestamps_and_times() {
        assert_eq!(parse_from("earliest").unwrap(), OffsetSpec::Earliest);
        assert_eq!(parse_from("latest").unwrap(), OffsetSpec::Latest);
        assert_eq!(parse_from("42").unwrap(), OffsetSpec::Offset(42));
        assert_eq!(parse_from("@1000").unwrap(), OffsetSpec::Timestamp(1000));
        assert_eq!(
            parse_from("1970-01-01T00:00:02Z").unwrap(),
            OffsetSpec::Timestamp(2000)
        );
        for bad in ["", "-1", "@x", "yesterday", "2026-13-01T00:00:00Z"] {
            assert!(parse_from(bad).is_err(), "{bad}");
        }
    }
}
