//! `memstream bench`: producers and consumers end to end, against a running server or one
//! started in this process; throughput, end-to-end latency percentiles (HDR histogram,
//! corrected for coordinated omission in fixed-rate mode), and a check that every message
//! arrived exactly once and in order per partition.

use std::process::ExitCode;
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use clap::Args;
use hdrhistogram::Histogram;
use indicatif::{ProgressBar, ProgressStyle};
use memstream_broker::config::{Config, ConfigHandle};
use memstream_broker::Server;
use memstream_client::{Client, Partitioner, Producer, ProducerOptions, Subscription};
use memstream_protocol::message::{FsyncMode, OffsetSpec, StorageKind, StreamSettings};
use serde_json::json;

use crate::produce_cmd::{AcksArg, CompressionArg};
use crate::stream_cmd::{Fsync, Storage};

/// Bytes of bookkeeping at the start of every benchmark message.
const STAMP_BYTES: usize = 20;

/// Arguments of `memstream bench`.
#[derive(Args, Debug)]
pub struct BenchArgs {
    /// Server to measure; without it the benchmark starts its own on 127.0.0.1.
    #[arg(long, env = "MEMSTREAM_SERVER")]
    server: Option<String>,
    /// Connect with TLS: the benchmark's own server gets a throwaway certificate; a
    /// --server must present one that --ca-file (or the system) trusts.
    #[arg(long)]
    tls: bool,
    /// CA certificates (PEM) to trust for --tls with --server.
    #[arg(long, value_name = "FILE", requires = "tls")]
    ca_file: Option<std::path::PathBuf>,
    /// User to log in as (a --server with security on); the password from
    /// --password-file or MEMSTREAM_PASSWORD.
    #[arg(long, env = "MEMSTREAM_USER", requires = "server")]
    user: Option<String>,
    /// File holding the password (its first line).
    #[arg(long, value_name = "FILE", requires = "user")]
    password_file: Option<std::path::PathBuf>,
    /// Messages in total, over all producers.
    #[arg(long, default_value_t = 1_000_000)]
    messages: u64,
    /// Bytes per message (at least 20).
    #[arg(long, default_value_t = 100)]
    size: usize,
    /// Producer connections.
    #[arg(long, default_value_t = 1)]
    producers: u32,
    /// Consumer connections; each receives every message.
    #[arg(long, default_value_t = 1)]
    consumers: u32,
    /// Partitions of the benchmark stream.
    #[arg(long, default_value_t = 1)]
    partitions: u32,
    /// Fixed total rate in messages per second (latency mode); default: as fast as possible.
    #[arg(long)]
    rate: Option<u64>,
    /// Acknowledgement level.
    #[arg(long, value_enum, default_value = "written")]
    acks: AcksArg,
    /// Storage of the benchmark stream.
    #[arg(long, value_enum, default_value = "memory")]
    storage: Storage,
    /// Fsync policy of a disk benchmark stream (default: the server's).
    #[arg(long, value_enum)]
    fsync: Option<Fsync>,
    /// The server's admin HTTP address, to report fsyncs (known for the benchmark's own
    /// server).
    #[arg(long)]
    admin: Option<String>,
    /// Batches per partition each producer keeps on the wire (the producer's
    /// `in_flight_batches_max`).
    #[arg(long, default_value_t = ProducerOptions::default().in_flight_batches_max)]
    in_flight: usize,
    /// Compress the producers' batches with this codec.
    #[arg(long, value_enum, default_value = "none")]
    compression: CompressionArg,
    /// What fills each message after its 20-byte stamp: one repeated byte, or JSON-like
    /// text (an order record with varying fields), a realistic case for compression.
    #[arg(long, value_enum, default_value = "fill")]
    payload: Payload,
    /// Measure offset commits instead: this many groups, each committing in a loop on its
    /// own connection (the other message options do not apply).
    #[arg(long)]
    commit_groups: Option<u32>,
    /// How long `--commit-groups` commits, in seconds.
    #[arg(long, default_value_t = 5)]
    commit_seconds: u64,
    /// Results as JSON.
    #[arg(long)]
    json: bool,
}

