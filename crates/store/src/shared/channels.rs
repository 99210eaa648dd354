// The SMS line's SQL (see `crate::channels`), included into each backend's `repo` module beside `repo.rs`
// and `cases.rs` (whose `insert_contact` opens each conversation's contact).

use crate::channels::*;

/// The blind-index kind of phone numbers (shared with users' and parties' phones, so lookups can meet).
const SMS_PHONE_BIDX: &str = "phone";

macro_rules! sms_conversation_columns {
    () => {
        "c.id, c.hotline_id, c.hotline_number, c.sender, c.status, c.contact_id, k.case_id, c.assignee_id, \
         o.opted_out, c.last_message_at, c.created_at"
    };
}

/// The join that gives a conversation its contact's case and its sender's opt-out state.
macro_rules! sms_conversation_from {
    () => {
        " FROM sms_conversations c JOIN contacts k ON k.id = c.contact_id \
         LEFT JOIN sms_opt_states o ON o.hotline_id = c.hotline_id AND o.hotline_number = c.hotline_number \
         AND o.sender_bidx = c.sender_bidx"
    };
}

macro_rules! sms_message_columns {
    () => {
        "id, conversation_id, direction, kind, body, num_media, provider_id, status, error_code, sent_by, \
         created_at, updated_at"
    };
}

fn sms_conversation_from_row(keys: &Keyring, row: &DbRow) -> Result<SmsConversation> {
    let id: String = row.try_get("id")?;
    let sender: Vec<u8> = row.try_get("sender")?;
    let opted_out: Option<bool> = row.try_get("opted_out")?;
    Ok(SmsConversation {
        hotline_id: row.try_get("hotline_id")?,
        hotline_number: row.try_get("hotline_number")?,
        sender: keys.decrypt_string(&binding("sms_conversations", "sender", &id), &sender)?,
        status: row.try_get("status")?,
        contact_id: row.try_get("contact_id")?,
        case_id: row.try_get("case_id")?,
        assignee_id: row.try_get("assignee_id")?,
        opted_out: opted_out.unwrap_or(false),
        last_message_at_us: row.try_get("last_message_at")?,
        created_at_us: row.try_get("created_at")?,
        id,
    })
}

fn sms_message_from_row(keys: &Keyring, row: &DbRow) -> Result<SmsMessage> {
    let id: String = row.try_get("id")?;
    let body: Vec<u8> = row.try_get("body")?;
    Ok(SmsMessage {
        conversation_id: row.try_get("conversation_id")?,
        direction: row.try_get("direction")?,
        kind: row.try_get("kind")?,
        body: keys.decrypt_string(&binding("sms_messages", "body", &id), &body)?,
        num_media: row.try_get("num_media")?,
        provider_id: row.try_get("provider_id")?,
        status: row.try_get("status")?,
        error_code: row.try_get("error_code")?,
        sent_by: row.try_get("sent_by")?,
        created_at_us: row.try_get("created_at")?,
        updated_at_us: row.try_get("updated_at")?,
        id,
    })
}

async fn fetch_sms_conversation(
    tx: &mut Tx<'_>,
    keys: &Keyring,
    hotline_id: &str,
    id: &str,
) -> Result<SmsConversation> {
    let row = sqlx::query(concat!(
        "SELECT ",
        sms_conversation_columns!(),
        sms_conversation_from!(),
        " WHERE c.hotline_id = $1 AND c.id = $2"
    ))
    .bind(hotline_id)
    .bind(id)
    .fetch_optional(&mut **tx)
    .await?
    .ok_or(StoreError::NotFound("conversation"))?;
    sms_conversation_from_row(keys, &row)
}

