// A write unit: the statements of one request's write and its audit events, built before the writer is
// taken (encryption included) and then sent in as few round trips as the backend allows. On SQLite the
// statements of a unit go to sqlx's worker thread as ONE multi-statement query (its parameters numbered
// across the statements), since every round trip to that thread is a pair of thread switches on the
// single writer; on PostgreSQL each statement is its own query, as before.
//
// `include!`d into each backend's `repo` module after `repo.rs`; the backend defines
// `MULTI_STATEMENT` (whether one query may carry several statements with binds).

/// The most parameters one query of a unit carries before the next statement starts a new one
/// (SQLite allows 32,766 per statement, and a multi-statement query numbers them across statements).
const UNIT_MAX_PARAMS: usize = 16_000;

/// One query of a unit: one or more statements and their arguments.
pub(super) struct UnitQuery {
    sql: String,
    args: <Db as sqlx::Database>::Arguments,
    n: usize,
}

impl UnitQuery {
    fn new() -> Self {
        UnitQuery {
            sql: String::new(),
            args: Default::default(),
            n: 0,
        }
    }

    fn fork(&self) -> Self {
        UnitQuery {
            sql: self.sql.clone(),
            args: self.args.clone(),
            n: self.n,
        }
    }

    /// Runs the query on `conn` and returns the rows its statements returned, in order (the reads of a
    /// unit sent in two trips).
    pub(super) async fn fetch_rows(
        self,
        conn: &mut <Db as sqlx::Database>::Connection,
    ) -> sqlx::Result<Vec<DbRow>> {
        sqlx::query_with(sqlx::AssertSqlSafe(self.sql), self.args)
            .fetch_all(&mut *conn)
            .await
    }

    /// Runs the query on `conn`.
    pub(super) async fn run(
        self,
        conn: &mut <Db as sqlx::Database>::Connection,
    ) -> sqlx::Result<()> {
        if self.sql.is_empty() {
            return Ok(());
        }
        sqlx::query_with(sqlx::AssertSqlSafe(self.sql), self.args)
            .execute(&mut *conn)
            .await?;
        Ok(())
    }
}

/// An audit event of a unit, sealed when the unit runs (the chain's head is known only then).
struct UnitAudit {
    ctx: AuditCtx,
    action: &'static str,
    record_type: &'static str,
    record_id: Option<String>,
    detail: String,
}

/// The chain's head: the last event's sequence number and hash.
pub(super) type AuditHead = (i64, Vec<u8>);

/// How the queries of a unit are framed on the writer.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(super) enum Frame {
    /// As they are, inside a transaction the caller opened.
    Bare,
    /// Wrapped in `SAVEPOINT lantern_unit … RELEASE lantern_unit`.
    Savepoint,
    /// Followed by `RELEASE lantern_unit`: the second trip of a unit whose first ([`Unit::reads`]) opened
    /// the savepoint.
    #[allow(dead_code, reason = "only SQLite's writer keeps a savepoint open across round trips")]
    Release,
}

/// The statements of one write and its audit events.
pub(super) struct Unit {
    queries: Vec<UnitQuery>,
    audits: Vec<UnitAudit>,
    bind_error: Option<sqlx::error::BoxDynError>,
}

/// Inserts a sealed event only if the chain's head is still the one it was sealed on: otherwise
/// `prev_hash` is NULL and the NOT NULL constraint fails the statement (and with it the rest of the
/// query), so an event can never be chained on a stale head.
const UNIT_AUDIT_INSERT: &str = "INSERT INTO audit_events (seq, at, hotline_id, actor_id, actor, action, record_type, \
     record_id, source, detail, prev_hash, hash) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, \
     (SELECT hash FROM audit_head WHERE id = 1 AND seq = $1 - 1 AND hash = $11), $12)";

/// Whether `e` is the stale-head check of [`UNIT_AUDIT_INSERT`] failing.
#[allow(dead_code, reason = "PostgreSQL reads the head under its lock and never runs into it")]
pub(super) fn is_stale_head(e: &sqlx::Error) -> bool {
    matches!(e, sqlx::Error::Database(db) if db.message().contains("audit_events.prev_hash"))
}

