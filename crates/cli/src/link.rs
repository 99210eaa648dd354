//! `lantern link`: record linkage over CSV files (owned by the linkage work).

use std::process::ExitCode;

/// Arguments of `lantern link`.
#[derive(Debug, clap::Args)]
pub struct LinkArgs {
    /// The CSV file to deduplicate (or the first of two to link).
    #[arg(long)]
    pub input: std::path::PathBuf,
}

/// Runs `lantern link`.
pub fn run(args: LinkArgs) -> anyhow::Result<ExitCode> {
    anyhow::bail!("linkage of {} is not built yet", args.input.display())
}
