//! Administration: users, partner organisations, API tokens, the audit log.

use super::{Chrome, PageError, PageForm, PageResult, render};
use crate::accounts;
use crate::auth::Principal;
use crate::error::AppError;
use crate::state::AppState;
use askama::Template;
use axum::extract::{Path, State};
use axum::response::{IntoResponse, Redirect};
use lantern_domain::account::Role;
use lantern_store::{PartnerOrg, User, UserChange};
use serde::Deserialize;

/// A user as the admin pages show it.
#[derive(Debug)]
pub struct UserRow {
    id: String,
    username: String,
    full_name: String,
    role: &'static str,
    role_label: &'static str,
    partner_org: Option<String>,
    phone: Option<String>,
    status: &'static str,
    disabled: bool,
    locked: bool,
    is_partner: bool,
}

fn row(u: &User, orgs: &[PartnerOrg]) -> UserRow {
    let locked = !u.disabled && !u.can_authenticate(accounts::now_us());
    UserRow {
        id: u.id.clone(),
        username: u.username.clone(),
        full_name: u.full_name.clone(),
        role: u.role.code(),
        role_label: u.role.label(),
        partner_org: u
            .partner_org_id
            .as_ref()
            .and_then(|id| orgs.iter().find(|o| &o.id == id))
            .map(|o| o.name.clone()),
        phone: u.phone.clone(),
        status: if u.disabled {
            "disabled"
        } else if locked {
            "locked"
        } else {
            "active"
        },
        disabled: u.disabled,
        locked,
        is_partner: u.role == Role::Partner,
    }
}

fn roles() -> Vec<(&'static str, &'static str)> {
    Role::ALL.iter().map(|r| (r.code(), r.label())).collect()
}

#[derive(Template)]
#[template(path = "admin_users.html")]
struct UsersPage {
    chrome: Option<Chrome>,
    hotline_name: String,
    users: Vec<UserRow>,
    orgs: Vec<PartnerOrg>,
    roles: Vec<(&'static str, &'static str)>,
    csrf: String,
    message: Option<String>,
}

async fn users_page(state: &AppState, p: &Principal, message: Option<String>) -> PageResult {
    let chrome = Chrome::new(state, p, "/admin/users").await?;
    let orgs = state.store.list_partner_orgs(&p.user.hotline_id).await?;
    let users = state.store.list_users(&p.ctx(), &p.user.hotline_id).await?;
    render(&UsersPage {
        hotline_name: chrome.hotline_name.clone(),
        users: users.iter().map(|u| row(u, &orgs)).collect(),
        orgs,
        roles: roles(),
        csrf: p.csrf().to_owned(),
        message,
        chrome: Some(chrome),
    })
}

/// `GET /admin/users`.
pub async fn users(State(state): State<AppState>, p: Principal) -> PageResult {
    users_page(&state, &p, None).await
}

/// The add-user form.
#[derive(Debug, Deserialize)]
pub struct NewUserForm {
    username: String,
    full_name: String,
    role: String,
    #[serde(default)]
    partner_org_id: String,
    #[serde(default)]
    phone: String,
    password: String,
}

/// `POST /admin/users`.
pub async fn create_user(
    State(state): State<AppState>,
    p: Principal,
    PageForm(f): PageForm<NewUserForm>,
) -> PageResult {
    let input = accounts::NewUserInput {
        username: f.username,
        full_name: f.full_name,
        role: f.role,
        partner_org_id: Some(f.partner_org_id).filter(|s| !s.is_empty()),
        phone: Some(f.phone).filter(|s| !s.trim().is_empty()),
        password: f.password,
    };
    let user = accounts::create_user(&*state.store, &p.ctx(), &p.user.hotline_id, input).await?;
    users_page(&state, &p, Some(format!("Added {}.", user.username))).await
}

/// The add-organisation form.
#[derive(Debug, Deserialize)]
pub struct NewOrgForm {
    name: String,
}

/// `POST /admin/partners`.
pub async fn create_partner(
    State(state): State<AppState>,
    p: Principal,
    PageForm(f): PageForm<NewOrgForm>,
) -> PageResult {
    let name = f.name.trim();
    if name.is_empty() || name.chars().count() > 200 {
        return Err(PageError(AppError::invalid(
            "name",
            "must be 1 to 200 characters",
        )));
    }
    state
        .store
        .create_partner_org(&p.ctx(), &p.user.hotline_id, name)
        .await?;
    users_page(
        &state,
        &p,
        Some(format!("Added partner organisation {name}.")),
    )
    .await
}

/// A token as the user page shows it.
#[derive(Debug)]
pub struct TokenRow {
    id: String,
    name: String,
    prefix: String,
    created: String,
    last_used: String,
    revoked: bool,
}

#[derive(Template)]
#[template(path = "admin_user.html")]
struct UserPage {
    chrome: Option<Chrome>,
    user: UserRow,
    tokens: Vec<TokenRow>,
    roles: Vec<(&'static str, &'static str)>,
    csrf: String,
    message: Option<String>,
    new_token: Option<String>,
}

