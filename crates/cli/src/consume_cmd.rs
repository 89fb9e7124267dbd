//! `memstream consume STREAM`: print records as they are pushed.

use std::process::ExitCode;

use clap::{Args, ValueEnum};
use memstream_client::{ConsumedRecord, Subscription};
use memstream_protocol::message::OffsetSpec;
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
    /// Where to start: `earliest`, `latest`, an offset, or `@MS` (a timestamp in ms).
    #[arg(long, default_value = "earliest")]
    from: String,
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

fn parse_from(from: &str) -> anyhow::Result<OffsetSpec> {
    Ok(match from {
        "earliest" => OffsetSpec::Earliest,
        "latest" => OffsetSpec::Latest,
        t if t.starts_with('@') => OffsetSpec::Timestamp(
            t[1..]
                .parse()
                .map_err(|_| anyhow::anyhow!("--from {from}: expected @MS"))?,
        ),
        o => OffsetSpec::Offset(o.parse().map_err(|_| {
            anyhow::anyhow!("--from {from}: expected earliest, latest, an offset or @MS")
        })?),
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
                "stream": record.stream,
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
    block_on(async move {
        let client = args.server.connect().await?;
        // Where "the end" is, for a plain stream name without --follow.
        let mut ends = std::collections::HashMap::new();
        if !args.follow {
            let d = client.admin().describe_stream(&args.stream).await?;
            for p in d.partitions {
                ends.insert(p.partition, p.end_offset);
            }
        }
        let mut sub = Subscription::start(client, &args.stream, from, 1 << 20).await?;
        let mut printed = 0u64;
        let done = |ends: &std::collections::HashMap<u32, u64>,
                    pos: &std::collections::HashMap<u32, u64>| {
            ends.iter()
                .all(|(p, end)| pos.get(p).copied().unwrap_or(0) >= *end)
        };
        let mut positions: std::collections::HashMap<u32, u64> = std::collections::HashMap::new();
        if let OffsetSpec::Latest = from {
            positions.clone_from(&ends);
        }
        while args.count.is_none_or(|c| printed < c) && (args.follow || !done(&ends, &positions)) {
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
