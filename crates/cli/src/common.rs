//! What every command shares: settings, keys, the store, logging, serving.

use anyhow::{Context, bail};
use lantern_server::{AppState, Settings};
use lantern_store::{Keyring, OpenOptions, Store};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;

/// Input the operator gave that cannot be used (a bad flag value, an invalid file). `main` prints each
/// detail line as it is, then `error: ` and the message, and exits with code 2; nothing was changed.
#[derive(Debug)]
pub struct BadInput {
    /// Lines printed before the message (one per invalid record, for example).
    pub details: Vec<String>,
    /// What is wrong, naming the flag, file or field.
    pub message: String,
}

impl std::fmt::Display for BadInput {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        for d in &self.details {
            writeln!(f, "{d}")?;
        }
        write!(f, "error: {}", self.message)
    }
}

impl std::error::Error for BadInput {}

/// A [`BadInput`] with no detail lines.
pub fn bad_input(message: impl Into<String>) -> anyhow::Error {
    BadInput {
        details: Vec::new(),
        message: message.into(),
    }
    .into()
}

/// Options every command takes.
#[derive(Debug, Clone)]
pub struct Global {
    /// Config file.
    pub config: Option<PathBuf>,
    /// Database override.
    pub database: Option<String>,
}

/// A multi-threaded Tokio runtime.
pub fn runtime() -> anyhow::Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("starting the async runtime")
}

/// Settings from defaults, the config file, the environment, then command-line overrides.
pub fn settings(g: &Global) -> anyhow::Result<Settings> {
    let mut s = Settings::load(g.config.as_deref(), std::env::vars())?;
    if let Some(db) = &g.database {
        s.database = db.clone();
    }
    Ok(s)
}

fn sqlite_path(url: &str) -> Option<&Path> {
    if url.starts_with("postgres://") || url.starts_with("postgresql://") {
        return None;
    }
    Some(Path::new(
        url.strip_prefix("sqlite://")
            .or_else(|| url.strip_prefix("sqlite:"))
            .unwrap_or(url),
    ))
}

/// The keyring: from `LANTERN_KEYS`, else the key file. A missing key file is created only for a SQLite
/// database that does not exist yet (so a lost key file is never silently replaced).
pub fn keys(s: &Settings, create_for_new_db: bool) -> anyhow::Result<Keyring> {
    if let Ok(text) = std::env::var("LANTERN_KEYS") {
        return Keyring::from_toml(&text).context("LANTERN_KEYS");
    }
    if s.key_file.exists() {
        return Keyring::load(&s.key_file)
            .with_context(|| format!("key file {}", s.key_file.display()));
    }
    let new_db = sqlite_path(&s.database).is_some_and(|p| !p.exists());
    if create_for_new_db && new_db {
        let k = Keyring::generate();
        if let Some(dir) = s.key_file.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir)?;
        }
        k.save(&s.key_file)
            .with_context(|| format!("writing key file {}", s.key_file.display()))?;
        eprintln!(
            "created key file {} — keep it safe and out of database backups",
            s.key_file.display()
        );
        return Ok(k);
    }
    bail!(
        "key file {} not found. For a new installation run `lantern keys init`; for an existing database, restore its key file",
        s.key_file.display()
    )
}

/// Opens the store (applying migrations).
pub async fn open_store(s: &Settings, create_keys: bool) -> anyhow::Result<Arc<dyn Store>> {
    let keys = keys(s, create_keys)?;
    lantern_store::open(&s.database, keys, &OpenOptions::default())
        .await
        .context("opening the database")
}

/// Sets up logging: JSON lines or pretty, filtered by `RUST_LOG` or the configured level.
pub fn init_logging(s: &Settings) {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(&s.log.level));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    let _ = if s.log.format == "json" {
        builder.json().flatten_event(true).try_init()
    } else {
        builder.try_init()
    };
}

/// Resolves when the process is asked to stop (Ctrl-C or SIGTERM).
pub async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! { () = ctrl_c => {}, () = term => {} }
    tracing::info!("shutting down: finishing requests in flight");
}

/// Serves with settings until a stop signal.
pub async fn run_server(settings: Settings, store: Arc<dyn Store>) -> anyhow::Result<ExitCode> {
    let listener = tokio::net::TcpListener::bind(settings.bind)
        .await
        .with_context(|| format!("binding {}", settings.bind))?;
    let addr = listener.local_addr()?;
    tracing::info!(bind = %addr, "Lantern is listening");
    eprintln!("Lantern is listening on http://{addr}");
    lantern_server::serve(AppState::new(store, settings), listener, shutdown_signal()).await?;
    Ok(ExitCode::SUCCESS)
}

/// `lantern serve`.
pub async fn serve(g: &Global, bind: Option<std::net::SocketAddr>) -> anyhow::Result<ExitCode> {
    let mut s = settings(g)?;
    if let Some(b) = bind {
        s.bind = b;
    }
    init_logging(&s);
    let store = open_store(&s, true).await?;
    run_server(s, store).await
}
