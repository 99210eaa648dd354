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

/// Query of the case list.
#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
pub struct CaseQuery {
    /// Status code.
    #[serde(default)]
    pub status: Option<String>,
    /// Form code.
    #[serde(default)]
    pub form: Option<String>,
    /// Assignee user id, or `me`.
    #[serde(default)]
    pub assignee: Option<String>,
    /// USPS state code.
    #[serde(default)]
    pub state: Option<String>,
    /// Opened on or after, `YYYY-MM-DD`.
    #[serde(default)]
    pub from: Option<String>,
    /// Opened on or before, `YYYY-MM-DD`.
    #[serde(default)]
    pub to: Option<String>,
    /// A case number, a phone number or an email (exact, through the blind index).
    #[serde(default)]
    pub q: Option<String>,
    /// Page, from 1.
    #[serde(default)]
    pub page: Option<i64>,
    /// Rows a page (1 to 200, default 50).
    #[serde(default)]
    pub per_page: Option<i64>,
}

/// A page of cases.
#[derive(Debug, serde::Serialize)]
pub struct CasePage {
    /// The cases.
    pub items: Vec<lantern_store::CaseSummary>,
    /// How many match.
    pub total: i64,
    /// This page.
    pub page: i64,
    /// Rows a page.
    pub per_page: i64,
}

fn day_start(field: &str, s: &str) -> Result<i64, AppError> {
    Ok(parse_due(field, s)? - 86_399_000_000)
}

/// Turns a case query into the store's filter, checking every value.
pub fn filter(
    state: &AppState,
    p: &Principal,
    q: &CaseQuery,
) -> Result<(lantern_store::CaseFilter, i64, i64), AppError> {
    use lantern_domain::codes::{CaseForm, CaseStatus};
    let mut probs = crate::intake::Problems::default();
    let nonempty = |o: &Option<String>| {
        o.as_deref()
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(str::to_owned)
    };
    let status = nonempty(&q.status).and_then(|s| {
        s.parse::<CaseStatus>()
            .map_err(|e| probs.add("status", e.to_string()))
            .ok()
    });
    let form = nonempty(&q.form).and_then(|s| {
        s.parse::<CaseForm>()
            .map_err(|e| probs.add("form", e.to_string()))
            .ok()
    });
    let st = nonempty(&q.state).and_then(|s| {
        lantern_domain::case::us_state(&s)
            .map_err(|m| probs.add("state", m))
            .ok()
    });
    let from = nonempty(&q.from).and_then(|s| {
        day_start("from", &s)
            .map_err(|_| probs.add("from", "expected YYYY-MM-DD"))
            .ok()
    });
    let to = nonempty(&q.to).and_then(|s| {
        parse_due("to", &s)
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
    let mut f = lantern_store::CaseFilter {
        status: status.map(|s| s.code().to_owned()),
        form: form.map(|s| s.code().to_owned()),
        assignee_id: nonempty(&q.assignee).map(|a| if a == "me" { p.user.id.clone() } else { a }),
        state: st,
        opened_from_us: from,
        opened_to_us: to.map(|t| t + 1),
        limit: per_page,
        offset: (page.max(1) - 1) * per_page,
        ..Default::default()
    };
    if let Some(q) = nonempty(&q.q) {
        let digits: String = q.chars().filter(char::is_ascii_digit).collect();
        if q.contains('@') {
            match lantern_domain::identity::email(&q) {
                Ok(e) => {
                    f.identifier =
                        Some(("email".into(), state.store.keys().blind_index("email", &e)))
                }
                Err(m) => probs.add("q", m),
            }
        } else if digits.len() >= 7 {
            match lantern_domain::identity::phone_e164(&q) {
                Ok(ph) => {
                    f.identifier =
                        Some(("phone".into(), state.store.keys().blind_index("phone", &ph)))
                }
                Err(m) => probs.add("q", m),
            }
        } else if !digits.is_empty() && digits.len() == q.trim().trim_start_matches('#').len() {
            f.number = digits.parse().ok();
        } else {
            probs.add("q", "search by case number, phone number or email");
        }
    }
    probs.into_result()?;
    Ok((f, page, per_page))
}

/// `GET /api/v1/cases`: cases matching filters, newest first, a page at a time.
#[utoipa::path(get, path = "/api/v1/cases", tag = "cases", params(CaseQuery),
    responses((status = 200, description = "{items, total, page, per_page}"), (status = 422, body = crate::error::Problem)))]
