// Voice calls' and rate limits' SQL (see `crate::calls`), included into each backend's `repo` module beside
// `repo.rs`, `cases.rs` (whose `insert_contact` opens each call's contact) and `rollups.rs`.

use crate::calls::*;

/// The blind-index kind of callers' numbers (shared with SMS senders, users' and parties' phones).
const CALL_PHONE_BIDX: &str = "phone";

macro_rules! call_columns {
    () => {
        "l.id, l.hotline_id, l.contact_id, k.case_id, l.call_sid, l.hotline_number, l.caller, l.direction, \
         l.status, l.advocate_id, l.started_at, l.answered_at, l.ended_at, l.duration_s, k.signaler_type, \
         k.interpreter, l.interpreter_vendor, l.transfer_target, l.transfer_service_id, l.updated_at \
         FROM calls l JOIN contacts k ON k.id = l.contact_id"
    };
}

fn call_from_row(keys: &Keyring, row: &DbRow) -> Result<Call> {
    let id: String = row.try_get("id")?;
    Ok(Call {
        hotline_id: row.try_get("hotline_id")?,
        contact_id: row.try_get("contact_id")?,
        case_id: row.try_get("case_id")?,
        call_sid: row.try_get("call_sid")?,
        hotline_number: row.try_get("hotline_number")?,
        caller: dec_opt(keys, "calls", "caller", &id, row.try_get("caller")?)?,
        direction: row.try_get("direction")?,
        status: row.try_get("status")?,
        advocate_id: row.try_get("advocate_id")?,
        started_at_us: row.try_get("started_at")?,
        answered_at_us: row.try_get("answered_at")?,
        ended_at_us: row.try_get("ended_at")?,
        duration_s: row.try_get("duration_s")?,
        signaler_type: row.try_get("signaler_type")?,
        interpreter_language: row.try_get("interpreter")?,
        interpreter_vendor: row.try_get("interpreter_vendor")?,
        transfer_target: dec_opt(
            keys,
            "calls",
            "transfer_target",
            &id,
            row.try_get("transfer_target")?,
        )?,
        transfer_service_id: row.try_get("transfer_service_id")?,
        updated_at_us: row.try_get("updated_at")?,
        id,
    })
}

async fn fetch_call_where(
    tx: &mut Tx<'_>,
    keys: &Keyring,
    hotline_id: &str,
    column: &'static str,
    value: &str,
) -> Result<Option<Call>> {
    let sql = match column {
        "id" => concat!("SELECT ", call_columns!(), " WHERE l.hotline_id = $1 AND l.id = $2"),
        "call_sid" => concat!(
            "SELECT ",
            call_columns!(),
            " WHERE l.hotline_id = $1 AND l.call_sid = $2"
        ),
        _ => concat!(
            "SELECT ",
            call_columns!(),
            " WHERE l.hotline_id = $1 AND l.contact_id = $2"
        ),
    };
    sqlx::query(sql)
        .bind(hotline_id)
        .bind(value)
        .fetch_optional(&mut **tx)
        .await?
        .map(|r| call_from_row(keys, &r))
        .transpose()
}

/// Moves an existing call forward by one event; returns whether anything changed.
async fn advance_call(tx: &mut Tx<'_>, call: &Call, ev: &NewCallEvent, now: i64) -> Result<bool> {
    let (was, next) = (
        call_status_rank(&call.status),
        call_status_rank(&ev.status),
    );
    let status = if was == 3 || next < was {
        call.status.clone()
    } else {
        ev.status.clone()
    };
    let answered = match call.answered_at_us {
        None if status == "in-progress" || (status == "completed" && was == 2) => Some(now),
        other => other,
    };
    let ended = match call.ended_at_us {
        None if call_status_rank(&status) == 3 => Some(now),
        other => other,
    };
    let duration = call.duration_s.or(ev.duration_s);
    if status == call.status
        && answered == call.answered_at_us
        && ended == call.ended_at_us
        && duration == call.duration_s
    {
        return Ok(false);
    }
    sqlx::query(
        "UPDATE calls SET status = $1, answered_at = $2, ended_at = $3, duration_s = $4, updated_at = $5 \
         WHERE id = $6",
    )
    .bind(&status)
    .bind(answered)
    .bind(ended)
    .bind(duration)
    .bind(now)
    .bind(&call.id)
    .execute(&mut **tx)
    .await?;
    Ok(true)
}

