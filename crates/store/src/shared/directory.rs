// The directory's and referrals' SQL (see `crate::directory`), included into each backend's `repo` module
// beside `repo.rs` and `cases.rs` (whose `enc_opt`, `dec_opt`, `json_list` and `parse_list` it uses).

use crate::directory::*;

fn directory_rid(hotline_id: &str, table: &str, id: &str) -> String {
    format!("{hotline_id}/{table}/{id}")
}

macro_rules! referral_columns {
    () => {
        "id, hotline_id, case_id, kind, status, service_id, location_id, organization_id, target_name, \
         partner_org_id, basis, consent_by, consent_method, consent_at, shares, shared, exception_reason, \
         confirmed_by, confirmed_at, created_by, created_at, updated_at"
    };
}

fn referral_from_row(keys: &Keyring, row: &DbRow) -> Result<Referral> {
    let id: String = row.try_get("id")?;
    let shares: String = row.try_get("shares")?;
    let shared: Vec<u8> = row.try_get("shared")?;
    Ok(Referral {
        hotline_id: row.try_get("hotline_id")?,
        case_id: row.try_get("case_id")?,
        kind: row.try_get("kind")?,
        status: row.try_get("status")?,
        service_id: row.try_get("service_id")?,
        location_id: row.try_get("location_id")?,
        organization_id: row.try_get("organization_id")?,
        target_name: row.try_get("target_name")?,
        partner_org_id: row.try_get("partner_org_id")?,
        basis: row.try_get("basis")?,
        consent_by: dec_opt(
            keys,
            "referrals",
            "consent_by",
            &id,
            row.try_get("consent_by")?,
        )?,
        consent_method: row.try_get("consent_method")?,
        consent_at_us: row.try_get("consent_at")?,
        shares: parse_list(&shares)?,
        shared_json: keys.decrypt_string(&binding("referrals", "shared", &id), &shared)?,
        exception_reason: dec_opt(
            keys,
            "referrals",
            "exception_reason",
            &id,
            row.try_get("exception_reason")?,
        )?,
        confirmed_by: row.try_get("confirmed_by")?,
        confirmed_at_us: row.try_get("confirmed_at")?,
        created_by: row.try_get("created_by")?,
        created_at_us: row.try_get("created_at")?,
        updated_at_us: row.try_get("updated_at")?,
        events: Vec::new(),
        id,
    })
}

async fn referral_events<'e, E>(
    keys: &Keyring,
    exec: E,
    referral_id: &str,
) -> Result<Vec<ReferralEvent>>
where
    E: sqlx::Executor<'e, Database = Db>,
{
    let rows = sqlx::query(
        "SELECT id, at, actor_id, status, note FROM referral_events WHERE referral_id = $1 ORDER BY at, id",
    )
    .bind(referral_id)
    .fetch_all(exec)
    .await?;
    rows.iter()
        .map(|r| {
            let id: String = r.try_get("id")?;
            Ok(ReferralEvent {
                at_us: r.try_get("at")?,
                actor_id: r.try_get("actor_id")?,
                status: r.try_get("status")?,
                note: dec_opt(keys, "referral_events", "note", &id, r.try_get("note")?)?,
            })
        })
        .collect()
}

async fn insert_referral_event(
    tx: &mut Tx<'_>,
    keys: &Keyring,
    referral_id: &str,
    at: i64,
    actor_id: Option<&str>,
    status: &str,
    note: Option<&str>,
) -> Result<()> {
    let id = new_id();
    sqlx::query(
        "INSERT INTO referral_events (id, referral_id, at, actor_id, status, note) VALUES ($1, $2, $3, $4, $5, $6)",
    )
    .bind(&id)
    .bind(referral_id)
    .bind(at)
    .bind(actor_id)
    .bind(status)
    .bind(enc_opt(keys, "referral_events", "note", &id, note))
    .execute(&mut **tx)
    .await?;
    Ok(())
}

async fn fetch_referral(
    tx: &mut Tx<'_>,
    keys: &Keyring,
    hotline_id: &str,
    id: &str,
) -> Result<Referral> {
    let row = sqlx::query(concat!(
        "SELECT ",
        referral_columns!(),
        " FROM referrals WHERE hotline_id = $1 AND id = $2"
    ))
    .bind(hotline_id)
    .bind(id)
    .fetch_optional(&mut **tx)
    .await?
    .ok_or(StoreError::NotFound("referral"))?;
    let mut r = referral_from_row(keys, &row)?;
    r.events = referral_events(keys, &mut **tx, id).await?;
    Ok(r)
}

