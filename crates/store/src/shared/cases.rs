// The core loop's SQL (see `crate::cases`), included into each backend's `repo` module beside `repo.rs`.

use crate::cases::*;

fn enc_opt(keys: &Keyring, table: &str, col: &str, id: &str, v: Option<&str>) -> Option<Vec<u8>> {
    v.map(|s| keys.encrypt_str(&binding(table, col, id), s))
}

fn dec_opt(
    keys: &Keyring,
    table: &str,
    col: &str,
    id: &str,
    v: Option<Vec<u8>>,
) -> Result<Option<String>> {
    v.map(|b| keys.decrypt_string(&binding(table, col, id), &b))
        .transpose()
        .map_err(Into::into)
}

fn json_list(v: &[String]) -> String {
    serde_json::to_string(v).expect("a list of strings serialises")
}

fn parse_list(s: &str) -> Result<Vec<String>> {
    serde_json::from_str(s)
        .map_err(|e| StoreError::Invalid(format!("stored list is not JSON: {e}")))
}

macro_rules! case_columns {
    () => {
        "id, hotline_id, number, status, form, state, details, safety_plan, assignee_id, opened_at, updated_at, closed_at"
    };
}

macro_rules! contact_columns {
    () => {
        "id, hotline_id, case_id, channel, signaler_type, category, language, state, zip, location_precision, city, \
         safe_to_talk, safe_contact, interpreter, narrative, occurred_at, created_by, created_at"
    };
}

macro_rules! determination_columns {
    () => {
        "id, contact_id, case_id, answers, outcome, forms, minor_rule_applied, missing, reasons, rules_version, \
         created_by, created_at, review_status, reviewed_by, reviewed_at, review_comment"
    };
}

fn case_from_row(keys: &Keyring, row: &DbRow) -> Result<Case> {
    let id: String = row.try_get("id")?;
    Ok(Case {
        hotline_id: row.try_get("hotline_id")?,
        number: row.try_get("number")?,
        status: row.try_get("status")?,
        form: row.try_get("form")?,
        state: row.try_get("state")?,
        details_json: row.try_get("details")?,
        safety_plan: dec_opt(
            keys,
            "cases",
            "safety_plan",
            &id,
            row.try_get("safety_plan")?,
        )?,
        assignee_id: row.try_get("assignee_id")?,
        opened_at_us: row.try_get("opened_at")?,
        updated_at_us: row.try_get("updated_at")?,
        closed_at_us: row.try_get("closed_at")?,
        id,
    })
}

fn contact_from_row(keys: &Keyring, row: &DbRow) -> Result<Contact> {
    let id: String = row.try_get("id")?;
    Ok(Contact {
        hotline_id: row.try_get("hotline_id")?,
        case_id: row.try_get("case_id")?,
        channel: row.try_get("channel")?,
        signaler_type: row.try_get("signaler_type")?,
        category: row.try_get("category")?,
        language: row.try_get("language")?,
        state: row.try_get("state")?,
        zip: row.try_get("zip")?,
        city: dec_opt(keys, "contacts", "city", &id, row.try_get("city")?)?,
        location_precision: row.try_get("location_precision")?,
        safe_to_talk: row.try_get("safe_to_talk")?,
        safe_contact: dec_opt(
            keys,
            "contacts",
            "safe_contact",
            &id,
            row.try_get("safe_contact")?,
        )?,
        interpreter: row.try_get("interpreter")?,
        narrative: dec_opt(
            keys,
            "contacts",
            "narrative",
            &id,
            row.try_get("narrative")?,
        )?,
        occurred_at_us: row.try_get("occurred_at")?,
        created_by: row.try_get("created_by")?,
        created_at_us: row.try_get("created_at")?,
        determinations: Vec::new(),
        id,
    })
}

fn determination_from_row(keys: &Keyring, row: &DbRow) -> Result<Determination> {
    let id: String = row.try_get("id")?;
    let forms: String = row.try_get("forms")?;
    let missing: String = row.try_get("missing")?;
    let reasons: String = row.try_get("reasons")?;
    Ok(Determination {
        contact_id: row.try_get("contact_id")?,
        case_id: row.try_get("case_id")?,
        answers_json: row.try_get("answers")?,
        outcome: row.try_get("outcome")?,
        forms: parse_list(&forms)?,
        minor_rule_applied: row.try_get("minor_rule_applied")?,
        missing: parse_list(&missing)?,
        reasons: parse_list(&reasons)?,
        rules_version: row.try_get("rules_version")?,
        created_by: row.try_get("created_by")?,
        created_at_us: row.try_get("created_at")?,
        review_status: row.try_get("review_status")?,
        reviewed_by: row.try_get("reviewed_by")?,
        reviewed_at_us: row.try_get("reviewed_at")?,
        review_comment: dec_opt(
            keys,
            "determinations",
            "review_comment",
            &id,
            row.try_get("review_comment")?,
        )?,
        id,
    })
}

async fn fetch_case(tx: &mut Tx<'_>, keys: &Keyring, hotline_id: &str, id: &str) -> Result<Case> {
    let row = sqlx::query(concat!(
        "SELECT ",
        case_columns!(),
        " FROM cases WHERE hotline_id = $1 AND id = $2"
    ))
    .bind(hotline_id)
    .bind(id)
    .fetch_optional(&mut **tx)
    .await?
    .ok_or(StoreError::NotFound("case"))?;
    case_from_row(keys, &row)
}

async fn fetch_determinations(
    tx: &mut Tx<'_>,
    keys: &Keyring,
    contact_id: &str,
) -> Result<Vec<Determination>> {
    let rows = sqlx::query(concat!(
        "SELECT ",
        determination_columns!(),
        " FROM determinations WHERE contact_id = $1 ORDER BY created_at, id"
    ))
    .bind(contact_id)
    .fetch_all(&mut **tx)
    .await?;
    rows.iter()
        .map(|r| determination_from_row(keys, r))
        .collect()
}

async fn fetch_contact(
    tx: &mut Tx<'_>,
    keys: &Keyring,
    hotline_id: &str,
    id: &str,
) -> Result<Contact> {
    let row = sqlx::query(concat!(
        "SELECT ",
        contact_columns!(),
        " FROM contacts WHERE hotline_id = $1 AND id = $2"
    ))
    .bind(hotline_id)
    .bind(id)
    .fetch_optional(&mut **tx)
    .await?
    .ok_or(StoreError::NotFound("contact"))?;
    let mut c = contact_from_row(keys, &row)?;
    c.determinations = fetch_determinations(tx, keys, id).await?;
    Ok(c)
}

