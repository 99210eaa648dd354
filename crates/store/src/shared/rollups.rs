// The rollups' SQL (see `crate::rollups` for the rules), included into each backend's `repo` module beside
// `repo.rs`, `cases.rs` and `directory.rs`, whose write paths call `contact_rollup`, `case_rollup` and
// `apply_rollup_delta` inside their transactions. Only coded columns are read: never personal data.

use crate::rollups::*;

/// The coded facts of one contact (`contact_id` given) or of every contact of a hotline.
async fn contact_facts(
    tx: &mut Tx<'_>,
    hotline_id: &str,
    contact_id: Option<&str>,
) -> Result<Vec<ContactFacts>> {
    macro_rules! facts {
        ($where:literal) => {
            concat!(
                "SELECT c.occurred_at, c.state, c.channel, c.signaler_type, c.category, \
                 (SELECT d.outcome FROM determinations d WHERE d.contact_id = c.id \
                  ORDER BY d.created_at DESC, d.id DESC LIMIT 1) AS outcome \
                 FROM contacts c WHERE ",
                $where
            )
        };
    }
    // One contact by its keys only (see `case_bundles`).
    let rows = match contact_id {
        Some(id) => {
            sqlx::query(facts!("c.hotline_id = $1 AND c.id = $2"))
                .bind(hotline_id)
                .bind(id)
                .fetch_all(&mut **tx)
                .await?
        }
        None => {
            sqlx::query(facts!("c.hotline_id = $1"))
                .bind(hotline_id)
                .fetch_all(&mut **tx)
                .await?
        }
    };
    rows.iter()
        .map(|r| {
            Ok(ContactFacts {
                occurred_at_us: r.try_get("occurred_at")?,
                state: r.try_get("state")?,
                channel: r.try_get("channel")?,
                signaler_type: r.try_get("signaler_type")?,
                category: r.try_get("category")?,
                outcome: r.try_get("outcome")?,
            })
        })
        .collect()
}

/// The cells of one contact as stored now (none when it does not exist).
async fn contact_rollup(tx: &mut Tx<'_>, hotline_id: &str, contact_id: &str) -> Result<Cells> {
    let mut cells = Cells::new();
    for f in contact_facts(tx, hotline_id, Some(contact_id)).await? {
        merge(&mut cells, contact_cells(&f));
    }
    Ok(cells)
}

