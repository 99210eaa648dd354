// The repository's SQL, written once in portable form and compiled once per backend: this file is
// `include!`d by `sqlite/mod.rs` and `postgres/mod.rs`, each of which defines `Db` (the sqlx database),
// `This` (its store type, with `w()` for the write pool, `r()` for the read pool, `keys`, and
// `backup_impl`) before including it.

use crate::audit::{self, AuditCtx, AuditEvent, Verification, Verifier};
use crate::crypto::Keyring;
use crate::error::{Result, StoreError};
use crate::model::*;
use crate::{Backend, Store, new_id, now_us};
use async_trait::async_trait;
use lantern_domain::account::Role;
use sqlx::Connection as _;
use sqlx::Row as _;

type DbRow = <Db as sqlx::Database>::Row;
type Tx<'a> = sqlx::Transaction<'a, Db>;

/// Every encrypted column: (table, id column, column). Key rotation walks this list; a new encrypted
/// column must be added here.
const ENCRYPTED_COLUMNS: &[(&str, &str, &str)] = &[
    ("users", "id", "full_name"),
    ("users", "id", "phone"),
    ("contacts", "id", "city"),
    ("contacts", "id", "safe_contact"),
    ("contacts", "id", "narrative"),
    ("determinations", "id", "review_comment"),
    ("cases", "id", "safety_plan"),
    ("parties", "id", "details"),
    ("party_identifiers", "id", "value"),
    ("tasks", "id", "title"),
    ("notes", "id", "body"),
    ("directory_records", "rid", "body"),
    ("referrals", "id", "consent_by"),
    ("referrals", "id", "shared"),
    ("referrals", "id", "exception_reason"),
    ("referral_events", "id", "note"),
    ("sms_conversations", "id", "sender"),
    ("sms_messages", "id", "body"),
    ("chat_messages", "id", "body"),
    ("calls", "id", "caller"),
    ("calls", "id", "transfer_target"),
];

fn binding(table: &str, column: &str, id: &str) -> String {
    format!("{table}.{column}:{id}")
}

/// The columns `user_from_row` reads, as a literal so queries stay `&'static str`.
macro_rules! user_columns {
    () => {
        "id, hotline_id, username, role, partner_org_id, full_name, phone, disabled, locked_until, failed_logins, created_at"
    };
}

fn user_from_row(keys: &Keyring, row: &DbRow) -> Result<User> {
    let id: String = row.try_get("id")?;
    let role: String = row.try_get("role")?;
    let full_name: Vec<u8> = row.try_get("full_name")?;
    let phone: Option<Vec<u8>> = row.try_get("phone")?;
    Ok(User {
        hotline_id: row.try_get("hotline_id")?,
        username: row.try_get("username")?,
        role: role
            .parse()
            .map_err(|_| StoreError::Invalid(format!("stored role `{role}` is unknown")))?,
        partner_org_id: row.try_get("partner_org_id")?,
        full_name: keys.decrypt_string(&binding("users", "full_name", &id), &full_name)?,
        phone: phone
            .map(|p| keys.decrypt_string(&binding("users", "phone", &id), &p))
            .transpose()?,
        disabled: row.try_get("disabled")?,
        locked_until_us: row.try_get("locked_until")?,
        failed_logins: row.try_get("failed_logins")?,
        created_at_us: row.try_get("created_at")?,
        id,
    })
}

fn hotline_from_row(row: &DbRow) -> Result<Hotline> {
    Ok(Hotline {
        id: row.try_get("id")?,
        slug: row.try_get("slug")?,
        name: row.try_get("name")?,
        created_at_us: row.try_get("created_at")?,
    })
}

fn token_from_row(row: &DbRow) -> Result<ApiToken> {
    Ok(ApiToken {
        id: row.try_get("id")?,
        user_id: row.try_get("user_id")?,
        name: row.try_get("name")?,
        prefix: row.try_get("prefix")?,
        created_at_us: row.try_get("created_at")?,
        last_used_us: row.try_get("last_used_at")?,
        revoked_at_us: row.try_get("revoked_at")?,
    })
}