async fn fetch_parties(tx: &mut Tx<'_>, keys: &Keyring, case_id: &str) -> Result<Vec<Party>> {
    let rows = sqlx::query("SELECT id, case_id, role, gender, age, age_band, nationality, details FROM parties WHERE case_id = $1 ORDER BY created_at, id")
        .bind(case_id)
        .fetch_all(&mut **tx)
        .await?;
    let mut parties = Vec::with_capacity(rows.len());
    for r in rows {
        let id: String = r.try_get("id")?;
        let idrows = sqlx::query(
            "SELECT id, kind, value FROM party_identifiers WHERE party_id = $1 ORDER BY id",
        )
        .bind(&id)
        .fetch_all(&mut **tx)
        .await?;
        let identifiers = idrows
            .iter()
            .map(|ir| {
                let iid: String = ir.try_get("id")?;
                let value: Vec<u8> = ir.try_get("value")?;
                Ok(Identifier {
                    value: keys
                        .decrypt_string(&binding("party_identifiers", "value", &iid), &value)?,
                    kind: ir.try_get("kind")?,
                    id: iid,
                })
            })
            .collect::<Result<Vec<_>>>()?;
        parties.push(Party {
            case_id: r.try_get("case_id")?,
            role: r.try_get("role")?,
            gender: r.try_get("gender")?,
            age: r.try_get("age")?,
            age_band: r.try_get("age_band")?,
            nationality: r.try_get("nationality")?,
            details: dec_opt(keys, "parties", "details", &id, r.try_get("details")?)?,
            identifiers,
            id,
        });
    }
    Ok(parties)
}

async fn touch_case(tx: &mut Tx<'_>, case_id: &str) -> Result<()> {
    sqlx::query("UPDATE cases SET updated_at = $1 WHERE id = $2")
        .bind(now_us())
        .bind(case_id)
        .execute(&mut **tx)
        .await?;
    Ok(())
}

/// Inserts a party's identifiers, each encrypted and (when looked up) blind-indexed.
async fn insert_identifiers(
    tx: &mut Tx<'_>,
    keys: &Keyring,
    hotline_id: &str,
    party_id: &str,
    case_id: &str,
    identifiers: &[NewIdentifier],
) -> Result<()> {
    for ident in identifiers {
        let iid = new_id();
        sqlx::query("INSERT INTO party_identifiers (id, hotline_id, party_id, case_id, kind, value, bidx) VALUES ($1, $2, $3, $4, $5, $6, $7)")
            .bind(&iid)
            .bind(hotline_id)
            .bind(party_id)
            .bind(case_id)
            .bind(&ident.kind)
            .bind(keys.encrypt_str(&binding("party_identifiers", "value", &iid), &ident.value))
            .bind(ident.lookup.as_ref().map(|l| keys.blind_index(&ident.kind, l)))
            .execute(&mut **tx)
            .await?;
    }
    Ok(())
}

fn task_from_row(keys: &Keyring, r: &DbRow) -> Result<Task> {
    let id: String = r.try_get("id")?;
    let title: Vec<u8> = r.try_get("title")?;
    Ok(Task {
        title: keys.decrypt_string(&binding("tasks", "title", &id), &title)?,
        case_id: r.try_get("case_id")?,
        due_at_us: r.try_get("due_at")?,
        assignee_id: r.try_get("assignee_id")?,
        done_at_us: r.try_get("done_at")?,
        created_at_us: r.try_get("created_at")?,
        id,
    })
}

/// Inserts a party and its identifiers into `case_id`, with its audit event; returns its id.
async fn insert_party(
    tx: &mut Tx<'_>,
    keys: &Keyring,
    ctx: &AuditCtx,
    hotline_id: &str,
    case_id: &str,
    new: &NewParty,
) -> Result<String> {
    let id = new_id();
    let now = now_us();
    sqlx::query(
        "INSERT INTO parties (id, hotline_id, case_id, role, gender, age, age_band, nationality, details, created_at, updated_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $10)",
    )
    .bind(&id)
    .bind(hotline_id)
    .bind(case_id)
    .bind(&new.role)
    .bind(&new.gender)
    .bind(new.age)
    .bind(&new.age_band)
    .bind(&new.nationality)
    .bind(enc_opt(keys, "parties", "details", &id, new.details.as_deref()))
    .bind(now)
    .execute(&mut **tx)
    .await?;
    insert_identifiers(tx, keys, hotline_id, &id, case_id, &new.identifiers).await?;
    append_audit(
        tx,
        keys,
        ctx,
        "party.create",
        "party",
        Some(&id),
        &serde_json::json!({"case_id": case_id, "role": new.role, "identifiers": new.identifiers.len()}),
    )
    .await?;
    Ok(id)
}

/// Opens a case with the next number of its hotline, with its audit event.
async fn insert_case(
    tx: &mut Tx<'_>,
    keys: &Keyring,
    ctx: &AuditCtx,
    new: &NewCase,
    opened_at_us: i64,
) -> Result<Case> {
    let id = new_id();
    let now = now_us();
    // Given (imported history), or the caller's default (the contact it opens with, or now).
    let opened = new.opened_at_us.unwrap_or(opened_at_us);
    let row = sqlx::query(
        "INSERT INTO case_numbers (hotline_id, last) VALUES ($1, 1) \
         ON CONFLICT (hotline_id) DO UPDATE SET last = case_numbers.last + 1 RETURNING last",
    )
    .bind(&new.hotline_id)
    .fetch_one(&mut **tx)
    .await?;
    let number: i64 = row.try_get("last")?;
    let safety_plan = enc_opt(
        keys,
        "cases",
        "safety_plan",
        &id,
        new.safety_plan.as_deref(),
    );
    sqlx::query(
        "INSERT INTO cases (id, hotline_id, number, status, form, state, details, safety_plan, assignee_id, opened_at, updated_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
    )
    .bind(&id)
    .bind(&new.hotline_id)
    .bind(number)
    .bind(&new.status)
    .bind(&new.form)
    .bind(&new.state)
    .bind(&new.details_json)
    .bind(safety_plan)
    .bind(&new.assignee_id)
    .bind(opened)
    .bind(now)
    .execute(&mut **tx)
    .await?;
    append_audit(
        tx,
        keys,
        ctx,
        "case.create",
        "case",
        Some(&id),
        &serde_json::json!({"number": number}),
    )
    .await?;
    Ok(Case {
        id,
        hotline_id: new.hotline_id.clone(),
        number,
        status: new.status.clone(),
        form: new.form.clone(),
        state: new.state.clone(),
        details_json: new.details_json.clone(),
        safety_plan: new.safety_plan.clone(),
        assignee_id: new.assignee_id.clone(),
        opened_at_us: opened,
        updated_at_us: now,
        closed_at_us: None,
    })
}

