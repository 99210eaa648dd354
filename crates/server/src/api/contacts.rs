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
    request_body(content = crate::intake::ContactInput, description = "A contact; codes are DOMAIN.md's; `screening` takes the answers of POST /api/v1/screening/assess"),
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

/// Query of the contact list.
#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
pub struct ContactQuery {
    /// Channel code.
    #[serde(default)]
    pub channel: Option<String>,
    /// Only this case's contacts.
    #[serde(default)]
    pub case_id: Option<String>,
    /// Only contacts of no case (`true`).
    #[serde(default)]
    pub unattached: Option<bool>,
    /// Happened on or after, `YYYY-MM-DD`.
    #[serde(default)]
    pub from: Option<String>,
    /// Happened on or before, `YYYY-MM-DD`.
    #[serde(default)]
    pub to: Option<String>,
    /// Page, from 1.
    #[serde(default)]
    pub page: Option<i64>,
    /// Rows a page (1 to 200, default 50).
    #[serde(default)]
    pub per_page: Option<i64>,
}

/// A page of contacts.
#[derive(Debug, serde::Serialize)]
pub struct ContactPage {
    items: Vec<Contact>,
    total: i64,
    page: i64,
    per_page: i64,
}

/// `GET /api/v1/contacts`: contacts matching filters, newest first, a page at a time.
#[utoipa::path(get, path = "/api/v1/contacts", tag = "contacts", params(ContactQuery),
    responses((status = 200, description = "{items, total, page, per_page}"), (status = 422, body = crate::error::Problem)))]
pub async fn list(
    State(state): State<AppState>,
    p: Principal,
    super::ApiQuery(q): super::ApiQuery<ContactQuery>,
) -> AppResult<Json<ContactPage>> {
    let mut probs = crate::intake::Problems::default();
    let channel = q
        .channel
        .as_deref()
        .filter(|s| !s.is_empty())
        .and_then(|c| {
            c.parse::<lantern_domain::codes::Channel>()
                .map_err(|e| probs.add("channel", e.to_string()))
                .ok()
        });
    let from = q.from.as_deref().filter(|s| !s.is_empty()).and_then(|d| {
        super::cases::parse_due("from", d)
            .map_err(|_| probs.add("from", "expected YYYY-MM-DD"))
            .ok()
    });
    let to = q.to.as_deref().filter(|s| !s.is_empty()).and_then(|d| {
        super::cases::parse_due("to", d)
            .map_err(|_| probs.add("to", "expected YYYY-MM-DD"))
            .ok()
    });
    let per_page = q.per_page.unwrap_or(50);
    if !(1..=200).contains(&per_page) {
        probs.add("per_page", "must be 1 to 200");
    }
    let page = q.page.unwrap_or(1);
    if page < 1 {
        probs.add("page", "pages start at 1");
    }
    probs.into_result()?;
    let f = lantern_store::ContactFilter {
        channel: channel.map(|c| c.code().to_owned()),
        case_id: q.case_id.clone().filter(|s| !s.is_empty()),
        unattached: q.unattached.unwrap_or(false),
        from_us: from.map(|t| t - 86_399_000_000),
        to_us: to.map(|t| t + 1),
        limit: per_page,
        offset: (page - 1) * per_page,
    };
    let (items, total) = state
        .store
        .list_contacts(&p.ctx(), &p.user.hotline_id, &f)
        .await?;
    Ok(Json(ContactPage {
        items,
        total,
        page,
        per_page,
    }))
}
