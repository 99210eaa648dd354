//! The case page: one situation's timeline of contacts, determinations, parties, tasks and notes.

use super::directory::Pairs;
use super::{Chrome, PageForm, PageResult, render};
use crate::accounts::format_time;
use crate::api::cases::{self as api, TaskInput};
use crate::auth::Principal;
use crate::error::AppError;
use crate::pages::review::outcome_label;
use crate::state::AppState;
use askama::Template;
use axum::extract::{Path, State};
use axum::response::{IntoResponse, Redirect};
use lantern_domain::case::CaseDetails;
use lantern_domain::codes::{
    CaseStatus, Code as _, Gender, IdentifierKind, PartyRole, ServiceType,
};
use serde::Deserialize;

/// A code shown to people: `sex_and_labor` → `Sex and labor`.
pub fn label(code: &str) -> String {
    let s = code.replace('_', " ");
    let mut c = s.chars();
    match c.next() {
        Some(f) => f.to_uppercase().chain(c).collect(),
        None => s,
    }
}

/// One entry of the timeline.
#[derive(Debug)]
pub struct Entry {
    at: i64,
    when: String,
    kind: &'static str,
    summary: String,
    lines: Vec<String>,
}

/// A party as the page shows it.
#[derive(Debug)]
pub struct PartyRow {
    role: String,
    facts: String,
    identifiers: Vec<String>,
}

/// A task as the page shows it.
#[derive(Debug)]
pub struct TaskRow {
    id: String,
    title: String,
    due: Option<String>,
    done: bool,
}

#[derive(Template)]
#[template(path = "case.html")]
struct CasePage {
    chrome: Option<Chrome>,
    case_id: String,
    number: i64,
    status: String,
    form: String,
    state: String,
    opened: String,
    updated: String,
    safety_plan: Option<String>,
    timeline: Vec<Entry>,
    parties: Vec<PartyRow>,
    tasks: Vec<TaskRow>,
    csrf: String,
    message: Option<String>,
    statuses: Vec<(&'static str, &'static str)>,
    roles: Vec<(&'static str, &'static str)>,
    genders: Vec<(&'static str, &'static str)>,
    kinds: Vec<(&'static str, &'static str)>,
    referrals: Vec<super::referrals::ReferralRow>,
    /// Every service type, with whether the case needs it.
    needs: Vec<(&'static str, &'static str, bool)>,
}

/// A stored case's coded details.
fn details_of(c: &lantern_store::Case) -> Result<CaseDetails, AppError> {
    serde_json::from_str(&c.details_json)
        .map_err(|e| anyhow::anyhow!("stored details of case {} do not read: {e}", c.id).into())
}