/// Message contents after the stamp.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Payload {
    /// One repeated byte.
    Fill,
    /// JSON-like order records.
    Json,
}

/// Time stamps carried in messages: nanoseconds since the benchmark's start, read from the
/// CPU's time-stamp counter (a system-clock read per message would cost as much as a tenth of
/// the CPU at full speed). Producers and consumers run in this one process, so they share it.
#[derive(Clone)]
struct Stamps {
    clock: quanta::Clock,
    start: u64,
}

impl Stamps {
    fn new() -> Stamps {
        let clock = quanta::Clock::new();
        let start = clock.raw();
        Stamps { clock, start }
    }

    fn now_ns(&self) -> u64 {
        self.clock.delta_as_nanos(self.start, self.clock.raw())
    }
}

fn now_ns() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos() as u64)
}

/// What one consumer saw.
struct Consumed {
    count: u64,
    elapsed: Duration,
    latency_us: Histogram<u64>,
    problems: Vec<String>,
}

/// Runs the benchmark and prints the results.
pub fn run(args: BenchArgs) -> anyhow::Result<ExitCode> {
    anyhow::ensure!(
        args.size >= STAMP_BYTES,
        "--size must be at least {STAMP_BYTES}"
    );
    anyhow::ensure!(
        args.producers >= 1 && args.partitions >= 1,
        "--producers and --partitions must be at least 1"
    );
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    if let Some(groups) = args.commit_groups {
        anyhow::ensure!(groups >= 1, "--commit-groups must be at least 1");
        return runtime.block_on(crate::bench_commits::run(
            groups,
            args.commit_seconds,
            args.json,
        ));
    }
    runtime.block_on(bench(args))
}

/// Client options: TLS trusting `ca_file` (the server's certificate names 127.0.0.1).
fn client_options(
    tls: bool,
    ca_file: Option<std::path::PathBuf>,
) -> anyhow::Result<memstream_client::ClientOptions> {
    let tls = match tls {
        false => None,
        true => Some(memstream_client::ClientTls {
            config: memstream_net::tls::client_config(&memstream_net::tls::ClientTlsFiles {
                ca_file,
                ..Default::default()
            })?,
            server_name: None,
        }),
    };
    Ok(memstream_client::ClientOptions {
        tls,
        ..memstream_client::ClientOptions::default()
    })
}

/// A server of the benchmark's own, in this process, with its data in a temporary directory.
pub(crate) struct OwnServer {
    pub addr: String,
    pub admin: String,
    pub handle: memstream_broker::ServerHandle,
    pub task: tokio::task::JoinHandle<memstream_broker::ShutdownReport>,
    /// Removed when dropped.
    pub dir: tempfile::TempDir,
    /// The CA of its TLS certificate, when it serves TLS.
    pub ca_file: Option<std::path::PathBuf>,
}

impl OwnServer {
    /// Binds on ephemeral loopback ports and starts serving.
    pub(crate) async fn start(tls: bool) -> anyhow::Result<OwnServer> {
        let dir = tempfile::tempdir()?;
        let mut cfg = Config::default();
        let mut ca_file = None;
        if tls {
            // A throwaway CA and certificate, in the benchmark's temporary directory.
            let ca = memstream_net::test_certs::TestCa::new(dir.path(), "bench");
            let cert = ca.server("server");
            cfg.network.tls = memstream_net::TlsConfig {
                cert_file: cert.cert_file,
                key_file: cert.key_file,
                client_ca_file: std::path::PathBuf::new(),
            };
            ca_file = Some(ca.ca_file.clone());
        }
        cfg.server.listen = "127.0.0.1:0".into();
        cfg.admin.listen = "127.0.0.1:0".into();
        cfg.kafka.enabled = false;
        cfg.server.data_dir = dir.path().to_path_buf();
        cfg.log.level = "warn".into();
        let server = Server::bind(ConfigHandle::fixed(cfg)).await?;
        Ok(OwnServer {
            addr: server.local_addr().to_string(),
            admin: server.admin_addr().to_string(),
            handle: server.handle(),
            task: tokio::spawn(server.run()),
            dir,
            ca_file,
        })
    }
}