/// Makes sure the opt-out row of a sender exists and locks it for the rest of the transaction (the upsert
/// takes PostgreSQL's row lock; SQLite has one writer), returning it: (opted out, last inbound message
/// identifier). One statement, since every inbound text and every send goes through here.
async fn lock_opt_state(
    tx: &mut Tx<'_>,
    hotline_id: &str,
    hotline_number: &str,
    bidx: &[u8],
) -> Result<(bool, Option<String>)> {
    let row = sqlx::query(
        "INSERT INTO sms_opt_states (hotline_id, hotline_number, sender_bidx, opted_out, changed_at) \
         VALUES ($1, $2, $3, FALSE, $4) ON CONFLICT (hotline_id, hotline_number, sender_bidx) \
         DO UPDATE SET opted_out = sms_opt_states.opted_out RETURNING opted_out, last_inbound_sid",
    )
    .bind(hotline_id)
    .bind(hotline_number)
    .bind(bidx)
    .bind(now_us())
    .fetch_one(&mut **tx)
    .await?;
    Ok((row.try_get("opted_out")?, row.try_get("last_inbound_sid")?))
}

/// Inserts a message: (id, hotline, conversation, direction, kind, encrypted body, media, provider id,
/// status, sent by, now).
const SMS_MESSAGE_INSERT: &str = "INSERT INTO sms_messages (id, hotline_id, conversation_id, direction, kind, body, \
     num_media, provider_id, status, sent_by, created_at, updated_at) \
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $11)";

/// A conversation's newest message is now: (now, conversation).
const SMS_CONVERSATION_TOUCH: &str =
    "UPDATE sms_conversations SET last_message_at = $1, updated_at = $1 WHERE id = $2";

/// The first trip of an inbound text, part one: makes sure the sender's opt-out row exists and locks it
/// for the rest of the transaction (the upsert takes PostgreSQL's row lock; on SQLite it takes the file's
/// write lock), returning its state. Binds: hotline, hotline number, sender's blind index, now.
const SMS_INBOUND_LOCK: &str = "INSERT INTO sms_opt_states (hotline_id, hotline_number, sender_bidx, opted_out, \
     changed_at) VALUES ($1, $2, $3, FALSE, $4) ON CONFLICT (hotline_id, hotline_number, sender_bidx) \
     DO UPDATE SET opted_out = sms_opt_states.opted_out RETURNING opted_out, last_inbound_sid";

/// Part two, a statement of its own so that on PostgreSQL it reads after the lock was granted (a statement
/// reads what was committed when it started): whether a message with this provider id was received
/// before, the sender's active conversation and its contact, and (completed by each backend's lock) the
/// chain's head. Binds: hotline, hotline number, sender's blind index, provider id.
const SMS_INBOUND_READS: &str = "SELECT \
     EXISTS (SELECT 1 FROM sms_messages WHERE provider_id = $4 AND direction = 'inbound') AS seen, \
     (SELECT id FROM sms_conversations WHERE hotline_id = $1 AND hotline_number = $2 AND sender_bidx = $3 \
     AND status <> 'closed' ORDER BY created_at DESC, id DESC LIMIT 1) AS conversation_id, \
     (SELECT contact_id FROM sms_conversations WHERE hotline_id = $1 AND hotline_number = $2 \
     AND sender_bidx = $3 AND status <> 'closed' ORDER BY created_at DESC, id DESC LIMIT 1) AS contact_id, \
     (SELECT seq FROM audit_head WHERE id = 1";

/// What an inbound text may store, encrypted before the writer is taken: its body, the automatic reply of
/// each plan (indexed by whether the sender was opted out), and the sender of a conversation it may open.
struct InboundTexts {
    message_id: String,
    body: Vec<u8>,
    reply_id: String,
    replies: [Option<Vec<u8>>; 2],
    conversation_id: String,
    sender: Option<Vec<u8>>,
}