/// The cells of one case with its referrals (`case_id` given), or of every case of a hotline. One case
/// is read by its keys only (a `$2 IS NULL OR id = $2` condition would make both backends scan the
/// hotline's cases on every write).
async fn case_bundles(tx: &mut Tx<'_>, hotline_id: &str, case_id: Option<&str>) -> Result<Cells> {
    let (cases, victims, refs) = match case_id {
        Some(_) => (
            "SELECT id, opened_at, status, form, state, details FROM cases WHERE hotline_id = $1 AND id = $2",
            // By the case alone (its id is unique, and the case was read in the hotline above): with the
            // hotline in the condition SQLite picks the hotline's index and scans all its parties.
            "SELECT case_id, gender, age, age_band, nationality FROM parties \
             WHERE case_id = $1 AND role = 'potential_victim'",
            "SELECT case_id, created_at, status, service_types FROM referrals WHERE hotline_id = $1 AND case_id = $2",
        ),
        None => (
            "SELECT id, opened_at, status, form, state, details FROM cases WHERE hotline_id = $1",
            "SELECT case_id, gender, age, age_band, nationality FROM parties \
             WHERE hotline_id = $1 AND role = 'potential_victim'",
            "SELECT case_id, created_at, status, service_types FROM referrals WHERE hotline_id = $1",
        ),
    };
    let bind = |sql| {
        let q = sqlx::query(sql).bind(hotline_id);
        match case_id {
            Some(id) => q.bind(id),
            None => q,
        }
    };
    let rows = bind(cases).fetch_all(&mut **tx).await?;
    let mut victims_of: std::collections::HashMap<String, Vec<VictimFacts>> =
        std::collections::HashMap::new();
    let victims = sqlx::query(victims).bind(case_id.unwrap_or(hotline_id));
    for r in &victims.fetch_all(&mut **tx).await? {
        victims_of
            .entry(r.try_get("case_id")?)
            .or_default()
            .push(VictimFacts {
                gender: r.try_get("gender")?,
                age: r.try_get("age")?,
                age_band: r.try_get("age_band")?,
                nationality: r.try_get("nationality")?,
            });
    }
    let mut by_case: std::collections::HashMap<String, Vec<ReferralFacts>> =
        std::collections::HashMap::new();
    for r in &bind(refs).fetch_all(&mut **tx).await? {
        let types: Option<String> = r.try_get("service_types")?;
        by_case
            .entry(r.try_get("case_id")?)
            .or_default()
            .push(ReferralFacts {
                created_at_us: r.try_get("created_at")?,
                status: r.try_get("status")?,
                service_types: match types {
                    Some(t) => parse_list(&t)?,
                    None => Vec::new(),
                },
            });
    }
    let mut cells = Cells::new();
    for r in &rows {
        let id: String = r.try_get("id")?;
        let details: String = r.try_get("details")?;
        let victims = victims_of.remove(&id).unwrap_or_default();
        let facts = CaseFacts::of_stored(
            r.try_get("opened_at")?,
            r.try_get("status")?,
            r.try_get("form")?,
            r.try_get("state")?,
            &details,
            &victims,
        );
        let referrals = by_case.remove(&id).unwrap_or_default();
        merge(&mut cells, case_bundle_cells(&facts, &referrals));
    }
    Ok(cells)
}

/// The cells of one case and its referrals as stored now (none when it does not exist).
async fn case_rollup(tx: &mut Tx<'_>, hotline_id: &str, case_id: &str) -> Result<Cells> {
    case_bundles(tx, hotline_id, Some(case_id)).await
}

/// Adds `delta` to a hotline's cells inside `tx`, stamping each with the hotline's new version; a cell
/// whose count reaches zero stays, at zero, so that readers of the changes see it go. The additions go in
/// one statement per [`ROLLUP_CHUNK`] cells (a contact with a new case touches about six), since every
/// statement lengthens the write transaction that intakes queue behind.
async fn apply_rollup_delta(tx: &mut Tx<'_>, hotline_id: &str, delta: &Cells) -> Result<()> {
    let mut unit = Unit::new();
    push_rollup_delta(&mut unit, hotline_id, delta);
    unit.run_rows_in(tx).await
}

/// Moves a hotline's rollup version by one.
const BUMP_ROLLUP_VERSION: &str = "INSERT INTO rollup_versions (hotline_id, version) VALUES ($1, 1) \
     ON CONFLICT (hotline_id) DO UPDATE SET version = rollup_versions.version + 1";

/// Adds the statements of [`apply_rollup_delta`] to `unit`.
fn push_rollup_delta(unit: &mut Unit, hotline_id: &str, delta: &Cells) {
    let cells: Vec<(&CellKey, &i64)> = delta.iter().filter(|(_, n)| **n != 0).collect();
    if cells.is_empty() {
        return;
    }
    // The version moves first: the cells below are stamped with it, and on PostgreSQL its row lock
    // orders the hotline's rollup writers before any of them touches a cell, so versions commit in order.
    unit.sql(BUMP_ROLLUP_VERSION).bind(hotline_id);
    for chunk in cells.chunks(ROLLUP_CHUNK) {
        let mut sql = String::from(
            "INSERT INTO rollup_cells (hotline_id, metric, month, state, form, typology, channel, signaler_type, \
             outcome, referral_status, case_status, county, service, population, n, version) VALUES ",
        );
        for i in 0..chunk.len() {
            let b = i * CELL_PARAMS + 2;
            if i > 0 {
                sql.push_str(", ");
            }
            sql.push_str("($1");
            for p in b..b + CELL_PARAMS {
                sql.push_str(&format!(", ${p}"));
            }
            sql.push_str(", (SELECT version FROM rollup_versions WHERE hotline_id = $1))");
        }
        sql.push_str(
            " ON CONFLICT (hotline_id, metric, month, state, form, typology, channel, signaler_type, outcome, \
             referral_status, case_status, county, service, population) DO UPDATE SET n = rollup_cells.n + excluded.n, version = excluded.version",
        );
        let q = unit.sql(&sql).bind(hotline_id);
        for (k, n) in chunk {
            q.bind(&k.metric)
                .bind(&k.month)
                .bind(&k.state)
                .bind(&k.form)
                .bind(&k.typology)
                .bind(&k.channel)
                .bind(&k.signaler_type)
                .bind(&k.outcome)
                .bind(&k.referral_status)
                .bind(&k.case_status)
                .bind(&k.county)
                .bind(&k.service)
                .bind(&k.population)
                .bind(**n);
        }
    }
}