#[async_trait]
impl DirectoryStore for This {
    async fn directory_records(&self, hotline_id: &str) -> Result<Vec<DirectoryRecord>> {
        let rows = sqlx::query(
            "SELECT rid, tbl, id, body FROM directory_records WHERE hotline_id = $1 ORDER BY tbl, id",
        )
        .bind(hotline_id)
        .fetch_all(self.r())
        .await?;
        rows.iter()
            .map(|r| {
                let rid: String = r.try_get("rid")?;
                let body: Vec<u8> = r.try_get("body")?;
                Ok(DirectoryRecord {
                    table: r.try_get("tbl")?,
                    id: r.try_get("id")?,
                    json: self
                        .keys
                        .decrypt_string(&binding("directory_records", "body", &rid), &body)?,
                })
            })
            .collect()
    }

    async fn directory_version(&self, hotline_id: &str) -> Result<i64> {
        let row = sqlx::query("SELECT version FROM directory_versions WHERE hotline_id = $1")
            .bind(hotline_id)
            .fetch_optional(self.r())
            .await?;
        Ok(match row {
            Some(r) => r.try_get("version")?,
            None => 0,
        })
    }

    async fn change_directory(
        &self,
        ctx: &AuditCtx,
        hotline_id: &str,
        change: &DirectoryChange,
    ) -> Result<i64> {
        let ctx = &ctx.in_hotline(hotline_id);
        let now = now_us();
        let mut lease = self.lease().await?;
        let mut tx = lease.conn().begin().await?;
        if change.replace_all {
            sqlx::query("DELETE FROM directory_records WHERE hotline_id = $1")
                .bind(hotline_id)
                .execute(&mut *tx)
                .await?;
        }
        for (table, id) in &change.deletes {
            sqlx::query("DELETE FROM directory_records WHERE rid = $1")
                .bind(directory_rid(hotline_id, table, id))
                .execute(&mut *tx)
                .await?;
        }
        for rec in &change.upserts {
            let rid = directory_rid(hotline_id, &rec.table, &rec.id);
            let body = self
                .keys
                .encrypt_str(&binding("directory_records", "body", &rid), &rec.json);
            sqlx::query(
                "INSERT INTO directory_records (rid, hotline_id, tbl, id, body, updated_at) \
                 VALUES ($1, $2, $3, $4, $5, $6) \
                 ON CONFLICT (rid) DO UPDATE SET body = excluded.body, updated_at = excluded.updated_at",
            )
            .bind(&rid)
            .bind(hotline_id)
            .bind(&rec.table)
            .bind(&rec.id)
            .bind(body)
            .bind(now)
            .execute(&mut *tx)
            .await?;
        }
        let version: i64 = sqlx::query(
            "INSERT INTO directory_versions (hotline_id, version) VALUES ($1, 1) \
             ON CONFLICT (hotline_id) DO UPDATE SET version = directory_versions.version + 1 \
             RETURNING version",
        )
        .bind(hotline_id)
        .fetch_one(&mut *tx)
        .await?
        .try_get("version")?;
        // Small changes name their records; imports give counts.
        let mut detail = serde_json::json!({
            "upserts": change.upserts.len(),
            "deletes": change.deletes.len(),
            "replace_all": change.replace_all,
            "version": version,
        });
        if change.upserts.len() + change.deletes.len() <= 20 {
            let names = |it: &mut dyn Iterator<Item = (&String, &String)>| -> Vec<String> {
                it.map(|(t, i)| format!("{t}/{i}")).collect()
            };
            detail["records"] = serde_json::json!(names(
                &mut change
                    .upserts
                    .iter()
                    .map(|r| (&r.table, &r.id))
                    .chain(change.deletes.iter().map(|(t, i)| (t, i)))
            ));
        }
        let action = if change.action.is_empty() {
            "directory.change"
        } else {
            change.action.as_str()
        };
        append_audit(&mut tx, &self.keys, ctx, action, "directory", None, &detail).await?;
        tx.commit().await?;
        lease.done().durable().await?;
        Ok(version)
    }