async fn bench(args: BenchArgs) -> anyhow::Result<ExitCode> {
    // The server: given, or our own in this process.
    let _data;
    let mut ca_file = args.ca_file.clone();
    let (addr, admin_addr, own) = match &args.server {
        Some(addr) => (addr.clone(), args.admin.clone(), None),
        None => {
            let own = OwnServer::start(args.tls).await?;
            let (addr, admin_addr) = (own.addr.clone(), own.admin.clone());
            ca_file = own.ca_file.clone();
            _data = own.dir;
            (addr, Some(admin_addr), Some((own.handle, own.task)))
        }
    };
    let mut options = client_options(args.tls, ca_file)?;
    if let Some(user) = &args.user {
        let password = crate::remote::login_password(user, args.password_file.as_deref())?;
        options.credentials = Some(memstream_client::Credentials::new(user.clone(), password));
    }
    let admin = Client::connect_with(addr.as_str(), options.clone())
        .await
        .map_err(|e| anyhow::anyhow!("cannot connect to {addr}: {e}"))?;
    let stream = format!("bench-{}-{}", std::process::id(), now_ns() % 1_000_000);
    let settings = StreamSettings {
        storage: Some(match args.storage {
            Storage::Memory => StorageKind::Memory,
            Storage::Disk => StorageKind::Disk,
        }),
        retention_bytes: Some((args.messages * args.size as u64 * 2).max(64 << 20)),
        fsync: args.fsync.map(|f| match f {
            Fsync::Always => FsyncMode::Always,
            Fsync::Interval => FsyncMode::Interval,
            Fsync::Never => FsyncMode::Never,
        }),
        ..StreamSettings::default()
    };
    admin
        .admin()
        .create_stream(&stream, args.partitions, settings)
        .await?;

    let progress = ProgressBar::new(args.messages * u64::from(args.consumers.max(1)));
    progress.set_style(ProgressStyle::with_template(
        "{spinner} {bar:40} {pos}/{len} messages consumed ({per_sec})",
    )?);

    let stamps = Stamps::new();
    // Consumers first, from the start of the stream, so none misses anything.
    let mut consumers = Vec::new();
    for _ in 0..args.consumers {
        let client = Arc::new(Client::connect_with(addr.as_str(), options.clone()).await?);
        let sub = Subscription::start(client, &stream, OffsetSpec::Earliest, 8 << 20).await?;
        consumers.push(tokio::spawn(consume(
            stamps.clone(),
            sub,
            args.messages,
            args.partitions,
            progress.clone(),
        )));
    }

    let started = Instant::now();
    let per_producer = args.messages / u64::from(args.producers);
    let extra = args.messages % u64::from(args.producers);
    let mut producers = Vec::new();
    for id in 0..args.producers {
        let count = per_producer + u64::from(id < extra as u32);
        let client = Arc::new(Client::connect_with(addr.as_str(), options.clone()).await?);
        let options = ProducerOptions {
            acks: args.acks.acks(),
            partitioner: Partitioner::RoundRobin,
            in_flight_batches_max: args.in_flight,
            compression: args.compression.codec(),
            ..ProducerOptions::default()
        };
        let producer = Producer::new(client, &stream, options).await?;
        let rate = args.rate.map(|r| r as f64 / f64::from(args.producers));
        let stamps = stamps.clone();
        let payload = message_template(args.payload, args.size);
        producers.push(match rate {
            // Fixed rate: pacing runs on a blocking thread with precise sleeps.
            Some(rate) => {
                let handle = tokio::runtime::Handle::current();
                tokio::task::spawn_blocking(move || {
                    precise_sleeps();
                    handle.block_on(produce(stamps, producer, id, count, &payload, Some(rate)))
                })
            }
            None => {
                tokio::spawn(
                    async move { produce(stamps, producer, id, count, &payload, None).await },
                )
            }
        });
    }
    for p in producers {
        p.await??;
    }
    let produce_elapsed = started.elapsed();
    let mut results = Vec::new();
    for c in consumers {
        results.push(c.await??);
    }
    progress.finish_and_clear();
    let stored_bytes: u64 = admin
        .admin()
        .describe_stream(&stream)
        .await?
        .partitions
        .iter()
        .map(|p| p.size_bytes)
        .sum();
    let fsyncs = match &admin_addr {
        Some(admin) if matches!(args.storage, Storage::Disk) => {
            Some(fsync_totals(admin, &stream).await?)
        }
        _ => None,
    };
    if let Some((handle, task)) = own {
        handle.shutdown();
        let _ = task.await;
    }
    report(&args, produce_elapsed, &results, fsyncs, stored_bytes)
}