impl InboundTexts {
    fn sealed(keys: &Keyring, msg: &NewInboundSms, plans: &[InboundPlan; 2]) -> InboundTexts {
        let (message_id, reply_id, conversation_id) = (new_id(), new_id(), new_id());
        let reply_binding = binding("sms_messages", "body", &reply_id);
        InboundTexts {
            body: keys.encrypt_str(&binding("sms_messages", "body", &message_id), &msg.body),
            replies: plans.each_ref().map(|p| {
                p.auto_reply
                    .as_deref()
                    .map(|r| keys.encrypt_str(&reply_binding, r))
            }),
            sender: plans.iter().any(|p| p.open_conversation).then(|| {
                keys.encrypt_str(
                    &binding("sms_conversations", "sender", &conversation_id),
                    &msg.sender,
                )
            }),
            message_id,
            reply_id,
            conversation_id,
        }
    }
}

#[expect(clippy::too_many_arguments, reason = "one row's columns")]
async fn insert_sms_message(
    tx: &mut Tx<'_>,
    keys: &Keyring,
    hotline_id: &str,
    conversation_id: &str,
    direction: &str,
    kind: &str,
    body: &str,
    num_media: i64,
    provider_id: Option<&str>,
    status: &str,
    sent_by: Option<&str>,
) -> Result<String> {
    let id = new_id();
    let now = now_us();
    sqlx::query(SMS_MESSAGE_INSERT)
    .bind(&id)
    .bind(hotline_id)
    .bind(conversation_id)
    .bind(direction)
    .bind(kind)
    .bind(keys.encrypt_str(&binding("sms_messages", "body", &id), body))
    .bind(num_media)
    .bind(provider_id)
    .bind(status)
    .bind(sent_by)
    .bind(now)
    .execute(&mut **tx)
    .await
    .map_err(|e| StoreError::unique(e, "provider_id"))?;
    sqlx::query(SMS_CONVERSATION_TOUCH)
        .bind(now)
        .bind(conversation_id)
        .execute(&mut **tx)
        .await?;
    Ok(id)
}

/// The order of delivery states: a callback never moves a message back, and a final state stays.
fn sms_status_rank(status: &str) -> u8 {
    match status {
        "pending" => 0,
        "accepted" | "scheduled" => 1,
        "queued" => 2,
        "sending" => 3,
        "sent" => 4,
        _ => 5,
    }
}

const SMS_STATUSES: &[&str] = &["waiting", "open", "closed"];

/// Registers an outbound message to the conversation's sender after checking the opt-out state under its
/// lock; `reuse` is a failed message to send again instead of a new one.
async fn start_sms_send(
    tx: &mut Tx<'_>,
    keys: &Keyring,
    hotline_id: &str,
    conversation_id: &str,
    body: &str,
    sent_by: Option<&str>,
    reuse: Option<&str>,
) -> Result<SendStart> {
    let conv = fetch_sms_conversation(tx, keys, hotline_id, conversation_id).await?;
    let bidx = keys.blind_index(SMS_PHONE_BIDX, &conv.sender);
    let (opted_out, _) = lock_opt_state(tx, hotline_id, &conv.hotline_number, &bidx).await?;
    if opted_out {
        return Ok(SendStart::OptedOut);
    }
    let message_id = match reuse {
        Some(id) => {
            sqlx::query(
                "UPDATE sms_messages SET status = 'pending', error_code = NULL, provider_id = NULL, updated_at = $1 \
                 WHERE id = $2",
            )
            .bind(now_us())
            .bind(id)
            .execute(&mut **tx)
            .await?;
            id.to_owned()
        }
        None => {
            insert_sms_message(
                tx,
                keys,
                hotline_id,
                conversation_id,
                "outbound",
                "reply",
                body,
                0,
                None,
                "pending",
                sent_by,
            )
            .await?
        }
    };
    Ok(SendStart::Ready(OutboundSms {
        message_id,
        conversation_id: conversation_id.to_owned(),
        to: conv.sender,
        from: conv.hotline_number,
        body: body.to_owned(),
    }))
}

