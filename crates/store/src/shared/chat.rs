// The web chat's SQL (see `crate::chat`), included into each backend's `repo` module beside `repo.rs` and
// `cases.rs` (whose `insert_contact` opens each chat's contact).

use crate::chat::*;

macro_rules! chat_columns {
    () => {
        "c.id, c.hotline_id, c.contact_id, k.case_id, c.language, c.safe_to_chat, c.state, c.advocate_id, \
         c.created_at, c.updated_at, c.ended_at FROM chats c JOIN contacts k ON k.id = c.contact_id"
    };
}

fn chat_from_row(row: &DbRow) -> Result<ChatRecord> {
    Ok(ChatRecord {
        id: row.try_get("id")?,
        hotline_id: row.try_get("hotline_id")?,
        contact_id: row.try_get("contact_id")?,
        case_id: row.try_get("case_id")?,
        language: row.try_get("language")?,
        safe_to_chat: row.try_get("safe_to_chat")?,
        state: row.try_get("state")?,
        advocate_id: row.try_get("advocate_id")?,
        created_at_us: row.try_get("created_at")?,
        updated_at_us: row.try_get("updated_at")?,
        ended_at_us: row.try_get("ended_at")?,
    })
}

async fn fetch_chat(tx: &mut Tx<'_>, hotline_id: &str, id: &str) -> Result<ChatRecord> {
    let row = sqlx::query(concat!(
        "SELECT ",
        chat_columns!(),
        " WHERE c.hotline_id = $1 AND c.id = $2"
    ))
    .bind(hotline_id)
    .bind(id)
    .fetch_optional(&mut **tx)
    .await?
    .ok_or(StoreError::NotFound("chat"))?;
    chat_from_row(&row)
}

fn check_chat_state(state: &str) -> Result<()> {
    if CHAT_STATES.contains(&state) {
        Ok(())
    } else {
        Err(StoreError::Invalid(format!(
            "state must be one of {}",
            CHAT_STATES.join(", ")
        )))
    }
}

#[async_trait]
impl ChatStore for This {
    async fn open_chat(&self, ctx: &AuditCtx, new: &NewChat) -> Result<ChatRecord> {
        if !["yes", "no", "unsure"].contains(&new.safe_to_chat.as_str()) {
            return Err(StoreError::Invalid(
                "safe_to_chat must be one of yes, no, unsure".into(),
            ));
        }
        if new.id.is_empty() {
            return Err(StoreError::Invalid("id must not be empty".into()));
        }
        let ctx = &ctx.in_hotline(&new.hotline_id);
        let keys = &self.keys;
        let mut lease = self.lease().await?;
        let mut tx = lease.conn().begin().await?;
        let now = now_us();
        let mut rollup = Cells::new();
        let contact = insert_contact(
            &mut tx,
            keys,
            ctx,
            &NewContact {
                hotline_id: new.hotline_id.clone(),
                channel: "webchat".to_owned(),
                language: Some(new.language.clone()),
                safe_to_talk: Some(new.safe_to_chat.clone()),
                location_precision: "unknown".to_owned(),
                occurred_at_us: now,
                ..NewContact::default()
            },
            &mut rollup,
        )
        .await?;
        apply_rollup_delta(&mut tx, &new.hotline_id, &rollup).await?;
        sqlx::query(
            "INSERT INTO chats (id, hotline_id, contact_id, language, safe_to_chat, state, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, $5, 'waiting', $6, $6)",
        )
        .bind(&new.id)
        .bind(&new.hotline_id)
        .bind(&contact.id)
        .bind(&new.language)
        .bind(&new.safe_to_chat)
        .bind(now)
        .execute(&mut *tx)
        .await
        .map_err(|e| StoreError::unique(e, "id"))?;
        append_audit(
            &mut tx,
            keys,
            ctx,
            "chat.open",
            "chat",
            Some(&new.id),
            &serde_json::json!({"language": new.language, "safe_to_chat": new.safe_to_chat}),
        )
        .await?;
        tx.commit().await?;
        lease.done().durable().await?;
        Ok(ChatRecord {
            id: new.id.clone(),
            hotline_id: new.hotline_id.clone(),
            contact_id: contact.id,
            case_id: None,
            language: new.language.clone(),
            safe_to_chat: new.safe_to_chat.clone(),
            state: "waiting".to_owned(),
            advocate_id: None,
            created_at_us: now,
            updated_at_us: now,
            ended_at_us: None,
        })
    }