fn event_from_row(row: &DbRow) -> Result<AuditEvent> {
    Ok(AuditEvent {
        seq: row.try_get("seq")?,
        at_us: row.try_get("at")?,
        hotline_id: row.try_get("hotline_id")?,
        actor_id: row.try_get("actor_id")?,
        actor: row.try_get("actor")?,
        action: row.try_get("action")?,
        record_type: row.try_get("record_type")?,
        record_id: row.try_get("record_id")?,
        source: row.try_get("source")?,
        detail: row.try_get("detail")?,
        prev_hash: row.try_get("prev_hash")?,
        hash: row.try_get("hash")?,
    })
}

/// Appends one sealed event to the chain inside `tx`. Reading the head serialises concurrent appenders
/// (`FOR UPDATE` on PostgreSQL; SQLite has one writer), so the chain never forks.
async fn append_audit(
    tx: &mut Tx<'_>,
    keys: &Keyring,
    ctx: &AuditCtx,
    action: &str,
    record_type: &str,
    record_id: Option<&str>,
    detail: &serde_json::Value,
) -> Result<i64> {
    let head = sqlx::query(super::AUDIT_HEAD_FOR_APPEND)
        .fetch_one(&mut **tx)
        .await?;
    let seq: i64 = head.try_get::<i64, _>("seq")? + 1;
    let prev_hash: Vec<u8> = head.try_get("hash")?;
    let mut e = AuditEvent {
        seq,
        at_us: now_us(),
        hotline_id: ctx.hotline_id.clone(),
        actor_id: ctx.actor_id.clone(),
        actor: ctx.actor.clone(),
        action: action.to_owned(),
        record_type: record_type.to_owned(),
        record_id: record_id.map(str::to_owned),
        source: ctx.source.clone(),
        detail: detail.to_string(),
        prev_hash: Vec::new(),
        hash: Vec::new(),
    };
    e.hash = audit::seal(keys, &e, &prev_hash);
    e.prev_hash = prev_hash;
    sqlx::query(
        "INSERT INTO audit_events (seq, at, hotline_id, actor_id, actor, action, record_type, record_id, \
         source, detail, prev_hash, hash) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)",
    )
    .bind(e.seq)
    .bind(e.at_us)
    .bind(&e.hotline_id)
    .bind(&e.actor_id)
    .bind(&e.actor)
    .bind(&e.action)
    .bind(&e.record_type)
    .bind(&e.record_id)
    .bind(&e.source)
    .bind(&e.detail)
    .bind(&e.prev_hash)
    .bind(&e.hash)
    .execute(&mut **tx)
    .await?;
    // The head follows by trigger (migration 0003).
    Ok(seq)
}

async fn fetch_user(tx: &mut Tx<'_>, keys: &Keyring, hotline_id: &str, id: &str) -> Result<User> {
    let row = sqlx::query(concat!(
        "SELECT ",
        user_columns!(),
        " FROM users WHERE hotline_id = $1 AND id = $2"
    ))
    .bind(hotline_id)
    .bind(id)
    .fetch_optional(&mut **tx)
    .await?
    .ok_or(StoreError::NotFound("user"))?;
    user_from_row(keys, &row)
}

#[async_trait]
impl Store for This {
    fn backend(&self) -> Backend {
        This::BACKEND
    }

    fn keys(&self) -> &Keyring {
        &self.keys
    }

    async fn ping(&self) -> Result<()> {
        sqlx::query("SELECT 1").execute(self.r()).await?;
        Ok(())
    }

