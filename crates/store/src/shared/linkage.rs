// The linkage job's SQL (see `crate::linkage`), included into each backend's `repo` module beside
// `repo.rs`. The claim of a run is the one statement that differs between backends (`LINKAGE_CLAIM`).

use crate::linkage::*;

macro_rules! run_columns {
    () => {
        "id, hotline_id, reason, status, requested_by, requested_at, started_at, finished_at, records, \
         candidates, links, components, error, model"
    };
}

fn run_from_row(row: &DbRow) -> Result<LinkageRun> {
    Ok(LinkageRun {
        id: row.try_get("id")?,
        hotline_id: row.try_get("hotline_id")?,
        reason: row.try_get("reason")?,
        status: row.try_get("status")?,
        requested_by: row.try_get("requested_by")?,
        requested_at_us: row.try_get("requested_at")?,
        started_at_us: row.try_get("started_at")?,
        finished_at_us: row.try_get("finished_at")?,
        records: row.try_get("records")?,
        candidates: row.try_get("candidates")?,
        links: row.try_get("links")?,
        components: row.try_get("components")?,
        error: row.try_get("error")?,
        model_json: row.try_get("model")?,
    })
}

macro_rules! link_columns {
    () => {
        "l.id, l.component_id, l.party_a, l.party_b, l.case_a, l.case_b, l.weight, l.probability, \
         l.explanation, l.forced, d.decision"
    };
}

/// The decision joined to a link: decisions are stored with the smaller party id first.
const LINK_DECISION_JOIN: &str = " LEFT JOIN linkage_decisions d ON d.hotline_id = l.hotline_id \
     AND ((d.party_a = l.party_a AND d.party_b = l.party_b) OR (d.party_a = l.party_b AND d.party_b = l.party_a))";

fn link_from_row(row: &DbRow) -> Result<StoredLink> {
    let weight: i64 = row.try_get("weight")?;
    let probability: i64 = row.try_get("probability")?;
    let explanation: String = row.try_get("explanation")?;
    Ok(StoredLink {
        id: row.try_get("id")?,
        component_id: row.try_get("component_id")?,
        party_a: row.try_get("party_a")?,
        party_b: row.try_get("party_b")?,
        case_a: row.try_get("case_a")?,
        case_b: row.try_get("case_b")?,
        weight: weight as f64 / 1000.0,
        probability: probability as f64 / 1_000_000.0,
        explanation: serde_json::from_str(&explanation)
            .map_err(|e| StoreError::Invalid(format!("stored explanation is not JSON: {e}")))?,
        forced: row.try_get("forced")?,
        decision: row.try_get("decision")?,
    })
}

async fn fetch_link(tx: &mut Tx<'_>, hotline_id: &str, link_id: &str) -> Result<StoredLink> {
    let row = sqlx::query(sqlx::AssertSqlSafe(format!(
        "SELECT {} FROM linkage_links l{LINK_DECISION_JOIN} WHERE l.hotline_id = $1 AND l.id = $2",
        link_columns!()
    )))
    .bind(hotline_id)
    .bind(link_id)
    .fetch_optional(&mut **tx)
    .await?
    .ok_or(StoreError::NotFound("link"))?;
    link_from_row(&row)
}

fn milli(w: f64) -> i64 {
    if w.is_finite() {
        (w * 1000.0).round() as i64
    } else {
        0
    }
}