async fn page(state: &AppState, p: &Principal, id: &str, message: Option<String>) -> PageResult {
    let chrome = Chrome::new(state, p, "/cases").await?;
    let f = state
        .store
        .case_file(&p.ctx(), &p.user.hotline_id, id)
        .await?;
    let mut timeline = Vec::new();
    for c in &f.contacts {
        let mut lines = Vec::new();
        if let Some(n) = &c.narrative {
            lines.push(n.clone());
        }
        timeline.push(Entry {
            at: c.occurred_at_us,
            when: format_time(c.occurred_at_us),
            kind: "Contact",
            summary: [
                Some(label(&c.channel)),
                c.signaler_type.as_deref().map(label),
                c.state.clone(),
            ]
            .into_iter()
            .flatten()
            .collect::<Vec<_>>()
            .join(" · "),
            lines,
        });
        for d in &c.determinations {
            let mut lines = d.reasons.clone();
            if !d.missing.is_empty() {
                lines.push(format!("Still missing: {}", d.missing.join(", ")));
            }
            if let Some(r) = &d.review_status {
                lines.push(format!(
                    "Review: {r}{}",
                    d.review_comment
                        .as_deref()
                        .map(|c| format!(" — {c}"))
                        .unwrap_or_default()
                ));
            }
            timeline.push(Entry {
                at: d.created_at_us,
                when: format_time(d.created_at_us),
                kind: "Screening",
                summary: format!(
                    "{}{} (rules {})",
                    outcome_label(&d.outcome),
                    if d.minor_rule_applied {
                        ", minor rule"
                    } else {
                        ""
                    },
                    d.rules_version
                ),
                lines,
            });
        }
    }
    for n in &f.notes {
        timeline.push(Entry {
            at: n.created_at_us,
            when: format_time(n.created_at_us),
            kind: "Note",
            summary: n.body.clone(),
            lines: vec![],
        });
    }
    timeline.sort_by_key(|e| e.at);
    let parties = f
        .parties
        .iter()
        .map(|pt| PartyRow {
            role: label(&pt.role),
            facts: [
                pt.gender.as_deref().map(label),
                pt.age.map(|a| format!("age {a}")),
                pt.age_band.as_ref().map(|b| format!("age {b}")),
                pt.nationality.clone(),
            ]
            .into_iter()
            .flatten()
            .collect::<Vec<_>>()
            .join(", "),
            identifiers: pt
                .identifiers
                .iter()
                .map(|i| format!("{}: {}", label(&i.kind), i.value))
                .collect(),
        })
        .collect();
    let tasks = f
        .tasks
        .iter()
        .map(|t| TaskRow {
            id: t.id.clone(),
            title: t.title.clone(),
            due: t.due_at_us.map(|d| format_time(d)[..10].to_owned()),
            done: t.done_at_us.is_some(),
        })
        .collect();
    let c = &f.case;
    let referrals = state
        .store
        .list_referrals(
            &p.ctx(),
            &p.user.hotline_id,
            &lantern_store::ReferralFilter {
                case_id: Some(id.to_owned()),
                ..Default::default()
            },
        )
        .await?
        .iter()
        .map(super::referrals::ReferralRow::of)
        .collect();
    let needed = details_of(c)?.needs;
    render(&CasePage {
        needs: ServiceType::ALL
            .iter()
            .map(|t| (t.code(), t.label(), needed.contains(t)))
            .collect(),
        referrals,
        chrome: Some(chrome),
        case_id: c.id.clone(),
        number: c.number,
        status: label(&c.status),
        form: label(&c.form),
        state: c.state.clone().unwrap_or_else(|| "unknown".into()),
        opened: format_time(c.opened_at_us),
        updated: format_time(c.updated_at_us),
        safety_plan: c.safety_plan.clone(),
        timeline,
        parties,
        tasks,
        csrf: p.csrf().to_owned(),
        message,
        statuses: CaseStatus::ALL
            .iter()
            .map(|s| (s.code(), s.label()))
            .collect(),
        roles: PartyRole::ALL
            .iter()
            .map(|s| (s.code(), s.label()))
            .collect(),
        genders: Gender::ALL.iter().map(|s| (s.code(), s.label())).collect(),
        kinds: IdentifierKind::ALL
            .iter()
            .map(|s| (s.code(), s.label()))
            .collect(),
    })
}

/// The status form.
#[derive(Debug, Deserialize)]
pub struct StatusForm {
    status: String,
}

/// `POST /cases/{id}/status`.
pub async fn set_status(
    State(state): State<AppState>,
    p: Principal,
    Path(id): Path<String>,
    PageForm(f): PageForm<StatusForm>,
) -> PageResult {
    let status = f
        .status
        .parse::<CaseStatus>()
        .map_err(|e| AppError::invalid("status", e.to_string()))?;
    api::change(
        &state,
        &p,
        &id,
        api::CasePatch {
            status: Some(status),
            form: None,
            details: None,
            safety_plan: None,
            assignee_id: None,
        },
    )
    .await?;
    page(
        &state,
        &p,
        &id,
        Some(format!("Status: {}.", status.label())),
    )
    .await
}

/// The safety plan form.
#[derive(Debug, Deserialize)]
pub struct SafetyForm {
    #[serde(default)]
    safety_plan: String,
}

/// `POST /cases/{id}/safety`.
pub async fn set_safety(
    State(state): State<AppState>,
    p: Principal,
    Path(id): Path<String>,
    PageForm(f): PageForm<SafetyForm>,
) -> PageResult {
    if f.safety_plan.chars().count() > 20_000 {
        return Err(AppError::invalid("safety_plan", "at most 20000 characters").into());
    }
    api::change(
        &state,
        &p,
        &id,
        api::CasePatch {
            status: None,
            form: None,
            details: None,
            safety_plan: Some(f.safety_plan),
            assignee_id: None,
        },
    )
    .await?;
    page(&state, &p, &id, Some("Safety plan saved.".into())).await
}

