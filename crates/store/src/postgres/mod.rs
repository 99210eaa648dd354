//! The shared backend: PostgreSQL, for several `lantern serve` processes behind a load balancer.

use crate::crypto::Keyring;
use crate::error::{Result, StoreError};
use crate::{Backend, OpenOptions};
use sqlx::postgres::{PgPool, PgPoolOptions};
use std::path::Path;

/// Reads the audit chain's head for an append (the one statement that differs between backends).
const AUDIT_HEAD_FOR_APPEND: &str = "SELECT seq, hash FROM audit_head WHERE id = 1 FOR UPDATE";

/// Locks the chain's head where a statement reads it for an append (see `AUDIT_HEAD_FOR_APPEND`).
const AUDIT_HEAD_LOCK: &str = " FOR UPDATE";

/// Keeps writers out of the rollups while they are rebuilt: a write in flight finishes first (so the
/// rebuild reads its records), and a later one waits and applies its change on top of the rebuilt cells.
const ROLLUP_LOCK_FOR_REBUILD: &str = "LOCK TABLE rollup_cells IN EXCLUSIVE MODE";

/// Claims a linkage run: the row is locked `FOR UPDATE SKIP LOCKED`, so servers claiming at once take
/// different runs (or none) rather than waiting on each other.
const LINKAGE_CLAIM: &str = "UPDATE linkage_runs SET status = 'running', worker = $1, lease_until = $2, started_at = $3, \
     attempts = attempts + 1 WHERE id = (SELECT id FROM linkage_runs WHERE status = 'queued' \
     OR (status = 'running' AND lease_until < $3) ORDER BY requested_at, id LIMIT 1 FOR UPDATE SKIP LOCKED) \
     RETURNING id, hotline_id";

/// Each statement is its own query (the extended protocol prepares one statement at a time).
const MULTI_STATEMENT: bool = false;

type Db = sqlx::Postgres;
type This = PgStore;

/// One request's connection.
struct PgLease(sqlx::pool::PoolConnection<sqlx::Postgres>);

impl PgLease {
    fn conn(&mut self) -> &mut sqlx::PgConnection {
        &mut self.0
    }

    fn done(self) -> PgTicket {
        PgTicket
    }
}

/// PostgreSQL's COMMIT already returned: nothing to wait for.
struct PgTicket;

impl PgTicket {
    async fn durable(self) -> Result<()> {
        Ok(())
    }
}

/// A write unit sent in two trips (its reads, then its writes), in a transaction of its own.
struct PgUnitLease(Option<sqlx::Transaction<'static, sqlx::Postgres>>);

impl PgUnitLease {
    fn tx(&mut self) -> &mut sqlx::PgConnection {
        self.0
            .as_mut()
            .expect("a unit lease holds its transaction until done")
    }

    /// The first trip: `reads`, each statement its own query, and their rows in order.
    async fn read_unit(
        &mut self,
        reads: Vec<repo::UnitQuery>,
    ) -> Result<Vec<sqlx::postgres::PgRow>> {
        let mut rows = Vec::new();
        for q in reads {
            rows.extend(q.fetch_rows(self.tx()).await?);
        }
        Ok(rows)
    }

    /// The second trip: `unit`'s statements and its events sealed on `head`, read (and locked) by the
    /// first; then COMMIT.
    async fn finish_unit(
        &mut self,
        keys: &Keyring,
        unit: &repo::Unit,
        head: &repo::AuditHead,
    ) -> Result<()> {
        let (queries, _) = unit.sealed(keys, head, repo::Frame::Bare)?;
        for q in queries {
            q.run(self.tx()).await?;
        }
        let tx = self.0.take().expect("finished once");
        tx.commit().await?;
        Ok(())
    }

    /// PostgreSQL's COMMIT already returned (or the unit is abandoned and rolls back).
    fn done(self) -> PgTicket {
        PgTicket
    }
}

/// A store on a PostgreSQL database.
#[derive(Debug)]
pub struct PgStore {
    pool: PgPool,
    keys: Keyring,
}

impl PgStore {
    const BACKEND: Backend = Backend::Postgres;

    /// Connects and applies migrations (under PostgreSQL's advisory lock, so several servers starting
    /// together apply them once).
    pub async fn connect(url: &str, keys: Keyring, opts: &OpenOptions) -> Result<Self> {
        let pool = PgPoolOptions::new()
            .max_connections(opts.max_connections.max(2))
            .acquire_timeout(opts.acquire_timeout)
            .connect(url)
            .await?;
        sqlx::migrate!("src/postgres/migrations").run(&pool).await?;
        let store = PgStore { pool, keys };
        store.fill_referral_service_types().await?;
        store.rebuild_missing_rollups().await?;
        Ok(store)
    }

    /// A connection for one request's transaction (PostgreSQL commits each on its own).
    async fn lease(&self) -> Result<PgLease> {
        Ok(PgLease(self.pool.acquire().await?))
    }

    /// A transaction for a write unit sent in two trips.
    async fn unit_lease(&self) -> Result<PgUnitLease> {
        Ok(PgUnitLease(Some(self.pool.begin().await?)))
    }

    fn r(&self) -> &PgPool {
        &self.pool
    }

    async fn backup_impl(&self, _target: &Path) -> Result<()> {
        Err(StoreError::SqliteOnly("lantern backup"))
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

impl PgLease {
    /// Runs a write unit in its own transaction (PostgreSQL commits each on its own).
    async fn run_unit(&mut self, keys: &Keyring, unit: &repo::Unit) -> Result<()> {
        use sqlx::Connection as _;
        let mut tx = self.conn().begin().await?;
        unit.run_in(&mut tx, keys).await?;
        tx.commit().await?;
        Ok(())
    }
}