    async fn add_chat_message(
        &self,
        ctx: &AuditCtx,
        hotline_id: &str,
        msg: &NewChatMessage,
    ) -> Result<()> {
        if !["seeker", "advocate", "system"].contains(&msg.author.as_str()) {
            return Err(StoreError::Invalid(
                "author must be one of seeker, advocate, system".into(),
            ));
        }
        if msg.seq < 1 {
            return Err(StoreError::Invalid("seq must be 1 or more".into()));
        }
        if let Some(change) = &msg.change {
            check_chat_state(&change.state)?;
        }
        let ctx = &ctx.in_hotline(hotline_id);
        let keys = &self.keys;
        let mut lease = self.lease().await?;
        let mut tx = lease.conn().begin().await?;
        let now = now_us();
        let state = msg.change.as_ref().map(|c| c.state.as_str());
        let advocate = msg.change.as_ref().and_then(|c| c.advocate_id.as_deref());
        let done = sqlx::query(
            "UPDATE chats SET updated_at = $1, state = COALESCE($2, state), advocate_id = COALESCE($3, advocate_id), \
             ended_at = CASE WHEN $2 = 'ended' THEN $1 ELSE ended_at END \
             WHERE hotline_id = $4 AND id = $5",
        )
        .bind(now)
        .bind(state)
        .bind(advocate)
        .bind(hotline_id)
        .bind(&msg.chat_id)
        .execute(&mut *tx)
        .await?;
        if done.rows_affected() == 0 {
            return Err(StoreError::NotFound("chat"));
        }
        let id = new_id();
        sqlx::query(
            "INSERT INTO chat_messages (id, hotline_id, chat_id, seq, author, author_id, body, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
        )
        .bind(&id)
        .bind(hotline_id)
        .bind(&msg.chat_id)
        .bind(msg.seq)
        .bind(&msg.author)
        .bind(msg.author_id.as_deref())
        .bind(keys.encrypt_str(&binding("chat_messages", "body", &id), &msg.text))
        .bind(now)
        .execute(&mut *tx)
        .await
        .map_err(|e| StoreError::unique(e, "seq"))?;
        append_audit(
            &mut tx,
            keys,
            ctx,
            "chat.message",
            "chat",
            Some(&msg.chat_id),
            &serde_json::json!({"seq": msg.seq, "author": msg.author, "state": state}),
        )
        .await?;
        tx.commit().await?;
        lease.done().durable().await?;
        Ok(())
    }

    async fn chat_transcript(
        &self,
        ctx: &AuditCtx,
        hotline_id: &str,
        id: &str,
    ) -> Result<ChatTranscript> {
        let ctx = &ctx.in_hotline(hotline_id);
        let mut lease = self.lease().await?;
        let mut tx = lease.conn().begin().await?;
        let chat = fetch_chat(&mut tx, hotline_id, id).await?;
        let rows = sqlx::query(
            "SELECT id, seq, author, author_id, body, created_at FROM chat_messages WHERE chat_id = $1 ORDER BY seq",
        )
        .bind(id)
        .fetch_all(&mut *tx)
        .await?;
        let messages = rows
            .iter()
            .map(|row| {
                let mid: String = row.try_get("id")?;
                let body: Vec<u8> = row.try_get("body")?;
                Ok(StoredChatMessage {
                    seq: row.try_get("seq")?,
                    author: row.try_get("author")?,
                    author_id: row.try_get("author_id")?,
                    text: self
                        .keys
                        .decrypt_string(&binding("chat_messages", "body", &mid), &body)?,
                    created_at_us: row.try_get("created_at")?,
                })
            })
            .collect::<Result<Vec<_>>>()?;
        append_audit(
            &mut tx,
            &self.keys,
            ctx,
            "chat.read",
            "chat",
            Some(id),
            &serde_json::json!({"messages": messages.len()}),
        )
        .await?;
        tx.commit().await?;
        lease.done().durable().await?;
        Ok(ChatTranscript { chat, messages })
    }

    async fn list_chats(
        &self,
        _ctx: &AuditCtx,
        hotline_id: &str,
        state: Option<&str>,
        limit: i64,
    ) -> Result<Vec<ChatRecord>> {
        if let Some(s) = state {
            check_chat_state(s)?;
        }
        let limit = limit.clamp(1, 500);
        // Lists carry no personal data (no message texts), so reading them is not audited.
        let rows = match state {
            Some(s) => {
                sqlx::query(concat!(
                    "SELECT ",
                    chat_columns!(),
                    " WHERE c.hotline_id = $1 AND c.state = $2 ORDER BY c.created_at DESC, c.id LIMIT $3"
                ))
                .bind(hotline_id)
                .bind(s)
                .bind(limit)
                .fetch_all(self.r())
                .await?
            }
            None => {
                sqlx::query(concat!(
                    "SELECT ",
                    chat_columns!(),
                    " WHERE c.hotline_id = $1 AND c.state <> 'ended' ORDER BY c.created_at DESC, c.id LIMIT $2"
                ))
                .bind(hotline_id)
                .bind(limit)
                .fetch_all(self.r())
                .await?
            }
        };
        rows.iter().map(chat_from_row).collect()
    }
}