#[async_trait]
impl CallStore for This {
    async fn record_call_event(
        &self,
        ctx: &AuditCtx,
        ev: &NewCallEvent,
    ) -> Result<CallEventReceipt> {
        if !CALL_STATUSES.contains(&ev.status.as_str()) {
            return Err(StoreError::Invalid(format!(
                "status must be one of {}",
                CALL_STATUSES.join(", ")
            )));
        }
        let ctx = &ctx.in_hotline(&ev.hotline_id);
        let keys = &self.keys;
        // Two first events of one call may race (PostgreSQL): the loser's insert does nothing, and it
        // starts again as an update of the winner's call.
        for _ in 0..2 {
            let mut lease = self.lease().await?;
            let mut tx = lease.conn().begin().await?;
            let now = now_us();
            if let Some(call) =
                fetch_call_where(&mut tx, keys, &ev.hotline_id, "call_sid", &ev.call_sid).await?
            {
                let changed = advance_call(&mut tx, &call, ev, now).await?;
                if changed {
                    append_audit(
                        &mut tx,
                        keys,
                        ctx,
                        "call.event",
                        "call",
                        Some(&call.id),
                        &serde_json::json!({"status": ev.status, "duration_s": ev.duration_s}),
                    )
                    .await?;
                }
                let call = fetch_call_where(&mut tx, keys, &ev.hotline_id, "id", &call.id)
                    .await?
                    .ok_or(StoreError::NotFound("call"))?;
                tx.commit().await?;
                lease.done().durable().await?;
                return Ok(CallEventReceipt {
                    call,
                    created: false,
                    changed,
                });
            }
            let mut rollup = Cells::new();
            let contact = insert_contact(
                &mut tx,
                keys,
                ctx,
                &NewContact {
                    hotline_id: ev.hotline_id.clone(),
                    channel: "phone".to_owned(),
                    language: ev.language.clone(),
                    location_precision: "unknown".to_owned(),
                    occurred_at_us: now,
                    ..NewContact::default()
                },
                &mut rollup,
            )
            .await?;
            let id = new_id();
            let final_now = call_status_rank(&ev.status) == 3;
            let inserted = sqlx::query(
                "INSERT INTO calls (id, hotline_id, contact_id, call_sid, hotline_number, caller, caller_bidx, \
                 direction, status, started_at, answered_at, ended_at, duration_s, created_at, updated_at) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $10, $10) \
                 ON CONFLICT (hotline_id, call_sid) DO NOTHING",
            )
            .bind(&id)
            .bind(&ev.hotline_id)
            .bind(&contact.id)
            .bind(&ev.call_sid)
            .bind(&ev.hotline_number)
            .bind(enc_opt(keys, "calls", "caller", &id, ev.caller.as_deref()))
            .bind(
                ev.caller
                    .as_deref()
                    .map(|c| keys.blind_index(CALL_PHONE_BIDX, c)),
            )
            .bind(&ev.direction)
            .bind(&ev.status)
            .bind(now)
            .bind((ev.status == "in-progress").then_some(now))
            .bind(final_now.then_some(now))
            .bind(ev.duration_s)
            .execute(&mut *tx)
            .await?;
            if inserted.rows_affected() == 0 {
                tx.rollback().await?;
                drop(lease);
                continue;
            }
            apply_rollup_delta(&mut tx, &ev.hotline_id, &rollup).await?;
            append_audit(
                &mut tx,
                keys,
                ctx,
                "call.open",
                "call",
                Some(&id),
                &serde_json::json!({"status": ev.status, "direction": ev.direction,
                                    "contact_id": contact.id, "withheld": ev.caller.is_none()}),
            )
            .await?;
            let call = fetch_call_where(&mut tx, keys, &ev.hotline_id, "id", &id)
                .await?
                .ok_or(StoreError::NotFound("call"))?;
            tx.commit().await?;
            lease.done().durable().await?;
            return Ok(CallEventReceipt {
                call,
                created: true,
                changed: true,
            });
        }
        Err(StoreError::Conflict { field: "call_sid" })
    }

