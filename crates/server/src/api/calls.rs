//! `/api/v1/calls` and `/api/v1/contacts/{id}/call`: live and recent calls, taking a queued call, and the
//! advocate's call log on a phone contact.

use super::{ApiJson, ApiQuery};
use crate::auth::Principal;
use crate::error::{AppError, AppResult};
use crate::state::AppState;
use crate::voice::CallLogInput;
use axum::Json;
use axum::extract::{Path, State};
use lantern_store::{Call, CallFilter};
use serde::{Deserialize, Serialize};

/// A call as the API shows it.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct CallView {
    /// Its id.
    pub id: String,
    /// Its contact (channel `phone`).
    pub contact_id: String,
    /// The contact's case, once attached.
    pub case_id: Option<String>,
    /// Twilio's call identifier; absent for a call logged by hand.
    pub call_sid: Option<String>,
    /// The hotline's number that was called.
    pub hotline_number: Option<String>,
    /// The caller's number (E.164); absent when withheld.
    pub caller: Option<String>,
    /// `inbound`, `outbound-api`, `outbound-dial`.
    pub direction: String,
    /// Twilio's call status: `queued`, `ringing`, `in-progress`, `completed`, `busy`, `failed`,
    /// `no-answer`, `canceled`.
    pub status: String,
    /// The advocate who took the call.
    pub advocate_id: Option<String>,
    /// Started, Unix microseconds.
    pub started_at_us: i64,
    /// Answered, Unix microseconds.
    pub answered_at_us: Option<i64>,
    /// Ended, Unix microseconds.
    pub ended_at_us: Option<i64>,
    /// Length in seconds.
    pub duration_s: Option<i64>,
    /// Who called (`signaler_type` code).
    pub signaler_type: Option<String>,
    /// The interpreter's language (ISO 639).
    pub interpreter_language: Option<String>,
    /// The interpreting service.
    pub interpreter_vendor: Option<String>,
    /// A warm transfer's target in words.
    pub transfer_target: Option<String>,
    /// A warm transfer's directory service.
    pub transfer_service_id: Option<String>,
}

impl From<Call> for CallView {
    fn from(c: Call) -> Self {
        CallView {
            id: c.id,
            contact_id: c.contact_id,
            case_id: c.case_id,
            call_sid: c.call_sid,
            hotline_number: c.hotline_number,
            caller: c.caller,
            direction: c.direction,
            status: c.status,
            advocate_id: c.advocate_id,
            started_at_us: c.started_at_us,
            answered_at_us: c.answered_at_us,
            ended_at_us: c.ended_at_us,
            duration_s: c.duration_s,
            signaler_type: c.signaler_type,
            interpreter_language: c.interpreter_language,
            interpreter_vendor: c.interpreter_vendor,
            transfer_target: c.transfer_target,
            transfer_service_id: c.transfer_service_id,
        }
    }
}

/// Query of the call list.
#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
pub struct CallQuery {
    /// Only calls that are not over (`true`).
    #[serde(default)]
    pub live: Option<bool>,
    /// At most this many (1 to 500, default 100).
    #[serde(default)]
    pub limit: Option<i64>,
}

/// `GET /api/v1/calls`: calls, newest first.
#[utoipa::path(get, path = "/api/v1/calls", tag = "calls", params(CallQuery),
    responses((status = 200, body = [CallView]), (status = 422, body = crate::error::Problem)))]
pub async fn list(
    State(state): State<AppState>,
    p: Principal,
    ApiQuery(q): ApiQuery<CallQuery>,
) -> AppResult<Json<Vec<CallView>>> {
    let limit = q.limit.unwrap_or(100);
    if !(1..=500).contains(&limit) {
        return Err(AppError::invalid("limit", "must be 1 to 500"));
    }
    let calls = state
        .store
        .list_calls(
            &p.ctx(),
            &p.user.hotline_id,
            &CallFilter {
                live_only: q.live.unwrap_or(false),
                since_us: None,
                limit,
            },
        )
        .await?;
    Ok(Json(calls.into_iter().map(CallView::from).collect()))
}

/// `POST /api/v1/calls/{id}/take`: the call becomes the caller's advocate's; 409 when another has it.
#[utoipa::path(post, path = "/api/v1/calls/{id}/take", tag = "calls", params(("id" = String, Path, description = "Call id")),
    responses((status = 200, body = CallView), (status = 404, body = crate::error::Problem), (status = 409, body = crate::error::Problem)))]
pub async fn take(
    State(state): State<AppState>,
    p: Principal,
    Path(id): Path<String>,
) -> AppResult<Json<CallView>> {
    let call = state
        .store
        .take_call(&p.ctx(), &p.user.hotline_id, &id, &p.user.id)
        .await?;
    Ok(Json(call.into()))
}

/// `GET /api/v1/contacts/{id}/call`: the call of a phone contact; 404 when it has none yet.
#[utoipa::path(get, path = "/api/v1/contacts/{id}/call", tag = "calls", params(("id" = String, Path, description = "Contact id")),
    responses((status = 200, body = CallView), (status = 404, body = crate::error::Problem)))]
pub async fn get_log(
    State(state): State<AppState>,
    p: Principal,
    Path(id): Path<String>,
) -> AppResult<Json<CallView>> {
    let call = state
        .store
        .call_of_contact(&p.ctx(), &p.user.hotline_id, &id)
        .await?
        .ok_or_else(|| AppError::not_found("call of this contact"))?;
    Ok(Json(call.into()))
}

/// `PUT /api/v1/contacts/{id}/call`: records the call log of a phone contact (every field at once).
#[utoipa::path(put, path = "/api/v1/contacts/{id}/call", tag = "calls", params(("id" = String, Path, description = "Contact id")),
    request_body = CallLogInput,
    responses((status = 200, body = CallView), (status = 404, body = crate::error::Problem), (status = 422, body = crate::error::Problem)))]
pub async fn put_log(
    State(state): State<AppState>,
    p: Principal,
    Path(id): Path<String>,
    ApiJson(input): ApiJson<CallLogInput>,
) -> AppResult<Json<CallView>> {
    let log = input.check(&state, &p.user.hotline_id).await?;
    let call = state
        .store
        .save_call_log(&p.ctx(), &p.user.hotline_id, &id, &log, &p.user.id)
        .await?;
    Ok(Json(call.into()))
}
