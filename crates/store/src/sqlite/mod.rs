//! The embedded backend: one SQLite file in WAL mode with `synchronous=FULL` and foreign keys on.
//!
//! All writes go through one connection with group commit (see `writer`), so transactions never contend
//! for SQLite's write lock and one fsync covers every request of a batch; reads use a separate pool,
//! which WAL lets run beside the writer. The writer never checkpoints the WAL into the database file itself
//! (that would stall the batch whose commit crossed the threshold): a third connection checkpoints every
//! second, beside the writer, in SQLite's passive mode.

use crate::crypto::Keyring;
use crate::error::{Result, StoreError};
use crate::{Backend, OpenOptions};
use sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteSynchronous,
};
use std::path::{Path, PathBuf};
use std::time::Duration;

mod writer;

/// Reads the audit chain's head for an append (the one statement that differs between backends).
const AUDIT_HEAD_FOR_APPEND: &str = "SELECT seq, hash FROM audit_head WHERE id = 1";

/// Nothing to lock where a statement reads the chain's head for an append: SQLite has one writer.
const AUDIT_HEAD_LOCK: &str = "";

/// Keeps writers out of the rollups while they are rebuilt: nothing to do, SQLite writes one at a time.
const ROLLUP_LOCK_FOR_REBUILD: &str = "SELECT 1";

/// Claims a linkage run: writes are serial here, so a conditional update is enough (the status is checked
/// again by the update itself, so two processes on one file cannot both claim it).
const LINKAGE_CLAIM: &str = "UPDATE linkage_runs SET status = 'running', worker = $1, lease_until = $2, started_at = $3, \
     attempts = attempts + 1 WHERE id = (SELECT id FROM linkage_runs WHERE status = 'queued' \
     OR (status = 'running' AND lease_until < $3) ORDER BY requested_at, id LIMIT 1) \
     AND (status = 'queued' OR (status = 'running' AND lease_until < $3)) RETURNING id, hotline_id";

/// One query may carry several statements with binds (sqlx runs them in order on its worker thread).
const MULTI_STATEMENT: bool = true;

type Db = sqlx::Sqlite;
type This = SqliteStore;

/// A store on one SQLite file.
#[derive(Debug)]
pub struct SqliteStore {
    writer: writer::Writer,
    reader: SqlitePool,
    keys: Keyring,
    path: PathBuf,
    _checkpointer: Checkpointer,
}

/// Copies the WAL into the database file every [`Checkpointer::EVERY`], without blocking the writer or
/// readers (`wal_checkpoint(PASSIVE)`); stops with the store.
#[derive(Debug)]
struct Checkpointer(tokio::task::JoinHandle<()>);

impl Checkpointer {
    const EVERY: Duration = Duration::from_secs(1);

    fn start(pool: SqlitePool) -> Checkpointer {
        Checkpointer(tokio::spawn(async move {
            let mut tick = tokio::time::interval(Self::EVERY);
            tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            loop {
                tick.tick().await;
                if let Err(e) = sqlx::query("PRAGMA wal_checkpoint(PASSIVE)")
                    .execute(&pool)
                    .await
                {
                    tracing::warn!(error = %e, "WAL checkpoint failed; the next one will try again");
                }
            }
        }))
    }
}

impl Drop for Checkpointer {
    fn drop(&mut self) {
        self.0.abort();
    }
}

impl SqliteStore {
    const BACKEND: Backend = Backend::Sqlite;

    /// Opens (creating if missing) the database file and applies migrations.
    pub async fn open(path: &Path, keys: Keyring, opts: &OpenOptions) -> Result<Self> {
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).map_err(|e| {
                StoreError::Invalid(format!("cannot create {}: {e}", dir.display()))
            })?;
        }
        let base = SqliteConnectOptions::new()
            .filename(path)
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Full)
            .foreign_keys(true)
            .busy_timeout(Duration::from_secs(10))
            .pragma("temp_store", "memory");
        let writer = SqlitePoolOptions::new()
            .max_connections(1)
            .min_connections(1)
            .acquire_timeout(Duration::from_secs(30))
            .connect_with(base.clone().pragma("wal_autocheckpoint", "0"))
            .await?;
        sqlx::migrate!("src/sqlite/migrations").run(&writer).await?;
        let reader = SqlitePoolOptions::new()
            .max_connections(opts.max_connections.max(1))
            .acquire_timeout(opts.acquire_timeout)
            .connect_with(base.clone().read_only(true))
            .await?;
        let checkpoints = SqlitePoolOptions::new()
            .max_connections(1)
            .connect_with(base.pragma("wal_autocheckpoint", "0"))
            .await?;
        let store = SqliteStore {
            writer: writer::Writer::start(writer),
            reader,
            keys,
            path: path.to_owned(),
            _checkpointer: Checkpointer::start(checkpoints),
        };
        store.fill_referral_service_types().await?;
        store.rebuild_missing_rollups().await?;
        Ok(store)
    }

    /// The writer connection for one request, inside the current group-commit batch.
    async fn lease(&self) -> Result<writer::Lease> {
        self.writer.lease().await
    }

    /// The writer for a write unit sent in two trips (see `writer::Lease::read_unit`).
    async fn unit_lease(&self) -> Result<writer::Lease> {
        self.writer.lease().await
    }

    fn r(&self) -> &SqlitePool {
        &self.reader
    }

    /// `VACUUM INTO` copies a consistent snapshot from a read transaction while writers go on.
    async fn backup_impl(&self, target: &Path) -> Result<()> {
        if target.exists() {
            return Err(StoreError::Invalid(format!(
                "{} already exists; choose a new file",
                target.display()
            )));
        }
        if target == self.path {
            return Err(StoreError::Invalid(
                "the backup must not be the database itself".into(),
            ));
        }
        let target = target
            .to_str()
            .ok_or_else(|| StoreError::Invalid("backup path must be UTF-8".into()))?;
        sqlx::query("VACUUM INTO $1")
            .bind(target)
            .execute(&self.reader)
            .await?;
        Ok(())
    }
}

/// The shared SQL, compiled for this backend.
mod repo {
    use super::{Db, This};
    include!("../shared/repo.rs");
    include!("../shared/unit.rs");
    include!("../shared/cases.rs");
    include!("../shared/directory.rs");
    include!("../shared/gaps.rs");
    include!("../shared/channels.rs");
    include!("../shared/rollups.rs");
    include!("../shared/linkage.rs");
    include!("../shared/chat.rs");
    include!("../shared/calls.rs");
}