/// `POST /cases/{id}/needs`: what the case's people need (checkboxes `needs`, service types),
/// replacing what was recorded.
pub async fn set_needs(
    State(state): State<AppState>,
    p: Principal,
    Path(id): Path<String>,
    f: Pairs,
) -> PageResult {
    let mut needs = Vec::new();
    for v in f.all("needs") {
        let t =
            ServiceType::parse(v.trim()).map_err(|e| AppError::invalid("needs", e.to_string()))?;
        if !needs.contains(&t) {
            needs.push(t);
        }
    }
    let c = state.store.case(&p.ctx(), &p.user.hotline_id, &id).await?;
    let mut details = details_of(&c)?;
    details.needs = needs;
    // Only the details change: the case keeps its main state (a details patch of the API would set
    // it from the places).
    let change = lantern_store::CaseChange {
        details_json: Some(serde_json::to_string(&details).map_err(anyhow::Error::from)?),
        ..Default::default()
    };
    state
        .store
        .update_case(&p.ctx(), &p.user.hotline_id, &id, &change)
        .await?;
    page(&state, &p, &id, Some("Needs saved.".into())).await
}

/// The add-party form.
#[derive(Debug, Deserialize)]
pub struct PartyForm {
    role: String,
    #[serde(default)]
    gender: String,
    #[serde(default)]
    age: String,
    #[serde(default)]
    kind: String,
    #[serde(default)]
    value: String,
}

/// `POST /cases/{id}/parties`.
pub async fn add_party(
    State(state): State<AppState>,
    p: Principal,
    Path(id): Path<String>,
    PageForm(f): PageForm<PartyForm>,
) -> PageResult {
    let mut doc = serde_json::json!({"role": f.role});
    if !f.gender.is_empty() {
        doc["gender"] = f.gender.into();
    }
    if !f.age.trim().is_empty() {
        doc["age"] = f
            .age
            .trim()
            .parse::<u32>()
            .map_err(|_| AppError::invalid("age", "must be a whole number of years"))?
            .into();
    }
    if !f.value.trim().is_empty() {
        doc["identifiers"] = serde_json::json!([{"kind": f.kind, "value": f.value}]);
    }
    let input: crate::intake::PartyInput = serde_path_to_error::deserialize(doc)
        .map_err(|e| AppError::invalid(e.path().to_string(), e.inner().to_string()))?;
    let case = state.store.case(&p.ctx(), &p.user.hotline_id, &id).await?;
    let mut probs = crate::intake::Problems::default();
    let mut party = crate::intake::party("party", &input, case.state.as_deref(), &mut probs);
    probs.into_result()?;
    party.case_id = id.clone();
    state
        .store
        .add_party(&p.ctx(), &p.user.hotline_id, &party)
        .await?;
    page(&state, &p, &id, Some("Party added.".into())).await
}

/// `GET /cases/{id}`.
pub async fn show(
    State(state): State<AppState>,
    p: Principal,
    Path(id): Path<String>,
) -> PageResult {
    page(&state, &p, &id, None).await
}

/// The note form.
#[derive(Debug, Deserialize)]
pub struct NoteForm {
    body: String,
}

/// `POST /cases/{id}/notes`.
pub async fn add_note(
    State(state): State<AppState>,
    p: Principal,
    Path(id): Path<String>,
    PageForm(f): PageForm<NoteForm>,
) -> PageResult {
    api::add_note(&state, &p, &id, &f.body).await?;
    page(&state, &p, &id, Some("Note saved.".into())).await
}

/// The task form.
#[derive(Debug, Deserialize)]
pub struct TaskForm {
    title: String,
    #[serde(default)]
    due: Option<String>,
}

/// `POST /cases/{id}/tasks`.
pub async fn add_task(
    State(state): State<AppState>,
    p: Principal,
    Path(id): Path<String>,
    PageForm(f): PageForm<TaskForm>,
) -> PageResult {
    api::add_task(
        &state,
        &p,
        &id,
        &TaskInput {
            title: f.title,
            due: f.due,
            assignee_id: None,
        },
    )
    .await?;
    page(&state, &p, &id, Some("Task added.".into())).await
}