#[async_trait]
impl LinkageStore for This {
    async fn linkage_parties(
        &self,
        ctx: &AuditCtx,
        hotline_id: &str,
        changed_since_us: Option<i64>,
    ) -> Result<Vec<LinkageParty>> {
        let rows = sqlx::query(
            "SELECT p.id, p.case_id, p.role, p.age, p.updated_at, c.number, c.state \
             FROM parties p JOIN cases c ON c.id = p.case_id \
             WHERE p.hotline_id = $1 AND ($2 IS NULL OR p.updated_at >= $2) ORDER BY p.id",
        )
        .bind(hotline_id)
        .bind(changed_since_us)
        .fetch_all(self.r())
        .await?;
        let idrows = sqlx::query(
            "SELECT pi.id, pi.party_id, pi.kind, pi.value FROM party_identifiers pi \
             JOIN parties p ON p.id = pi.party_id \
             WHERE pi.hotline_id = $1 AND ($2 IS NULL OR p.updated_at >= $2) ORDER BY pi.party_id, pi.id",
        )
        .bind(hotline_id)
        .bind(changed_since_us)
        .fetch_all(self.r())
        .await?;
        let mut idents: std::collections::HashMap<String, Vec<(String, String)>> =
            std::collections::HashMap::new();
        for r in &idrows {
            let iid: String = r.try_get("id")?;
            let value: Vec<u8> = r.try_get("value")?;
            let value = self
                .keys
                .decrypt_string(&binding("party_identifiers", "value", &iid), &value)?;
            idents
                .entry(r.try_get("party_id")?)
                .or_default()
                .push((r.try_get("kind")?, value));
        }
        let parties = rows
            .iter()
            .map(|r| {
                let id: String = r.try_get("id")?;
                Ok(LinkageParty {
                    identifiers: idents.remove(&id).unwrap_or_default(),
                    case_id: r.try_get("case_id")?,
                    case_number: r.try_get("number")?,
                    state: r.try_get("state")?,
                    role: r.try_get("role")?,
                    age: r.try_get("age")?,
                    updated_at_us: r.try_get("updated_at")?,
                    party_id: id,
                })
            })
            .collect::<Result<Vec<_>>>()?;
        if !parties.is_empty() {
            self.audit(
                &ctx.in_hotline(hotline_id),
                "linkage.read",
                "party",
                None,
                serde_json::json!({"parties": parties.len(), "identifiers": idrows.len(),
                                   "incremental": changed_since_us.is_some()}),
            )
            .await?;
        }
        Ok(parties)
    }

    async fn request_linkage_run(
        &self,
        ctx: &AuditCtx,
        hotline_id: &str,
        reason: &str,
    ) -> Result<LinkageRun> {
        if !["manual", "schedule"].contains(&reason) {
            return Err(StoreError::Invalid(format!(
                "a linkage run is `manual` or `schedule`, not `{reason}`"
            )));
        }
        let ctx = &ctx.in_hotline(hotline_id);
        let mut lease = self.lease().await?;
        let mut tx = lease.conn().begin().await?;
        let id = new_id();
        let inserted = sqlx::query(
            "INSERT INTO linkage_runs (id, hotline_id, reason, status, requested_by, requested_at) \
             VALUES ($1, $2, $3, 'queued', $4, $5) ON CONFLICT DO NOTHING",
        )
        .bind(&id)
        .bind(hotline_id)
        .bind(reason)
        .bind(&ctx.actor_id)
        .bind(now_us())
        .execute(&mut *tx)
        .await?
        .rows_affected();
        let row = sqlx::query(concat!(
            "SELECT ",
            run_columns!(),
            " FROM linkage_runs WHERE hotline_id = $1 AND status IN ('queued', 'running')"
        ))
        .bind(hotline_id)
        .fetch_one(&mut *tx)
        .await?;
        let run = run_from_row(&row)?;
        if inserted > 0 {
            append_audit(
                &mut tx,
                &self.keys,
                ctx,
                "linkage.request",
                "linkage_run",
                Some(&id),
                &serde_json::json!({"reason": reason}),
            )
            .await?;
        }
        tx.commit().await?;
        lease.done().durable().await?;
        Ok(run)
    }