/// (fsyncs, batches made durable) of `stream`'s partitions, from the server's `/metrics`.
async fn fsync_totals(admin: &str, stream: &str) -> anyhow::Result<(u64, u64)> {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut conn = tokio::net::TcpStream::connect(admin)
        .await
        .map_err(|e| anyhow::anyhow!("cannot connect to the admin listener {admin}: {e}"))?;
    conn.write_all(b"GET /metrics HTTP/1.1\r\nhost: memstream\r\n\r\n")
        .await?;
    let mut text = String::new();
    conn.read_to_string(&mut text).await?;
    let label = format!("{{stream=\"{stream}\",");
    let sum = |metric: &str| -> u64 {
        text.lines()
            .filter(|l| l.starts_with(metric) && l.contains(&label))
            .filter_map(|l| l.rsplit(' ').next()?.parse::<u64>().ok())
            .sum()
    };
    Ok((
        sum("memstream_log_fsyncs_total{"),
        sum("memstream_log_fsync_batches_total{"),
    ))
}

/// A message of `size` bytes: 20 bytes of stamp (filled in per message), then the payload.
fn message_template(payload: Payload, size: usize) -> Vec<u8> {
    let mut value = vec![0x6d; size];
    if payload == Payload::Json {
        let mut text = String::new();
        let mut i = 0u32;
        while text.len() < size {
            text.push_str(&format!(
                "{{\"order_id\":{},\"customer\":\"c-{:05}\",\"status\":\"{}\",\"amount\":{}.{:02}}}",
                100_000 + i * 7,
                (i * 7919) % 100_000,
                ["new", "paid", "shipped"][(i % 3) as usize],
                (i * 37) % 1000,
                i % 100
            ));
            i += 1;
        }
        value[STAMP_BYTES..].copy_from_slice(&text.as_bytes()[..size - STAMP_BYTES]);
    }
    value
}

/// Sends `count` messages; each carries its intended send time, producer id and sequence.
async fn produce(
    stamps: Stamps,
    producer: Producer,
    id: u32,
    count: u64,
    template: &[u8],
    rate: Option<f64>,
) -> anyhow::Result<()> {
    let start_ns = stamps.now_ns();
    let mut receipts = Vec::new();
    // One buffer for every message: the producer copies it into the batch at once.
    let mut value = template.to_vec();
    for seq in 0..count {
        // Fixed rate: the message is due at start + seq/rate; latency counts from then, so a
        // stall delays every later message's clock too (no coordinated omission).
        // Due times, pacing and the consumers' arrival stamps all read the same clock, so its
        // calibration cannot bias the latencies.
        let due_ns = match rate {
            Some(rate) => {
                let due = start_ns + (seq as f64 * 1e9 / rate) as u64;
                pace_until(&stamps, due);
                due
            }
            None => stamps.now_ns(),
        };
        value[0..8].copy_from_slice(&due_ns.to_le_bytes());
        value[8..12].copy_from_slice(&id.to_le_bytes());
        value[12..20].copy_from_slice(&seq.to_le_bytes());
        receipts.push(producer.send_value(None, &value).await);
        // Keep memory bounded: settle receipts in chunks.
        if receipts.len() >= 65_536 {
            for r in receipts.drain(..) {
                r.await.map_err(|e| anyhow::anyhow!("producer {id}: {e}"))?;
            }
        }
    }
    for r in receipts {
        r.await.map_err(|e| anyhow::anyhow!("producer {id}: {e}"))?;
    }
    Ok(())
}

