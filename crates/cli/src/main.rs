//! `lantern`: the command-line entry point. Thin: parses arguments and calls the crates.

mod link;

use clap::{Parser, Subcommand};
use std::process::ExitCode;

/// Lantern: a self-hostable platform for anti-trafficking hotlines.
#[derive(Debug, Parser)]
#[command(name = "lantern", version, about, long_about = None)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Record linkage over any CSV file: deduplicate one file or link two.
    Link(link::LinkArgs),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Link(args) => link::run(args),
    };
    match result {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::from(1)
        }
    }
}