    async fn create_hotline(&self, ctx: &AuditCtx, new: &NewHotline) -> Result<Hotline> {
        let h = Hotline {
            id: new_id(),
            slug: new.slug.clone(),
            name: new.name.clone(),
            created_at_us: now_us(),
        };
        let mut lease = self.lease().await?;
        let mut tx = lease.conn().begin().await?;
        sqlx::query("INSERT INTO hotlines (id, slug, name, created_at) VALUES ($1, $2, $3, $4)")
            .bind(&h.id)
            .bind(&h.slug)
            .bind(&h.name)
            .bind(h.created_at_us)
            .execute(&mut *tx)
            .await
            .map_err(|e| StoreError::unique(e, "slug"))?;
        let ctx = AuditCtx {
            hotline_id: Some(h.id.clone()),
            ..ctx.clone()
        };
        append_audit(
            &mut tx,
            &self.keys,
            &ctx,
            "hotline.create",
            "hotline",
            Some(&h.id),
            &serde_json::json!({"slug": h.slug}),
        )
        .await?;
        tx.commit().await?;
        lease.done().durable().await?;
        Ok(h)
    }

    async fn hotline_by_slug(&self, slug: &str) -> Result<Option<Hotline>> {
        let row = sqlx::query("SELECT id, slug, name, created_at FROM hotlines WHERE slug = $1")
            .bind(slug)
            .fetch_optional(self.r())
            .await?;
        row.as_ref().map(hotline_from_row).transpose()
    }

    async fn hotline(&self, id: &str) -> Result<Option<Hotline>> {
        let row = sqlx::query("SELECT id, slug, name, created_at FROM hotlines WHERE id = $1")
            .bind(id)
            .fetch_optional(self.r())
            .await?;
        row.as_ref().map(hotline_from_row).transpose()
    }

    async fn list_hotlines(&self) -> Result<Vec<Hotline>> {
        let rows = sqlx::query("SELECT id, slug, name, created_at FROM hotlines ORDER BY slug")
            .fetch_all(self.r())
            .await?;
        rows.iter().map(hotline_from_row).collect()
    }

    async fn create_partner_org(
        &self,
        ctx: &AuditCtx,
        hotline_id: &str,
        name: &str,
    ) -> Result<PartnerOrg> {
        let ctx = &ctx.in_hotline(hotline_id);
        let org = PartnerOrg {
            id: new_id(),
            hotline_id: hotline_id.to_owned(),
            name: name.to_owned(),
            directory_organization_id: None,
        };
        let mut lease = self.lease().await?;
        let mut tx = lease.conn().begin().await?;
        sqlx::query(
            "INSERT INTO partner_orgs (id, hotline_id, name, created_at) VALUES ($1, $2, $3, $4)",
        )
        .bind(&org.id)
        .bind(&org.hotline_id)
        .bind(&org.name)
        .bind(now_us())
        .execute(&mut *tx)
        .await
        .map_err(|e| StoreError::unique(e, "name"))?;
        append_audit(
            &mut tx,
            &self.keys,
            ctx,
            "partner_org.create",
            "partner_org",
            Some(&org.id),
            &serde_json::json!({}),
        )
        .await?;
        tx.commit().await?;
        lease.done().durable().await?;
        Ok(org)
    }

    async fn list_partner_orgs(&self, hotline_id: &str) -> Result<Vec<PartnerOrg>> {
        let rows = sqlx::query(
            "SELECT id, hotline_id, name, directory_organization_id FROM partner_orgs WHERE hotline_id = $1 \
             ORDER BY name",
        )
        .bind(hotline_id)
        .fetch_all(self.r())
        .await?;
        rows.iter()
            .map(|r| {
                Ok(PartnerOrg {
                    id: r.try_get("id")?,
                    hotline_id: r.try_get("hotline_id")?,
                    name: r.try_get("name")?,
                    directory_organization_id: r.try_get("directory_organization_id")?,
                })
            })
            .collect()
    }

