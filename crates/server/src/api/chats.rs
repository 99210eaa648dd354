//! `/api/v1/chats`: the web chat's records — chats of the hotline, a chat's transcript, the staff signed in
//! to chat (for transfers), and linking a chat's contact to a new or existing case. The live conversation
//! itself runs over the console's WebSocket (`/chats/socket`).

use super::{ApiJson, ApiQuery};
use crate::auth::Principal;
use crate::chat::ChatStaff;
use crate::error::{AppError, AppResult};
use crate::state::AppState;
use axum::Json;
use axum::extract::{Path, State};
use lantern_store::{ChatRecord, ChatTranscript, NewCase};
use serde::{Deserialize, Serialize};

/// Query of the chat list.
#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
pub struct ChatQuery {
    /// `waiting`, `active` or `ended`; every chat not ended when absent.
    #[serde(default)]
    pub state: Option<String>,
    /// At most this many (1 to 500, default 100).
    #[serde(default)]
    pub limit: Option<i64>,
}

/// `GET /api/v1/chats`: the hotline's chats, newest first (no message texts).
#[utoipa::path(get, path = "/api/v1/chats", tag = "chat", params(ChatQuery),
    responses((status = 200, description = "The chats"), (status = 422, body = crate::error::Problem)))]
pub async fn list(
    State(state): State<AppState>,
    p: Principal,
    ApiQuery(q): ApiQuery<ChatQuery>,
) -> AppResult<Json<Vec<ChatRecord>>> {
    let limit = q.limit.unwrap_or(100);
    if !(1..=500).contains(&limit) {
        return Err(AppError::invalid("limit", "must be 1 to 500"));
    }
    let st = q.state.filter(|s| !s.is_empty());
    if let Some(s) = &st
        && !lantern_store::CHAT_STATES.contains(&s.as_str())
    {
        return Err(AppError::invalid(
            "state",
            "must be waiting, active or ended",
        ));
    }
    Ok(Json(
        state
            .store
            .list_chats(&p.ctx(), &p.user.hotline_id, st.as_deref(), limit)
            .await?,
    ))
}

/// `GET /api/v1/chats/staff`: the advocates and supervisors of the hotline signed in to chat on this server.
#[utoipa::path(get, path = "/api/v1/chats/staff", tag = "chat",
    responses((status = 200, body = Vec<ChatStaff>)))]
pub async fn staff(State(state): State<AppState>, p: Principal) -> Json<Vec<ChatStaff>> {
    Json(state.chat.staff(&p.user.hotline_id))
}

/// `GET /api/v1/chats/{id}`: a chat with its transcript (a read of personal data, audited).
#[utoipa::path(get, path = "/api/v1/chats/{id}", tag = "chat", params(("id" = String, Path, description = "Chat id")),
    responses((status = 200, description = "The chat and its messages by number"), (status = 404, body = crate::error::Problem)))]
pub async fn get(
    State(state): State<AppState>,
    p: Principal,
    Path(id): Path<String>,
) -> AppResult<Json<ChatTranscript>> {
    Ok(Json(
        state
            .store
            .chat_transcript(&p.ctx(), &p.user.hotline_id, &id)
            .await?,
    ))
}

/// The case to link a chat to: an existing one by number, or a new one.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ChatLinkInput {
    /// The number of an existing case of the hotline.
    #[serde(default)]
    pub case_number: Option<i64>,
    /// Open a new case (status `open`, form `not_specified`) for the chat instead.
    #[serde(default)]
    pub new_case: bool,
}

/// Where a chat was linked.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ChatLinked {
    /// The case.
    pub case_id: String,
    /// Its number.
    pub case_number: i64,
}

/// Links a chat's contact to a case; shared by the console and the API.
pub async fn link_chat(
    state: &AppState,
    p: &Principal,
    chat_id: &str,
    input: &ChatLinkInput,
) -> AppResult<ChatLinked> {
    let case = match (input.case_number, input.new_case) {
        (Some(_), true) => {
            return Err(AppError::invalid(
                "case_number",
                "give a case number or new_case, not both",
            ));
        }
        (None, false) => {
            return Err(AppError::invalid(
                "case_number",
                "give the number of the case, or new_case: true",
            ));
        }
        (Some(n), false) => {
            let f = lantern_store::CaseFilter {
                number: Some(n),
                limit: 1,
                ..Default::default()
            };
            let (found, _) = state
                .store
                .list_cases(&p.ctx(), &p.user.hotline_id, &f)
                .await?;
            let c = found
                .into_iter()
                .next()
                .ok_or_else(|| AppError::invalid("case_number", "no case has this number"))?;
            (c.case.id, c.case.number)
        }
        (None, true) => {
            let c = state
                .store
                .create_case(
                    &p.ctx(),
                    &NewCase {
                        hotline_id: p.user.hotline_id.clone(),
                        status: "open".into(),
                        form: "not_specified".into(),
                        state: None,
                        details_json: "{}".into(),
                        safety_plan: None,
                        assignee_id: Some(p.user.id.clone()),
                        opened_at_us: None,
                    },
                )
                .await?;
            (c.id, c.number)
        }
    };
    let t = state
        .store
        .chat_transcript(&p.ctx(), &p.user.hotline_id, chat_id)
        .await?;
    state
        .store
        .attach_contact(&p.ctx(), &p.user.hotline_id, &t.chat.contact_id, &case.0)
        .await?;
    Ok(ChatLinked {
        case_id: case.0,
        case_number: case.1,
    })
}

/// `POST /api/v1/chats/{id}/link`: the chat's contact joins an existing case, or a new one.
#[utoipa::path(post, path = "/api/v1/chats/{id}/link", tag = "chat", params(("id" = String, Path, description = "Chat id")),
    request_body = ChatLinkInput, responses((status = 200, body = ChatLinked), (status = 404, body = crate::error::Problem),
        (status = 422, body = crate::error::Problem)))]
pub async fn link(
    State(state): State<AppState>,
    p: Principal,
    Path(id): Path<String>,
    ApiJson(input): ApiJson<ChatLinkInput>,
) -> AppResult<Json<ChatLinked>> {
    Ok(Json(link_chat(&state, &p, &id, &input).await?))
}