/// Inserts a contact (opening its case and adding its parties when asked) with its determination and
/// one audit event, inside `tx`; adds the change to the rollups to `rollup` for the caller to apply.
async fn insert_contact(
    tx: &mut Tx<'_>,
    keys: &Keyring,
    ctx: &AuditCtx,
    new: &NewContact,
    rollup: &mut Cells,
) -> Result<Contact> {
    let ctx = &ctx.in_hotline(&new.hotline_id);

    let id = new_id();
    let now = now_us();
    let mut case_id = new.case_id.clone();
    // The case's cells change only when it is opened here or gains parties.
    let mut case_before = None;
    let mut opened_cells = None;
    if let Some(cid) = &case_id {
        fetch_case(tx, keys, &new.hotline_id, cid).await?;
        touch_case(tx, cid).await?;
        if !new.parties.is_empty() {
            case_before = Some(case_rollup(tx, &new.hotline_id, cid).await?);
        }
    } else if let Some(open) = &new.open_case {
        if open.hotline_id != new.hotline_id {
            return Err(StoreError::Invalid(
                "a new case belongs to the contact's hotline".into(),
            ));
        }
        // A case opened with a contact opens when that contact happened (a call recorded after it
        // ended, three years of history imported), never later than now.
        let case = insert_case(tx, keys, ctx, open, new.occurred_at_us.min(now)).await?;
        // A case opened here has no referrals yet and only this contact's parties: its cells are known
        // without reading it back.
        let victims: Vec<VictimFacts> = new
            .parties
            .iter()
            .filter(|p| p.role == "potential_victim")
            .map(|p| VictimFacts {
                gender: p.gender.clone(),
                age: p.age,
                age_band: p.age_band.clone(),
                nationality: p.nationality.clone(),
            })
            .collect();
        opened_cells = Some(case_bundle_cells(
            &CaseFacts::of_stored(
                case.opened_at_us,
                case.status.clone(),
                case.form.clone(),
                case.state.clone(),
                &case.details_json,
                &victims,
            ),
            &[],
        ));
        case_id = Some(case.id);
    }
    if !new.parties.is_empty() {
        let Some(cid) = &case_id else {
            return Err(StoreError::Invalid(
                "parties belong to a case: attach the contact to one".into(),
            ));
        };
        for party in &new.parties {
            insert_party(tx, keys, ctx, &new.hotline_id, cid, party).await?;
        }
    }
    let mut unit = Unit::new();
    let contact = push_contact(&mut unit, keys, ctx, new, case_id.clone(), id, now, rollup);
    unit.run_in(tx, keys).await?;
    if let Some(cells) = opened_cells {
        merge(rollup, cells);
    } else if let (Some(before), Some(cid)) = (case_before, &case_id) {
        let after = case_rollup(tx, &new.hotline_id, cid).await?;
        merge(rollup, delta(&before, &after));
    }
    Ok(contact)
}

/// Adds a contact's row, its determination and its one audit event to `unit`, and its cells to
/// `rollup`; returns the contact as it will be stored.
#[expect(clippy::too_many_arguments, reason = "the contact and where it goes")]
fn push_contact(
    unit: &mut Unit,
    keys: &Keyring,
    ctx: &AuditCtx,
    new: &NewContact,
    case_id: Option<String>,
    id: String,
    now: i64,
    rollup: &mut Cells,
) -> Contact {
    unit.sql(
            "INSERT INTO contacts (id, hotline_id, case_id, channel, signaler_type, category, language, state, zip, \
             location_precision, city, safe_to_talk, safe_contact, interpreter, narrative, occurred_at, created_by, \
             created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $18)",
        )
        .bind(&id)
        .bind(&new.hotline_id)
        .bind(&case_id)
        .bind(&new.channel)
        .bind(&new.signaler_type)
        .bind(&new.category)
        .bind(&new.language)
        .bind(&new.state)
        .bind(&new.zip)
        .bind(&new.location_precision)
        .bind(enc_opt(keys, "contacts", "city", &id, new.city.as_deref()))
        .bind(&new.safe_to_talk)
        .bind(enc_opt(keys, "contacts", "safe_contact", &id, new.safe_contact.as_deref()))
        .bind(&new.interpreter)
        .bind(enc_opt(keys, "contacts", "narrative", &id, new.narrative.as_deref()))
        .bind(new.occurred_at_us)
        .bind(&new.created_by)
        .bind(now)
        ;
    let mut determinations = Vec::new();
    if let Some(d) = &new.determination {
        let did = new_id();
        unit.sql(
                "INSERT INTO determinations (id, hotline_id, contact_id, case_id, answers, outcome, forms, minor_rule_applied, \
                 missing, reasons, rules_version, created_by, created_at, review_status) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)",
            )
            .bind(&did)
            .bind(&new.hotline_id)
            .bind(&id)
            .bind(&case_id)
            .bind(&d.answers_json)
            .bind(&d.outcome)
            .bind(json_list(&d.forms))
            .bind(d.minor_rule_applied)
            .bind(json_list(&d.missing))
            .bind(json_list(&d.reasons))
            .bind(&d.rules_version)
            .bind(&new.created_by)
            .bind(now)
            .bind(d.needs_review.then_some("pending"))
            ;
        determinations.push(Determination {
            id: did,
            contact_id: id.clone(),
            case_id: case_id.clone(),
            answers_json: d.answers_json.clone(),
            outcome: d.outcome.clone(),
            forms: d.forms.clone(),
            minor_rule_applied: d.minor_rule_applied,
            missing: d.missing.clone(),
            reasons: d.reasons.clone(),
            rules_version: d.rules_version.clone(),
            created_by: new.created_by.clone(),
            created_at_us: now,
            review_status: d.needs_review.then(|| "pending".to_owned()),
            reviewed_by: None,
            reviewed_at_us: None,
            review_comment: None,
        });
    }
    // One event covers the contact and its determination: the hot path of intake.
    let detail = match determinations.first() {
        Some(d) => {
            serde_json::json!({"channel": new.channel, "determination_id": d.id, "outcome": d.outcome,
                                          "review": d.review_status.is_some()})
        }
        None => serde_json::json!({"channel": new.channel}),
    };
    unit.audit(ctx, "contact.create", "contact", Some(&id), &detail);
    merge(
        rollup,
        contact_cells(&ContactFacts {
            occurred_at_us: new.occurred_at_us,
            state: new.state.clone(),
            channel: new.channel.clone(),
            signaler_type: new.signaler_type.clone(),
            category: new.category.clone(),
            outcome: determinations.last().map(|d| d.outcome.clone()),
        }),
    );
    Contact {
        id,
        hotline_id: new.hotline_id.clone(),
        case_id: case_id.clone(),
        channel: new.channel.clone(),
        signaler_type: new.signaler_type.clone(),
        category: new.category.clone(),
        language: new.language.clone(),
        state: new.state.clone(),
        zip: new.zip.clone(),
        city: new.city.clone(),
        location_precision: new.location_precision.clone(),
        safe_to_talk: new.safe_to_talk.clone(),
        safe_contact: new.safe_contact.clone(),
        interpreter: new.interpreter.clone(),
        narrative: new.narrative.clone(),
        occurred_at_us: new.occurred_at_us,
        created_by: new.created_by.clone(),
        created_at_us: now,
        determinations,
    }
}