    async fn schedule_linkage_runs(&self, every_us: i64) -> Result<u64> {
        let hotlines: Vec<String> = sqlx::query("SELECT id FROM hotlines ORDER BY id")
            .fetch_all(self.r())
            .await?
            .iter()
            .map(|r| r.try_get("id"))
            .collect::<std::result::Result<_, _>>()?;
        let mut queued = 0;
        for hotline_id in hotlines {
            let mut lease = self.lease().await?;
            let mut tx = lease.conn().begin().await?;
            let id = new_id();
            let now = now_us();
            // The unique index on active runs makes a concurrent second request a no-op.
            let n = sqlx::query(
                "INSERT INTO linkage_runs (id, hotline_id, reason, status, requested_at) \
                 SELECT $1, $2, 'schedule', 'queued', $3 WHERE NOT EXISTS \
                 (SELECT 1 FROM linkage_runs r WHERE r.hotline_id = $2 AND r.requested_at > $4) \
                 ON CONFLICT DO NOTHING",
            )
            .bind(&id)
            .bind(&hotline_id)
            .bind(now)
            .bind(now - every_us)
            .execute(&mut *tx)
            .await?
            .rows_affected();
            if n > 0 {
                append_audit(
                    &mut tx,
                    &self.keys,
                    &AuditCtx::system(Some(hotline_id.clone())),
                    "linkage.request",
                    "linkage_run",
                    Some(&id),
                    &serde_json::json!({"reason": "schedule"}),
                )
                .await?;
                queued += 1;
            }
            tx.commit().await?;
            lease.done().durable().await?;
        }
        Ok(queued)
    }

    async fn claim_linkage_run(
        &self,
        worker: &str,
        lease_until_us: i64,
    ) -> Result<Option<ClaimedRun>> {
        let mut lease = self.lease().await?;
        let mut tx = lease.conn().begin().await?;
        let row = sqlx::query(super::LINKAGE_CLAIM)
            .bind(worker)
            .bind(lease_until_us)
            .bind(now_us())
            .fetch_optional(&mut *tx)
            .await?;
        let claimed = row
            .map(|r| {
                Ok::<_, StoreError>(ClaimedRun {
                    id: r.try_get("id")?,
                    hotline_id: r.try_get("hotline_id")?,
                })
            })
            .transpose()?;
        tx.commit().await?;
        lease.done().durable().await?;
        Ok(claimed)
    }

    async fn renew_linkage_lease(
        &self,
        run_id: &str,
        worker: &str,
        lease_until_us: i64,
    ) -> Result<bool> {
        let mut lease = self.lease().await?;
        let mut tx = lease.conn().begin().await?;
        let n = sqlx::query(
            "UPDATE linkage_runs SET lease_until = $1 WHERE id = $2 AND worker = $3 AND status = 'running'",
        )
        .bind(lease_until_us)
        .bind(run_id)
        .bind(worker)
        .execute(&mut *tx)
        .await?
        .rows_affected();
        tx.commit().await?;
        lease.done().durable().await?;
        Ok(n > 0)
    }