    async fn create_user(&self, ctx: &AuditCtx, new: &NewUser) -> Result<User> {
        let ctx = &ctx.in_hotline(&new.hotline_id);
        match (new.role, &new.partner_org_id) {
            (Role::Partner, None) => {
                return Err(StoreError::Invalid(
                    "a partner user needs a partner organisation".into(),
                ));
            }
            (r, Some(_)) if r != Role::Partner => {
                return Err(StoreError::Invalid(
                    "only partner users belong to a partner organisation".into(),
                ));
            }
            _ => {}
        }
        let mut lease = self.lease().await?;
        let mut tx = lease.conn().begin().await?;
        if let Some(org) = &new.partner_org_id {
            let found = sqlx::query("SELECT 1 FROM partner_orgs WHERE hotline_id = $1 AND id = $2")
                .bind(&new.hotline_id)
                .bind(org)
                .fetch_optional(&mut *tx)
                .await?;
            if found.is_none() {
                return Err(StoreError::NotFound("partner organisation"));
            }
        }
        let id = new_id();
        let now = now_us();
        let keys = &self.keys;
        sqlx::query(
            "INSERT INTO users (id, hotline_id, username, role, partner_org_id, full_name, phone, phone_bidx, \
             password_hash, disabled, failed_logins, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, FALSE, 0, $10, $10)",
        )
        .bind(&id)
        .bind(&new.hotline_id)
        .bind(new.username.as_str())
        .bind(new.role.code())
        .bind(&new.partner_org_id)
        .bind(keys.encrypt_str(&binding("users", "full_name", &id), &new.full_name))
        .bind(new.phone.as_ref().map(|p| keys.encrypt_str(&binding("users", "phone", &id), p)))
        .bind(new.phone.as_ref().map(|p| keys.blind_index("phone", p)))
        .bind(&new.password_hash)
        .bind(now)
        .execute(&mut *tx)
        .await
        .map_err(|e| StoreError::unique(e, "username"))?;
        append_audit(
            &mut tx,
            keys,
            ctx,
            "user.create",
            "user",
            Some(&id),
            &serde_json::json!({"role": new.role.code()}),
        )
        .await?;
        let user = fetch_user(&mut tx, keys, &new.hotline_id, &id).await?;
        tx.commit().await?;
        lease.done().durable().await?;
        Ok(user)
    }

    async fn user(&self, ctx: &AuditCtx, hotline_id: &str, id: &str) -> Result<User> {
        let ctx = &ctx.in_hotline(hotline_id);
        let mut lease = self.lease().await?;
        let mut tx = lease.conn().begin().await?;
        let user = fetch_user(&mut tx, &self.keys, hotline_id, id).await?;
        append_audit(
            &mut tx,
            &self.keys,
            ctx,
            "user.read",
            "user",
            Some(id),
            &serde_json::json!({}),
        )
        .await?;
        tx.commit().await?;
        lease.done().durable().await?;
        Ok(user)
    }

    async fn list_users(&self, ctx: &AuditCtx, hotline_id: &str) -> Result<Vec<User>> {
        let ctx = &ctx.in_hotline(hotline_id);
        let rows = sqlx::query(concat!(
            "SELECT ",
            user_columns!(),
            " FROM users WHERE hotline_id = $1 ORDER BY username"
        ))
        .bind(hotline_id)
        .fetch_all(self.r())
        .await?;
        let users = rows
            .iter()
            .map(|r| user_from_row(&self.keys, r))
            .collect::<Result<Vec<_>>>()?;
        self.audit(
            ctx,
            "user.list",
            "user",
            None,
            serde_json::json!({"count": users.len()}),
        )
        .await?;
        Ok(users)
    }

    async fn user_for_login(&self, username: &str) -> Result<Option<(User, String)>> {
        let row = sqlx::query(concat!(
            "SELECT ",
            user_columns!(),
            ", password_hash FROM users WHERE username = $1"
        ))
        .bind(username)
        .fetch_optional(self.r())
        .await?;
        match row {
            None => Ok(None),
            Some(r) => Ok(Some((
                user_from_row(&self.keys, &r)?,
                r.try_get("password_hash")?,
            ))),
        }
    }

