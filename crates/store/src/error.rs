//! Errors of the store.
//!
//! Policy: the store says *what* went wrong in terms a caller can act on. A client's mistake that only the
//! database can detect (a duplicate username, a record of another hotline) is a typed variant the server
//! maps to a 4xx; everything else is [`StoreError::Database`] or [`StoreError::Crypto`], which the server
//! treats as an internal failure, logged once with its cause chain.

use crate::crypto::CryptoError;

/// Result type of the store.
pub type Result<T, E = StoreError> = std::result::Result<T, E>;

/// What can go wrong in the store.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The record does not exist (or belongs to another hotline, which is the same to the caller).
    #[error("{0} not found")]
    NotFound(&'static str),
    /// A unique value is already taken; names the field.
    #[error("{field} is already taken")]
    Conflict {
        /// The field whose value is taken.
        field: &'static str,
    },
    /// The request is not valid for the record's current state; the message says why.
    #[error("{0}")]
    Invalid(String),
    /// The write was not committed (the batch it joined failed, or the writer stopped): nothing was
    /// saved, and the same write may succeed when made again. Not the request's fault.
    #[error("{0}")]
    NotCommitted(&'static str),
    /// The database URL is not one Lantern understands.
    #[error("unsupported database URL `{0}`: use a file path, sqlite://PATH or postgres://...")]
    UnsupportedUrl(String),
    /// The operation exists only on another backend.
    #[error("{0} is only available on SQLite; on PostgreSQL use the server's own tools (pg_dump)")]
    SqliteOnly(&'static str),
    /// Decryption or key handling failed.
    #[error(transparent)]
    Crypto(#[from] CryptoError),
    /// The database failed.
    #[error("database error")]
    Database(#[from] sqlx::Error),
    /// Applying migrations failed.
    #[error("database migration failed")]
    Migrate(#[from] sqlx::migrate::MigrateError),
}

/// PostgreSQL's codes for a request that lost to others and may succeed if made again: a serialization
/// failure, a deadlock, too many connections, a lock not available.
const PG_OVERLOAD_CODES: &[&str] = &["40001", "40P01", "53300", "55P03"];

impl StoreError {
    /// Whether the database could not take the request now (no connection free within the pool's
    /// timeout, a transaction or lock that lost to concurrent ones, too many connections, SQLite busy or
    /// locked, a write whose batch was not committed) though nothing is wrong with it: the same request may well succeed a moment later. The
    /// server answers these 503 with `Retry-After`.
    pub fn is_overloaded(&self) -> bool {
        let e = match self {
            StoreError::Database(e) => e,
            StoreError::NotCommitted(_) => return true,
            _ => return false,
        };
        match e {
            sqlx::Error::PoolTimedOut => true,
            sqlx::Error::Database(db) => {
                let Some(code) = db.code() else { return false };
                if db.try_downcast_ref::<sqlx::sqlite::SqliteError>().is_some() {
                    // SQLITE_BUSY and SQLITE_LOCKED, with their extended codes.
                    code.parse::<i32>().is_ok_and(|c| matches!(c & 0xff, 5 | 6))
                } else {
                    PG_OVERLOAD_CODES.contains(&code.as_ref())
                }
            }
            _ => false,
        }
    }

    /// Maps a unique-constraint violation to [`StoreError::Conflict`] on `field`, anything else unchanged.
    pub(crate) fn unique(e: sqlx::Error, field: &'static str) -> StoreError {
        if let sqlx::Error::Database(db) = &e
            && db.is_unique_violation()
        {
            return StoreError::Conflict { field };
        }
        StoreError::Database(e)
    }
}