    async fn finish_linkage_run(
        &self,
        ctx: &AuditCtx,
        run_id: &str,
        worker: &str,
        outcome: &RunOutcome,
    ) -> Result<()> {
        let mut lease = self.lease().await?;
        let mut tx = lease.conn().begin().await?;
        let now = now_us();
        let row = sqlx::query(
            "UPDATE linkage_runs SET status = 'done', finished_at = $1, lease_until = NULL, records = $2, \
             candidates = $3, links = $4, components = $5, model = $6 \
             WHERE id = $7 AND worker = $8 AND status = 'running' RETURNING hotline_id",
        )
        .bind(now)
        .bind(outcome.records)
        .bind(outcome.candidates)
        .bind(outcome.links.len() as i64)
        .bind(outcome.components.len() as i64)
        .bind(&outcome.model_json)
        .bind(run_id)
        .bind(worker)
        .fetch_optional(&mut *tx)
        .await?
        .ok_or_else(|| {
            StoreError::Invalid("this worker no longer holds the linkage run's lease".into())
        })?;
        let hotline_id: String = row.try_get("hotline_id")?;
        for (i, l) in outcome.links.iter().enumerate() {
            if l.component >= outcome.components.len() {
                return Err(StoreError::Invalid(format!(
                    "link {i} names component {} of {}",
                    l.component,
                    outcome.components.len()
                )));
            }
        }
        sqlx::query("DELETE FROM linkage_links WHERE hotline_id = $1")
            .bind(&hotline_id)
            .execute(&mut *tx)
            .await?;
        sqlx::query("DELETE FROM linkage_components WHERE hotline_id = $1")
            .bind(&hotline_id)
            .execute(&mut *tx)
            .await?;
        let mut comp_ids = Vec::with_capacity(outcome.components.len());
        for (i, cases) in outcome.components.iter().enumerate() {
            let id = new_id();
            let mine = outcome.links.iter().filter(|l| l.component == i);
            let (count, top) = mine.fold((0i64, i64::MIN), |(n, t), l| {
                (n + 1, t.max(milli(l.weight)))
            });
            sqlx::query(
                "INSERT INTO linkage_components (id, hotline_id, run_id, cases, case_count, link_count, top_weight) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7)",
            )
            .bind(&id)
            .bind(&hotline_id)
            .bind(run_id)
            .bind(serde_json::to_string(cases).expect("a list of ids serialises"))
            .bind(cases.len() as i64)
            .bind(count)
            .bind(if count == 0 { 0 } else { top })
            .execute(&mut *tx)
            .await?;
            comp_ids.push(id);
        }
        for l in &outcome.links {
            sqlx::query(
                "INSERT INTO linkage_links (id, hotline_id, run_id, component_id, party_a, party_b, case_a, case_b, \
                 weight, probability, explanation, forced) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)",
            )
            .bind(new_id())
            .bind(&hotline_id)
            .bind(run_id)
            .bind(&comp_ids[l.component])
            .bind(&l.party_a)
            .bind(&l.party_b)
            .bind(&l.case_a)
            .bind(&l.case_b)
            .bind(milli(l.weight))
            .bind((l.probability.clamp(0.0, 1.0) * 1_000_000.0).round() as i64)
            .bind(serde_json::to_string(&l.explanation).expect("an explanation serialises"))
            .bind(l.forced)
            .execute(&mut *tx)
            .await?;
        }
        append_audit(
            &mut tx,
            &self.keys,
            &ctx.in_hotline(&hotline_id),
            "linkage.run",
            "linkage_run",
            Some(run_id),
            &serde_json::json!({"records": outcome.records, "candidates": outcome.candidates,
                               "links": outcome.links.len(), "components": outcome.components.len()}),
        )
        .await?;
        tx.commit().await?;
        lease.done().durable().await?;
        Ok(())
    }

    async fn fail_linkage_run(&self, run_id: &str, worker: &str, error: &str) -> Result<()> {
        let mut lease = self.lease().await?;
        let mut tx = lease.conn().begin().await?;
        let row = sqlx::query(
            "UPDATE linkage_runs SET status = 'failed', finished_at = $1, lease_until = NULL, error = $2 \
             WHERE id = $3 AND worker = $4 AND status = 'running' RETURNING hotline_id",
        )
        .bind(now_us())
        .bind(error)
        .bind(run_id)
        .bind(worker)
        .fetch_optional(&mut *tx)
        .await?;
        if let Some(r) = row {
            let hotline_id: String = r.try_get("hotline_id")?;
            append_audit(
                &mut tx,
                &self.keys,
                &AuditCtx::system(Some(hotline_id)),
                "linkage.fail",
                "linkage_run",
                Some(run_id),
                &serde_json::json!({}),
            )
            .await?;
        }
        tx.commit().await?;
        lease.done().durable().await?;
        Ok(())
    }

    async fn linkage_run(&self, hotline_id: &str, run_id: &str) -> Result<LinkageRun> {
        let row = sqlx::query(concat!(
            "SELECT ",
            run_columns!(),
            " FROM linkage_runs WHERE hotline_id = $1 AND id = $2"
        ))
        .bind(hotline_id)
        .bind(run_id)
        .fetch_optional(self.r())
        .await?
        .ok_or(StoreError::NotFound("linkage run"))?;
        run_from_row(&row)
    }

    async fn latest_linkage_runs(
        &self,
        hotline_id: &str,
    ) -> Result<(Option<LinkageRun>, Option<LinkageRun>)> {
        let newest = sqlx::query(concat!(
            "SELECT ",
            run_columns!(),
            " FROM linkage_runs WHERE hotline_id = $1 ORDER BY requested_at DESC, id DESC LIMIT 1"
        ))
        .bind(hotline_id)
        .fetch_optional(self.r())
        .await?
        .map(|r| run_from_row(&r))
        .transpose()?;
        let done = sqlx::query(concat!(
            "SELECT ",
            run_columns!(),
            " FROM linkage_runs WHERE hotline_id = $1 AND status = 'done' ORDER BY finished_at DESC, id DESC LIMIT 1"
        ))
        .bind(hotline_id)
        .fetch_optional(self.r())
        .await?
        .map(|r| run_from_row(&r))
        .transpose()?;
        Ok((newest, done))
    }