#[async_trait]
impl SmsStore for This {
    async fn receive_sms(
        &self,
        ctx: &AuditCtx,
        msg: &NewInboundSms,
        decide: InboundDecider<'_>,
    ) -> Result<InboundReceipt> {
        let ctx = &ctx.in_hotline(&msg.hotline_id);
        let keys = &self.keys;
        let bidx = keys.blind_index(SMS_PHONE_BIDX, &msg.sender);
        // A plan depends only on whether the sender is opted out when the text is decided: both are made,
        // and every text either would store encrypted, before the writer is taken.
        let plans = [decide(false), decide(true)];
        let texts = InboundTexts::sealed(keys, msg, &plans);
        let mut reads = Unit::new();
        reads
            .sql(SMS_INBOUND_LOCK)
            .bind(&msg.hotline_id)
            .bind(&msg.hotline_number)
            .bind(&bidx)
            .bind(now_us());
        reads
            .sql(&format!(
                "{SMS_INBOUND_READS}{lock}) AS head_seq, \
                 (SELECT hash FROM audit_head WHERE id = 1{lock}) AS head_hash",
                lock = super::AUDIT_HEAD_LOCK
            ))
            .bind(&msg.hotline_id)
            .bind(&msg.hotline_number)
            .bind(&bidx)
            .bind(&msg.provider_id);
        let reads = reads.reads()?;

        let mut lease = self.unit_lease().await?;
        let rows = lease.read_unit(reads).await?;
        let [opt, row] = &rows[..] else {
            return Err(StoreError::Database(sqlx::Error::Protocol(format!(
                "the reads of an inbound text returned {} rows, not 2",
                rows.len()
            ))));
        };
        let was_opted_out: bool = opt.try_get("opted_out")?;
        let last_sid: Option<String> = opt.try_get("last_inbound_sid")?;
        let seen: bool = row.try_get("seen")?;
        let active: Option<String> = row.try_get("conversation_id")?;
        let active_contact: Option<String> = row.try_get("contact_id")?;
        let head: AuditHead = (row.try_get("head_seq")?, row.try_get("head_hash")?);
        let mut unit = Unit::new();
        if seen || last_sid.as_deref() == Some(msg.provider_id.as_str()) {
            lease.finish_unit(keys, &unit, &head).await?;
            lease.done().durable().await?;
            return Ok(InboundReceipt {
                duplicate: true,
                was_opted_out,
                plan: InboundPlan {
                    opted_out: was_opted_out,
                    open_conversation: false,
                    kind: "duplicate".to_owned(),
                    auto_reply: None,
                    language: None,
                },
                conversation_id: None,
                contact_id: None,
            });
        }
        let [if_in, if_out] = plans;
        let (plan, reply) = if was_opted_out {
            (if_out, texts.replies[1].as_ref())
        } else {
            (if_in, texts.replies[0].as_ref())
        };
        let now = now_us();
        unit.sql(
            "UPDATE sms_opt_states SET opted_out = $1, last_inbound_sid = $2, \
             changed_at = CASE WHEN opted_out = $1 THEN changed_at ELSE $3 END \
             WHERE hotline_id = $4 AND hotline_number = $5 AND sender_bidx = $6",
        )
        .bind(plan.opted_out)
        .bind(&msg.provider_id)
        .bind(now)
        .bind(&msg.hotline_id)
        .bind(&msg.hotline_number)
        .bind(&bidx);
        let mut opened = false;
        let conversation = match (active, active_contact, &texts.sender) {
            (Some(id), Some(contact_id), _) => Some((id, contact_id)),
            (None, _, Some(sender)) if plan.open_conversation => {
                let mut rollup = Cells::new();
                let contact = push_contact(
                    &mut unit,
                    keys,
                    ctx,
                    &NewContact {
                        hotline_id: msg.hotline_id.clone(),
                        channel: "sms".to_owned(),
                        language: plan.language.clone(),
                        location_precision: "unknown".to_owned(),
                        occurred_at_us: now,
                        ..NewContact::default()
                    },
                    None,
                    new_id(),
                    now,
                    &mut rollup,
                );
                push_rollup_delta(&mut unit, &msg.hotline_id, &rollup);
                unit.sql(
                    "INSERT INTO sms_conversations (id, hotline_id, hotline_number, sender, sender_bidx, status, \
                     contact_id, last_message_at, created_at, updated_at) \
                     VALUES ($1, $2, $3, $4, $5, 'waiting', $6, $7, $7, $7)",
                )
                .bind(&texts.conversation_id)
                .bind(&msg.hotline_id)
                .bind(&msg.hotline_number)
                .bind(sender)
                .bind(&bidx)
                .bind(&contact.id)
                .bind(now);
                opened = true;
                Some((texts.conversation_id.clone(), contact.id))
            }
            _ => None,
        };
        if let Some((cid, _)) = &conversation {
            unit.sql(SMS_MESSAGE_INSERT)
                .bind(&texts.message_id)
                .bind(&msg.hotline_id)
                .bind(cid)
                .bind("inbound")
                .bind(&plan.kind)
                .bind(&texts.body)
                .bind(msg.num_media)
                .bind(&msg.provider_id)
                .bind("received")
                .bind(None::<&str>)
                .bind(now);
            if let Some(reply) = reply {
                unit.sql(SMS_MESSAGE_INSERT)
                    .bind(&texts.reply_id)
                    .bind(&msg.hotline_id)
                    .bind(cid)
                    .bind("outbound")
                    .bind("auto_reply")
                    .bind(reply)
                    .bind(0_i64)
                    .bind(None::<&str>)
                    .bind("twiml")
                    .bind(None::<&str>)
                    .bind(now);
            }
            unit.sql(SMS_CONVERSATION_TOUCH).bind(now).bind(cid);
        }
        unit.audit(
            ctx,
            "sms.receive",
            "sms_conversation",
            conversation.as_ref().map(|(id, _)| id.as_str()),
            &serde_json::json!({
                "kind": plan.kind,
                "opened": opened,
                "opted_out": plan.opted_out,
                "opt_changed": plan.opted_out != was_opted_out,
                "auto_reply": plan.auto_reply.is_some(),
            }),
        );
        lease
            .finish_unit(keys, &unit, &head)
            .await
            .map_err(|e| match e {
                StoreError::Database(e) => StoreError::unique(e, "provider_id"),
                other => other,
            })?;
        lease.done().durable().await?;
        Ok(InboundReceipt {
            duplicate: false,
            was_opted_out,
            plan,
            contact_id: conversation.as_ref().map(|(_, k)| k.clone()),
            conversation_id: conversation.map(|(id, _)| id),
        })
    }