async fn user_page(
    state: &AppState,
    p: &Principal,
    id: &str,
    message: Option<String>,
    new_token: Option<String>,
) -> PageResult {
    let chrome = Chrome::new(state, p, "/admin/users").await?;
    let user = state.store.user(&p.ctx(), &p.user.hotline_id, id).await?;
    let orgs = state.store.list_partner_orgs(&p.user.hotline_id).await?;
    let tokens = state
        .store
        .list_tokens(&p.user.hotline_id, id)
        .await?
        .into_iter()
        .map(|t| TokenRow {
            id: t.id,
            name: t.name,
            prefix: t.prefix,
            created: accounts::format_time(t.created_at_us),
            last_used: t
                .last_used_us
                .map_or_else(|| "never".into(), accounts::format_time),
            revoked: t.revoked_at_us.is_some(),
        })
        .collect();
    render(&UserPage {
        user: row(&user, &orgs),
        tokens,
        roles: roles()
            .into_iter()
            .filter(|(c, _)| *c != "partner")
            .collect(),
        csrf: p.csrf().to_owned(),
        message,
        new_token,
        chrome: Some(chrome),
    })
}

/// `GET /admin/users/{id}`.
pub async fn user(
    State(state): State<AppState>,
    p: Principal,
    Path(id): Path<String>,
) -> PageResult {
    user_page(&state, &p, &id, None, None).await
}

/// The user actions form.
#[derive(Debug, Deserialize)]
pub struct UserActionForm {
    action: String,
    #[serde(default)]
    role: String,
    #[serde(default)]
    password: String,
}

/// `POST /admin/users/{id}`: disable, enable, unlock, change role, set password.
pub async fn update_user(
    State(state): State<AppState>,
    p: Principal,
    Path(id): Path<String>,
    PageForm(f): PageForm<UserActionForm>,
) -> PageResult {
    let change = match f.action.as_str() {
        "disable" | "enable" => {
            if id == p.user.id && f.action == "disable" {
                return Err(PageError(AppError::invalid(
                    "action",
                    "you cannot disable your own account",
                )));
            }
            UserChange {
                disabled: Some(f.action == "disable"),
                ..Default::default()
            }
        }
        "unlock" => UserChange {
            unlock: true,
            ..Default::default()
        },
        "role" => UserChange {
            role: Some(accounts::parse_role(&f.role)?),
            ..Default::default()
        },
        "password" => UserChange {
            password_hash: Some(accounts::new_password_hash(f.password).await?),
            ..Default::default()
        },
        other => {
            return Err(PageError(AppError::invalid(
                "action",
                format!("unknown action `{other}`"),
            )));
        }
    };
    let u = state
        .store
        .update_user(&p.ctx(), &p.user.hotline_id, &id, &change)
        .await?;
    state.tokens.clear();
    user_page(&state, &p, &u.id, Some("Saved.".into()), None).await
}

/// The new-token form.
#[derive(Debug, Deserialize)]
pub struct TokenForm {
    name: String,
}

/// `POST /admin/users/{id}/tokens`: creates a token and shows its secret once.
pub async fn create_token(
    State(state): State<AppState>,
    p: Principal,
    Path(id): Path<String>,
    PageForm(f): PageForm<TokenForm>,
) -> PageResult {
    let (secret, _) =
        accounts::create_token(&*state.store, &p.ctx(), &p.user.hotline_id, &id, &f.name).await?;
    user_page(&state, &p, &id, None, Some(secret)).await
}

/// `POST /admin/tokens/{id}/revoke`.
pub async fn revoke_token(
    State(state): State<AppState>,
    p: Principal,
    Path(id): Path<String>,
) -> PageResult {
    state
        .store
        .revoke_token(&p.ctx(), &p.user.hotline_id, &id)
        .await?;
    state.tokens.clear();
    Ok(Redirect::to("/admin/users").into_response())
}

/// An audit event as the page shows it.
#[derive(Debug)]
pub struct EventRow {
    seq: i64,
    at: String,
    actor: String,
    action: String,
    record: String,
    source: String,
}

#[derive(Template)]
#[template(path = "admin_audit.html")]
struct AuditPage {
    chrome: Option<Chrome>,
    events: Vec<EventRow>,
}

/// `GET /admin/audit`: the newest events of this hotline.
pub async fn audit(State(state): State<AppState>, p: Principal) -> PageResult {
    let chrome = Chrome::new(&state, &p, "/admin/audit").await?;
    let events = state
        .store
        .recent_audit(&p.user.hotline_id, 200)
        .await?
        .into_iter()
        .map(|e| EventRow {
            seq: e.seq,
            at: accounts::format_time(e.at_us),
            actor: e.actor,
            action: e.action,
            record: match e.record_id {
                Some(id) => format!("{} {id}", e.record_type),
                None => e.record_type,
            },
            source: e.source,
        })
        .collect();
    render(&AuditPage {
        chrome: Some(chrome),
        events,
    })
}
