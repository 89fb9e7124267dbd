//! `memstream config show` and `memstream config check`.

use std::path::Path;
use std::process::ExitCode;

use memstream_broker::config;

use crate::ServerArgs;

/// Prints the effective configuration, each value annotated with its origin.
pub fn show(args: &ServerArgs) -> anyhow::Result<ExitCode> {
    let loaded = config::load(&args.sources())?;
    print!("{}", loaded.render());
    Ok(ExitCode::SUCCESS)
}

/// Validates `file` (on top of the defaults) and says so.
pub fn check(file: &Path) -> anyhow::Result<ExitCode> {
    config::check_file(file)?;
    println!("{}: ok", file.display());
    Ok(ExitCode::SUCCESS)
}