    async fn sms_opted_out(
        &self,
        hotline_id: &str,
        hotline_number: &str,
        sender: &str,
    ) -> Result<bool> {
        let row = sqlx::query(
            "SELECT opted_out FROM sms_opt_states WHERE hotline_id = $1 AND hotline_number = $2 \
             AND sender_bidx = $3",
        )
        .bind(hotline_id)
        .bind(hotline_number)
        .bind(self.keys.blind_index(SMS_PHONE_BIDX, sender))
        .fetch_optional(self.r())
        .await?;
        Ok(match row {
            Some(r) => r.try_get("opted_out")?,
            None => false,
        })
    }

    async fn list_sms_conversations(
        &self,
        ctx: &AuditCtx,
        hotline_id: &str,
        filter: &SmsConversationFilter,
    ) -> Result<Vec<SmsConversation>> {
        if let Some(s) = &filter.status
            && !SMS_STATUSES.contains(&s.as_str())
        {
            return Err(StoreError::Invalid(format!(
                "status must be one of {}",
                SMS_STATUSES.join(", ")
            )));
        }
        let ctx = &ctx.in_hotline(hotline_id);
        let limit = filter.limit.clamp(1, 500);
        let mut lease = self.lease().await?;
        let mut tx = lease.conn().begin().await?;
        let rows = match &filter.status {
            Some(status) => {
                sqlx::query(concat!(
                    "SELECT ",
                    sms_conversation_columns!(),
                    sms_conversation_from!(),
                    " WHERE c.hotline_id = $1 AND c.status = $2 ORDER BY c.last_message_at, c.id LIMIT $3"
                ))
                .bind(hotline_id)
                .bind(status)
                .bind(limit)
                .fetch_all(&mut *tx)
                .await?
            }
            None => {
                sqlx::query(concat!(
                    "SELECT ",
                    sms_conversation_columns!(),
                    sms_conversation_from!(),
                    " WHERE c.hotline_id = $1 AND c.status <> 'closed' ORDER BY c.last_message_at, c.id LIMIT $2"
                ))
                .bind(hotline_id)
                .bind(limit)
                .fetch_all(&mut *tx)
                .await?
            }
        };
        let out = rows
            .iter()
            .map(|r| sms_conversation_from_row(&self.keys, r))
            .collect::<Result<Vec<_>>>()?;
        append_audit(
            &mut tx,
            &self.keys,
            ctx,
            "sms.list",
            "sms_conversation",
            None,
            &serde_json::json!({"status": filter.status, "count": out.len()}),
        )
        .await?;
        tx.commit().await?;
        lease.done().durable().await?;
        Ok(out)
    }

