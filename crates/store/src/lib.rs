//! Lantern's persistence.
//!
//! One [`Store`] trait is the whole repository API; [`open`] picks the backend from the database URL's
//! scheme: a file path or `sqlite://…` for the embedded default, `postgres://…` for several servers.
//! Each backend has its own migrations folder, embedded in the binary and applied at start. The SQL
//! itself is written once, in portable form (`$1` placeholders, which both backends accept, and only
//! `TEXT`, `BIGINT`, `BOOLEAN` and byte columns), in `shared/`, and compiled once per backend.
//!
//! Personal data is encrypted before it reaches SQL (see [`crypto`]); every write and every read of
//! personal data appends to the audit chain (see [`audit`]) in the same transaction, and so does the
//! change to the statistics rollups (see [`rollups`]).

pub mod audit;
pub mod calls;
pub mod cases;
pub mod channels;
pub mod chat;
pub mod crypto;
pub mod directory;
pub mod error;
pub mod linkage;
mod model;
mod postgres;
pub mod rollups;
mod sqlite;

pub use audit::{AuditCtx, AuditEvent, Verification};
pub use calls::*;
pub use cases::*;
pub use channels::*;
pub use chat::*;
pub use crypto::Keyring;
pub use directory::*;
pub use error::{Result, StoreError};
pub use linkage::*;
pub use model::*;
pub use rollups::{CellKey, RollupCell, RollupChanges, RollupFilter, RollupStore};

use async_trait::async_trait;
use std::path::Path;
use std::sync::Arc;

/// Which database a store runs on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    /// One SQLite file in WAL mode.
    Sqlite,
    /// A PostgreSQL server.
    Postgres,
}

/// The repository API. Every method that touches one hotline's records takes that hotline's id and
/// never returns another hotline's records.
#[async_trait]
pub trait Store:
    CaseStore
    + DirectoryStore
    + SmsStore
    + RollupStore
    + LinkageStore
    + ChatStore
    + CallStore
    + RateLimitStore
    + Send
    + Sync
    + std::fmt::Debug
{
    /// The backend behind this store.
    fn backend(&self) -> Backend;

    /// The keyring in use (the server needs the blind index for lookups it builds itself).
    fn keys(&self) -> &Keyring;

    /// Succeeds when the database answers.
    async fn ping(&self) -> Result<()>;

    // ---- hotlines and partner organisations ----

    /// Creates a hotline (a tenant).
    async fn create_hotline(&self, ctx: &AuditCtx, new: &NewHotline) -> Result<Hotline>;
    /// A hotline by its slug.
    async fn hotline_by_slug(&self, slug: &str) -> Result<Option<Hotline>>;
    /// A hotline by id.
    async fn hotline(&self, id: &str) -> Result<Option<Hotline>>;
    /// Every hotline.
    async fn list_hotlines(&self) -> Result<Vec<Hotline>>;
    /// Creates a partner organisation of a hotline.
    async fn create_partner_org(
        &self,
        ctx: &AuditCtx,
        hotline_id: &str,
        name: &str,
    ) -> Result<PartnerOrg>;
    /// The partner organisations of a hotline.
    async fn list_partner_orgs(&self, hotline_id: &str) -> Result<Vec<PartnerOrg>>;

    // ---- users ----

    /// Creates a user; the username is unique across the installation.
    async fn create_user(&self, ctx: &AuditCtx, new: &NewUser) -> Result<User>;
    /// A user of a hotline, with personal fields decrypted (audited as a read).
    async fn user(&self, ctx: &AuditCtx, hotline_id: &str, id: &str) -> Result<User>;
    /// The users of a hotline (audited as a read of their personal fields).
    async fn list_users(&self, ctx: &AuditCtx, hotline_id: &str) -> Result<Vec<User>>;
    /// A user by username with the password hash, for login. Not audited: the login outcome is.
    async fn user_for_login(&self, username: &str) -> Result<Option<(User, String)>>;
    /// Changes a user's status, role or password; the change is audited.
    async fn update_user(
        &self,
        ctx: &AuditCtx,
        hotline_id: &str,
        id: &str,
        change: &UserChange,
    ) -> Result<User>;
    /// Records a failed login; locks the account for `lock_for` once `max_failures` failures in a row
    /// are reached. Returns whether the account is now locked.
    async fn record_login_failure(
        &self,
        ctx: &AuditCtx,
        user_id: Option<&str>,
        max_failures: i64,
        lock_for: time::Duration,
    ) -> Result<bool>;

    // ---- sessions ----

    /// Records a successful login and opens a server-side session.
    async fn create_session(&self, ctx: &AuditCtx, new: &NewSession) -> Result<()>;
    /// The live session for a cookie's token hash, with its user; `None` when unknown, expired, idle
    /// longer than `idle`, or the user can no longer log in. Refreshes the idle clock.
    async fn session(
        &self,
        token_hash: &[u8],
        idle: time::Duration,
    ) -> Result<Option<(Session, User)>>;
    /// Ends a session (logout).
    async fn delete_session(&self, ctx: &AuditCtx, token_hash: &[u8]) -> Result<()>;

    // ---- API tokens ----

    /// Stores a new API token's hash.
    async fn create_token(&self, ctx: &AuditCtx, new: &NewToken) -> Result<ApiToken>;
    /// The live token with this hash and its user; `None` when unknown, revoked, or the user can no
    /// longer log in. Records its use.
    async fn token(&self, token_hash: &[u8]) -> Result<Option<(ApiToken, User)>>;
    /// Revokes a token of a hotline.
    async fn revoke_token(&self, ctx: &AuditCtx, hotline_id: &str, token_id: &str) -> Result<()>;
    /// The tokens of a hotline's user (never their secrets).
    async fn list_tokens(&self, hotline_id: &str, user_id: &str) -> Result<Vec<ApiToken>>;

    // ---- audit ----

    /// Appends an event for something that wrote nothing else (a read of personal data, a refused
    /// login, an export).
    async fn audit(
        &self,
        ctx: &AuditCtx,
        action: &str,
        record_type: &str,
        record_id: Option<&str>,
        detail: serde_json::Value,
    ) -> Result<()>;
    /// Walks the whole chain and reports the first altered or missing event.
    async fn verify_audit(&self) -> Result<Verification>;
    /// The newest events of a hotline, newest first.
    async fn recent_audit(&self, hotline_id: &str, limit: i64) -> Result<Vec<AuditEvent>>;

    // ---- keys and maintenance ----

    /// Re-encrypts every encrypted value with `new_keys`' current key (which must still be able to decrypt
    /// the old values); returns how many values were rewritten. The caller saves the new key file first.
    async fn reencrypt_all(&self, ctx: &AuditCtx, new_keys: &Keyring) -> Result<u64>;
    /// Writes a consistent snapshot of a live SQLite database to `path` (a new file).
    async fn backup(&self, ctx: &AuditCtx, path: &Path) -> Result<()>;
}