    async fn update_user(
        &self,
        ctx: &AuditCtx,
        hotline_id: &str,
        id: &str,
        change: &UserChange,
    ) -> Result<User> {
        let ctx = &ctx.in_hotline(hotline_id);
        let mut lease = self.lease().await?;
        let mut tx = lease.conn().begin().await?;
        let before = fetch_user(&mut tx, &self.keys, hotline_id, id).await?;
        if change
            .role
            .is_some_and(|r| (r == Role::Partner) != (before.role == Role::Partner))
        {
            return Err(StoreError::Invalid(
                "a user cannot move into or out of the partner role; create a new user".into(),
            ));
        }
        let mut changed = Vec::new();
        if let Some(d) = change.disabled {
            sqlx::query("UPDATE users SET disabled = $1 WHERE id = $2")
                .bind(d)
                .bind(id)
                .execute(&mut *tx)
                .await?;
            changed.push(if d { "disabled" } else { "enabled" });
            if d {
                sqlx::query("DELETE FROM sessions WHERE user_id = $1")
                    .bind(id)
                    .execute(&mut *tx)
                    .await?;
            }
        }
        if change.unlock {
            sqlx::query("UPDATE users SET locked_until = NULL, failed_logins = 0 WHERE id = $1")
                .bind(id)
                .execute(&mut *tx)
                .await?;
            changed.push("unlocked");
        }
        if let Some(r) = change.role {
            sqlx::query("UPDATE users SET role = $1 WHERE id = $2")
                .bind(r.code())
                .bind(id)
                .execute(&mut *tx)
                .await?;
            sqlx::query("DELETE FROM sessions WHERE user_id = $1")
                .bind(id)
                .execute(&mut *tx)
                .await?;
            changed.push("role");
        }
        if let Some(h) = &change.password_hash {
            sqlx::query("UPDATE users SET password_hash = $1 WHERE id = $2")
                .bind(h)
                .bind(id)
                .execute(&mut *tx)
                .await?;
            sqlx::query("DELETE FROM sessions WHERE user_id = $1")
                .bind(id)
                .execute(&mut *tx)
                .await?;
            changed.push("password");
        }
        sqlx::query("UPDATE users SET updated_at = $1 WHERE id = $2")
            .bind(now_us())
            .bind(id)
            .execute(&mut *tx)
            .await?;
        append_audit(
            &mut tx,
            &self.keys,
            ctx,
            "user.update",
            "user",
            Some(id),
            &serde_json::json!({"changed": changed, "role": change.role.map(|r| r.code())}),
        )
        .await?;
        let user = fetch_user(&mut tx, &self.keys, hotline_id, id).await?;
        tx.commit().await?;
        lease.done().durable().await?;
        Ok(user)
    }

    async fn record_login_failure(
        &self,
        ctx: &AuditCtx,
        user_id: Option<&str>,
        max_failures: i64,
        lock_for: time::Duration,
    ) -> Result<bool> {
        let mut lease = self.lease().await?;
        let mut tx = lease.conn().begin().await?;
        let mut locked = false;
        if let Some(id) = user_id {
            let row = sqlx::query("UPDATE users SET failed_logins = failed_logins + 1 WHERE id = $1 RETURNING failed_logins")
                .bind(id)
                .fetch_one(&mut *tx)
                .await?;
            let failures: i64 = row.try_get("failed_logins")?;
            if failures >= max_failures {
                let until = now_us() + lock_for.whole_microseconds() as i64;
                sqlx::query("UPDATE users SET locked_until = $1, failed_logins = 0 WHERE id = $2")
                    .bind(until)
                    .bind(id)
                    .execute(&mut *tx)
                    .await?;
                locked = true;
            }
        }
        append_audit(
            &mut tx,
            &self.keys,
            ctx,
            "login.failure",
            "user",
            user_id,
            &serde_json::json!({"locked": locked}),
        )
        .await?;
        tx.commit().await?;
        lease.done().durable().await?;
        Ok(locked)
    }