/// The task toggle form.
#[derive(Debug, Deserialize)]
pub struct TaskToggle {
    case_id: String,
    done: bool,
}

/// `POST /tasks/{id}`: marks a task done or reopens it, then returns to its case.
pub async fn toggle_task(
    State(state): State<AppState>,
    p: Principal,
    Path(id): Path<String>,
    PageForm(f): PageForm<TaskToggle>,
) -> PageResult {
    state
        .store
        .set_task_done(&p.ctx(), &p.user.hotline_id, &id, f.done)
        .await?;
    Ok(Redirect::to(&format!("/cases/{}#tasks", urlencode(&f.case_id))).into_response())
}

fn urlencode(s: &str) -> String {
    form_urlencoded::byte_serialize(s.as_bytes()).collect()
}

/// A case in the list.
#[derive(Debug)]
pub struct ListRow {
    id: String,
    number: i64,
    status: String,
    form: String,
    state: String,
    contacts: i64,
    opened: String,
}

#[derive(Template)]
#[template(path = "cases.html")]
struct ListPage {
    chrome: Option<Chrome>,
    csrf: String,
    rows: Vec<ListRow>,
    total: i64,
    page: i64,
    pages: i64,
    q: String,
    status: String,
    form: String,
    state: String,
    assignee: String,
    from: String,
    to: String,
    statuses: Vec<(&'static str, &'static str)>,
    forms: Vec<(&'static str, &'static str)>,
    states: Vec<&'static str>,
}

/// The search form (all optional).
#[derive(Debug, Default, Deserialize)]
pub struct SearchForm {
    #[serde(default)]
    q: String,
    #[serde(default)]
    status: String,
    #[serde(default)]
    form: String,
    #[serde(default)]
    state: String,
    #[serde(default)]
    assignee: String,
    #[serde(default)]
    from: String,
    #[serde(default)]
    to: String,
    #[serde(default)]
    page: Option<i64>,
}

async fn list_page(state: &AppState, p: &Principal, f: SearchForm) -> PageResult {
    use lantern_domain::codes::{CaseForm, CaseStatus};
    let chrome = Chrome::new(state, p, "/cases").await?;
    let none = |s: &str| Some(s.to_owned()).filter(|s| !s.trim().is_empty());
    let q = crate::api::cases::CaseQuery {
        status: none(&f.status),
        form: none(&f.form),
        assignee: none(&f.assignee),
        state: none(&f.state),
        from: none(&f.from),
        to: none(&f.to),
        q: none(&f.q),
        page: f.page,
        per_page: Some(50),
    };
    let (filter, page, per_page) = crate::api::cases::filter(state, p, &q)?;
    let (items, total) = state
        .store
        .list_cases(&p.ctx(), &p.user.hotline_id, &filter)
        .await?;
    let rows = items
        .into_iter()
        .map(|s| ListRow {
            id: s.case.id,
            number: s.case.number,
            status: label(&s.case.status),
            form: label(&s.case.form),
            state: s.case.state.unwrap_or_default(),
            contacts: s.contacts,
            opened: format_time(s.case.opened_at_us),
        })
        .collect();
    render(&ListPage {
        chrome: Some(chrome),
        csrf: p.csrf().to_owned(),
        rows,
        total,
        page,
        pages: (total + per_page - 1) / per_page,
        q: f.q,
        status: f.status,
        form: f.form,
        state: f.state,
        assignee: f.assignee,
        from: f.from,
        to: f.to,
        statuses: CaseStatus::ALL
            .iter()
            .map(|s| (s.code(), s.label()))
            .collect(),
        forms: CaseForm::ALL
            .iter()
            .map(|s| (s.code(), s.label()))
            .collect(),
        states: lantern_domain::case::us_states(),
    })
}

/// `GET /cases`: open cases, newest first.
pub async fn list(State(state): State<AppState>, p: Principal) -> PageResult {
    list_page(
        &state,
        &p,
        SearchForm {
            status: "open".into(),
            ..Default::default()
        },
    )
    .await
}

/// `POST /cases/search`: filters and search by case number, phone or email (a POST, so a phone number
/// or an email never lands in a URL, a log or the browser's history).
pub async fn search(
    State(state): State<AppState>,
    p: Principal,
    PageForm(f): PageForm<SearchForm>,
) -> PageResult {
    list_page(&state, &p, f).await
}
