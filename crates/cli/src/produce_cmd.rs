//! `memstream produce STREAM`: one record per line of stdin (or `--file`).

use std::io::BufRead;
use std::process::ExitCode;

use bytes::Bytes;
use clap::{Args, ValueEnum};
use memstream_client::{Compression, Partitioner, Producer, ProducerOptions, Record};
use memstream_protocol::message::Acks;

use crate::remote::{block_on, ProduceServerArg, ServerArg};

/// Acknowledgement level.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum AcksArg {
    /// No acknowledgement: a record counts once it is sent.
    None,
    /// In the partition log.
    Written,
    /// Fsynced.
    Durable,
}

impl AcksArg {
    /// The protocol's level.
    pub fn acks(self) -> Acks {
        match self {
            AcksArg::None => Acks::None,
            AcksArg::Written => Acks::Written,
            AcksArg::Durable => Acks::Durable,
        }
    }
}

/// Batch compression codec.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum CompressionArg {
    /// Records stored as they are.
    None,
    /// Gzip.
    Gzip,
    /// Snappy.
    Snappy,
    /// LZ4 frames.
    Lz4,
    /// Zstandard.
    Zstd,
}

impl CompressionArg {
    /// The batch codec.
    pub fn codec(self) -> Compression {
        match self {
            CompressionArg::None => Compression::None,
            CompressionArg::Gzip => Compression::Gzip,
            CompressionArg::Snappy => Compression::Snappy,
            CompressionArg::Lz4 => Compression::Lz4,
            CompressionArg::Zstd => Compression::Zstd,
        }
    }
}

/// Arguments of `memstream produce`.
#[derive(Args, Debug)]
pub struct ProduceArgs {
    /// Stream to append to.
    stream: String,
    /// Read records from this file instead of stdin, one per line.
    #[arg(long)]
    file: Option<std::path::PathBuf>,
    /// Key of every record.
    #[arg(long)]
    key: Option<String>,
    /// Header `name=value`, repeatable.
    #[arg(long = "header", value_name = "NAME=VALUE")]
    headers: Vec<String>,
    /// Send everything to this partition.
    #[arg(long)]
    partition: Option<u32>,
    /// Acknowledgement level.
    #[arg(long, value_enum, default_value = "durable")]
    acks: AcksArg,
    /// Compress batches with this codec; consumers decompress them.
    #[arg(long, value_enum, default_value = "none")]
    compression: CompressionArg,
    /// Print each record's partition and offset.
    #[arg(long)]
    verbose: bool,
    #[command(flatten)]
    server: ProduceServerArg,
}

/// Sends every line; exits 0 only when each record was acknowledged at the level asked.
pub fn run(args: ProduceArgs) -> anyhow::Result<ExitCode> {
    let headers = args
        .headers
        .iter()
        .map(|h| {
            h.split_once('=')
                .map(|(n, v)| (n.to_owned(), Bytes::copy_from_slice(v.as_bytes())))
                .ok_or_else(|| anyhow::anyhow!("--header {h}: expected NAME=VALUE"))
        })
        .collect::<anyhow::Result<Vec<_>>>()?;
    let input: Box<dyn BufRead> = match &args.file {
        Some(path) => Box::new(std::io::BufReader::new(
            std::fs::File::open(path)
                .map_err(|e| anyhow::anyhow!("cannot open {}: {e}", path.display()))?,
        )),
        None => Box::new(std::io::stdin().lock()),
    };
    let lines: Vec<String> = input.lines().collect::<Result<_, _>>()?;
    block_on(async move {
        let client = ServerArg::from(args.server.clone()).connect().await?;
        let options = ProducerOptions {
            acks: args.acks.acks(),
            partitioner: args
                .partition
                .map_or(Partitioner::Key, Partitioner::Explicit),
            compression: args.compression.codec(),
            ..ProducerOptions::default()
        };
        let producer = Producer::new(client.clone(), &args.stream, options).await?;
        let mut receipts = Vec::with_capacity(lines.len());
        for line in lines {
            let mut record = Record::value(line);
            record.key = args
                .key
                .as_ref()
                .map(|k| Bytes::copy_from_slice(k.as_bytes()));
            record.headers = headers.clone();
            receipts.push(producer.send(record).await);
        }
        let mut failed = 0usize;
        for receipt in receipts {
            match receipt.await {
                Ok(delivery) if args.verbose => match delivery.offset {
                    Some(offset) => println!("{}:{offset}", delivery.partition),
                    None => println!("{}:-", delivery.partition),
                },
                Ok(_) => {}
                Err(e) => {
                    failed += 1;
                    eprintln!("error: {e}");
                }
            }
        }
        if failed > 0 {
            anyhow::bail!("{failed} record(s) not acknowledged");
        }
        if args.acks == AcksArg::None {
            // Nothing comes back for the records; a PING answered after them shows the
            // server has read them before this process exits.
            client.ping(Bytes::new()).await?;
        }
        Ok(ExitCode::SUCCESS)
    })
}