pub async fn list(
    State(state): State<AppState>,
    p: Principal,
    super::ApiQuery(q): super::ApiQuery<CaseQuery>,
) -> AppResult<Json<CasePage>> {
    let (f, page, per_page) = filter(&state, &p, &q)?;
    let (items, total) = state
        .store
        .list_cases(&p.ctx(), &p.user.hotline_id, &f)
        .await?;
    Ok(Json(CasePage {
        items,
        total,
        page,
        per_page,
    }))
}

/// A new case.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CaseInput {
    /// Status (default `open`).
    #[serde(default)]
    pub status: Option<lantern_domain::codes::CaseStatus>,
    /// Form (default `not_specified`).
    #[serde(default)]
    pub form: Option<lantern_domain::codes::CaseForm>,
    /// Coded details.
    #[serde(default)]
    pub details: Option<lantern_domain::case::CaseDetails>,
    /// Safety plan.
    #[serde(default)]
    pub safety_plan: Option<String>,
    /// Responsible advocate (default: the caller).
    #[serde(default)]
    pub assignee_id: Option<String>,
}

/// `POST /api/v1/cases`.
#[utoipa::path(post, path = "/api/v1/cases", tag = "cases",
    request_body(content = serde_json::Value, description = "status, form, details {typology, locations, risk_factors, recruitment, recruiter_relation, means, needs}, safety_plan, assignee_id"),
    responses((status = 201, description = "The case"), (status = 422, body = crate::error::Problem)))]
pub async fn create(
    State(state): State<AppState>,
    p: Principal,
    ApiJson(c): ApiJson<CaseInput>,
) -> AppResult<Response> {
    let mut details = c.details.unwrap_or_default();
    details.check().map_err(|(f, m)| AppError::invalid(f, m))?;
    let safety_plan =
        crate::intake::Problems::default().text("safety_plan", c.safety_plan.as_deref(), 20_000);
    let new = lantern_store::NewCase {
        hotline_id: p.user.hotline_id.clone(),
        status: c
            .status
            .unwrap_or(lantern_domain::codes::CaseStatus::Open)
            .code()
            .into(),
        form: c
            .form
            .unwrap_or(lantern_domain::codes::CaseForm::NotSpecified)
            .code()
            .into(),
        state: details.locations.first().map(|l| l.state.clone()),
        details_json: serde_json::to_string(&details).expect("details serialise"),
        safety_plan,
        assignee_id: Some(c.assignee_id.unwrap_or_else(|| p.user.id.clone())),
        opened_at_us: None,
    };
    let case = state.store.create_case(&p.ctx(), &new).await?;
    Ok((StatusCode::CREATED, Json(case)).into_response())
}

/// A change to a case; absent fields stay as they are.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CasePatch {
    /// New status; must be an allowed transition.
    #[serde(default)]
    pub status: Option<lantern_domain::codes::CaseStatus>,
    /// New form.
    #[serde(default)]
    pub form: Option<lantern_domain::codes::CaseForm>,
    /// New coded details (replaces them).
    #[serde(default)]
    pub details: Option<lantern_domain::case::CaseDetails>,
    /// New safety plan (empty clears it).
    #[serde(default)]
    pub safety_plan: Option<String>,
    /// New assignee (empty unassigns).
    #[serde(default)]
    pub assignee_id: Option<String>,
}