#[async_trait]
impl CaseStore for This {
    async fn create_contact(&self, ctx: &AuditCtx, new: &NewContact) -> Result<Contact> {
        if new.case_id.is_none() && new.open_case.is_none() && new.parties.is_empty() {
            // The hot path of intake: everything is known before the writer is taken, so the rows, the
            // audit event and the rollup cells go in one unit (one round trip on SQLite).
            let ctx = &ctx.in_hotline(&new.hotline_id);
            let mut unit = Unit::new();
            let mut rollup = Cells::new();
            let c = push_contact(&mut unit, &self.keys, ctx, new, None, new_id(), now_us(), &mut rollup);
            push_rollup_delta(&mut unit, &new.hotline_id, &rollup);
            let mut lease = self.lease().await?;
            lease.run_unit(&self.keys, &unit).await?;
            lease.done().durable().await?;
            return Ok(c);
        }
        let mut lease = self.lease().await?;
        let mut tx = lease.conn().begin().await?;
        let mut rollup = Cells::new();
        let c = insert_contact(&mut tx, &self.keys, ctx, new, &mut rollup).await?;
        apply_rollup_delta(&mut tx, &new.hotline_id, &rollup).await?;
        tx.commit().await?;
        lease.done().durable().await?;
        Ok(c)
    }

    async fn import_contacts(
        &self,
        ctx: &AuditCtx,
        batch: &[NewContact],
    ) -> Result<Vec<(String, Option<String>)>> {
        let mut lease = self.lease().await?;
        let mut tx = lease.conn().begin().await?;
        let mut ids = Vec::with_capacity(batch.len());
        // One delta per hotline for the whole batch: far fewer upserts than one per contact.
        let mut rollups: std::collections::BTreeMap<&str, Cells> =
            std::collections::BTreeMap::new();
        for new in batch {
            let rollup = rollups.entry(new.hotline_id.as_str()).or_default();
            let c = insert_contact(&mut tx, &self.keys, ctx, new, rollup).await?;
            ids.push((c.id, c.case_id));
        }
        for (hotline_id, rollup) in &rollups {
            apply_rollup_delta(&mut tx, hotline_id, rollup).await?;
        }
        tx.commit().await?;
        lease.done().durable().await?;
        Ok(ids)
    }