    async fn list_calls(
        &self,
        ctx: &AuditCtx,
        hotline_id: &str,
        filter: &CallFilter,
    ) -> Result<Vec<Call>> {
        let ctx = &ctx.in_hotline(hotline_id);
        let limit = filter.limit.clamp(1, 500);
        let mut lease = self.lease().await?;
        let mut tx = lease.conn().begin().await?;
        let rows = sqlx::query(concat!(
            "SELECT ",
            call_columns!(),
            " WHERE l.hotline_id = $1 AND ($2 = FALSE OR l.ended_at IS NULL) AND l.started_at >= $3 \
             ORDER BY l.started_at DESC, l.id DESC LIMIT $4"
        ))
        .bind(hotline_id)
        .bind(filter.live_only)
        .bind(filter.since_us.unwrap_or(i64::MIN))
        .bind(limit)
        .fetch_all(&mut *tx)
        .await?;
        let out = rows
            .iter()
            .map(|r| call_from_row(&self.keys, r))
            .collect::<Result<Vec<_>>>()?;
        append_audit(
            &mut tx,
            &self.keys,
            ctx,
            "call.list",
            "call",
            None,
            &serde_json::json!({"live_only": filter.live_only, "count": out.len()}),
        )
        .await?;
        tx.commit().await?;
        lease.done().durable().await?;
        Ok(out)
    }

    async fn call_of_contact(
        &self,
        ctx: &AuditCtx,
        hotline_id: &str,
        contact_id: &str,
    ) -> Result<Option<Call>> {
        let ctx = &ctx.in_hotline(hotline_id);
        let mut lease = self.lease().await?;
        let mut tx = lease.conn().begin().await?;
        let call = fetch_call_where(&mut tx, &self.keys, hotline_id, "contact_id", contact_id).await?;
        if let Some(c) = &call {
            append_audit(
                &mut tx,
                &self.keys,
                ctx,
                "call.read",
                "call",
                Some(&c.id),
                &serde_json::json!({}),
            )
            .await?;
        }
        tx.commit().await?;
        lease.done().durable().await?;
        Ok(call)
    }

    async fn take_call(
        &self,
        ctx: &AuditCtx,
        hotline_id: &str,
        call_id: &str,
        advocate_id: &str,
    ) -> Result<Call> {
        let ctx = &ctx.in_hotline(hotline_id);
        let mut lease = self.lease().await?;
        let mut tx = lease.conn().begin().await?;
        let done = sqlx::query(
            "UPDATE calls SET advocate_id = $1, updated_at = $2 \
             WHERE hotline_id = $3 AND id = $4 AND advocate_id IS NULL",
        )
        .bind(advocate_id)
        .bind(now_us())
        .bind(hotline_id)
        .bind(call_id)
        .execute(&mut *tx)
        .await?;
        let call = fetch_call_where(&mut tx, &self.keys, hotline_id, "id", call_id)
            .await?
            .ok_or(StoreError::NotFound("call"))?;
        if done.rows_affected() == 0 {
            if call.advocate_id.as_deref() == Some(advocate_id) {
                tx.commit().await?;
                lease.done().durable().await?;
                return Ok(call);
            }
            return Err(StoreError::Conflict {
                field: "advocate_id",
            });
        }
        append_audit(
            &mut tx,
            &self.keys,
            ctx,
            "call.take",
            "call",
            Some(call_id),
            &serde_json::json!({}),
        )
        .await?;
        tx.commit().await?;
        lease.done().durable().await?;
        Ok(call)
    }

