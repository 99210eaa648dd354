//! Group commit for the embedded backend.
//!
//! SQLite has one writer. With `synchronous=FULL` every commit costs an fsync, so committing each request
//! on its own caps throughput at the disk's fsync rate and makes concurrent clients queue. Instead, every
//! write runs as a SAVEPOINT inside one open transaction on the single writer connection; a committer task
//! commits that transaction as soon as the connection is free, covering every request that ran since the
//! last commit with one fsync. A request is acknowledged only after the COMMIT of its batch returned, so
//! an acknowledged write survives a crash; if a COMMIT fails, every request of that batch gets the error.
//!
//! A request that fails rolls back only its own savepoint. The mutex is fair (FIFO), so the committer's
//! turn comes after the requests already waiting, which is what lets batches grow under load and stay
//! at one request when the line is quiet.
//!
//! A write built as a [`Unit`] (the hot paths: intake, inbound texts) runs in one round trip to sqlx's
//! worker thread instead of one per statement: `SAVEPOINT`, its rows, its audit events and `RELEASE` go
//! as one multi-statement query. Its events are sealed on the chain head the writer remembers from the
//! last unit; the insert itself checks that head against `audit_head`, so a head moved by anything else
//! (another path on this connection, another process on the file) fails the unit, which is rolled back
//! to its savepoint and sealed again on the head read afresh. A unit abandoned part-way (its request
//! cancelled) is rolled back before the connection is used again, and always before a COMMIT.

use super::repo::{
    AuditHead, Frame, UNIT_ROLLBACK, Unit, UnitQuery, is_stale_head, read_audit_head,
};
use crate::crypto::Keyring;
use crate::error::{Result, StoreError};
use sqlx::Transaction;
use sqlx::sqlite::{Sqlite, SqliteConnection, SqlitePool, SqliteRow};
use std::collections::BTreeSet;
use std::sync::{Arc, Weak};
use tokio::sync::{Mutex, Notify, OwnedMutexGuard, watch};

struct State {
    pool: SqlitePool,
    open: Option<Transaction<'static, Sqlite>>,
    batch: u64,
    /// The audit chain's head after the last unit, while nothing else has used the connection since.
    head: Option<AuditHead>,
    /// A unit was sent and its outcome not seen: its savepoint may still be open.
    unit_open: bool,
}

impl State {
    /// Rolls back a unit abandoned part-way, if any.
    async fn settle(&mut self) -> Result<()> {
        if !self.unit_open {
            return Ok(());
        }
        self.head = None;
        let conn = self.open.as_mut().expect("a unit runs inside the batch");
        // The unit may have finished (or never started): then there is nothing to undo.
        rollback_unit(conn).await?;
        self.unit_open = false;
        Ok(())
    }
}

#[derive(Clone, Debug, Default)]
struct Committed {
    /// Every batch below this number has been committed (or has failed).
    upto: u64,
    /// Recent batches whose COMMIT failed.
    failed: BTreeSet<u64>,
}

/// The single writer connection and its committer.
pub struct Writer {
    state: Arc<Mutex<State>>,
    notify: Arc<Notify>,
    committed: watch::Receiver<Committed>,
}

impl std::fmt::Debug for Writer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Writer").finish_non_exhaustive()
    }
}

impl Drop for Writer {
    fn drop(&mut self) {
        // Wake the committer so it commits what is open and notices it is no longer needed.
        self.notify.notify_one();
    }
}

impl Writer {
    /// Starts the committer over a pool of exactly one connection.
    pub fn start(pool: SqlitePool) -> Self {
        let state = Arc::new(Mutex::new(State {
            pool,
            open: None,
            batch: 0,
            head: None,
            unit_open: false,
        }));
        let notify = Arc::new(Notify::new());
        let (tx, committed) = watch::channel(Committed::default());
        tokio::spawn(committer(Arc::downgrade(&state), notify.clone(), tx));
        Writer {
            state,
            notify,
            committed,
        }
    }

    /// Waits for the writer connection and opens the batch transaction if none is open.
    pub async fn lease(&self) -> Result<Lease> {
        let mut guard = self.state.clone().lock_owned().await;
        if guard.open.is_none() {
            // The batch takes the file's write lock at once: a batch that read first (a head, a list)
            // could not take it later once another process on the file had committed meanwhile.
            let tx = guard.pool.begin_with("BEGIN IMMEDIATE").await?;
            guard.open = Some(tx);
        }
        guard.settle().await?;
        Ok(Lease {
            guard: Some(guard),
            notify: self.notify.clone(),
            committed: self.committed.clone(),
        })
    }
}

async fn committer(
    state: Weak<Mutex<State>>,
    notify: Arc<Notify>,
    published: watch::Sender<Committed>,
) {
    loop {
        notify.notified().await;
        let Some(state) = state.upgrade() else { return };
        let mut st = state.lock().await;
        if st.open.is_none() {
            continue;
        }
        let batch = st.batch;
        st.batch += 1;
        // Never commit half a unit: if it cannot be rolled back, the whole batch is.
        let result = match st.settle().await {
            Ok(()) => st.open.take().expect("checked").commit().await,
            Err(e) => {
                st.head = None;
                st.unit_open = false;
                let _ = st.open.take().expect("checked").rollback().await;
                Err(match e {
                    StoreError::Database(e) => e,
                    other => sqlx::Error::Protocol(other.to_string()),
                })
            }
        };
        if result.is_err() {
            st.head = None;
        }
        drop(st);
        published.send_modify(|c| {
            if let Err(e) = &result {
                tracing::error!(error = %e, batch, "group commit failed");
                c.failed.insert(batch);
                while c.failed.len() > 1024 {
                    c.failed.pop_first();
                }
            }
            c.upto = batch + 1;
        });
    }
}