    async fn link_partner_org(
        &self,
        ctx: &AuditCtx,
        hotline_id: &str,
        partner_org_id: &str,
        directory_organization_id: Option<&str>,
    ) -> Result<()> {
        let ctx = &ctx.in_hotline(hotline_id);
        let mut lease = self.lease().await?;
        let mut tx = lease.conn().begin().await?;
        let done = sqlx::query(
            "UPDATE partner_orgs SET directory_organization_id = $1 WHERE hotline_id = $2 AND id = $3",
        )
        .bind(directory_organization_id)
        .bind(hotline_id)
        .bind(partner_org_id)
        .execute(&mut *tx)
        .await?;
        if done.rows_affected() == 0 {
            return Err(StoreError::NotFound("partner organisation"));
        }
        append_audit(
            &mut tx,
            &self.keys,
            ctx,
            "partner_org.link",
            "partner_org",
            Some(partner_org_id),
            &serde_json::json!({"directory_organization_id": directory_organization_id}),
        )
        .await?;
        tx.commit().await?;
        lease.done().durable().await?;
        Ok(())
    }

    async fn create_referral(&self, ctx: &AuditCtx, new: &NewReferral) -> Result<Referral> {
        let ctx = &ctx.in_hotline(&new.hotline_id);
        let keys = &self.keys;
        let id = new_id();
        let now = now_us();
        let mut lease = self.lease().await?;
        let mut tx = lease.conn().begin().await?;
        let case_ok = sqlx::query("SELECT id FROM cases WHERE hotline_id = $1 AND id = $2")
            .bind(&new.hotline_id)
            .bind(&new.case_id)
            .fetch_optional(&mut *tx)
            .await?;
        if case_ok.is_none() {
            return Err(StoreError::NotFound("case"));
        }
        let rollup_before = case_rollup(&mut tx, &new.hotline_id, &new.case_id).await?;
        if let Some(org) = &new.partner_org_id {
            let ok = sqlx::query("SELECT id FROM partner_orgs WHERE hotline_id = $1 AND id = $2")
                .bind(&new.hotline_id)
                .bind(org)
                .fetch_optional(&mut *tx)
                .await?;
            if ok.is_none() {
                return Err(StoreError::NotFound("partner organisation"));
            }
        }
        sqlx::query(concat!(
            "INSERT INTO referrals (",
            referral_columns!(),
            ", service_types) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, \
             $17, $18, $19, $20, $21, $22, $23)"
        ))
        .bind(&id)
        .bind(&new.hotline_id)
        .bind(&new.case_id)
        .bind(&new.kind)
        .bind(&new.status)
        .bind(&new.service_id)
        .bind(&new.location_id)
        .bind(&new.organization_id)
        .bind(&new.target_name)
        .bind(&new.partner_org_id)
        .bind(&new.basis)
        .bind(enc_opt(keys, "referrals", "consent_by", &id, new.consent_by.as_deref()))
        .bind(&new.consent_method)
        .bind(new.consent_at_us)
        .bind(json_list(&new.shares))
        .bind(keys.encrypt_str(&binding("referrals", "shared", &id), &new.shared_json))
        .bind(enc_opt(
            keys,
            "referrals",
            "exception_reason",
            &id,
            new.exception_reason.as_deref(),
        ))
        .bind(None::<String>)
        .bind(None::<i64>)
        .bind(&new.created_by)
        .bind(now)
        .bind(now)
        .bind(json_list(&new.service_types))
        .execute(&mut *tx)
        .await?;
        insert_referral_event(
            &mut tx,
            keys,
            &id,
            now,
            new.created_by.as_deref(),
            &new.status,
            None,
        )
        .await?;
        append_audit(
            &mut tx,
            keys,
            ctx,
            "referral.create",
            "referral",
            Some(&id),
            &serde_json::json!({
                "case_id": new.case_id, "kind": new.kind, "status": new.status, "basis": new.basis,
                "shares": new.shares, "partner_org_id": new.partner_org_id,
            }),
        )
        .await?;
        let rollup_after = case_rollup(&mut tx, &new.hotline_id, &new.case_id).await?;
        apply_rollup_delta(
            &mut tx,
            &new.hotline_id,
            &delta(&rollup_before, &rollup_after),
        )
        .await?;
        let r = fetch_referral(&mut tx, keys, &new.hotline_id, &id).await?;
        tx.commit().await?;
        lease.done().durable().await?;
        Ok(r)
    }

    async fn referral(&self, ctx: &AuditCtx, hotline_id: &str, id: &str) -> Result<Referral> {
        let row = sqlx::query(concat!(
            "SELECT ",
            referral_columns!(),
            " FROM referrals WHERE hotline_id = $1 AND id = $2"
        ))
        .bind(hotline_id)
        .bind(id)
        .fetch_optional(self.r())
        .await?
        .ok_or(StoreError::NotFound("referral"))?;
        let mut r = referral_from_row(&self.keys, &row)?;
        r.events = referral_events(&self.keys, self.r(), id).await?;
        self.audit(
            &ctx.in_hotline(hotline_id),
            "referral.read",
            "referral",
            Some(id),
            serde_json::json!({}),
        )
        .await?;
        Ok(r)
    }