    async fn create_session(&self, ctx: &AuditCtx, new: &NewSession) -> Result<()> {
        let now = now_us();
        let mut lease = self.lease().await?;
        let mut tx = lease.conn().begin().await?;
        sqlx::query("UPDATE users SET failed_logins = 0, locked_until = NULL WHERE id = $1")
            .bind(&new.user_id)
            .execute(&mut *tx)
            .await?;
        sqlx::query(
            "INSERT INTO sessions (token_hash, user_id, csrf_token, created_at, last_seen_at, expires_at) \
             VALUES ($1, $2, $3, $4, $4, $5)",
        )
        .bind(&new.token_hash)
        .bind(&new.user_id)
        .bind(&new.csrf_token)
        .bind(now)
        .bind(new.expires_at_us)
        .execute(&mut *tx)
        .await?;
        sqlx::query("DELETE FROM sessions WHERE expires_at < $1")
            .bind(now)
            .execute(&mut *tx)
            .await?;
        append_audit(
            &mut tx,
            &self.keys,
            ctx,
            "login.success",
            "user",
            Some(&new.user_id),
            &serde_json::json!({}),
        )
        .await?;
        tx.commit().await?;
        lease.done().durable().await?;
        Ok(())
    }

    async fn session(
        &self,
        token_hash: &[u8],
        idle: time::Duration,
    ) -> Result<Option<(Session, User)>> {
        let row = sqlx::query(
            "SELECT s.user_id, s.csrf_token, s.created_at AS s_created, s.last_seen_at, s.expires_at, u.hotline_id \
             FROM sessions s JOIN users u ON u.id = s.user_id WHERE s.token_hash = $1",
        )
        .bind(token_hash)
        .fetch_optional(self.r())
        .await?;
        let Some(row) = row else { return Ok(None) };
        let now = now_us();
        let session = Session {
            user_id: row.try_get("user_id")?,
            csrf_token: row.try_get("csrf_token")?,
            created_at_us: row.try_get("s_created")?,
            last_seen_us: row.try_get("last_seen_at")?,
            expires_at_us: row.try_get("expires_at")?,
        };
        let hotline_id: String = row.try_get("hotline_id")?;
        if session.expires_at_us <= now
            || session.last_seen_us + idle.whole_microseconds() as i64 <= now
        {
            let mut lease = self.lease().await?;
            sqlx::query("DELETE FROM sessions WHERE token_hash = $1")
                .bind(token_hash)
                .execute(lease.conn())
                .await?;
            lease.done().durable().await?;
            return Ok(None);
        }
        let row = sqlx::query(concat!(
            "SELECT ",
            user_columns!(),
            " FROM users WHERE hotline_id = $1 AND id = $2"
        ))
        .bind(&hotline_id)
        .bind(&session.user_id)
        .fetch_one(self.r())
        .await?;
        let user = user_from_row(&self.keys, &row)?;
        if !user.can_authenticate(now) {
            return Ok(None);
        }
        // Refresh the idle clock at most every 15 seconds, to keep reads from turning into writes.
        if now - session.last_seen_us > 15_000_000 {
            let mut lease = self.lease().await?;
            sqlx::query("UPDATE sessions SET last_seen_at = $1 WHERE token_hash = $2")
                .bind(now)
                .bind(token_hash)
                .execute(lease.conn())
                .await?;
            lease.done().durable().await?;
        }
        Ok(Some((session, user)))
    }

    async fn delete_session(&self, ctx: &AuditCtx, token_hash: &[u8]) -> Result<()> {
        let mut lease = self.lease().await?;
        let mut tx = lease.conn().begin().await?;
        sqlx::query("DELETE FROM sessions WHERE token_hash = $1")
            .bind(token_hash)
            .execute(&mut *tx)
            .await?;
        append_audit(
            &mut tx,
            &self.keys,
            ctx,
            "logout",
            "user",
            ctx.actor_id.as_deref(),
            &serde_json::json!({}),
        )
        .await?;
        tx.commit().await?;
        lease.done().durable().await?;
        Ok(())
    }