/// How many parameters a cell takes in the upsert (its key but the hotline, and its count).
const CELL_PARAMS: usize = 14;

/// How many cells one upsert statement carries (14 parameters each, well under both backends' limits).
const ROLLUP_CHUNK: usize = 256;

/// Replaces a hotline's cells with the ones recomputed from its records; returns how many there are.
async fn rebuild_rollups_in(tx: &mut Tx<'_>, hotline_id: &str) -> Result<u64> {
    // The version first, as every writer takes it (see `push_rollup_delta`), then the cells.
    sqlx::query(BUMP_ROLLUP_VERSION)
        .bind(hotline_id)
        .execute(&mut **tx)
        .await?;
    sqlx::query(super::ROLLUP_LOCK_FOR_REBUILD)
        .execute(&mut **tx)
        .await?;
    sqlx::query("DELETE FROM rollup_cells WHERE hotline_id = $1")
        .bind(hotline_id)
        .execute(&mut **tx)
        .await?;
    let mut cells = Cells::new();
    for f in contact_facts(tx, hotline_id, None).await? {
        merge(&mut cells, contact_cells(&f));
    }
    merge(&mut cells, case_bundles(tx, hotline_id, None).await?);
    apply_rollup_delta(tx, hotline_id, &cells).await?;
    // The cells were replaced, even if they come out the same: figures held in memory from before are
    // read again whole.
    sqlx::query("UPDATE rollup_versions SET rebuilt = version WHERE hotline_id = $1")
        .bind(hotline_id)
        .execute(&mut **tx)
        .await?;
    Ok(cells.len() as u64)
}

/// A `rollup_cells` row as a cell.
fn rollup_cell(r: &DbRow) -> Result<RollupCell> {
    Ok(RollupCell {
        key: CellKey {
            metric: r.try_get("metric")?,
            month: r.try_get("month")?,
            state: r.try_get("state")?,
            form: r.try_get("form")?,
            typology: r.try_get("typology")?,
            channel: r.try_get("channel")?,
            signaler_type: r.try_get("signaler_type")?,
            outcome: r.try_get("outcome")?,
            referral_status: r.try_get("referral_status")?,
            case_status: r.try_get("case_status")?,
            county: r.try_get("county")?,
            service: r.try_get("service")?,
            population: r.try_get("population")?,
        },
        count: r.try_get("n")?,
    })
}

impl This {
    /// Builds the rollups of every hotline that has records but no cells yet (a database from before
    /// migration 0005), so incremental updates start from the right counts.
    pub(super) async fn rebuild_missing_rollups(&self) -> Result<()> {
        let rows = sqlx::query(
            "SELECT h.id FROM hotlines h WHERE NOT EXISTS (SELECT 1 FROM rollup_cells r WHERE r.hotline_id = h.id) \
             AND (EXISTS (SELECT 1 FROM contacts c WHERE c.hotline_id = h.id) \
                  OR EXISTS (SELECT 1 FROM cases k WHERE k.hotline_id = h.id))",
        )
        .fetch_all(self.r())
        .await?;
        for r in &rows {
            let id: String = r.try_get("id")?;
            self.rebuild_rollups(&AuditCtx::cli(Some(id.clone())), &id)
                .await?;
        }
        Ok(())
    }
}