/// Options for opening a store.
#[derive(Debug, Clone)]
pub struct OpenOptions {
    /// How many connections a PostgreSQL pool or the SQLite readers may hold.
    pub max_connections: u32,
    /// How long a request waits for a free connection of that pool before it fails as overloaded
    /// ([`StoreError::is_overloaded`]).
    pub acquire_timeout: std::time::Duration,
}

impl Default for OpenOptions {
    fn default() -> Self {
        OpenOptions {
            max_connections: 8,
            acquire_timeout: std::time::Duration::from_secs(10),
        }
    }
}

/// Opens the database at `url` (creating a SQLite file if missing), applies pending migrations, and
/// returns the store.
pub async fn open(url: &str, keys: Keyring, opts: &OpenOptions) -> Result<Arc<dyn Store>> {
    if url.starts_with("postgres://") || url.starts_with("postgresql://") {
        Ok(Arc::new(postgres::PgStore::connect(url, keys, opts).await?))
    } else if let Some(path) = url
        .strip_prefix("sqlite://")
        .or_else(|| url.strip_prefix("sqlite:"))
    {
        Ok(Arc::new(
            sqlite::SqliteStore::open(Path::new(path), keys, opts).await?,
        ))
    } else if url.contains("://") {
        Err(StoreError::UnsupportedUrl(url.to_owned()))
    } else {
        Ok(Arc::new(
            sqlite::SqliteStore::open(Path::new(url), keys, opts).await?,
        ))
    }
}

/// Normalises an email address for exact lookup (trimmed, lowercased).
pub fn normalise_email(s: &str) -> String {
    s.trim().to_lowercase()
}

pub(crate) fn now_us() -> i64 {
    (time::OffsetDateTime::now_utc().unix_timestamp_nanos() / 1000) as i64
}

pub(crate) fn new_id() -> String {
    uuid::Uuid::now_v7().to_string()
}
