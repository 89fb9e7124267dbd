//! `memstream`: the server (`serve`) and its tools: `config`, `stream`, `produce`, `consume`,
//! `group`, `ping`.
//!
//! Binaries are thin: argument parsing, environment reads, signal handling and logging set-up
//! live here; everything else is in the library crates.

mod bench;
mod bench_commits;
mod config_cmd;
mod consume_cmd;
mod group_cmd;
mod logging;
mod ping;
mod produce_cmd;
mod remote;
mod security_cmd;
mod serve;
mod stream_cmd;
mod top;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, Parser, Subcommand};
use memstream_broker::config::Override;

#[derive(Parser)]
#[command(
    name = "memstream",
    version,
    about = "MemoryStreamer: a memory-first message streaming server"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run the server (works with no configuration at all).
    Serve(ServerArgs),
    /// Inspect or validate configuration.
    #[command(subcommand)]
    Config(ConfigCommand),
    /// Create, list, describe or delete streams.
    #[command(subcommand)]
    Stream(stream_cmd::StreamCommand),
    /// Append records, one per line of stdin (or --file).
    Produce(produce_cmd::ProduceArgs),
    /// Print records of a stream.
    Consume(consume_cmd::ConsumeArgs),
    /// Inspect consumer groups.
    #[command(subcommand)]
    Group(group_cmd::GroupCommand),
    /// Measure producers and consumers end to end.
    Bench(bench::BenchArgs),
    /// A live view of a server's rates, streams and group lag (from its admin listener).
    Top(top::TopArgs),
    /// Add, list, remove users and change passwords (a stopped server's data directory, or --server).
    #[command(subcommand)]
    User(security_cmd::UserCommand),
    /// Add, list and remove ACLs (a stopped server's data directory, or --server).
    #[command(subcommand)]
    Acl(security_cmd::AclCommand),
    /// Create, list and revoke admin API tokens (a stopped server's data directory).
    #[command(subcommand)]
    Token(security_cmd::TokenCommand),
    /// Check that a server answers, and time round trips.
    Ping {
        #[command(flatten)]
        server: remote::ServerArg,
        /// Round trips to make.
        #[arg(long, default_value_t = 1)]
        count: u32,
        /// Payload bytes per PING.
        #[arg(long, default_value_t = 64)]
        size: usize,
    },
}

#[derive(Subcommand)]
enum ConfigCommand {
    /// Print the effective configuration and where each value came from.
    Show(ServerArgs),
    /// Validate a configuration file.
    Check {
        /// The TOML file to check.
        file: PathBuf,
    },
}

/// Flags shared by `serve` and `config show`; they override the file and the environment.
#[derive(Args, Clone)]
struct ServerArgs {
    /// TOML configuration file; reloaded on change and on SIGHUP.
    #[arg(long, value_name = "FILE")]
    config: Option<PathBuf>,
    /// Address for clients [default: 127.0.0.1:7878] (server.listen).
    #[arg(long, value_name = "ADDR")]
    listen: Option<String>,
    /// Address of the admin HTTP listener [default: 127.0.0.1:7879] (admin.listen).
    #[arg(long, value_name = "ADDR")]
    admin_listen: Option<String>,
    /// Address of the Kafka-protocol listener [default: 127.0.0.1:9092] (kafka.listen).
    #[arg(long, value_name = "ADDR")]
    kafka_listen: Option<String>,
    /// Data directory [default: ./memstream-data] (server.data_dir).
    #[arg(long, value_name = "DIR")]
    data_dir: Option<PathBuf>,
}

impl ServerArgs {
    /// The command-line flags as configuration overrides, highest precedence.
    fn overrides(&self) -> Vec<Override> {
        let mut out = Vec::new();
        let mut push = |key: &str, flag: &str, value: Option<String>| {
            if let Some(value) = value {
                out.push(Override {
                    key: key.to_owned(),
                    value,
                    flag: flag.to_owned(),
                });
            }
        };
        push("server.listen", "--listen", self.listen.clone());
        push("admin.listen", "--admin-listen", self.admin_listen.clone());
        push("kafka.listen", "--kafka-listen", self.kafka_listen.clone());
        push(
            "server.data_dir",
            "--data-dir",
            self.data_dir.as_ref().map(|d| d.display().to_string()),
        );
        out
    }

    fn sources(&self) -> memstream_broker::config::ConfigSources {
        memstream_broker::config::ConfigSources {
            file: self.config.clone(),
            env: std::env::vars().collect(),
            overrides: self.overrides(),
        }
    }
}

/// Keeps glibc's allocator from handing large freed buffers (record batches, read buffers)
/// back to the kernel at once only to fault them in again, zeroed, for the next batch: at
/// 1 KiB messages that churn cost more CPU than everything else. Large allocations come from
/// the heap below 64 MiB, and up to 128 MiB of freed heap is kept for reuse.
#[cfg(all(target_os = "linux", target_env = "gnu"))]
#[allow(unsafe_code)]
fn tune_allocator() {
    // SAFETY: mallopt only changes allocator parameters; it runs first thing in main, before
    // any other thread exists, and both values are within the documented ranges.
    unsafe {
        libc::mallopt(libc::M_MMAP_THRESHOLD, 64 << 20);
        libc::mallopt(libc::M_TRIM_THRESHOLD, 128 << 20);
    }
}

#[cfg(not(all(target_os = "linux", target_env = "gnu")))]
fn tune_allocator() {}

fn main() -> ExitCode {
    tune_allocator();
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Serve(args) => serve::run(&args),
        Command::Config(ConfigCommand::Show(args)) => config_cmd::show(&args),
        Command::Config(ConfigCommand::Check { file }) => config_cmd::check(&file),
        Command::Bench(args) => bench::run(args),
        Command::Top(args) => top::run_blocking(args),
        Command::Stream(command) => stream_cmd::run(command),
        Command::Produce(args) => produce_cmd::run(args),
        Command::Consume(args) => consume_cmd::run(args),
        Command::Group(command) => group_cmd::run(command),
        Command::User(command) => security_cmd::user(command),
        Command::Acl(command) => security_cmd::acl(command),
        Command::Token(command) => security_cmd::token(command),
        Command::Ping {
            server,
            count,
            size,
        } => ping::run(&server, count, size),
    };
    match result {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {}", one_line(&e));
            ExitCode::FAILURE
        }
    }
}

/// The error and its causes on one line, each said once: many errors already include their
/// source's text in their own message ("cannot listen on ...: Address already in use"), and
/// printing the chain as well would repeat it.
fn one_line(e: &anyhow::Error) -> String {
    let mut text = e.to_string();
    for cause in e.chain().skip(1) {
        let cause = cause.to_string();
        if !text.contains(&cause) {
            text.push_str(": ");
            text.push_str(&cause);
        }
    }
    text
}
