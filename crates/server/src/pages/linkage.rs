//! The network view: run linkage, see the last run, the networks of cases it found, and each network
//! drawn as a graph with every link's explanation; analysts confirm or reject links.

use super::{Chrome, PageForm, PageResult, render};
use crate::accounts;
use crate::api::linkage::{self as api, ComponentView, Decision};
use crate::auth::Principal;
use crate::policy::Action;
use crate::state::AppState;
use askama::Template;
use axum::extract::{Path, State};
use axum::response::{IntoResponse, Redirect};
use lantern_store::{ComponentSummary, LinkageRun};
use serde::Deserialize;

/// A run as the page shows it.
#[derive(Debug)]
pub struct RunRow {
    status: String,
    reason: String,
    requested: String,
    finished: Option<String>,
    records: Option<i64>,
    candidates: Option<i64>,
    links: Option<i64>,
    components: Option<i64>,
    error: Option<String>,
}

impl RunRow {
    fn of(r: &LinkageRun) -> Self {
        RunRow {
            status: r.status.clone(),
            reason: r.reason.clone(),
            requested: accounts::format_time(r.requested_at_us),
            finished: r.finished_at_us.map(accounts::format_time),
            records: r.records,
            candidates: r.candidates,
            links: r.links,
            components: r.components,
            error: r.error.clone(),
        }
    }
}

#[derive(Template)]
#[template(path = "linkage.html")]
struct LinkagePage {
    chrome: Option<Chrome>,
    csrf: String,
    may_run: bool,
    busy: bool,
    latest: Option<RunRow>,
    finished: Option<RunRow>,
    components: Vec<ComponentSummary>,
    message: Option<String>,
}

/// `GET /linkage`.
pub async fn show(State(state): State<AppState>, p: Principal) -> PageResult {
    let chrome = Chrome::new(&state, &p, "/linkage").await?;
    let (latest, finished) = state.store.latest_linkage_runs(&p.user.hotline_id).await?;
    let components = state
        .store
        .linkage_components(&p.user.hotline_id, 500)
        .await?;
    let busy = latest
        .as_ref()
        .is_some_and(|r| r.status == "queued" || r.status == "running");
    render(&LinkagePage {
        chrome: Some(chrome),
        csrf: p.csrf().to_owned(),
        may_run: p.may(Action::LinkageRun),
        busy,
        latest: latest.as_ref().map(RunRow::of),
        finished: finished.as_ref().map(RunRow::of),
        components,
        message: None,
    })
}

/// `POST /linkage/run`: queues a run and comes back to the page, which follows its progress.
pub async fn run(State(state): State<AppState>, p: Principal) -> PageResult {
    api::request(&state, &p).await?;
    Ok(Redirect::to("/linkage").into_response())
}

#[derive(Template)]
#[template(path = "linkage_component.html")]
struct ComponentPage {
    chrome: Option<Chrome>,
    csrf: String,
    may_decide: bool,
    c: ComponentView,
    message: Option<String>,
}

async fn component_page(
    state: &AppState,
    p: &Principal,
    id: &str,
    message: Option<String>,
) -> PageResult {
    let chrome = Chrome::new(state, p, "/linkage").await?;
    let c = api::component_view(state, p, id).await?;
    render(&ComponentPage {
        chrome: Some(chrome),
        csrf: p.csrf().to_owned(),
        may_decide: p.may(Action::LinkageRun),
        c,
        message,
    })
}

/// `GET /linkage/components/{id}`.
pub async fn component(
    State(state): State<AppState>,
    p: Principal,
    Path(id): Path<String>,
) -> PageResult {
    component_page(&state, &p, &id, None).await
}

/// The decision form.
#[derive(Debug, Deserialize)]
pub struct DecisionForm {
    decision: Decision,
}

/// `POST /linkage/links/{id}/decision`.
pub async fn decide(
    State(state): State<AppState>,
    p: Principal,
    Path(id): Path<String>,
    PageForm(f): PageForm<DecisionForm>,
) -> PageResult {
    let link = state
        .store
        .decide_linkage_link(&p.ctx(), &p.user.hotline_id, &id, f.decision.code())
        .await?;
    let verb = match f.decision {
        Decision::Confirmed => "Confirmed",
        Decision::Rejected => "Rejected",
    };
    component_page(
        &state,
        &p,
        &link.component_id,
        Some(format!(
            "{verb}. The next run keeps this pair {}.",
            if f.decision == Decision::Confirmed {
                "linked"
            } else {
                "apart"
            }
        )),
    )
    .await
}
