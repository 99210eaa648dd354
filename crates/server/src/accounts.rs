//! Account operations shared by the admin pages, the JSON API and the CLI: input checked field by
//! field, then handed to the store.

use crate::auth;
use crate::error::{AppError, FieldError};
use lantern_domain::account::{Role, Username, check_new_password};
use lantern_store::{ApiToken, AuditCtx, NewToken, NewUser, Store, User};

/// A new user as a client sends it.
#[derive(Debug, Clone, serde::Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewUserInput {
    /// Login name.
    pub username: String,
    /// Full name.
    pub full_name: String,
    /// Role code.
    pub role: String,
    /// Partner organisation id (partners only).
    #[serde(default)]
    pub partner_org_id: Option<String>,
    /// Phone for on-call alerts.
    #[serde(default)]
    pub phone: Option<String>,
    /// Initial password.
    pub password: String,
}

/// Parses a role code, or a 422 naming `role` and the allowed values.
pub fn parse_role(s: &str) -> Result<Role, AppError> {
    s.parse::<Role>()
        .map_err(|e| AppError::invalid("role", e.to_string()))
}

/// Hashes a new password after checking it, on a blocking thread.
pub async fn new_password_hash(password: String) -> Result<String, AppError> {
    check_new_password(&password).map_err(|m| AppError::invalid("password", m))?;
    Ok(auth::hash_password_blocking(password).await?)
}

/// Checks every field of a new user (all problems at once), then creates it.
pub async fn create_user(
    store: &dyn Store,
    ctx: &AuditCtx,
    hotline_id: &str,
    input: NewUserInput,
) -> Result<User, AppError> {
    let mut errors = Vec::new();
    let mut bad = |field: &str, message: String| {
        errors.push(FieldError {
            field: field.into(),
            message,
        })
    };
    let username = Username::parse(&input.username)
        .map_err(|e| bad("username", e.to_string()))
        .ok();
    let role = input
        .role
        .parse::<Role>()
        .map_err(|e| bad("role", e.to_string()))
        .ok();
    let full_name = input.full_name.trim().to_owned();
    if full_name.is_empty() || full_name.chars().count() > 200 {
        bad("full_name", "must be 1 to 200 characters".into());
    }
    let phone = match input
        .phone
        .as_deref()
        .map(str::trim)
        .filter(|s| !s.is_empty())
    {
        None => None,
        Some(p) => lantern_domain::identity::phone_e164(p)
            .map_err(|m| bad("phone", m))
            .ok(),
    };
    if let Err(m) = check_new_password(&input.password) {
        bad("password", m);
    }
    match (role, &input.partner_org_id) {
        (Some(Role::Partner), None) => bad(
            "partner_org_id",
            "a partner user needs a partner organisation".into(),
        ),
        (Some(r), Some(_)) if r != Role::Partner => bad(
            "partner_org_id",
            "only partner users belong to a partner organisation".into(),
        ),
        _ => {}
    }
    let (Some(username), Some(role), true) = (username, role, errors.is_empty()) else {
        return Err(AppError::invalid_fields(errors));
    };
    let password_hash = auth::hash_password_blocking(input.password).await?;
    Ok(store
        .create_user(
            ctx,
            &NewUser {
                hotline_id: hotline_id.to_owned(),
                username,
                role,
                partner_org_id: input.partner_org_id,
                full_name,
                phone,
                password_hash,
            },
        )
        .await?)
}

/// Creates an API token for a user; returns the secret (to show once) and the stored token.
pub async fn create_token(
    store: &dyn Store,
    ctx: &AuditCtx,
    hotline_id: &str,
    user_id: &str,
    name: &str,
) -> Result<(String, ApiToken), AppError> {
    let name = name.trim();
    if name.is_empty() || name.chars().count() > 100 {
        return Err(AppError::invalid("name", "must be 1 to 100 characters"));
    }
    let (secret, prefix, token_hash) = auth::new_api_token();
    let token = store
        .create_token(
            ctx,
            &NewToken {
                user_id: user_id.to_owned(),
                hotline_id: hotline_id.to_owned(),
                name: name.to_owned(),
                prefix,
                token_hash,
            },
        )
        .await?;
    Ok((secret, token))
}

/// Now, in Unix microseconds.
pub fn now_us() -> i64 {
    (time::OffsetDateTime::now_utc().unix_timestamp_nanos() / 1000) as i64
}

/// A Unix-microsecond time as `2026-11-22 14:05` (UTC).
pub fn format_time(us: i64) -> String {
    let fmt = time::macros::format_description!("[year]-[month]-[day] [hour]:[minute]");
    time::OffsetDateTime::from_unix_timestamp_nanos(i128::from(us) * 1000)
        .ok()
        .and_then(|t| t.format(fmt).ok())
        .unwrap_or_else(|| "?".into())
}