/// Lets this thread's sleeps end on time: Linux may otherwise wake a sleeping thread up to
/// 50 µs late (timer slack) to batch wake-ups, and the fixed-rate latency would count it.
#[cfg(target_os = "linux")]
#[allow(unsafe_code)]
fn precise_sleeps() {
    // SAFETY: PR_SET_TIMERSLACK changes only this thread's timer slack; 1 ns is valid.
    unsafe {
        libc::prctl(libc::PR_SET_TIMERSLACK, 1 as libc::c_ulong);
    }
}

#[cfg(not(target_os = "linux"))]
fn precise_sleeps() {}

/// Waits until `due` on a blocking thread: `std::thread::sleep` wakes within tens of
/// microseconds, where tokio's timer has 1 ms resolution, and unlike spinning it leaves the
/// cores to the server and the consumers.
fn pace_until(stamps: &Stamps, due_ns: u64) {
    let now = stamps.now_ns();
    if due_ns > now {
        std::thread::sleep(Duration::from_nanos(due_ns - now));
    }
}

/// Receives `expected` messages, checking order per partition and per producer.
async fn consume(
    stamps: Stamps,
    mut sub: Subscription,
    expected: u64,
    partitions: u32,
    progress: ProgressBar,
) -> anyhow::Result<Consumed> {
    let mut latency_us = Histogram::<u64>::new_with_bounds(1, 60_000_000, 3)?;
    // Per partition: the next offset expected, and each producer's last sequence number.
    let mut next_offset = vec![0u64; partitions as usize];
    let mut last_seq: Vec<Vec<Option<u64>>> = vec![Vec::new(); partitions as usize];
    let mut problems = Vec::new();
    let mut count = 0;
    let mut first = None;
    while count < expected {
        let record = match sub.next().await {
            Some(r) => r?,
            None => anyhow::bail!("connection closed after {count} messages"),
        };
        let now = stamps.now_ns();
        first.get_or_insert_with(Instant::now);
        let Some(want) = next_offset.get_mut(record.partition as usize) else {
            anyhow::bail!(
                "a record from partition {} of {partitions}",
                record.partition
            );
        };
        if record.offset != *want && problems.len() < 10 {
            problems.push(format!(
                "partition {}: offset {} where {} was next",
                record.partition, record.offset, want
            ));
        }
        *want = record.offset + 1;
        let v = &record.value;
        if v.len() >= STAMP_BYTES {
            let due = u64::from_le_bytes(v[0..8].try_into()?);
            let producer = u32::from_le_bytes(v[8..12].try_into()?);
            let seq = u64::from_le_bytes(v[12..20].try_into()?);
            let seen = &mut last_seq[record.partition as usize];
            if seen.len() <= producer as usize {
                seen.resize(producer as usize + 1, None);
            }
            if let Some(prev) = seen[producer as usize].replace(seq) {
                if seq <= prev && problems.len() < 10 {
                    problems.push(format!(
                        "producer {producer} partition {}: seq {seq} after {prev}",
                        record.partition
                    ));
                }
            }
            latency_us.saturating_record(now.saturating_sub(due) / 1000);
        }
        count += 1;
        if count % 4096 == 0 {
            progress.inc(4096);
        }
    }
    Ok(Consumed {
        count,
        elapsed: first.map_or(Duration::ZERO, |f| f.elapsed()),
        latency_us,
        problems,
    })
}