impl Unit {
    pub(super) fn new() -> Self {
        Unit {
            queries: vec![UnitQuery::new()],
            audits: Vec::new(),
            bind_error: None,
        }
    }

    /// Adds a statement whose parameters are numbered `$1`, `$2`… of its own; bind them next, in order.
    pub(super) fn sql(&mut self, stmt: &str) -> &mut Self {
        let last = self.queries.last().expect("a unit has a query");
        if !last.sql.is_empty() && (!super::MULTI_STATEMENT || last.n >= UNIT_MAX_PARAMS) {
            self.queries.push(UnitQuery::new());
        }
        let q = self.queries.last_mut().expect("a unit has a query");
        let base = q.n;
        if !q.sql.is_empty() {
            q.sql.push_str(";\n");
        }
        // Renumber `$k` to `$(base + k)`: the statements of one query share one list of arguments.
        let mut rest = stmt;
        while let Some(i) = rest.find('$') {
            q.sql.push_str(&rest[..=i]);
            rest = &rest[i + 1..];
            let digits = rest.bytes().take_while(u8::is_ascii_digit).count();
            if digits > 0 {
                let k: usize = rest[..digits].parse().expect("digits");
                q.sql.push_str(&(base + k).to_string());
                rest = &rest[digits..];
            }
        }
        q.sql.push_str(rest);
        self
    }

    /// Binds the next parameter of the last statement.
    pub(super) fn bind<'t, T>(&mut self, v: T) -> &mut Self
    where
        T: sqlx::Encode<'t, Db> + sqlx::Type<Db>,
    {
        let q = self.queries.last_mut().expect("a unit has a query");
        match sqlx::Arguments::add(&mut q.args, v) {
            Ok(()) => q.n += 1,
            Err(e) => {
                self.bind_error.get_or_insert(e);
            }
        }
        self
    }

    /// Adds an audit event, appended to the chain after the unit's statements.
    pub(super) fn audit(
        &mut self,
        ctx: &AuditCtx,
        action: &'static str,
        record_type: &'static str,
        record_id: Option<&str>,
        detail: &serde_json::Value,
    ) -> &mut Self {
        self.audits.push(UnitAudit {
            ctx: ctx.clone(),
            action,
            record_type,
            record_id: record_id.map(str::to_owned),
            detail: detail.to_string(),
        });
        self
    }

    /// The first trip of a unit sent in two: its statements, which return the rows the rest of the write
    /// depends on, after `SAVEPOINT lantern_unit` on SQLite, where everything goes in one query. The
    /// second trip is [`Unit::sealed`] with [`Frame::Release`].
    pub(super) fn reads(self) -> Result<Vec<UnitQuery>> {
        if let Some(e) = self.bind_error {
            return Err(StoreError::Invalid(format!("a value could not be encoded: {e}")));
        }
        debug_assert!(self.audits.is_empty(), "the reads of a unit append no events");
        let mut queries = self.queries;
        if super::MULTI_STATEMENT {
            queries[0].sql.insert_str(0, "SAVEPOINT lantern_unit;\n");
        }
        Ok(queries)
    }