    async fn save_call_log(
        &self,
        ctx: &AuditCtx,
        hotline_id: &str,
        contact_id: &str,
        log: &CallLog,
        advocate_id: &str,
    ) -> Result<Call> {
        if let Some(end) = log.ended_at_us
            && end < log.started_at_us
        {
            return Err(StoreError::Invalid(
                "a call cannot end before it starts".into(),
            ));
        }
        let ctx = &ctx.in_hotline(hotline_id);
        let keys = &self.keys;
        let mut lease = self.lease().await?;
        let mut tx = lease.conn().begin().await?;
        let contact = fetch_contact(&mut tx, keys, hotline_id, contact_id).await?;
        if !matches!(contact.channel.as_str(), "phone" | "tty") {
            return Err(StoreError::Invalid(format!(
                "only a phone or TTY contact has a call log; this one came by {}",
                contact.channel
            )));
        }
        let now = now_us();
        let before = contact_rollup(&mut tx, hotline_id, contact_id).await?;
        sqlx::query(
            "UPDATE contacts SET signaler_type = $1, interpreter = $2, updated_at = $3 \
             WHERE hotline_id = $4 AND id = $5",
        )
        .bind(&log.signaler_type)
        .bind(&log.interpreter_language)
        .bind(now)
        .bind(hotline_id)
        .bind(contact_id)
        .execute(&mut *tx)
        .await?;
        let after = contact_rollup(&mut tx, hotline_id, contact_id).await?;
        apply_rollup_delta(&mut tx, hotline_id, &delta(&before, &after)).await?;
        let duration = log
            .ended_at_us
            .map(|end| (end - log.started_at_us) / 1_000_000);
        let existing =
            fetch_call_where(&mut tx, keys, hotline_id, "contact_id", contact_id).await?;
        let id = match &existing {
            Some(c) => {
                sqlx::query(
                    "UPDATE calls SET started_at = $1, ended_at = $2, \
                     duration_s = CASE WHEN call_sid IS NULL OR duration_s IS NULL THEN $3 ELSE duration_s END, \
                     status = CASE WHEN call_sid IS NULL THEN $4 ELSE status END, \
                     advocate_id = COALESCE(advocate_id, $5), interpreter_vendor = $6, transfer_target = $7, \
                     transfer_service_id = $8, updated_at = $9 WHERE id = $10",
                )
                .bind(log.started_at_us)
                .bind(log.ended_at_us)
                .bind(duration)
                .bind(if log.ended_at_us.is_some() {
                    "completed"
                } else {
                    "in-progress"
                })
                .bind(advocate_id)
                .bind(&log.interpreter_vendor)
                .bind(enc_opt(
                    keys,
                    "calls",
                    "transfer_target",
                    &c.id,
                    log.transfer_target.as_deref(),
                ))
                .bind(&log.transfer_service_id)
                .bind(now)
                .bind(&c.id)
                .execute(&mut *tx)
                .await?;
                c.id.clone()
            }
            None => {
                let id = new_id();
                sqlx::query(
                    "INSERT INTO calls (id, hotline_id, contact_id, direction, status, advocate_id, started_at, \
                     answered_at, ended_at, duration_s, interpreter_vendor, transfer_target, transfer_service_id, \
                     created_at, updated_at) VALUES ($1, $2, $3, 'inbound', $4, $5, $6, $6, $7, $8, $9, $10, $11, $12, $12)",
                )
                .bind(&id)
                .bind(hotline_id)
                .bind(contact_id)
                .bind(if log.ended_at_us.is_some() {
                    "completed"
                } else {
                    "in-progress"
                })
                .bind(advocate_id)
                .bind(log.started_at_us)
                .bind(log.ended_at_us)
                .bind(duration)
                .bind(&log.interpreter_vendor)
                .bind(enc_opt(
                    keys,
                    "calls",
                    "transfer_target",
                    &id,
                    log.transfer_target.as_deref(),
                ))
                .bind(&log.transfer_service_id)
                .bind(now)
                .execute(&mut *tx)
                .await
                .map_err(|e| StoreError::unique(e, "contact_id"))?;
                id
            }
        };
        append_audit(
            &mut tx,
            keys,
            ctx,
            "call.log",
            "call",
            Some(&id),
            &serde_json::json!({"contact_id": contact_id, "opened": existing.is_none(),
                                "transfer": log.transfer_target.is_some() || log.transfer_service_id.is_some()}),
        )
        .await?;
        let call = fetch_call_where(&mut tx, keys, hotline_id, "id", &id)
            .await?
            .ok_or(StoreError::NotFound("call"))?;
        tx.commit().await?;
        lease.done().durable().await?;
        Ok(call)
    }
}

#[async_trait]
impl RateLimitStore for This {
    async fn rate_limit_hit(
        &self,
        bucket: &str,
        key_hash: &[u8],
        max: i64,
        window_s: i64,
    ) -> Result<RateDecision> {
        let window_us = window_s.max(1) * 1_000_000;
        let now = now_us();
        let expired = now - window_us;
        let mut lease = self.lease().await?;
        let mut tx = lease.conn().begin().await?;
        sqlx::query("DELETE FROM rate_limits WHERE bucket = $1 AND window_start <= $2")
            .bind(bucket)
            .bind(expired)
            .execute(&mut *tx)
            .await?;
        let row = sqlx::query(
            "INSERT INTO rate_limits (bucket, key_hash, window_start, count) VALUES ($1, $2, $3, 1) \
             ON CONFLICT (bucket, key_hash) DO UPDATE SET count = rate_limits.count + 1 \
             RETURNING window_start, count",
        )
        .bind(bucket)
        .bind(key_hash)
        .bind(now)
        .fetch_one(&mut *tx)
        .await?;
        tx.commit().await?;
        lease.done().durable().await?;
        let start: i64 = row.try_get("window_start")?;
        let count: i64 = row.try_get("count")?;
        let left_us = (start + window_us - now).max(0);
        Ok(RateDecision {
            allowed: count <= max,
            count,
            retry_after_s: (left_us + 999_999) / 1_000_000,
        })
    }
}
