//! `lantern link`: record linkage over CSV files (deduplicate one file or link two).

use std::path::PathBuf;
use std::process::ExitCode;

use lantern_linkage::run::{LinkOptions, OutputKind, StderrProgress, run as run_link};

/// Arguments of `lantern link`.
#[derive(Debug, clap::Args)]
pub struct LinkArgs {
    /// The CSV file to deduplicate (or the first of two to link).
    #[arg(long)]
    pub input: PathBuf,
    /// A second CSV file to link against the first (same columns).
    #[arg(long)]
    pub input_b: Option<PathBuf>,
    /// The column holding each record's id.
    #[arg(long)]
    pub id: String,
    /// Link settings (TOML); inferred from the column names when absent.
    #[arg(long)]
    pub config: Option<PathBuf>,
    /// Match probability at or above which pairs are kept and clustered (overrides the config).
    #[arg(long)]
    pub threshold: Option<f64>,
    /// Output CSV: clusters when the file name starts with `cluster`, else pairs with explanations.
    #[arg(long)]
    pub output: PathBuf,
    /// Force the output kind (`pairs` or `clusters`) regardless of the file name.
    #[arg(long, value_parser = ["pairs", "clusters"])]
    pub output_kind: Option<String>,
    /// Leave each pair's explanation (per field: level and weight added) out of the pairs file.
    #[arg(long)]
    pub no_explanations: bool,
}

/// Runs `lantern link`: exit 0 on success, 2 on bad input or settings (message on stderr).
pub fn run(args: LinkArgs) -> anyhow::Result<ExitCode> {
    let opts = LinkOptions {
        input: args.input,
        input_b: args.input_b,
        id: args.id,
        config: args.config,
        threshold: args.threshold,
        output: args.output,
        kind: args.output_kind.map(|k| {
            if k == "clusters" {
                OutputKind::Clusters
            } else {
                OutputKind::Pairs
            }
        }),
        explanations: !args.no_explanations,
    };
    match run_link(&opts, &StderrProgress::default()) {
        Ok(summary) => {
            eprintln!("{summary}");
            Ok(ExitCode::SUCCESS)
        }
        Err(e) => {
            eprintln!("lantern link: {e}");
            Ok(ExitCode::from(2))
        }
    }
}