    /// The queries to run when the chain's head is `head`, and the head after them, framed as `frame`
    /// says; inside a savepoint, a failure part-way leaves it open for [`UNIT_ROLLBACK`] to undo.
    pub(super) fn sealed(
        &self,
        keys: &Keyring,
        head: &AuditHead,
        frame: Frame,
    ) -> Result<(Vec<UnitQuery>, AuditHead)> {
        let savepoint = frame == Frame::Savepoint;
        if let Some(e) = &self.bind_error {
            return Err(StoreError::Invalid(format!("a value could not be encoded: {e}")));
        }
        let mut out = Unit {
            queries: Vec::with_capacity(self.queries.len() + 1),
            audits: Vec::new(),
            bind_error: None,
        };
        if savepoint {
            let mut first = UnitQuery::new();
            first.sql.push_str("SAVEPOINT lantern_unit");
            out.queries.push(first);
        }
        for q in &self.queries {
            if q.sql.is_empty() {
                continue;
            }
            let only_savepoint = savepoint && out.queries.len() == 1 && out.queries[0].n == 0;
            match out.queries.last_mut() {
                // The savepoint carries no parameters: the first query goes on in the same string.
                Some(first) if super::MULTI_STATEMENT && only_savepoint => {
                    first.sql.push_str(";\n");
                    first.sql.push_str(&q.sql);
                    first.args = q.args.clone();
                    first.n = q.n;
                }
                _ => out.queries.push(q.fork()),
            }
        }
        if out.queries.is_empty() {
            out.queries.push(UnitQuery::new());
        }
        let (mut seq, mut prev) = head.clone();
        for a in &self.audits {
            seq += 1;
            let mut e = AuditEvent {
                seq,
                at_us: now_us(),
                hotline_id: a.ctx.hotline_id.clone(),
                actor_id: a.ctx.actor_id.clone(),
                actor: a.ctx.actor.clone(),
                action: a.action.to_owned(),
                record_type: a.record_type.to_owned(),
                record_id: a.record_id.clone(),
                source: a.ctx.source.clone(),
                detail: a.detail.clone(),
                prev_hash: Vec::new(),
                hash: Vec::new(),
            };
            e.hash = audit::seal(keys, &e, &prev);
            out.sql(UNIT_AUDIT_INSERT)
                .bind(e.seq)
                .bind(e.at_us)
                .bind(e.hotline_id)
                .bind(e.actor_id)
                .bind(e.actor)
                .bind(e.action)
                .bind(e.record_type)
                .bind(e.record_id)
                .bind(e.source)
                .bind(e.detail)
                .bind(prev)
                .bind(e.hash.clone());
            prev = e.hash;
        }
        if frame != Frame::Bare {
            out.sql("RELEASE lantern_unit");
        }
        if let Some(e) = out.bind_error {
            return Err(StoreError::Invalid(format!("a value could not be encoded: {e}")));
        }
        Ok((out.queries, (seq, prev)))
    }

    /// Runs the unit inside `tx`, reading the chain's head there (under its lock on PostgreSQL).
    pub(super) async fn run_in(&self, tx: &mut Tx<'_>, keys: &Keyring) -> Result<()> {
        let head = if self.audits.is_empty() {
            (0, Vec::new())
        } else {
            read_audit_head(tx).await?
        };
        let (queries, _) = self.sealed(keys, &head, Frame::Bare)?;
        for q in queries {
            q.run(tx).await?;
        }
        Ok(())
    }

    /// Runs a unit without audit events inside `tx`.
    pub(super) async fn run_rows_in(&self, tx: &mut Tx<'_>) -> Result<()> {
        debug_assert!(self.audits.is_empty(), "audit events need run_in");
        if let Some(e) = &self.bind_error {
            return Err(StoreError::Invalid(format!("a value could not be encoded: {e}")));
        }
        for q in &self.queries {
            q.fork().run(tx).await?;
        }
        Ok(())
    }
}

/// Undoes a unit that failed (or was abandoned) part-way; fails harmlessly with "no such savepoint" when
/// the unit had finished or never started.
#[allow(dead_code, reason = "only SQLite's writer keeps savepoints open across round trips")]
pub(super) const UNIT_ROLLBACK: &str = "ROLLBACK TO lantern_unit; RELEASE lantern_unit";

/// Reads the chain's head inside `conn`'s transaction.
pub(super) async fn read_audit_head(
    conn: &mut <Db as sqlx::Database>::Connection,
) -> Result<AuditHead> {
    let head = sqlx::query(super::AUDIT_HEAD_FOR_APPEND)
        .fetch_one(&mut *conn)
        .await?;
    Ok((head.try_get("seq")?, head.try_get("hash")?))
}