/// Checks and applies a change; shared by the page and the API.
pub async fn change(
    state: &AppState,
    p: &Principal,
    id: &str,
    c: CasePatch,
) -> AppResult<lantern_store::Case> {
    let before = state.store.case(&p.ctx(), &p.user.hotline_id, id).await?;
    if let Some(next) = c.status {
        let cur: lantern_domain::codes::CaseStatus = before
            .status
            .parse()
            .map_err(|e: lantern_domain::codes::UnknownCode| anyhow::anyhow!(e))?;
        if cur != next && !cur.can_transition_to(next) {
            return Err(AppError::invalid(
                "status",
                format!(
                    "a {} case cannot become {}; reopen it first",
                    cur.code(),
                    next.code()
                ),
            ));
        }
    }
    let mut details = c.details;
    if let Some(d) = details.as_mut() {
        d.check().map_err(|(f, m)| AppError::invalid(f, m))?;
    }
    let change = lantern_store::CaseChange {
        status: c
            .status
            .map(|s| s.code().to_owned())
            .filter(|s| *s != before.status),
        form: c.form.map(|f| f.code().to_owned()),
        state: details
            .as_ref()
            .map(|d| d.locations.first().map(|l| l.state.clone())),
        details_json: details
            .as_ref()
            .map(|d| serde_json::to_string(d).expect("details serialise")),
        safety_plan: c
            .safety_plan
            .map(|s| Some(s.trim().to_owned()).filter(|s| !s.is_empty())),
        assignee_id: c.assignee_id.map(|a| Some(a).filter(|a| !a.is_empty())),
    };
    Ok(state
        .store
        .update_case(&p.ctx(), &p.user.hotline_id, id, &change)
        .await?)
}

/// `PATCH /api/v1/cases/{id}`.
#[utoipa::path(patch, path = "/api/v1/cases/{id}", tag = "cases", params(("id" = String, Path, description = "Case id")),
    request_body(content = serde_json::Value, description = "status, form, details, safety_plan, assignee_id"),
    responses((status = 200, description = "The case"), (status = 404, body = crate::error::Problem), (status = 422, body = crate::error::Problem)))]
pub async fn update(
    State(state): State<AppState>,
    p: Principal,
    Path(id): Path<String>,
    ApiJson(c): ApiJson<CasePatch>,
) -> AppResult<Json<lantern_store::Case>> {
    Ok(Json(change(&state, &p, &id, c).await?))
}

/// `POST /api/v1/cases/{id}/parties`.
#[utoipa::path(post, path = "/api/v1/cases/{id}/parties", tag = "cases", params(("id" = String, Path, description = "Case id")),
    request_body(content = crate::intake::PartyInput, description = "A party; codes are DOMAIN.md's"),
    responses((status = 201, description = "The party"), (status = 404, body = crate::error::Problem), (status = 422, body = crate::error::Problem)))]
pub async fn add_party(
    State(state): State<AppState>,
    p: Principal,
    Path(id): Path<String>,
    ApiJson(input): ApiJson<crate::intake::PartyInput>,
) -> AppResult<Response> {
    let case = state.store.case(&p.ctx(), &p.user.hotline_id, &id).await?;
    let mut probs = crate::intake::Problems::default();
    let mut party = crate::intake::party("party", &input, case.state.as_deref(), &mut probs);
    probs.into_result()?;
    party.case_id = id;
    let saved = state
        .store
        .add_party(&p.ctx(), &p.user.hotline_id, &party)
        .await?;
    Ok((StatusCode::CREATED, Json(saved)).into_response())
}

/// Identifiers to match against open cases.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MatchInput {
    /// The state, which names are paired with.
    #[serde(default)]
    pub state: Option<String>,
    /// Names, phones, emails.
    pub identifiers: Vec<crate::intake::IdentifierInput>,
}