    async fn sms_thread(&self, ctx: &AuditCtx, hotline_id: &str, id: &str) -> Result<SmsThread> {
        let ctx = &ctx.in_hotline(hotline_id);
        let mut lease = self.lease().await?;
        let mut tx = lease.conn().begin().await?;
        let conversation = fetch_sms_conversation(&mut tx, &self.keys, hotline_id, id).await?;
        let rows = sqlx::query(concat!(
            "SELECT ",
            sms_message_columns!(),
            " FROM sms_messages WHERE conversation_id = $1 ORDER BY created_at, id"
        ))
        .bind(id)
        .fetch_all(&mut *tx)
        .await?;
        let messages = rows
            .iter()
            .map(|r| sms_message_from_row(&self.keys, r))
            .collect::<Result<Vec<_>>>()?;
        append_audit(
            &mut tx,
            &self.keys,
            ctx,
            "sms.read",
            "sms_conversation",
            Some(id),
            &serde_json::json!({}),
        )
        .await?;
        tx.commit().await?;
        lease.done().durable().await?;
        Ok(SmsThread {
            conversation,
            messages,
        })
    }

    async fn set_sms_status(
        &self,
        ctx: &AuditCtx,
        hotline_id: &str,
        id: &str,
        status: &str,
        assignee_id: Option<&str>,
    ) -> Result<()> {
        if !SMS_STATUSES.contains(&status) {
            return Err(StoreError::Invalid(format!(
                "status must be one of {}",
                SMS_STATUSES.join(", ")
            )));
        }
        let ctx = &ctx.in_hotline(hotline_id);
        let mut lease = self.lease().await?;
        let mut tx = lease.conn().begin().await?;
        let done = sqlx::query(
            "UPDATE sms_conversations SET status = $1, assignee_id = COALESCE($2, assignee_id), updated_at = $3 \
             WHERE hotline_id = $4 AND id = $5",
        )
        .bind(status)
        .bind(assignee_id)
        .bind(now_us())
        .bind(hotline_id)
        .bind(id)
        .execute(&mut *tx)
        .await?;
        if done.rows_affected() == 0 {
            return Err(StoreError::NotFound("conversation"));
        }
        append_audit(
            &mut tx,
            &self.keys,
            ctx,
            "sms.status",
            "sms_conversation",
            Some(id),
            &serde_json::json!({"status": status}),
        )
        .await?;
        tx.commit().await?;
        lease.done().durable().await?;
        Ok(())
    }