/// The right to use the writer connection for one request's savepoint.
pub struct Lease {
    guard: Option<OwnedMutexGuard<State>>,
    notify: Arc<Notify>,
    committed: watch::Receiver<Committed>,
}

impl Lease {
    /// The connection, inside the open batch: `begin()` on it opens this request's savepoint.
    pub fn conn(&mut self) -> &mut SqliteConnection {
        let st = self
            .guard
            .as_mut()
            .expect("a lease holds the writer until done");
        // Whatever runs here may append audit events: the remembered head is no longer known.
        st.head = None;
        st.open.as_mut().expect("a lease always has the batch open")
    }

    /// The batch's connection, the remembered head and whether a unit is open, for a unit to use.
    fn unit_parts(&mut self) -> (&mut SqliteConnection, &mut Option<AuditHead>, &mut bool) {
        let State {
            open,
            head,
            unit_open,
            ..
        } = &mut **self
            .guard
            .as_mut()
            .expect("a lease holds the writer until done");
        let conn = open.as_mut().expect("a lease always has the batch open");
        (&mut **conn, head, unit_open)
    }

    /// Runs `unit` as one savepoint of the batch, in one round trip when the remembered head is current.
    pub async fn run_unit(&mut self, keys: &Keyring, unit: &Unit) -> Result<()> {
        let (conn, head, unit_open) = self.unit_parts();
        let mut current = match head.take() {
            Some(h) => h,
            None => read_audit_head(conn).await?,
        };
        let mut resealed = false;
        loop {
            let (queries, after) = unit.sealed(keys, &current, Frame::Savepoint)?;
            *unit_open = true;
            let Err(e) = run_all(conn, queries).await else {
                *unit_open = false;
                *head = Some(after);
                return Ok(());
            };
            rollback_unit(conn).await?;
            *unit_open = false;
            if is_stale_head(&e) && !resealed {
                resealed = true;
                current = read_audit_head(conn).await?;
                continue;
            }
            return Err(e.into());
        }
    }

    /// The first trip of a unit sent in two: opens its savepoint and runs `reads` (one query, whose first
    /// write takes the file's write lock, so what it reads, the chain's head included, stays current until
    /// the batch commits); returns their rows. [`Lease::finish_unit`] is the second trip.
    pub async fn read_unit(&mut self, reads: Vec<UnitQuery>) -> Result<Vec<SqliteRow>> {
        let (conn, head, unit_open) = self.unit_parts();
        *head = None;
        *unit_open = true;
        let mut rows = Vec::new();
        for q in reads {
            match q.fetch_rows(conn).await {
                Ok(r) => rows.extend(r),
                Err(e) => {
                    rollback_unit(conn).await?;
                    *unit_open = false;
                    return Err(e.into());
                }
            }
        }
        Ok(rows)
    }

    /// The second trip of the unit [`Lease::read_unit`] opened: `unit`'s statements, its events sealed on
    /// `head` (read by the first trip) and `RELEASE`, in one query. On failure the unit is rolled back.
    pub async fn finish_unit(
        &mut self,
        keys: &Keyring,
        unit: &Unit,
        head: &AuditHead,
    ) -> Result<()> {
        let (conn, remembered, unit_open) = self.unit_parts();
        let outcome = match unit.sealed(keys, head, Frame::Release) {
            Ok((queries, after)) => run_all(conn, queries)
                .await
                .map(|()| after)
                .map_err(StoreError::from),
            Err(e) => Err(e),
        };
        match outcome {
            Ok(after) => {
                *unit_open = false;
                *remembered = Some(after);
                Ok(())
            }
            Err(e) => {
                rollback_unit(conn).await?;
                *unit_open = false;
                Err(e)
            }
        }
    }

    /// Hands the connection back and returns a ticket for the batch this request's work belongs to.
    pub fn done(mut self) -> Ticket {
        let guard = self.guard.take().expect("done once");
        let batch = guard.batch;
        drop(guard);
        self.notify.notify_one();
        Ticket {
            batch,
            committed: self.committed.clone(),
        }
    }
}

impl Drop for Lease {
    fn drop(&mut self) {
        if self.guard.take().is_some() {
            // A request that failed part-way: its savepoint rolls back; commit the rest of the batch.
            self.notify.notify_one();
        }
    }
}

/// Runs a unit's queries in order, stopping at the first that fails.
async fn run_all(conn: &mut SqliteConnection, queries: Vec<UnitQuery>) -> sqlx::Result<()> {
    for q in queries {
        q.run(conn).await?;
    }
    Ok(())
}

/// Undoes a unit that failed part-way (nothing to do when it never opened its savepoint).
async fn rollback_unit(conn: &mut SqliteConnection) -> Result<()> {
    match sqlx::query(UNIT_ROLLBACK).execute(&mut *conn).await {
        Ok(_) => Ok(()),
        Err(sqlx::Error::Database(d)) if d.message().contains("no such savepoint") => Ok(()),
        Err(r) => Err(r.into()),
    }
}

/// A claim on a batch's commit.
#[derive(Debug)]
pub struct Ticket {
    batch: u64,
    committed: watch::Receiver<Committed>,
}

impl Ticket {
    /// Waits until the batch is durably committed.
    pub async fn durable(mut self) -> Result<()> {
        loop {
            {
                let c = self.committed.borrow_and_update();
                if c.failed.contains(&self.batch) {
                    return Err(StoreError::NotCommitted(
                        "the write could not be committed; nothing was saved",
                    ));
                }
                if c.upto > self.batch {
                    return Ok(());
                }
            }
            if self.committed.changed().await.is_err() {
                return Err(StoreError::NotCommitted(
                    "the database writer stopped before committing",
                ));
            }
        }
    }
}
