//! `lantern screen FILE`: the screening rules on the command line, printing the same JSON as the API.

use lantern_domain::screening::{assess, parse_answers_json};
use std::io::Read as _;
use std::path::PathBuf;
use std::process::ExitCode;

/// Arguments of `lantern screen`.
#[derive(Debug, clap::Args)]
pub struct ScreenArgs {
    /// A JSON file of answers, or `-` for standard input.
    pub file: PathBuf,
}

/// Runs `lantern screen`: exit 0 with the determination, 2 naming the bad field.
pub fn run(args: ScreenArgs) -> anyhow::Result<ExitCode> {
    let mut bytes = Vec::new();
    if args.file.as_os_str() == "-" {
        std::io::stdin().read_to_end(&mut bytes)?;
    } else {
        bytes = std::fs::read(&args.file)
            .map_err(|e| anyhow::anyhow!("cannot read {}: {e}", args.file.display()))?;
    }
    match parse_answers_json(&bytes) {
        Ok(answers) => {
            println!("{}", serde_json::to_string_pretty(&assess(&answers))?);
            Ok(ExitCode::SUCCESS)
        }
        Err(e) => {
            eprintln!("error: {}: {}", e.field, e.message);
            Ok(ExitCode::from(2))
        }
    }
}