fn report(
    args: &BenchArgs,
    produce_elapsed: Duration,
    results: &[Consumed],
    fsyncs: Option<(u64, u64)>,
    stored_bytes: u64,
) -> anyhow::Result<ExitCode> {
    let sent_bytes = args.messages * args.size as u64;
    let stored = json!({"bytes": stored_bytes, "codec": args.compression.codec().name(),
        "ratio": (stored_bytes as f64 / sent_bytes.max(1) as f64 * 1000.0).round() / 1000.0});
    let fsync_json = fsyncs.map(|(fsyncs, batches)| {
        json!({"fsyncs": fsyncs, "batches": batches,
               "batches_per_fsync": (batches as f64 / fsyncs.max(1) as f64 * 10.0).round() / 10.0})
    });
    let mb = |msgs: f64| msgs * args.size as f64 / 1e6;
    let produce_rate = args.messages as f64 / produce_elapsed.as_secs_f64();
    let mut all = Histogram::<u64>::new_with_bounds(1, 60_000_000, 3)?;
    for r in results {
        all.add(&r.latency_us)?;
    }
    let exact = results
        .iter()
        .all(|r| r.count == args.messages && r.problems.is_empty());
    let consumers: Vec<_> = results
        .iter()
        .map(|r| {
            let rate = r.count as f64 / r.elapsed.as_secs_f64().max(1e-9);
            json!({"messages": r.count, "msgs_per_s": rate.round(), "mb_per_s": (mb(rate) * 10.0).round() / 10.0, "problems": r.problems})
        })
        .collect();
    let latency = json!({
        "p50_us": all.value_at_quantile(0.50), "p90_us": all.value_at_quantile(0.90),
        "p99_us": all.value_at_quantile(0.99), "p999_us": all.value_at_quantile(0.999), "max_us": all.max(),
    });
    if args.json {
        let out = json!({
            "messages": args.messages, "size": args.size, "producers": args.producers,
            "consumers": args.consumers, "partitions": args.partitions, "rate": args.rate,
            "produce": {"msgs_per_s": produce_rate.round(), "mb_per_s": (mb(produce_rate) * 10.0).round() / 10.0},
            "consume": consumers, "latency": latency, "exactly_once_in_order": exact,
            "fsync": fsync_json, "stored": stored,
        });
        println!("{}", serde_json::to_string_pretty(&out)?);
    } else {
        println!(
            "{} messages of {} B, {} producer(s), {} consumer(s), {} partition(s){}",
            args.messages,
            args.size,
            args.producers,
            args.consumers,
            args.partitions,
            args.rate
                .map_or(String::new(), |r| format!(", fixed rate {r} msgs/s"))
        );
        println!(
            "produce: {:.0} msgs/s, {:.1} MB/s",
            produce_rate,
            mb(produce_rate)
        );
        for (i, c) in consumers.iter().enumerate() {
            println!(
                "consume[{i}]: {} msgs/s, {} MB/s",
                c["msgs_per_s"], c["mb_per_s"]
            );
        }
        println!(
            "end-to-end latency: p50 {} µs, p90 {} µs, p99 {} µs, p99.9 {} µs, max {} µs",
            latency["p50_us"],
            latency["p90_us"],
            latency["p99_us"],
            latency["p999_us"],
            latency["max_us"]
        );
        println!(
            "stored: {stored_bytes} bytes for {sent_bytes} bytes of messages ({}, ratio {})",
            stored["codec"], stored["ratio"]
        );
        if let Some((fsyncs, batches)) = fsyncs {
            println!(
                "fsyncs: {fsyncs} for {batches} batches ({:.1} batches per fsync)",
                batches as f64 / fsyncs.max(1) as f64
            );
        }
        println!(
            "{}",
            if exact {
                "verified: every message arrived exactly once, in order per partition".to_owned()
            } else {
                format!(
                    "NOT verified: {:?}",
                    results
                        .iter()
                        .flat_map(|r| r.problems.iter())
                        .collect::<Vec<_>>()
                )
            }
        );
    }
    Ok(if exact {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}
