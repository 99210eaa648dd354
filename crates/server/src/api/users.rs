//! `/api/v1/me`, `/api/v1/users`, `/api/v1/tokens`.

use super::ApiJson;
use crate::accounts::{self, NewUserInput};
use crate::auth::Principal;
use crate::error::AppResult;
use crate::state::AppState;
use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use lantern_store::{User, UserChange};
use serde::{Deserialize, Serialize};

/// A user as the API shows it (never the password hash).
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct UserView {
    id: String,
    username: String,
    full_name: String,
    role: &'static str,
    partner_org_id: Option<String>,
    phone: Option<String>,
    disabled: bool,
    locked: bool,
}

impl From<&User> for UserView {
    fn from(u: &User) -> Self {
        UserView {
            id: u.id.clone(),
            username: u.username.clone(),
            full_name: u.full_name.clone(),
            role: u.role.code(),
            partner_org_id: u.partner_org_id.clone(),
            phone: u.phone.clone(),
            disabled: u.disabled,
            locked: !u.disabled && !u.can_authenticate(accounts::now_us()),
        }
    }
}

/// `GET /api/v1/me`.
#[utoipa::path(get, path = "/api/v1/me", tag = "accounts", responses((status = 200, body = UserView), (status = 401, body = crate::error::Problem)))]
pub async fn me(p: Principal) -> Json<UserView> {
    Json(UserView::from(&p.user))
}

/// `GET /api/v1/users`.
#[utoipa::path(get, path = "/api/v1/users", tag = "accounts", responses((status = 200, body = [UserView]), (status = 403, body = crate::error::Problem)))]
pub async fn list(State(state): State<AppState>, p: Principal) -> AppResult<Json<Vec<UserView>>> {
    let users = state.store.list_users(&p.ctx(), &p.user.hotline_id).await?;
    Ok(Json(users.iter().map(UserView::from).collect()))
}

/// `POST /api/v1/users`.
#[utoipa::path(post, path = "/api/v1/users", tag = "accounts", request_body = NewUserInput,
    responses((status = 201, body = UserView), (status = 422, body = crate::error::Problem), (status = 409, body = crate::error::Problem)))]
pub async fn create(
    State(state): State<AppState>,
    p: Principal,
    ApiJson(input): ApiJson<NewUserInput>,
) -> AppResult<Response> {
    let u = accounts::create_user(&*state.store, &p.ctx(), &p.user.hotline_id, input).await?;
    Ok((StatusCode::CREATED, Json(UserView::from(&u))).into_response())
}

/// `GET /api/v1/users/{id}`.
#[utoipa::path(get, path = "/api/v1/users/{id}", tag = "accounts", params(("id" = String, Path, description = "User id")),
    responses((status = 200, body = UserView), (status = 404, body = crate::error::Problem)))]
pub async fn get(
    State(state): State<AppState>,
    p: Principal,
    Path(id): Path<String>,
) -> AppResult<Json<UserView>> {
    let u = state.store.user(&p.ctx(), &p.user.hotline_id, &id).await?;
    Ok(Json(UserView::from(&u)))
}

/// A change to a user.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UserPatch {
    #[serde(default)]
    disabled: Option<bool>,
    #[serde(default)]
    unlock: bool,
    #[serde(default)]
    role: Option<String>,
    #[serde(default)]
    password: Option<String>,
}

/// `PATCH /api/v1/users/{id}`.
#[utoipa::path(patch, path = "/api/v1/users/{id}", tag = "accounts", params(("id" = String, Path, description = "User id")), request_body = UserPatch,
    responses((status = 200, body = UserView), (status = 404, body = crate::error::Problem), (status = 422, body = crate::error::Problem)))]
pub async fn update(
    State(state): State<AppState>,
    p: Principal,
    Path(id): Path<String>,
    ApiJson(patch): ApiJson<UserPatch>,
) -> AppResult<Json<UserView>> {
    if patch.disabled == Some(true) && id == p.user.id {
        return Err(crate::error::AppError::invalid(
            "disabled",
            "you cannot disable your own account",
        ));
    }
    let change = UserChange {
        disabled: patch.disabled,
        unlock: patch.unlock,
        role: patch
            .role
            .as_deref()
            .map(accounts::parse_role)
            .transpose()?,
        password_hash: match patch.password {
            Some(pw) => Some(accounts::new_password_hash(pw).await?),
            None => None,
        },
    };
    let u = state
        .store
        .update_user(&p.ctx(), &p.user.hotline_id, &id, &change)
        .await?;
    state.tokens.clear();
    Ok(Json(UserView::from(&u)))
}

/// A new token's name.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TokenInput {
    name: String,
}

/// A token just created: the only time its secret is shown.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct TokenCreated {
    id: String,
    name: String,
    prefix: String,
    token: String,
}

/// `POST /api/v1/users/{id}/tokens`.
#[utoipa::path(post, path = "/api/v1/users/{id}/tokens", tag = "accounts", params(("id" = String, Path, description = "User id")), request_body = TokenInput,
    responses((status = 201, body = TokenCreated), (status = 404, body = crate::error::Problem)))]
pub async fn create_token(
    State(state): State<AppState>,
    p: Principal,
    Path(id): Path<String>,
    ApiJson(t): ApiJson<TokenInput>,
) -> AppResult<Response> {
    let (secret, token) =
        accounts::create_token(&*state.store, &p.ctx(), &p.user.hotline_id, &id, &t.name).await?;
    Ok((
        StatusCode::CREATED,
        Json(TokenCreated {
            id: token.id,
            name: token.name,
            prefix: token.prefix,
            token: secret,
        }),
    )
        .into_response())
}

/// `DELETE /api/v1/tokens/{id}`.
#[utoipa::path(delete, path = "/api/v1/tokens/{id}", tag = "accounts", params(("id" = String, Path, description = "Token id")),
    responses((status = 204), (status = 404, body = crate::error::Problem)))]
pub async fn revoke_token(
    State(state): State<AppState>,
    p: Principal,
    Path(id): Path<String>,
) -> AppResult<StatusCode> {
    state
        .store
        .revoke_token(&p.ctx(), &p.user.hotline_id, &id)
        .await?;
    state.tokens.clear();
    Ok(StatusCode::NO_CONTENT)
}