    async fn linkage_components(
        &self,
        hotline_id: &str,
        limit: i64,
    ) -> Result<Vec<ComponentSummary>> {
        let rows = sqlx::query(
            "SELECT id, run_id, cases, link_count, top_weight FROM linkage_components WHERE hotline_id = $1 \
             ORDER BY case_count DESC, top_weight DESC, id LIMIT $2",
        )
        .bind(hotline_id)
        .bind(limit.clamp(1, 10_000))
        .fetch_all(self.r())
        .await?;
        let numbers: std::collections::HashMap<String, i64> = sqlx::query(
            "SELECT c.id, c.number FROM cases c WHERE c.hotline_id = $1 AND c.id IN \
             (SELECT case_a FROM linkage_links WHERE hotline_id = $1 UNION SELECT case_b FROM linkage_links WHERE hotline_id = $1)",
        )
        .bind(hotline_id)
        .fetch_all(self.r())
        .await?
        .iter()
        .map(|r| Ok((r.try_get("id")?, r.try_get("number")?)))
        .collect::<Result<_>>()?;
        rows.iter()
            .map(|r| {
                let cases: String = r.try_get("cases")?;
                let mut case_ids: Vec<String> = serde_json::from_str(&cases).map_err(|e| {
                    StoreError::Invalid(format!("stored component cases are not JSON: {e}"))
                })?;
                case_ids.sort_by_key(|c| numbers.get(c).copied().unwrap_or(i64::MAX));
                Ok(ComponentSummary {
                    id: r.try_get("id")?,
                    run_id: r.try_get("run_id")?,
                    case_numbers: case_ids
                        .iter()
                        .map(|c| numbers.get(c).copied().unwrap_or(0))
                        .collect(),
                    case_ids,
                    link_count: r.try_get("link_count")?,
                    top_weight_milli: r.try_get("top_weight")?,
                })
            })
            .collect()
    }