    async fn start_sms_reply(
        &self,
        ctx: &AuditCtx,
        hotline_id: &str,
        conversation_id: &str,
        body: &str,
        sent_by: &str,
    ) -> Result<SendStart> {
        let ctx = &ctx.in_hotline(hotline_id);
        let mut lease = self.lease().await?;
        let mut tx = lease.conn().begin().await?;
        let start = start_sms_send(
            &mut tx,
            &self.keys,
            hotline_id,
            conversation_id,
            body,
            Some(sent_by),
            None,
        )
        .await?;
        let (action, record_type, record) = match &start {
            SendStart::Ready(m) => {
                sqlx::query(
                    "UPDATE sms_conversations SET status = 'open', assignee_id = COALESCE(assignee_id, $1) \
                     WHERE id = $2 AND status = 'waiting'",
                )
                .bind(sent_by)
                .bind(conversation_id)
                .execute(&mut *tx)
                .await?;
                ("sms.reply", "sms_message", m.message_id.as_str())
            }
            SendStart::OptedOut => ("sms.reply_refused", "sms_conversation", conversation_id),
        };
        append_audit(
            &mut tx,
            &self.keys,
            ctx,
            action,
            record_type,
            Some(record),
            &serde_json::json!({"conversation_id": conversation_id}),
        )
        .await?;
        tx.commit().await?;
        lease.done().durable().await?;
        Ok(start)
    }

    async fn start_sms_retry(
        &self,
        ctx: &AuditCtx,
        hotline_id: &str,
        message_id: &str,
    ) -> Result<SendStart> {
        let ctx = &ctx.in_hotline(hotline_id);
        let mut lease = self.lease().await?;
        let mut tx = lease.conn().begin().await?;
        let row = sqlx::query(concat!(
            "SELECT ",
            sms_message_columns!(),
            " FROM sms_messages WHERE hotline_id = $1 AND id = $2"
        ))
        .bind(hotline_id)
        .bind(message_id)
        .fetch_optional(&mut *tx)
        .await?
        .ok_or(StoreError::NotFound("message"))?;
        let m = sms_message_from_row(&self.keys, &row)?;
        if m.direction != "outbound" || !matches!(m.status.as_str(), "failed" | "undelivered") {
            return Err(StoreError::Invalid(
                "only an outbound message that failed can be sent again".into(),
            ));
        }
        let start = start_sms_send(
            &mut tx,
            &self.keys,
            hotline_id,
            &m.conversation_id,
            &m.body,
            m.sent_by.as_deref(),
            Some(message_id),
        )
        .await?;
        let action = match &start {
            SendStart::Ready(_) => "sms.retry",
            SendStart::OptedOut => "sms.retry_refused",
        };
        append_audit(
            &mut tx,
            &self.keys,
            ctx,
            action,
            "sms_message",
            Some(message_id),
            &serde_json::json!({"conversation_id": m.conversation_id}),
        )
        .await?;
        tx.commit().await?;
        lease.done().durable().await?;
        Ok(start)
    }

