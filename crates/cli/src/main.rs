//! `lantern`: the command-line entry point. Thin: parses arguments and config, sets up logging, and calls
//! the library crates.

mod admin;
mod common;
mod demo;
mod demo_data;
#[cfg(test)]
mod demo_walk;
mod directory;
mod link;
mod screen;
mod stats;

use clap::{Parser, Subcommand};
use std::path::PathBuf;
use std::process::ExitCode;

/// Lantern: a self-hostable platform for anti-trafficking hotlines.
#[derive(Debug, Parser)]
#[command(name = "lantern", version, about, long_about = None)]
struct Cli {
    /// A TOML config file (see `lantern default-config`).
    #[arg(long, global = true, env = "LANTERN_CONFIG")]
    config: Option<PathBuf>,
    /// The database: a SQLite file path, sqlite://PATH, or postgres://USER@HOST/DB.
    #[arg(long, global = true)]
    database: Option<String>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Run the server.
    Serve {
        /// Address to listen on (overrides the config).
        #[arg(long)]
        bind: Option<std::net::SocketAddr>,
    },
    /// Create (or reuse) a demo hotline with one user per role, and serve it.
    Demo(demo::DemoArgs),
    /// Apply pending database migrations, then exit.
    Migrate,
    /// Print a fully commented configuration file with every default.
    DefaultConfig,
    /// Hotlines (tenants).
    #[command(subcommand)]
    Hotlines(admin::HotlinesCmd),
    /// Partner organisations.
    #[command(subcommand)]
    Partners(admin::PartnersCmd),
    /// Users: add (password from stdin), list, disable, enable, unlock.
    #[command(subcommand)]
    Users(admin::UsersCmd),
    /// API tokens: create (printed once), revoke.
    #[command(subcommand)]
    Tokens(admin::TokensCmd),
    /// The key file: create it, or rotate the data key and re-encrypt every value.
    #[command(subcommand)]
    Keys(admin::KeysCmd),
    /// The audit log.
    #[command(subcommand)]
    Audit(admin::AuditCmd),
    /// Write a consistent snapshot of a running SQLite database to a new file.
    Backup {
        /// The new file.
        path: PathBuf,
    },
    /// The referral directory: import HSDS files, export them, search.
    #[command(subcommand)]
    Directory(directory::DirectoryCmd),
    /// Record linkage over any CSV file: deduplicate one file or link two.
    Link(link::LinkArgs),
    /// Screen a situation against Action-Means-Purpose: answers as JSON in, the determination out.
    Screen(screen::ScreenArgs),
    /// Statistics from the rollups (CSV or JSON; `--public` passes the release gate), or `rebuild` them.
    Stats(stats::StatsArgs),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let global = common::Global {
        config: cli.config,
        database: cli.database,
    };
    let result = match cli.command {
        Command::Link(args) => link::run(args),
        Command::Screen(args) => screen::run(args),
        Command::DefaultConfig => {
            print!("{}", lantern_server::config::DEFAULT_CONFIG);
            Ok(ExitCode::SUCCESS)
        }
        command => common::runtime().and_then(|rt| rt.block_on(run(global, command))),
    };
    match result {
        Ok(code) => code,
        Err(e) if e.downcast_ref::<common::BadInput>().is_some() => {
            eprintln!("{e}");
            ExitCode::from(2)
        }
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::from(1)
        }
    }
}

async fn run(global: common::Global, command: Command) -> anyhow::Result<ExitCode> {
    match command {
        Command::Serve { bind } => common::serve(&global, bind).await,
        Command::Demo(args) => demo::run(&global, args).await,
        Command::Migrate => admin::migrate(&global).await,
        Command::Hotlines(c) => admin::hotlines(&global, c).await,
        Command::Partners(c) => admin::partners(&global, c).await,
        Command::Users(c) => admin::users(&global, c).await,
        Command::Tokens(c) => admin::tokens(&global, c).await,
        Command::Keys(c) => admin::keys_cmd(&global, c).await,
        Command::Audit(c) => admin::audit(&global, c).await,
        Command::Backup { path } => admin::backup(&global, &path).await,
        Command::Directory(c) => directory::run(&global, c).await,
        Command::Stats(a) => stats::run(&global, a).await,
        Command::Link(_) | Command::Screen(_) | Command::DefaultConfig => {
            unreachable!("handled before the runtime starts")
        }
    }
}
