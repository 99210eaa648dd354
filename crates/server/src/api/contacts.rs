//! `/api/v1/contacts`: recording contacts with their screening.

use super::ApiJson;
use crate::auth::Principal;
use crate::error::AppResult;
use crate::intake::{self, ContactInput};
use crate::state::AppState;
use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use lantern_store::Contact;
use serde::Deserialize;

/// Records a contact (and its determination, case and parties) for `p`; shared by the page and the API.
pub async fn record(state: &AppState, p: &Principal, input: &ContactInput) -> AppResult<Contact> {
    let (new, _) = intake::contact(&p.user.hotline_id, &p.user.id, input)?;
    Ok(state.store.create_contact(&p.ctx(), &new).await?)
}

/// `POST /api/v1/contacts`: records a contact, durably, with its screening determination; optionally
/// opens or joins a case and adds parties to it, all in one transaction.
#[utoipa::path(post, path = "/api/v1/contacts", tag = "contacts",
    request_body(content = serde_json::Value, description = "channel, signaler_type, category, language, location {state, city, zip, precision}, safe_to_talk, safe_contact, interpreter_language, narrative, occurred_at, screening {…}, case_id | open_case, parties […]"),
    responses((status = 201, description = "The contact with its determination"), (status = 422, body = crate::error::Problem), (status = 404, body = crate::error::Problem)))]
pub async fn create(
    State(state): State<AppState>,
    p: Principal,
    ApiJson(input): ApiJson<ContactInput>,
) -> AppResult<Response> {
    let c = record(&state, &p, &input).await?;
    Ok((StatusCode::CREATED, Json(c)).into_response())
}

/// `GET /api/v1/contacts/{id}`.
#[utoipa::path(get, path = "/api/v1/contacts/{id}", tag = "contacts", params(("id" = String, Path, description = "Contact id")),
    responses((status = 200, description = "The contact with its determinations"), (status = 404, body = crate::error::Problem)))]
pub async fn get(
    State(state): State<AppState>,
    p: Principal,
    Path(id): Path<String>,
) -> AppResult<Json<Contact>> {
    Ok(Json(
        state
            .store
            .contact(&p.ctx(), &p.user.hotline_id, &id)
            .await?,
    ))
}

/// Which case to attach to.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AttachInput {
    /// The case.
    pub case_id: String,
}

/// `POST /api/v1/contacts/{id}/attach`.
#[utoipa::path(post, path = "/api/v1/contacts/{id}/attach", tag = "contacts", params(("id" = String, Path, description = "Contact id")),
    request_body = AttachInput, responses((status = 204), (status = 404, body = crate::error::Problem)))]
pub async fn attach(
    State(state): State<AppState>,
    p: Principal,
    Path(id): Path<String>,
    ApiJson(a): ApiJson<AttachInput>,
) -> AppResult<StatusCode> {
    state
        .store
        .attach_contact(&p.ctx(), &p.user.hotline_id, &id, &a.case_id)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}