    async fn finish_sms_send(
        &self,
        ctx: &AuditCtx,
        hotline_id: &str,
        message_id: &str,
        outcome: &SendOutcome,
    ) -> Result<()> {
        let ctx = &ctx.in_hotline(hotline_id);
        let (status, provider_id, code) = match outcome {
            SendOutcome::Accepted(id) => ("accepted", Some(id.as_str()), None),
            SendOutcome::Failed(code) => ("failed", None, *code),
        };
        let mut lease = self.lease().await?;
        let mut tx = lease.conn().begin().await?;
        // A status callback may have overtaken the provider's answer: keep its later state.
        let done = sqlx::query(
            "UPDATE sms_messages SET status = CASE WHEN status = 'pending' THEN $1 ELSE status END, \
             provider_id = COALESCE($2, provider_id), error_code = $3, updated_at = $4 \
             WHERE hotline_id = $5 AND id = $6 AND direction = 'outbound'",
        )
        .bind(status)
        .bind(provider_id)
        .bind(code)
        .bind(now_us())
        .bind(hotline_id)
        .bind(message_id)
        .execute(&mut *tx)
        .await?;
        if done.rows_affected() == 0 {
            return Err(StoreError::NotFound("message"));
        }
        append_audit(
            &mut tx,
            &self.keys,
            ctx,
            "sms.send",
            "sms_message",
            Some(message_id),
            &serde_json::json!({"status": status, "error_code": code}),
        )
        .await?;
        tx.commit().await?;
        lease.done().durable().await?;
        Ok(())
    }

    async fn sms_delivery_status(
        &self,
        ctx: &AuditCtx,
        provider_id: &str,
        status: &str,
        error_code: Option<i64>,
    ) -> Result<Option<(String, String)>> {
        let mut lease = self.lease().await?;
        let mut tx = lease.conn().begin().await?;
        let rows = sqlx::query(
            "SELECT id, hotline_id, conversation_id, status FROM sms_messages \
             WHERE provider_id = $1 AND direction = 'outbound' ORDER BY created_at, id",
        )
        .bind(provider_id)
        .fetch_all(&mut *tx)
        .await?;
        let mut found = None;
        for row in rows {
            let id: String = row.try_get("id")?;
            let hotline_id: String = row.try_get("hotline_id")?;
            let current: String = row.try_get("status")?;
            if found.is_none() {
                found = Some((hotline_id.clone(), row.try_get("conversation_id")?));
            }
            let (was, now) = (sms_status_rank(&current), sms_status_rank(status));
            if was == 5 || now < was {
                continue;
            }
            sqlx::query(
                "UPDATE sms_messages SET status = $1, error_code = COALESCE($2, error_code), updated_at = $3 \
                 WHERE id = $4",
            )
            .bind(status)
            .bind(error_code)
            .bind(now_us())
            .bind(&id)
            .execute(&mut *tx)
            .await?;
            append_audit(
                &mut tx,
                &self.keys,
                &ctx.in_hotline(&hotline_id),
                "sms.delivery",
                "sms_message",
                Some(&id),
                &serde_json::json!({"status": status, "error_code": error_code}),
            )
            .await?;
        }
        tx.commit().await?;
        lease.done().durable().await?;
        Ok(found)
    }

    async fn mark_sms_opted_out(
        &self,
        ctx: &AuditCtx,
        hotline_id: &str,
        conversation_id: &str,
    ) -> Result<()> {
        let ctx = &ctx.in_hotline(hotline_id);
        let mut lease = self.lease().await?;
        let mut tx = lease.conn().begin().await?;
        let conv = fetch_sms_conversation(&mut tx, &self.keys, hotline_id, conversation_id).await?;
        let bidx = self.keys.blind_index(SMS_PHONE_BIDX, &conv.sender);
        let (was, _) = lock_opt_state(&mut tx, hotline_id, &conv.hotline_number, &bidx).await?;
        if !was {
            sqlx::query(
                "UPDATE sms_opt_states SET opted_out = TRUE, changed_at = $1 \
                 WHERE hotline_id = $2 AND hotline_number = $3 AND sender_bidx = $4",
            )
            .bind(now_us())
            .bind(hotline_id)
            .bind(&conv.hotline_number)
            .bind(&bidx)
            .execute(&mut *tx)
            .await?;
            append_audit(
                &mut tx,
                &self.keys,
                ctx,
                "sms.carrier_opt_out",
                "sms_conversation",
                Some(conversation_id),
                &serde_json::json!({}),
            )
            .await?;
        }
        tx.commit().await?;
        lease.done().durable().await?;
        Ok(())
    }
}
