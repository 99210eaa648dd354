//! The supervisors' review queue page.

use super::{Chrome, PageForm, PageResult, render};
use crate::accounts;
use crate::api::review;
use crate::auth::Principal;
use crate::state::AppState;
use askama::Template;
use axum::extract::{Path, State};
use serde::Deserialize;

/// One determination as the page shows it.
#[derive(Debug)]
pub struct Item {
    id: String,
    case_id: String,
    case_number: Option<i64>,
    outcome_label: String,
    minor_rule_applied: bool,
    channel: String,
    state: Option<String>,
    when: String,
    reasons: Vec<String>,
    missing: Vec<String>,
}

/// A human label for an outcome code.
pub fn outcome_label(code: &str) -> String {
    match code {
        "likely_trafficking" => "Likely trafficking".into(),
        "possible_trafficking" => "Possible trafficking".into(),
        "labor_exploitation" => "Labor exploitation".into(),
        "smuggling" => "Smuggling".into(),
        "commercial_sex_no_indicators" => "Commercial sex, no trafficking indicators".into(),
        "insufficient_information" => "Insufficient information".into(),
        "not_trafficking" => "Not trafficking".into(),
        other => other.replace('_', " "),
    }
}

#[derive(Template)]
#[template(path = "review.html")]
struct ReviewPage {
    chrome: Option<Chrome>,
    items: Vec<Item>,
    csrf: String,
    message: Option<String>,
    referrals: Vec<super::referrals::ReferralRow>,
}

async fn page(state: &AppState, p: &Principal, message: Option<String>) -> PageResult {
    let chrome = Chrome::new(state, p, "/review").await?;
    let queue = state
        .store
        .review_queue(&p.user.hotline_id, "pending", 200)
        .await?;
    state
        .store
        .audit(
            &p.ctx(),
            "review.list",
            "determination",
            None,
            serde_json::json!({"count": queue.len()}),
        )
        .await?;
    let items = queue
        .into_iter()
        .map(|r| Item {
            id: r.determination.id,
            case_id: r.determination.case_id.unwrap_or_default(),
            case_number: r.case_number,
            outcome_label: outcome_label(&r.determination.outcome),
            minor_rule_applied: r.determination.minor_rule_applied,
            channel: r.channel,
            state: r.state,
            when: accounts::format_time(r.determination.created_at_us),
            reasons: r.determination.reasons,
            missing: r.determination.missing,
        })
        .collect();
    let referrals = state
        .store
        .list_referrals(
            &p.ctx(),
            &p.user.hotline_id,
            &lantern_store::ReferralFilter {
                status: Some("proposed".into()),
                ..Default::default()
            },
        )
        .await?
        .iter()
        .map(super::referrals::ReferralRow::of)
        .collect();
    render(&ReviewPage {
        referrals,
        chrome: Some(chrome),
        items,
        csrf: p.csrf().to_owned(),
        message,
    })
}

/// `GET /review`.
pub async fn show(State(state): State<AppState>, p: Principal) -> PageResult {
    page(&state, &p, None).await
}

/// The decision form.
#[derive(Debug, Deserialize)]
pub struct DecisionForm {
    decision: String,
    #[serde(default)]
    comment: Option<String>,
}

/// `POST /review/{id}`.
pub async fn decide(
    State(state): State<AppState>,
    p: Principal,
    Path(id): Path<String>,
    PageForm(f): PageForm<DecisionForm>,
) -> PageResult {
    let d = review::decide(&state, &p, &id, &f.decision, f.comment.as_deref()).await?;
    let verb = if d.review_status.as_deref() == Some("confirmed") {
        "Confirmed"
    } else {
        "Sent back"
    };
    page(
        &state,
        &p,
        Some(format!("{verb}: {}.", outcome_label(&d.outcome))),
    )
    .await
}
