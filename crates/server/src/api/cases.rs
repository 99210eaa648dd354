//! Cases: the case file, notes and tasks.

use super::ApiJson;
use crate::auth::Principal;
use crate::error::{AppError, AppResult};
use crate::state::AppState;
use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use lantern_store::{CaseFile, Note, Task};
use serde::Deserialize;

/// `GET /api/v1/cases/{id}`: the case with its contacts, determinations, parties, tasks and notes.
#[utoipa::path(get, path = "/api/v1/cases/{id}", tag = "cases", params(("id" = String, Path, description = "Case id")),
    responses((status = 200, description = "The case file"), (status = 404, body = crate::error::Problem)))]
pub async fn file(
    State(state): State<AppState>,
    p: Principal,
    Path(id): Path<String>,
) -> AppResult<Json<CaseFile>> {
    Ok(Json(
        state
            .store
            .case_file(&p.ctx(), &p.user.hotline_id, &id)
            .await?,
    ))
}

/// A new note.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NoteInput {
    /// The text (1 to 20,000 characters).
    pub body: String,
}

/// Checks and adds a note; shared by the page and the API.
pub async fn add_note(
    state: &AppState,
    p: &Principal,
    case_id: &str,
    body: &str,
) -> AppResult<Note> {
    let body = body.trim();
    if body.is_empty() || body.chars().count() > 20_000 {
        return Err(AppError::invalid("body", "must be 1 to 20000 characters"));
    }
    Ok(state
        .store
        .add_note(&p.ctx(), &p.user.hotline_id, case_id, body)
        .await?)
}

/// `POST /api/v1/cases/{id}/notes`.
#[utoipa::path(post, path = "/api/v1/cases/{id}/notes", tag = "cases", params(("id" = String, Path, description = "Case id")),
    request_body = NoteInput, responses((status = 201, description = "The note"), (status = 404, body = crate::error::Problem), (status = 422, body = crate::error::Problem)))]
pub async fn create_note(
    State(state): State<AppState>,
    p: Principal,
    Path(id): Path<String>,
    ApiJson(n): ApiJson<NoteInput>,
) -> AppResult<Response> {
    let note = add_note(&state, &p, &id, &n.body).await?;
    Ok((StatusCode::CREATED, Json(note)).into_response())
}

/// A new task.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TaskInput {
    /// What to do.
    pub title: String,
    /// Due date, `YYYY-MM-DD` (end of that day, UTC).
    #[serde(default)]
    pub due: Option<String>,
    /// Who does it (a user id of the hotline).
    #[serde(default)]
    pub assignee_id: Option<String>,
}

/// Parses `YYYY-MM-DD` into the end of that day, Unix microseconds.
pub fn parse_due(field: &str, s: &str) -> Result<i64, AppError> {
    let fmt = time::macros::format_description!("[year]-[month]-[day]");
    let d = time::Date::parse(s.trim(), fmt)
        .map_err(|_| AppError::invalid(field, "expected a date as YYYY-MM-DD"))?;
    let end = d.with_hms(23, 59, 59).expect("a valid time").assume_utc();
    Ok((end.unix_timestamp_nanos() / 1000) as i64)
}

/// Checks and adds a task; shared by the page and the API.
pub async fn add_task(
    state: &AppState,
    p: &Principal,
    case_id: &str,
    input: &TaskInput,
) -> AppResult<Task> {
    let title = input.title.trim();
    if title.is_empty() || title.chars().count() > 500 {
        return Err(AppError::invalid("title", "must be 1 to 500 characters"));
    }
    let due = input
        .due
        .as_deref()
        .filter(|s| !s.trim().is_empty())
        .map(|s| parse_due("due", s))
        .transpose()?;
    let assignee = input.assignee_id.as_deref().filter(|s| !s.is_empty());
    Ok(state
        .store
        .add_task(&p.ctx(), &p.user.hotline_id, case_id, title, due, assignee)
        .await?)
}

/// `POST /api/v1/cases/{id}/tasks`.
#[utoipa::path(post, path = "/api/v1/cases/{id}/tasks", tag = "cases", params(("id" = String, Path, description = "Case id")),
    request_body = TaskInput, responses((status = 201, description = "The task"), (status = 404, body = crate::error::Problem), (status = 422, body = crate::error::Problem)))]
pub async fn create_task(
    State(state): State<AppState>,
    p: Principal,
    Path(id): Path<String>,
    ApiJson(t): ApiJson<TaskInput>,
) -> AppResult<Response> {
    let task = add_task(&state, &p, &id, &t).await?;
    Ok((StatusCode::CREATED, Json(task)).into_response())
}

/// A change to a task.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TaskPatch {
    /// Done or not.
    pub done: bool,
}

/// `PATCH /api/v1/tasks/{id}`.
#[utoipa::path(patch, path = "/api/v1/tasks/{id}", tag = "cases", params(("id" = String, Path, description = "Task id")),
    request_body = TaskPatch, responses((status = 204), (status = 404, body = crate::error::Problem)))]
pub async fn update_task(
    State(state): State<AppState>,
    p: Principal,
    Path(id): Path<String>,
    ApiJson(t): ApiJson<TaskPatch>,
) -> AppResult<StatusCode> {
    state
        .store
        .set_task_done(&p.ctx(), &p.user.hotline_id, &id, t.done)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}