    async fn list_contacts(
        &self,
        ctx: &AuditCtx,
        hotline_id: &str,
        f: &ContactFilter,
    ) -> Result<(Vec<Contact>, i64)> {
        const WHERE: &str = " FROM contacts WHERE hotline_id = $1 AND ($2 IS NULL OR channel = $2) \
            AND ($3 IS NULL OR case_id = $3) AND ($4 = FALSE OR case_id IS NULL) \
            AND ($5 IS NULL OR occurred_at >= $5) AND ($6 IS NULL OR occurred_at < $6)";
        macro_rules! bind_filters {
            ($q:expr) => {
                $q.bind(hotline_id)
                    .bind(&f.channel)
                    .bind(&f.case_id)
                    .bind(f.unattached)
                    .bind(f.from_us)
                    .bind(f.to_us)
            };
        }
        let total: i64 = bind_filters!(sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT COUNT(*) AS n{WHERE}"
        ))))
        .fetch_one(self.r())
        .await?
        .try_get("n")?;
        let rows = bind_filters!(sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {}{WHERE} ORDER BY occurred_at DESC, id DESC LIMIT $7 OFFSET $8",
            contact_columns!()
        ))))
        .bind(f.limit.clamp(1, 500))
        .bind(f.offset.max(0))
        .fetch_all(self.r())
        .await?;
        let mut list = Vec::with_capacity(rows.len());
        for r in &rows {
            let mut c = contact_from_row(&self.keys, r)?;
            let drows = sqlx::query(concat!(
                "SELECT ",
                determination_columns!(),
                " FROM determinations WHERE contact_id = $1 ORDER BY created_at, id"
            ))
            .bind(&c.id)
            .fetch_all(self.r())
            .await?;
            c.determinations = drows
                .iter()
                .map(|d| determination_from_row(&self.keys, d))
                .collect::<Result<_>>()?;
            list.push(c);
        }
        self.audit(
            ctx,
            "contact.list",
            "contact",
            None,
            serde_json::json!({"count": list.len()}),
        )
        .await?;
        Ok((list, total))
    }

    async fn update_party(
        &self,
        ctx: &AuditCtx,
        hotline_id: &str,
        party_id: &str,
        new: &NewParty,
    ) -> Result<Party> {
        let ctx = &ctx.in_hotline(hotline_id);
        let keys = &self.keys;
        let mut lease = self.lease().await?;
        let mut tx = lease.conn().begin().await?;
        let row =
            sqlx::query("SELECT case_id, role FROM parties WHERE hotline_id = $1 AND id = $2")
                .bind(hotline_id)
                .bind(party_id)
                .fetch_optional(&mut *tx)
                .await?
                .ok_or(StoreError::NotFound("party"))?;
        let case_id: String = row.try_get("case_id")?;
        let role: String = row.try_get("role")?;
        if !new.role.is_empty() && new.role != role {
            return Err(StoreError::Invalid(format!(
                "a party's role cannot change (it is {role}); add a new party instead"
            )));
        }
        // A potential victim's gender, age and nationality are the populations a case's needs count.
        let rollup_before = case_rollup(&mut tx, hotline_id, &case_id).await?;
        sqlx::query("UPDATE parties SET gender = $1, age = $2, age_band = $3, nationality = $4, details = $5, updated_at = $6 WHERE id = $7")
            .bind(&new.gender)
            .bind(new.age)
            .bind(&new.age_band)
            .bind(&new.nationality)
            .bind(enc_opt(keys, "parties", "details", party_id, new.details.as_deref()))
            .bind(now_us())
            .bind(party_id)
            .execute(&mut *tx)
            .await?;
        sqlx::query("DELETE FROM party_identifiers WHERE party_id = $1")
            .bind(party_id)
            .execute(&mut *tx)
            .await?;
        insert_identifiers(
            &mut tx,
            keys,
            hotline_id,
            party_id,
            &case_id,
            &new.identifiers,
        )
        .await?;
        let rollup_after = case_rollup(&mut tx, hotline_id, &case_id).await?;
        apply_rollup_delta(&mut tx, hotline_id, &delta(&rollup_before, &rollup_after)).await?;
        touch_case(&mut tx, &case_id).await?;
        append_audit(
            &mut tx,
            keys,
            ctx,
            "party.update",
            "party",
            Some(party_id),
            &serde_json::json!({"identifiers": new.identifiers.len()}),
        )
        .await?;
        let party = fetch_parties(&mut tx, keys, &case_id)
            .await?
            .into_iter()
            .find(|p| p.id == party_id)
            .ok_or(StoreError::NotFound("party"))?;
        tx.commit().await?;
        lease.done().durable().await?;
        Ok(party)
    }

    async fn party_case_state(&self, hotline_id: &str, party_id: &str) -> Result<Option<String>> {
        let row = sqlx::query("SELECT c.state FROM parties p JOIN cases c ON c.id = p.case_id WHERE p.hotline_id = $1 AND p.id = $2")
            .bind(hotline_id)
            .bind(party_id)
            .fetch_optional(self.r())
            .await?
            .ok_or(StoreError::NotFound("party"))?;
        Ok(row.try_get("state")?)
    }

    async fn list_tasks(
        &self,
        ctx: &AuditCtx,
        hotline_id: &str,
        assignee_id: Option<&str>,
        include_done: bool,
        limit: i64,
    ) -> Result<Vec<Task>> {
        let rows = sqlx::query(
            "SELECT id, case_id, title, due_at, assignee_id, done_at, created_at FROM tasks \
             WHERE hotline_id = $1 AND ($2 IS NULL OR assignee_id = $2) AND ($3 = TRUE OR done_at IS NULL) \
             ORDER BY done_at IS NOT NULL, due_at IS NULL, due_at, created_at LIMIT $4",
        )
        .bind(hotline_id)
        .bind(assignee_id)
        .bind(include_done)
        .bind(limit.clamp(1, 1000))
        .fetch_all(self.r())
        .await?;
        let tasks = rows
            .iter()
            .map(|r| task_from_row(&self.keys, r))
            .collect::<Result<Vec<_>>>()?;
        self.audit(
            ctx,
            "task.list",
            "task",
            None,
            serde_json::json!({"count": tasks.len()}),
        )
        .await?;
        Ok(tasks)
    }

    async fn contact(&self, ctx: &AuditCtx, hotline_id: &str, id: &str) -> Result<Contact> {
        let ctx = &ctx.in_hotline(hotline_id);
        let mut lease = self.lease().await?;
        let mut tx = lease.conn().begin().await?;
        let c = fetch_contact(&mut tx, &self.keys, hotline_id, id).await?;
        append_audit(
            &mut tx,
            &self.keys,
            ctx,
            "contact.read",
            "contact",
            Some(id),
            &serde_json::json!({}),
        )
        .await?;
        tx.commit().await?;
        lease.done().durable().await?;
        Ok(c)
    }

    async fn attach_contact(
        &self,
        ctx: &AuditCtx,
        hotline_id: &str,
        contact_id: &str,
        case_id: &str,
    ) -> Result<()> {
        let ctx = &ctx.in_hotline(hotline_id);
        let mut lease = self.lease().await?;
        let mut tx = lease.conn().begin().await?;
        fetch_case(&mut tx, &self.keys, hotline_id, case_id).await?;
        let before = contact_rollup(&mut tx, hotline_id, contact_id).await?;
        let done = sqlx::query(
            "UPDATE contacts SET case_id = $1, updated_at = $2 WHERE hotline_id = $3 AND id = $4",
        )
        .bind(case_id)
        .bind(now_us())
        .bind(hotline_id)
        .bind(contact_id)
        .execute(&mut *tx)
        .await?;
        if done.rows_affected() == 0 {
            return Err(StoreError::NotFound("contact"));
        }
        sqlx::query("UPDATE determinations SET case_id = $1 WHERE contact_id = $2")
            .bind(case_id)
            .bind(contact_id)
            .execute(&mut *tx)
            .await?;
        touch_case(&mut tx, case_id).await?;
        let after = contact_rollup(&mut tx, hotline_id, contact_id).await?;
        apply_rollup_delta(&mut tx, hotline_id, &delta(&before, &after)).await?;
        append_audit(
            &mut tx,
            &self.keys,
            ctx,
            "contact.attach",
            "contact",
            Some(contact_id),
            &serde_json::json!({"case_id": case_id}),
        )
        .await?;
        tx.commit().await?;
        lease.done().durable().await?;
        Ok(())
    }

    async fn create_case(&self, ctx: &AuditCtx, new: &NewCase) -> Result<Case> {
        let ctx = &ctx.in_hotline(&new.hotline_id);
        let mut lease = self.lease().await?;
        let mut tx = lease.conn().begin().await?;
        if let Some(uid) = &new.assignee_id {
            fetch_user(&mut tx, &self.keys, &new.hotline_id, uid).await?;
        }
        let case = insert_case(&mut tx, &self.keys, ctx, new, now_us()).await?;
        let cells = case_rollup(&mut tx, &new.hotline_id, &case.id).await?;
        apply_rollup_delta(&mut tx, &new.hotline_id, &cells).await?;
        tx.commit().await?;
        lease.done().durable().await?;
        Ok(case)
    }

    async fn case(&self, ctx: &AuditCtx, hotline_id: &str, id: &str) -> Result<Case> {
        let ctx = &ctx.in_hotline(hotline_id);
        let mut lease = self.lease().await?;
        let mut tx = lease.conn().begin().await?;
        let c = fetch_case(&mut tx, &self.keys, hotline_id, id).await?;
        append_audit(
            &mut tx,
            &self.keys,
            ctx,
            "case.read",
            "case",
            Some(id),
            &serde_json::json!({}),
        )
        .await?;
        tx.commit().await?;
        lease.done().durable().await?;
        Ok(c)
    }

    async fn update_case(
        &self,
        ctx: &AuditCtx,
        hotline_id: &str,
        id: &str,
        change: &CaseChange,
    ) -> Result<Case> {
        let ctx = &ctx.in_hotline(hotline_id);
        let keys = &self.keys;
        let mut lease = self.lease().await?;
        let mut tx = lease.conn().begin().await?;
        let before = fetch_case(&mut tx, keys, hotline_id, id).await?;
        let cells_before = case_rollup(&mut tx, hotline_id, id).await?;
        let mut changed: Vec<&str> = Vec::new();
        let now = now_us();
        if let Some(s) = &change.status {
            let closed_at = if s == "closed" {
                Some(before.closed_at_us.unwrap_or(now))
            } else {
                None
            };
            sqlx::query("UPDATE cases SET status = $1, closed_at = $2 WHERE id = $3")
                .bind(s)
                .bind(closed_at)
                .bind(id)
                .execute(&mut *tx)
                .await?;
            changed.push("status");
        }
        if let Some(f) = &change.form {
            sqlx::query("UPDATE cases SET form = $1 WHERE id = $2")
                .bind(f)
                .bind(id)
                .execute(&mut *tx)
                .await?;
            changed.push("form");
        }
        if let Some(s) = &change.state {
            sqlx::query("UPDATE cases SET state = $1 WHERE id = $2")
                .bind(s)
                .bind(id)
                .execute(&mut *tx)
                .await?;
            changed.push("state");
        }
        if let Some(d) = &change.details_json {
            sqlx::query("UPDATE cases SET details = $1 WHERE id = $2")
                .bind(d)
                .bind(id)
                .execute(&mut *tx)
                .await?;
            changed.push("details");
        }
        if let Some(p) = &change.safety_plan {
            sqlx::query("UPDATE cases SET safety_plan = $1 WHERE id = $2")
                .bind(enc_opt(keys, "cases", "safety_plan", id, p.as_deref()))
                .bind(id)
                .execute(&mut *tx)
                .await?;
            changed.push("safety_plan");
        }
        if let Some(a) = &change.assignee_id {
            if let Some(uid) = a {
                fetch_user(&mut tx, keys, hotline_id, uid).await?;
            }
            sqlx::query("UPDATE cases SET assignee_id = $1 WHERE id = $2")
                .bind(a)
                .bind(id)
                .execute(&mut *tx)
                .await?;
            changed.push("assignee");
        }
        touch_case(&mut tx, id).await?;
        let cells_after = case_rollup(&mut tx, hotline_id, id).await?;
        apply_rollup_delta(&mut tx, hotline_id, &delta(&cells_before, &cells_after)).await?;
        append_audit(
            &mut tx,
            keys,
            ctx,
            "case.update",
            "case",
            Some(id),
            &serde_json::json!({"changed": changed, "status": change.status}),
        )
        .await?;
        let case = fetch_case(&mut tx, keys, hotline_id, id).await?;
        tx.commit().await?;
        lease.done().durable().await?;
        Ok(case)
    }

    async fn list_cases(
        &self,
        ctx: &AuditCtx,
        hotline_id: &str,
        f: &CaseFilter,
    ) -> Result<(Vec<CaseSummary>, i64)> {
        // Every optional filter is written so that NULL disables it, keeping one static statement.
        const WHERE: &str = " FROM cases c WHERE c.hotline_id = $1 \
            AND ($2 IS NULL OR c.status = $2) AND ($3 IS NULL OR c.form = $3) \
            AND ($4 IS NULL OR c.assignee_id = $4) AND ($5 IS NULL OR c.state = $5) \
            AND ($6 IS NULL OR c.opened_at >= $6) AND ($7 IS NULL OR c.opened_at < $7) \
            AND ($8 IS NULL OR c.number = $8) \
            AND ($9 IS NULL OR EXISTS (SELECT 1 FROM party_identifiers pi WHERE pi.case_id = c.id AND pi.hotline_id = $1 AND pi.kind = $9 AND pi.bidx = $10))";
        let (kind, bidx) = match &f.identifier {
            Some((k, b)) => (Some(k.as_str()), Some(b.as_slice())),
            None => (None, None),
        };
        let limit = f.limit.clamp(1, 500);
        let offset = f.offset.max(0);
        macro_rules! bind_filters {
            ($q:expr) => {
                $q.bind(hotline_id)
                    .bind(&f.status)
                    .bind(&f.form)
                    .bind(&f.assignee_id)
                    .bind(&f.state)
                    .bind(f.opened_from_us)
                    .bind(f.opened_to_us)
                    .bind(f.number)
                    .bind(kind)
                    .bind(bidx)
            };
        }
        let total: i64 = bind_filters!(sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT COUNT(*) AS n{WHERE}"
        ))))
        .fetch_one(self.r())
        .await?
        .try_get("n")?;
        let rows = bind_filters!(sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT c.id, c.hotline_id, c.number, c.status, c.form, c.state, c.details, c.safety_plan, c.assignee_id, \
             c.opened_at, c.updated_at, c.closed_at, (SELECT COUNT(*) FROM contacts k WHERE k.case_id = c.id) AS contacts\
             {WHERE} ORDER BY c.opened_at DESC, c.number DESC LIMIT $11 OFFSET $12"
        ))))
        .bind(limit)
        .bind(offset)
        .fetch_all(self.r())
        .await?;
        let list = rows
            .iter()
            .map(|r| {
                Ok(CaseSummary {
                    case: case_from_row(&self.keys, r)?,
                    contacts: r.try_get("contacts")?,
                })
            })
            .collect::<Result<Vec<_>>>()?;
        self.audit(
            ctx,
            "case.list",
            "case",
            None,
            serde_json::json!({"count": list.len()}),
        )
        .await?;
        Ok((list, total))
    }

    async fn case_file(&self, ctx: &AuditCtx, hotline_id: &str, id: &str) -> Result<CaseFile> {
        let ctx = &ctx.in_hotline(hotline_id);
        let keys = &self.keys;
        let mut lease = self.lease().await?;
        let mut tx = lease.conn().begin().await?;
        let case = fetch_case(&mut tx, keys, hotline_id, id).await?;
        let crow = sqlx::query(concat!(
            "SELECT ",
            contact_columns!(),
            " FROM contacts WHERE case_id = $1 ORDER BY occurred_at, id"
        ))
        .bind(id)
        .fetch_all(&mut *tx)
        .await?;
        let mut contacts = Vec::with_capacity(crow.len());
        for r in &crow {
            let mut c = contact_from_row(keys, r)?;
            c.determinations = fetch_determinations(&mut tx, keys, &c.id).await?;
            contacts.push(c);
        }
        let parties = fetch_parties(&mut tx, keys, id).await?;
        let tasks = sqlx::query("SELECT id, case_id, title, due_at, assignee_id, done_at, created_at FROM tasks WHERE case_id = $1 ORDER BY created_at, id")
            .bind(id)
            .fetch_all(&mut *tx)
            .await?
            .iter()
            .map(|r| task_from_row(keys, r))
            .collect::<Result<Vec<_>>>()?;
        let notes = sqlx::query("SELECT id, case_id, body, author_id, created_at FROM notes WHERE case_id = $1 ORDER BY created_at, id")
            .bind(id)
            .fetch_all(&mut *tx)
            .await?
            .iter()
            .map(|r| {
                let nid: String = r.try_get("id")?;
                let body: Vec<u8> = r.try_get("body")?;
                Ok(Note {
                    body: keys.decrypt_string(&binding("notes", "body", &nid), &body)?,
                    case_id: r.try_get("case_id")?,
                    author_id: r.try_get("author_id")?,
                    created_at_us: r.try_get("created_at")?,
                    id: nid,
                })
            })
            .collect::<Result<Vec<_>>>()?;
        append_audit(
            &mut tx,
            keys,
            ctx,
            "case.read",
            "case",
            Some(id),
            &serde_json::json!({"file": true}),
        )
        .await?;
        tx.commit().await?;
        lease.done().durable().await?;
        Ok(CaseFile {
            case,
            contacts,
            parties,
            tasks,
            notes,
        })
    }

    async fn add_party(&self, ctx: &AuditCtx, hotline_id: &str, new: &NewParty) -> Result<Party> {
        let ctx = &ctx.in_hotline(hotline_id);
        let keys = &self.keys;
        let mut lease = self.lease().await?;
        let mut tx = lease.conn().begin().await?;
        fetch_case(&mut tx, keys, hotline_id, &new.case_id).await?;
        let before = case_rollup(&mut tx, hotline_id, &new.case_id).await?;
        let id = insert_party(&mut tx, keys, ctx, hotline_id, &new.case_id, new).await?;
        touch_case(&mut tx, &new.case_id).await?;
        let after = case_rollup(&mut tx, hotline_id, &new.case_id).await?;
        apply_rollup_delta(&mut tx, hotline_id, &delta(&before, &after)).await?;
        let party = fetch_parties(&mut tx, keys, &new.case_id)
            .await?
            .into_iter()
            .find(|p| p.id == id)
            .ok_or(StoreError::NotFound("party"))?;
        tx.commit().await?;
        lease.done().durable().await?;
        Ok(party)
    }

    async fn open_cases_sharing(
        &self,
        hotline_id: &str,
        keys: &[(String, Vec<u8>)],
    ) -> Result<Vec<(Case, String)>> {
        let mut found: Vec<(Case, String)> = Vec::new();
        for (kind, bidx) in keys {
            let rows = sqlx::query(
                "SELECT DISTINCT c.id, c.hotline_id, c.number, c.status, c.form, c.state, c.details, c.safety_plan, c.assignee_id, \
                 c.opened_at, c.updated_at, c.closed_at FROM party_identifiers pi JOIN cases c ON c.id = pi.case_id \
                 WHERE pi.hotline_id = $1 AND pi.kind = $2 AND pi.bidx = $3 AND c.status <> 'closed'",
            )
            .bind(hotline_id)
            .bind(kind)
            .bind(bidx)
            .fetch_all(self.r())
            .await?;
            for r in &rows {
                let c = case_from_row(&self.keys, r)?;
                if !found.iter().any(|(f, k)| f.id == c.id && k == kind) {
                    found.push((c, kind.clone()));
                }
            }
        }
        Ok(found)
    }

    async fn add_task(
        &self,
        ctx: &AuditCtx,
        hotline_id: &str,
        case_id: &str,
        title: &str,
        due_at_us: Option<i64>,
        assignee_id: Option<&str>,
    ) -> Result<Task> {
        let ctx = &ctx.in_hotline(hotline_id);
        let keys = &self.keys;
        let id = new_id();
        let now = now_us();
        let mut lease = self.lease().await?;
        let mut tx = lease.conn().begin().await?;
        fetch_case(&mut tx, keys, hotline_id, case_id).await?;
        if let Some(uid) = assignee_id {
            fetch_user(&mut tx, keys, hotline_id, uid).await?;
        }
        sqlx::query("INSERT INTO tasks (id, hotline_id, case_id, title, due_at, assignee_id, created_by, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)")
            .bind(&id)
            .bind(hotline_id)
            .bind(case_id)
            .bind(keys.encrypt_str(&binding("tasks", "title", &id), title))
            .bind(due_at_us)
            .bind(assignee_id)
            .bind(&ctx.actor_id)
            .bind(now)
            .execute(&mut *tx)
            .await?;
        touch_case(&mut tx, case_id).await?;
        append_audit(
            &mut tx,
            keys,
            ctx,
            "task.create",
            "task",
            Some(&id),
            &serde_json::json!({"case_id": case_id}),
        )
        .await?;
        tx.commit().await?;
        lease.done().durable().await?;
        Ok(Task {
            id,
            case_id: case_id.into(),
            title: title.into(),
            due_at_us,
            assignee_id: assignee_id.map(Into::into),
            done_at_us: None,
            created_at_us: now,
        })
    }

    async fn set_task_done(
        &self,
        ctx: &AuditCtx,
        hotline_id: &str,
        task_id: &str,
        done: bool,
    ) -> Result<()> {
        let ctx = &ctx.in_hotline(hotline_id);
        let mut lease = self.lease().await?;
        let mut tx = lease.conn().begin().await?;
        let row = sqlx::query(
            "UPDATE tasks SET done_at = $1 WHERE hotline_id = $2 AND id = $3 RETURNING case_id",
        )
        .bind(done.then(now_us))
        .bind(hotline_id)
        .bind(task_id)
        .fetch_optional(&mut *tx)
        .await?
        .ok_or(StoreError::NotFound("task"))?;
        let case_id: String = row.try_get("case_id")?;
        touch_case(&mut tx, &case_id).await?;
        append_audit(
            &mut tx,
            &self.keys,
            ctx,
            "task.update",
            "task",
            Some(task_id),
            &serde_json::json!({"done": done}),
        )
        .await?;
        tx.commit().await?;
        lease.done().durable().await?;
        Ok(())
    }

    async fn add_note(
        &self,
        ctx: &AuditCtx,
        hotline_id: &str,
        case_id: &str,
        body: &str,
    ) -> Result<Note> {
        let ctx = &ctx.in_hotline(hotline_id);
        let keys = &self.keys;
        let id = new_id();
        let now = now_us();
        let mut lease = self.lease().await?;
        let mut tx = lease.conn().begin().await?;
        fetch_case(&mut tx, keys, hotline_id, case_id).await?;
        sqlx::query("INSERT INTO notes (id, hotline_id, case_id, body, author_id, created_at) VALUES ($1, $2, $3, $4, $5, $6)")
            .bind(&id)
            .bind(hotline_id)
            .bind(case_id)
            .bind(keys.encrypt_str(&binding("notes", "body", &id), body))
            .bind(&ctx.actor_id)
            .bind(now)
            .execute(&mut *tx)
            .await?;
        touch_case(&mut tx, case_id).await?;
        append_audit(
            &mut tx,
            keys,
            ctx,
            "note.create",
            "note",
            Some(&id),
            &serde_json::json!({"case_id": case_id}),
        )
        .await?;
        tx.commit().await?;
        lease.done().durable().await?;
        Ok(Note {
            id,
            case_id: case_id.into(),
            body: body.into(),
            author_id: ctx.actor_id.clone(),
            created_at_us: now,
        })
    }

    async fn review_queue(
        &self,
        hotline_id: &str,
        status: &str,
        limit: i64,
    ) -> Result<Vec<ReviewItem>> {
        let rows = sqlx::query(
            "SELECT d.id, d.contact_id, d.case_id, d.answers, d.outcome, d.forms, d.minor_rule_applied, d.missing, d.reasons, \
             d.rules_version, d.created_by, d.created_at, d.review_status, d.reviewed_by, d.reviewed_at, d.review_comment, \
             k.channel AS k_channel, k.state AS k_state, c.number AS c_number \
             FROM determinations d JOIN contacts k ON k.id = d.contact_id LEFT JOIN cases c ON c.id = d.case_id \
             WHERE d.hotline_id = $1 AND d.review_status = $2 ORDER BY d.created_at DESC LIMIT $3",
        )
        .bind(hotline_id)
        .bind(status)
        .bind(limit.clamp(1, 1000))
        .fetch_all(self.r())
        .await?;
        rows.iter()
            .map(|r| {
                Ok(ReviewItem {
                    determination: determination_from_row(&self.keys, r)?,
                    channel: r.try_get("k_channel")?,
                    state: r.try_get("k_state")?,
                    case_number: r.try_get("c_number")?,
                })
            })
            .collect()
    }

    async fn decide_review(
        &self,
        ctx: &AuditCtx,
        hotline_id: &str,
        determination_id: &str,
        status: &str,
        comment: Option<&str>,
    ) -> Result<Determination> {
        if !["confirmed", "returned"].contains(&status) {
            return Err(StoreError::Invalid(format!(
                "a review decision is `confirmed` or `returned`, not `{status}`"
            )));
        }
        let ctx = &ctx.in_hotline(hotline_id);
        let keys = &self.keys;
        let mut lease = self.lease().await?;
        let mut tx = lease.conn().begin().await?;
        let contact_id: Option<String> =
            sqlx::query("SELECT contact_id FROM determinations WHERE hotline_id = $1 AND id = $2")
                .bind(hotline_id)
                .bind(determination_id)
                .fetch_optional(&mut *tx)
                .await?
                .map(|r| r.try_get("contact_id"))
                .transpose()?;
        let rollup_before = match &contact_id {
            Some(c) => contact_rollup(&mut tx, hotline_id, c).await?,
            None => Cells::new(),
        };
        let done = sqlx::query(
            "UPDATE determinations SET review_status = $1, reviewed_by = $2, reviewed_at = $3, review_comment = $4 \
             WHERE hotline_id = $5 AND id = $6 AND review_status = 'pending'",
        )
        .bind(status)
        .bind(&ctx.actor_id)
        .bind(now_us())
        .bind(enc_opt(keys, "determinations", "review_comment", determination_id, comment))
        .bind(hotline_id)
        .bind(determination_id)
        .execute(&mut *tx)
        .await?;
        if done.rows_affected() == 0 {
            return Err(StoreError::NotFound("determination awaiting review"));
        }
        if let Some(c) = &contact_id {
            let after = contact_rollup(&mut tx, hotline_id, c).await?;
            apply_rollup_delta(&mut tx, hotline_id, &delta(&rollup_before, &after)).await?;
        }
        append_audit(
            &mut tx,
            keys,
            ctx,
            "determination.review",
            "determination",
            Some(determination_id),
            &serde_json::json!({"decision": status}),
        )
        .await?;
        let row = sqlx::query(concat!(
            "SELECT ",
            determination_columns!(),
            " FROM determinations WHERE id = $1"
        ))
        .bind(determination_id)
        .fetch_one(&mut *tx)
        .await?;
        let d = determination_from_row(keys, &row)?;
        tx.commit().await?;
        lease.done().durable().await?;
        Ok(d)
    }
}