#[async_trait]
impl RollupStore for This {
    async fn rollups(&self, hotline_id: &str, f: &RollupFilter) -> Result<Vec<RollupCell>> {
        let rows = sqlx::query(
            "SELECT metric, month, state, form, typology, channel, signaler_type, outcome, referral_status, \
             case_status, county, service, population, n FROM rollup_cells WHERE hotline_id = $1 AND n <> 0 \
             AND ($2 IS NULL OR metric = $2) AND ($3 IS NULL OR month >= $3) AND ($4 IS NULL OR month <= $4) \
             ORDER BY metric, month, state, form, typology, channel, signaler_type, outcome, referral_status, \
             case_status, county, service, population",
        )
        .bind(hotline_id)
        .bind(&f.metric)
        .bind(&f.from_month)
        .bind(&f.to_month)
        .fetch_all(self.r())
        .await?;
        rows.iter().map(rollup_cell).collect()
    }

    async fn rebuild_rollups(&self, ctx: &AuditCtx, hotline_id: &str) -> Result<u64> {
        let ctx = &ctx.in_hotline(hotline_id);
        let mut lease = self.lease().await?;
        let mut tx = lease.conn().begin().await?;
        let exists = sqlx::query("SELECT id FROM hotlines WHERE id = $1")
            .bind(hotline_id)
            .fetch_optional(&mut *tx)
            .await?;
        if exists.is_none() {
            return Err(StoreError::NotFound("hotline"));
        }
        let n = rebuild_rollups_in(&mut tx, hotline_id).await?;
        append_audit(
            &mut tx,
            &self.keys,
            ctx,
            "rollups.rebuild",
            "hotline",
            Some(hotline_id),
            &serde_json::json!({"cells": n}),
        )
        .await?;
        tx.commit().await?;
        lease.done().durable().await?;
        Ok(n)
    }

    async fn rollup_version(&self, hotline_id: &str) -> Result<i64> {
        let row = sqlx::query("SELECT version FROM rollup_versions WHERE hotline_id = $1")
            .bind(hotline_id)
            .fetch_optional(self.r())
            .await?;
        Ok(match row {
            Some(r) => r.try_get("version")?,
            None => 0,
        })
    }

    async fn rollup_changes(
        &self,
        hotline_id: &str,
        since: i64,
        limit: usize,
    ) -> Result<RollupChanges> {
        // Every version up to this one is in the cells read next (a later snapshot).
        let before = self.rollup_version(hotline_id).await?;
        let rows = sqlx::query(
            "SELECT metric, month, state, form, typology, channel, signaler_type, outcome, referral_status, \
             case_status, county, service, population, n, version FROM rollup_cells WHERE hotline_id = $1 AND version > $2 LIMIT $3",
        )
        .bind(hotline_id)
        .bind(since)
        .bind(i64::try_from(limit).unwrap_or(i64::MAX).saturating_add(1))
        .fetch_all(self.r())
        .await?;
        // Read after the cells: a rebuild they may have seen part of is seen here.
        let rebuilt: Option<i64> =
            sqlx::query_scalar("SELECT rebuilt FROM rollup_versions WHERE hotline_id = $1")
                .bind(hotline_id)
                .fetch_optional(self.r())
                .await?;
        if rows.len() > limit || rebuilt.unwrap_or(0) > since {
            return Ok(RollupChanges::ReadAll);
        }
        let mut version = before.max(since);
        let mut cells = Vec::with_capacity(rows.len());
        for r in &rows {
            version = version.max(r.try_get("version")?);
            cells.push(rollup_cell(r)?);
        }
        Ok(RollupChanges::Cells { version, cells })
    }
}