    async fn create_token(&self, ctx: &AuditCtx, new: &NewToken) -> Result<ApiToken> {
        let ctx = &ctx.in_hotline(&new.hotline_id);
        let mut lease = self.lease().await?;
        let mut tx = lease.conn().begin().await?;
        fetch_user(&mut tx, &self.keys, &new.hotline_id, &new.user_id).await?;
        let t = ApiToken {
            id: new_id(),
            user_id: new.user_id.clone(),
            name: new.name.clone(),
            prefix: new.prefix.clone(),
            created_at_us: now_us(),
            last_used_us: None,
            revoked_at_us: None,
        };
        sqlx::query(
            "INSERT INTO api_tokens (id, hotline_id, user_id, name, prefix, token_hash, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7)",
        )
        .bind(&t.id)
        .bind(&new.hotline_id)
        .bind(&t.user_id)
        .bind(&t.name)
        .bind(&t.prefix)
        .bind(&new.token_hash)
        .bind(t.created_at_us)
        .execute(&mut *tx)
        .await?;
        append_audit(
            &mut tx,
            &self.keys,
            ctx,
            "token.create",
            "api_token",
            Some(&t.id),
            &serde_json::json!({"user_id": t.user_id}),
        )
        .await?;
        tx.commit().await?;
        lease.done().durable().await?;
        Ok(t)
    }

    async fn token(&self, token_hash: &[u8]) -> Result<Option<(ApiToken, User)>> {
        let row = sqlx::query(
            "SELECT id, hotline_id, user_id, name, prefix, created_at, last_used_at, revoked_at FROM api_tokens \
             WHERE token_hash = $1",
        )
        .bind(token_hash)
        .fetch_optional(self.r())
        .await?;
        let Some(row) = row else { return Ok(None) };
        let token = token_from_row(&row)?;
        if token.revoked_at_us.is_some() {
            return Ok(None);
        }
        let hotline_id: String = row.try_get("hotline_id")?;
        let urow = sqlx::query(concat!(
            "SELECT ",
            user_columns!(),
            " FROM users WHERE hotline_id = $1 AND id = $2"
        ))
        .bind(&hotline_id)
        .bind(&token.user_id)
        .fetch_one(self.r())
        .await?;
        let user = user_from_row(&self.keys, &urow)?;
        let now = now_us();
        if !user.can_authenticate(now) {
            return Ok(None);
        }
        if token.last_used_us.is_none_or(|t| now - t > 60_000_000) {
            let mut lease = self.lease().await?;
            sqlx::query("UPDATE api_tokens SET last_used_at = $1 WHERE id = $2")
                .bind(now)
                .bind(&token.id)
                .execute(lease.conn())
                .await?;
            lease.done().durable().await?;
        }
        Ok(Some((token, user)))
    }

    async fn revoke_token(&self, ctx: &AuditCtx, hotline_id: &str, token_id: &str) -> Result<()> {
        let ctx = &ctx.in_hotline(hotline_id);
        let mut lease = self.lease().await?;
        let mut tx = lease.conn().begin().await?;
        let done = sqlx::query("UPDATE api_tokens SET revoked_at = $1 WHERE hotline_id = $2 AND id = $3 AND revoked_at IS NULL")
            .bind(now_us())
            .bind(hotline_id)
            .bind(token_id)
            .execute(&mut *tx)
            .await?;
        if done.rows_affected() == 0 {
            return Err(StoreError::NotFound("live token"));
        }
        append_audit(
            &mut tx,
            &self.keys,
            ctx,
            "token.revoke",
            "api_token",
            Some(token_id),
            &serde_json::json!({}),
        )
        .await?;
        tx.commit().await?;
        lease.done().durable().await?;
        Ok(())
    }

    async fn list_tokens(&self, hotline_id: &str, user_id: &str) -> Result<Vec<ApiToken>> {
        let rows = sqlx::query(
            "SELECT id, user_id, name, prefix, created_at, last_used_at, revoked_at FROM api_tokens \
             WHERE hotline_id = $1 AND user_id = $2 ORDER BY created_at",
        )
        .bind(hotline_id)
        .bind(user_id)
        .fetch_all(self.r())
        .await?;
        rows.iter().map(token_from_row).collect()
    }