    async fn list_referrals(
        &self,
        ctx: &AuditCtx,
        hotline_id: &str,
        f: &ReferralFilter,
    ) -> Result<Vec<Referral>> {
        let rows = sqlx::query(concat!(
            "SELECT ",
            referral_columns!(),
            " FROM referrals WHERE hotline_id = $1 AND ($2 IS NULL OR case_id = $2) \
             AND ($3 IS NULL OR partner_org_id = $3) AND ($4 IS NULL OR status = $4) \
             ORDER BY created_at DESC, id DESC LIMIT 500"
        ))
        .bind(hotline_id)
        .bind(&f.case_id)
        .bind(&f.partner_org_id)
        .bind(&f.status)
        .fetch_all(self.r())
        .await?;
        let mut out = Vec::with_capacity(rows.len());
        for row in &rows {
            let mut r = referral_from_row(&self.keys, row)?;
            r.events = referral_events(&self.keys, self.r(), &r.id).await?;
            out.push(r);
        }
        self.audit(
            &ctx.in_hotline(hotline_id),
            "referral.list",
            "referral",
            f.case_id.as_deref(),
            serde_json::json!({"count": out.len()}),
        )
        .await?;
        Ok(out)
    }

    async fn move_referral(
        &self,
        ctx: &AuditCtx,
        hotline_id: &str,
        id: &str,
        change: &ReferralMove,
    ) -> Result<Referral> {
        let ctx = &ctx.in_hotline(hotline_id);
        let now = now_us();
        let mut lease = self.lease().await?;
        let mut tx = lease.conn().begin().await?;
        let case_id: Option<String> =
            sqlx::query("SELECT case_id FROM referrals WHERE hotline_id = $1 AND id = $2")
                .bind(hotline_id)
                .bind(id)
                .fetch_optional(&mut *tx)
                .await?
                .map(|r| r.try_get("case_id"))
                .transpose()?;
        let rollup_before = match &case_id {
            Some(c) => case_rollup(&mut tx, hotline_id, c).await?,
            None => Cells::new(),
        };
        let done = sqlx::query(
            "UPDATE referrals SET status = $1, updated_at = $2, \
             confirmed_by = CASE WHEN $3 IS NULL THEN confirmed_by ELSE $3 END, \
             confirmed_at = CASE WHEN $3 IS NULL THEN confirmed_at ELSE $2 END \
             WHERE hotline_id = $4 AND id = $5 AND status = $6",
        )
        .bind(&change.to)
        .bind(now)
        .bind(&change.confirmed_by)
        .bind(hotline_id)
        .bind(id)
        .bind(&change.from)
        .execute(&mut *tx)
        .await?;
        if done.rows_affected() == 0 {
            let exists =
                sqlx::query("SELECT status FROM referrals WHERE hotline_id = $1 AND id = $2")
                    .bind(hotline_id)
                    .bind(id)
                    .fetch_optional(&mut *tx)
                    .await?;
            return Err(match exists {
                None => StoreError::NotFound("referral"),
                Some(r) => {
                    let now: String = r.try_get("status")?;
                    StoreError::Invalid(format!(
                        "status: the referral is now `{now}`, not `{}`; reload and try again",
                        change.from
                    ))
                }
            });
        }
        if let Some(c) = &case_id {
            let after = case_rollup(&mut tx, hotline_id, c).await?;
            apply_rollup_delta(&mut tx, hotline_id, &delta(&rollup_before, &after)).await?;
        }
        insert_referral_event(
            &mut tx,
            &self.keys,
            id,
            now,
            ctx.actor_id.as_deref(),
            &change.to,
            change.note.as_deref(),
        )
        .await?;
        append_audit(
            &mut tx,
            &self.keys,
            ctx,
            "referral.move",
            "referral",
            Some(id),
            &serde_json::json!({"from": change.from, "to": change.to, "confirmed": change.confirmed_by.is_some()}),
        )
        .await?;
        let r = fetch_referral(&mut tx, &self.keys, hotline_id, id).await?;
        tx.commit().await?;
        lease.done().durable().await?;
        Ok(r)
    }
}
