//! `/api/v1/sms`: the SMS console's API — conversations waiting for an advocate, a thread, replies (refused
//! with 409 to an opted-out number), retries, linking to a case, and closing.

use super::{ApiJson, ApiQuery};
use crate::auth::Principal;
use crate::error::AppResult;
use crate::sms::{self, Delivery};
use crate::state::AppState;
use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use lantern_store::{SmsConversation, SmsConversationFilter, SmsThread};
use serde::Deserialize;

/// Query of the conversation list.
#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
pub struct ConversationQuery {
    /// `waiting`, `open` or `closed`; every conversation not closed when absent.
    #[serde(default)]
    pub status: Option<String>,
    /// At most this many (1 to 500, default 100).
    #[serde(default)]
    pub limit: Option<i64>,
}

/// `GET /api/v1/sms/conversations`: conversations, oldest activity first, each with its opt-out state.
#[utoipa::path(get, path = "/api/v1/sms/conversations", tag = "sms", params(ConversationQuery),
    responses((status = 200, description = "The conversations"), (status = 422, body = crate::error::Problem)))]
pub async fn list(
    State(state): State<AppState>,
    p: Principal,
    ApiQuery(q): ApiQuery<ConversationQuery>,
) -> AppResult<Json<Vec<SmsConversation>>> {
    let limit = q.limit.unwrap_or(100);
    if !(1..=500).contains(&limit) {
        return Err(crate::error::AppError::invalid("limit", "must be 1 to 500"));
    }
    let status = q.status.filter(|s| !s.is_empty());
    if let Some(s) = &status
        && !["waiting", "open", "closed"].contains(&s.as_str())
    {
        return Err(crate::error::AppError::invalid(
            "status",
            "must be waiting, open or closed",
        ));
    }
    let f = SmsConversationFilter { status, limit };
    Ok(Json(
        state
            .store
            .list_sms_conversations(&p.ctx(), &p.user.hotline_id, &f)
            .await?,
    ))
}

/// `GET /api/v1/sms/conversations/{id}`: a conversation with its messages.
#[utoipa::path(get, path = "/api/v1/sms/conversations/{id}", tag = "sms", params(("id" = String, Path, description = "Conversation id")),
    responses((status = 200, description = "The conversation and its messages, oldest first"), (status = 404, body = crate::error::Problem)))]
pub async fn get(
    State(state): State<AppState>,
    p: Principal,
    Path(id): Path<String>,
) -> AppResult<Json<SmsThread>> {
    Ok(Json(
        state
            .store
            .sms_thread(&p.ctx(), &p.user.hotline_id, &id)
            .await?,
    ))
}

/// A reply.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReplyInput {
    /// The text, 1 to 1,600 characters.
    pub body: String,
}

/// Sends an advocate's reply in a conversation; shared by the page and the API.
pub async fn reply(
    state: &AppState,
    p: &Principal,
    conversation_id: &str,
    body: &str,
) -> AppResult<Delivery> {
    let body = sms::check_body(body)?;
    let start = state
        .store
        .start_sms_reply(
            &p.ctx(),
            &p.user.hotline_id,
            conversation_id,
            body,
            &p.user.id,
        )
        .await?;
    sms::deliver(state, &p.ctx(), &p.user.hotline_id, start).await
}

/// `POST /api/v1/sms/conversations/{id}/messages`: sends a reply through the configured provider.
#[utoipa::path(post, path = "/api/v1/sms/conversations/{id}/messages", tag = "sms", params(("id" = String, Path, description = "Conversation id")),
    request_body = ReplyInput,
    responses((status = 201, body = Delivery), (status = 409, description = "The recipient opted out: nothing sent", body = crate::error::Problem),
        (status = 422, body = crate::error::Problem), (status = 502, description = "The provider did not take it; kept as failed", body = crate::error::Problem)))]
pub async fn send(
    State(state): State<AppState>,
    p: Principal,
    Path(id): Path<String>,
    ApiJson(input): ApiJson<ReplyInput>,
) -> AppResult<Response> {
    let d = reply(&state, &p, &id, &input.body).await?;
    Ok((StatusCode::CREATED, Json(d)).into_response())
}

/// Sends a failed message again; shared by the page and the API.
pub async fn retry_message(
    state: &AppState,
    p: &Principal,
    message_id: &str,
) -> AppResult<Delivery> {
    let start = state
        .store
        .start_sms_retry(&p.ctx(), &p.user.hotline_id, message_id)
        .await?;
    sms::deliver(state, &p.ctx(), &p.user.hotline_id, start).await
}

/// `POST /api/v1/sms/messages/{id}/retry`: sends a failed message again, unless the recipient opted out.
#[utoipa::path(post, path = "/api/v1/sms/messages/{id}/retry", tag = "sms", params(("id" = String, Path, description = "Message id")),
    responses((status = 201, body = Delivery), (status = 409, description = "The recipient opted out: nothing sent", body = crate::error::Problem),
        (status = 404, body = crate::error::Problem), (status = 422, body = crate::error::Problem)))]
pub async fn retry(
    State(state): State<AppState>,
    p: Principal,
    Path(id): Path<String>,
) -> AppResult<Response> {
    let d = retry_message(&state, &p, &id).await?;
    Ok((StatusCode::CREATED, Json(d)).into_response())
}

/// The case to link a conversation to.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LinkInput {
    /// The case.
    pub case_id: String,
}

/// Links a conversation to a case (its contact joins the case); shared by the page and the API.
pub async fn link_case(
    state: &AppState,
    p: &Principal,
    conversation_id: &str,
    case_id: &str,
) -> AppResult<()> {
    let thread = state
        .store
        .sms_thread(&p.ctx(), &p.user.hotline_id, conversation_id)
        .await?;
    state
        .store
        .attach_contact(
            &p.ctx(),
            &p.user.hotline_id,
            &thread.conversation.contact_id,
            case_id,
        )
        .await?;
    Ok(())
}

/// `POST /api/v1/sms/conversations/{id}/link`: the conversation's contact joins a case.
#[utoipa::path(post, path = "/api/v1/sms/conversations/{id}/link", tag = "sms", params(("id" = String, Path, description = "Conversation id")),
    request_body = LinkInput, responses((status = 204), (status = 404, body = crate::error::Problem)))]
pub async fn link(
    State(state): State<AppState>,
    p: Principal,
    Path(id): Path<String>,
    ApiJson(input): ApiJson<LinkInput>,
) -> AppResult<StatusCode> {
    link_case(&state, &p, &id, &input.case_id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// A conversation's new status.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct StatusInput {
    /// `waiting`, `open` (taken by the caller) or `closed`.
    pub status: String,
}

/// `POST /api/v1/sms/conversations/{id}/status`: takes, puts back or closes a conversation.
#[utoipa::path(post, path = "/api/v1/sms/conversations/{id}/status", tag = "sms", params(("id" = String, Path, description = "Conversation id")),
    request_body = StatusInput, responses((status = 204), (status = 404, body = crate::error::Problem), (status = 422, body = crate::error::Problem)))]
pub async fn set_status(
    State(state): State<AppState>,
    p: Principal,
    Path(id): Path<String>,
    ApiJson(input): ApiJson<StatusInput>,
) -> AppResult<StatusCode> {
    if !["waiting", "open", "closed"].contains(&input.status.as_str()) {
        return Err(crate::error::AppError::invalid(
            "status",
            "must be waiting, open or closed",
        ));
    }
    let assignee = (input.status == "open").then_some(p.user.id.as_str());
    state
        .store
        .set_sms_status(&p.ctx(), &p.user.hotline_id, &id, &input.status, assignee)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}