    async fn audit(
        &self,
        ctx: &AuditCtx,
        action: &str,
        record_type: &str,
        record_id: Option<&str>,
        detail: serde_json::Value,
    ) -> Result<()> {
        let mut lease = self.lease().await?;
        let mut tx = lease.conn().begin().await?;
        append_audit(
            &mut tx,
            &self.keys,
            ctx,
            action,
            record_type,
            record_id,
            &detail,
        )
        .await?;
        tx.commit().await?;
        lease.done().durable().await?;
        Ok(())
    }

    async fn verify_audit(&self) -> Result<Verification> {
        // Read the head first: events appended after it are beyond what is checked, never a false alarm.
        let head = sqlx::query("SELECT seq, hash FROM audit_head WHERE id = 1")
            .fetch_one(self.r())
            .await?;
        let head_seq: i64 = head.try_get("seq")?;
        let head_hash: Vec<u8> = head.try_get("hash")?;
        let mut verifier = Verifier::new(&self.keys);
        let mut after = 0i64;
        loop {
            let rows = sqlx::query(
                "SELECT seq, at, hotline_id, actor_id, actor, action, record_type, record_id, source, detail, prev_hash, hash \
                 FROM audit_events WHERE seq > $1 AND seq <= $2 ORDER BY seq LIMIT 5000",
            )
            .bind(after)
            .bind(head_seq)
            .fetch_all(self.r())
            .await?;
            if rows.is_empty() {
                break;
            }
            for r in &rows {
                let e = event_from_row(r)?;
                after = e.seq;
                if !verifier.push(&e) {
                    return Ok(verifier.finish(head_seq, &head_hash));
                }
            }
        }
        Ok(verifier.finish(head_seq, &head_hash))
    }

    async fn recent_audit(&self, hotline_id: &str, limit: i64) -> Result<Vec<AuditEvent>> {
        let rows = sqlx::query(
            "SELECT seq, at, hotline_id, actor_id, actor, action, record_type, record_id, source, detail, prev_hash, hash \
             FROM audit_events WHERE hotline_id = $1 ORDER BY seq DESC LIMIT $2",
        )
        .bind(hotline_id)
        .bind(limit)
        .fetch_all(self.r())
        .await?;
        rows.iter().map(event_from_row).collect()
    }

    async fn reencrypt_all(&self, ctx: &AuditCtx, new_keys: &Keyring) -> Result<u64> {
        let mut rewritten = 0u64;
        let current = new_keys.current_key_id();
        let mut lease = self.lease().await?;
        let mut tx = lease.conn().begin().await?;
        for (table, id_col, col) in ENCRYPTED_COLUMNS {
            let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
                "SELECT {id_col} AS id, {col} AS v FROM {table} WHERE {col} IS NOT NULL"
            )))
            .fetch_all(&mut *tx)
            .await?;
            for r in rows {
                let id: String = r.try_get("id")?;
                let v: Vec<u8> = r.try_get("v")?;
                if Keyring::key_id_of(&v)? == current {
                    continue;
                }
                let b = binding(table, col, &id);
                let plain = zeroize::Zeroizing::new(new_keys.decrypt(&b, &v)?);
                sqlx::query(sqlx::AssertSqlSafe(format!(
                    "UPDATE {table} SET {col} = $1 WHERE {id_col} = $2"
                )))
                .bind(new_keys.encrypt(&b, &plain))
                .bind(&id)
                .execute(&mut *tx)
                .await?;
                rewritten += 1;
            }
        }
        append_audit(
            &mut tx,
            &self.keys,
            ctx,
            "keys.rotate",
            "keyring",
            None,
            &serde_json::json!({"key_id": current, "rewritten": rewritten}),
        )
        .await?;
        tx.commit().await?;
        lease.done().durable().await?;
        Ok(rewritten)
    }

    async fn backup(&self, ctx: &AuditCtx, path: &std::path::Path) -> Result<()> {
        self.backup_impl(path).await?;
        self.audit(
            ctx,
            "backup.create",
            "database",
            None,
            serde_json::json!({}),
        )
        .await
    }
}
