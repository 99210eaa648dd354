//! The shared backend: PostgreSQL, for several `lantern serve` processes behind a load balancer.

use crate::crypto::Keyring;
use crate::error::{Result, StoreError};
use crate::{Backend, OpenOptions};
use sqlx::postgres::{PgPool, PgPoolOptions};
use std::path::Path;
use std::time::Duration;

type Db = sqlx::Postgres;
type This = PgStore;

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
            .acquire_timeout(Duration::from_secs(10))
            .connect(url)
            .await?;
        sqlx::migrate!("src/postgres/migrations").run(&pool).await?;
        Ok(PgStore { pool, keys })
    }

    fn w(&self) -> &PgPool {
        &self.pool
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
    include!("../shared/cases.rs");
}