    async fn linkage_component(
        &self,
        ctx: &AuditCtx,
        hotline_id: &str,
        component_id: &str,
        with_values: bool,
    ) -> Result<ComponentDetail> {
        let ctx = &ctx.in_hotline(hotline_id);
        let mut lease = self.lease().await?;
        let mut tx = lease.conn().begin().await?;
        sqlx::query("SELECT id FROM linkage_components WHERE hotline_id = $1 AND id = $2")
            .bind(hotline_id)
            .bind(component_id)
            .fetch_optional(&mut *tx)
            .await?
            .ok_or(StoreError::NotFound("component"))?;
        let links = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {} FROM linkage_links l{LINK_DECISION_JOIN} WHERE l.hotline_id = $1 AND l.component_id = $2 \
             ORDER BY l.weight DESC, l.id",
            link_columns!()
        )))
        .bind(hotline_id)
        .bind(component_id)
        .fetch_all(&mut *tx)
        .await?
        .iter()
        .map(link_from_row)
        .collect::<Result<Vec<_>>>()?;
        let cases = sqlx::query(
            "SELECT id, number, status, state FROM cases WHERE hotline_id = $1 AND id IN \
             (SELECT case_a FROM linkage_links WHERE component_id = $2 UNION SELECT case_b FROM linkage_links WHERE component_id = $2) \
             ORDER BY number",
        )
        .bind(hotline_id)
        .bind(component_id)
        .fetch_all(&mut *tx)
        .await?
        .iter()
        .map(|r| {
            Ok(ComponentCase {
                id: r.try_get("id")?,
                number: r.try_get("number")?,
                status: r.try_get("status")?,
                state: r.try_get("state")?,
            })
        })
        .collect::<Result<Vec<_>>>()?;
        const PARTIES: &str = "(SELECT party_a FROM linkage_links WHERE component_id = $2 \
                               UNION SELECT party_b FROM linkage_links WHERE component_id = $2)";
        let mut parties = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT id, case_id, role FROM parties WHERE hotline_id = $1 AND id IN {PARTIES} ORDER BY id"
        )))
        .bind(hotline_id)
        .bind(component_id)
        .fetch_all(&mut *tx)
        .await?
        .iter()
        .map(|r| {
            Ok(ComponentParty {
                id: r.try_get("id")?,
                case_id: r.try_get("case_id")?,
                role: r.try_get("role")?,
                identifiers: Vec::new(),
            })
        })
        .collect::<Result<Vec<_>>>()?;
        if with_values {
            let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
                "SELECT id, party_id, kind, value FROM party_identifiers WHERE hotline_id = $1 AND party_id IN {PARTIES} \
                 ORDER BY party_id, id"
            )))
            .bind(hotline_id)
            .bind(component_id)
            .fetch_all(&mut *tx)
            .await?;
            for r in &rows {
                let iid: String = r.try_get("id")?;
                let pid: String = r.try_get("party_id")?;
                let value: Vec<u8> = r.try_get("value")?;
                let value = self
                    .keys
                    .decrypt_string(&binding("party_identifiers", "value", &iid), &value)?;
                if let Some(p) = parties.iter_mut().find(|p| p.id == pid) {
                    p.identifiers.push((r.try_get("kind")?, value));
                }
            }
        }
        append_audit(
            &mut tx,
            &self.keys,
            ctx,
            "linkage.component.read",
            "linkage_component",
            Some(component_id),
            &serde_json::json!({"values": with_values, "links": links.len()}),
        )
        .await?;
        tx.commit().await?;
        lease.done().durable().await?;
        Ok(ComponentDetail {
            id: component_id.to_owned(),
            cases,
            links,
            parties,
        })
    }

    async fn decide_linkage_link(
        &self,
        ctx: &AuditCtx,
        hotline_id: &str,
        link_id: &str,
        decision: &str,
    ) -> Result<StoredLink> {
        if !["confirmed", "rejected"].contains(&decision) {
            return Err(StoreError::Invalid(format!(
                "a decision on a link is `confirmed` or `rejected`, not `{decision}`"
            )));
        }
        let ctx = &ctx.in_hotline(hotline_id);
        let mut lease = self.lease().await?;
        let mut tx = lease.conn().begin().await?;
        let link = fetch_link(&mut tx, hotline_id, link_id).await?;
        let (a, b) = if link.party_a <= link.party_b {
            (&link.party_a, &link.party_b)
        } else {
            (&link.party_b, &link.party_a)
        };
        sqlx::query(
            "INSERT INTO linkage_decisions (hotline_id, party_a, party_b, decision, decided_by, decided_at) \
             VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (hotline_id, party_a, party_b) DO UPDATE SET \
             decision = excluded.decision, decided_by = excluded.decided_by, decided_at = excluded.decided_at",
        )
        .bind(hotline_id)
        .bind(a)
        .bind(b)
        .bind(decision)
        .bind(&ctx.actor_id)
        .bind(now_us())
        .execute(&mut *tx)
        .await?;
        append_audit(
            &mut tx,
            &self.keys,
            ctx,
            "linkage.decide",
            "linkage_link",
            Some(link_id),
            &serde_json::json!({"decision": decision, "party_a": a, "party_b": b}),
        )
        .await?;
        let link = fetch_link(&mut tx, hotline_id, link_id).await?;
        tx.commit().await?;
        lease.done().durable().await?;
        Ok(link)
    }

    async fn linkage_decisions(&self, hotline_id: &str) -> Result<Vec<LinkDecision>> {
        sqlx::query(
            "SELECT party_a, party_b, decision, decided_by, decided_at FROM linkage_decisions \
             WHERE hotline_id = $1 ORDER BY decided_at, party_a, party_b",
        )
        .bind(hotline_id)
        .fetch_all(self.r())
        .await?
        .iter()
        .map(|r| {
            Ok(LinkDecision {
                party_a: r.try_get("party_a")?,
                party_b: r.try_get("party_b")?,
                decision: r.try_get("decision")?,
                decided_by: r.try_get("decided_by")?,
                decided_at_us: r.try_get("decided_at")?,
            })
        })
        .collect()
    }
}