/// An open case sharing an identifier.
#[derive(Debug, serde::Serialize)]
pub struct MatchView {
    case_id: String,
    number: i64,
    status: String,
    form: String,
    state: Option<String>,
    matched: String,
}

/// `POST /api/v1/cases/matches`: open cases that share an exact identifier (a phone, an email, a name in
/// the same state). A POST keeps the identifiers out of URLs and logs.
#[utoipa::path(post, path = "/api/v1/cases/matches", tag = "cases",
    request_body(content = serde_json::Value, description = "{state, identifiers: [{kind, value}]}"),
    responses((status = 200, description = "[{case_id, number, status, form, state, matched}]")))]
pub async fn matches(
    State(state): State<AppState>,
    p: Principal,
    ApiJson(m): ApiJson<MatchInput>,
) -> AppResult<Json<Vec<MatchView>>> {
    let st = m
        .state
        .as_deref()
        .filter(|s| !s.trim().is_empty())
        .map(lantern_domain::case::us_state)
        .transpose()
        .map_err(|e| AppError::invalid("state", e))?;
    let keys = crate::intake::match_keys(state.store.keys(), &m.identifiers, st.as_deref());
    let found = state
        .store
        .open_cases_sharing(&p.user.hotline_id, &keys)
        .await?;
    state
        .store
        .audit(
            &p.ctx(),
            "case.match",
            "case",
            None,
            serde_json::json!({"found": found.len()}),
        )
        .await?;
    Ok(Json(
        found
            .into_iter()
            .map(|(c, kind)| MatchView {
                case_id: c.id,
                number: c.number,
                status: c.status,
                form: c.form,
                state: c.state,
                matched: kind,
            })
            .collect(),
    ))
}

/// `PUT /api/v1/parties/{id}`: replaces a party's facts and identifiers (its role and case stay).
#[utoipa::path(put, path = "/api/v1/parties/{id}", tag = "cases", params(("id" = String, Path, description = "Party id")),
    request_body(content = crate::intake::PartyInput, description = "The party as it now is (role unchanged)"),
    responses((status = 200, description = "The party"), (status = 404, body = crate::error::Problem), (status = 422, body = crate::error::Problem)))]
pub async fn update_party(
    State(state): State<AppState>,
    p: Principal,
    Path(id): Path<String>,
    ApiJson(input): ApiJson<crate::intake::PartyInput>,
) -> AppResult<Json<lantern_store::Party>> {
    // Names are matched within the state of the party's case.
    let case_state = state
        .store
        .party_case_state(&p.user.hotline_id, &id)
        .await?;
    let mut probs = crate::intake::Problems::default();
    let party = crate::intake::party("party", &input, case_state.as_deref(), &mut probs);
    probs.into_result()?;
    Ok(Json(
        state
            .store
            .update_party(&p.ctx(), &p.user.hotline_id, &id, &party)
            .await?,
    ))
}

/// Query of the task list.
#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
pub struct TaskQuery {
    /// A user id, or `me`; everyone's when absent.
    #[serde(default)]
    pub assignee: Option<String>,
    /// Include tasks already done.
    #[serde(default)]
    pub include_done: Option<bool>,
}

/// `GET /api/v1/tasks`: open tasks first, by due date.
#[utoipa::path(get, path = "/api/v1/tasks", tag = "cases", params(TaskQuery), responses((status = 200, description = "[task]")))]
pub async fn tasks(
    State(state): State<AppState>,
    p: Principal,
    super::ApiQuery(q): super::ApiQuery<TaskQuery>,
) -> AppResult<Json<Vec<Task>>> {
    let assignee = q
        .assignee
        .filter(|a| !a.is_empty())
        .map(|a| if a == "me" { p.user.id.clone() } else { a });
    Ok(Json(
        state
            .store
            .list_tasks(
                &p.ctx(),
                &p.user.hotline_id,
                assignee.as_deref(),
                q.include_done.unwrap_or(false),
                500,
            )
            .await?,
    ))
}
