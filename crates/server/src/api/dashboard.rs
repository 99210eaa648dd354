//! `GET /api/v1/insights/summary`: the dashboard's questions (headline figures, a breakdown by month,
//! state, form, typology, channel, signaler type, outcome, referral or case status, with date, state and
//! form filters), answered from the hotline's figures held in memory ([`crate::dashboard`]), which never
//! wait long for a write to reach them: the answer says the version it is at and whether a newer one is
//! on its way. Counts only, for analysts and supervisors; anything published from them passes the release
//! gate first.

use super::ApiQuery;
use crate::auth::Principal;
use crate::error::{AppError, AppResult};
use crate::state::AppState;
use axum::Json;
use axum::extract::State;
use lantern_domain::codes::{CaseForm, Code, UsState};
use lantern_insights::cube::{Dim, Question};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// The question.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
pub struct SummaryQuery {
    /// First month, `YYYY-MM` (inclusive).
    #[serde(default)]
    from: Option<String>,
    /// Last month, `YYYY-MM` (inclusive).
    #[serde(default)]
    to: Option<String>,
    /// Only this state (USPS code).
    #[serde(default)]
    state: Option<String>,
    /// Only this case form (`sex`, `labor`, `sex_and_labor`, `not_specified`); contacts, which have no
    /// form, are then left out of the answer.
    #[serde(default)]
    form: Option<String>,
    /// One row per value of `month`, `state`, `form`, `typology`, `channel`, `signaler_type`, `outcome`,
    /// `referral_status` or `case_status`; without it, one row of totals.
    #[serde(default)]
    group_by: Option<String>,
}

/// One row of the answer.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct SummaryRow {
    /// The group's value (`""`: not recorded; absent without grouping).
    #[serde(skip_serializing_if = "Option::is_none")]
    key: Option<String>,
    /// A count per answered metric.
    counts: BTreeMap<&'static str, i64>,
}

/// The answer.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Summary {
    /// The hotline's rollup version the figures are current at.
    version: i64,
    /// The hotline's rollup version when the question was asked: above `version` when a write has not
    /// reached the figures yet (they catch up in the background, usually within milliseconds).
    latest_version: i64,
    /// Whether the figures are behind `latest_version`.
    stale: bool,
    /// The grouping asked for.
    group_by: Option<&'static str>,
    /// The metrics answered.
    metrics: Vec<&'static str>,
    /// Metrics left out: they are not kept by the grouping or a filter asked for (a contact has no form).
    not_applicable: Vec<&'static str>,
    /// One row per group with a count, in the group's order (chronological for months).
    rows: Vec<SummaryRow>,
}

fn question(q: SummaryQuery) -> Result<Question, AppError> {
    let from = crate::pages::insights::month("from", &q.from)?;
    let to = crate::pages::insights::month("to", &q.to)?;
    let state = match q.state.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
        None => None,
        Some(s) => Some(
            UsState::parse_usps(s)
                .map_err(|e| AppError::invalid("state", e.to_string()))?
                .code()
                .to_owned(),
        ),
    };
    let form = match q.form.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
        None => None,
        Some(s) => Some(
            CaseForm::parse(s)
                .map_err(|e| AppError::invalid("form", e.to_string()))?
                .code()
                .to_owned(),
        ),
    };
    let group_by = match q
        .group_by
        .as_deref()
        .map(str::trim)
        .filter(|s| !s.is_empty())
    {
        None => None,
        Some(g) => Some(
            Dim::parse(g)
                .filter(|d| Dim::DASHBOARD.contains(d))
                .ok_or_else(|| {
                    AppError::invalid(
                        "group_by",
                        format!(
                            "unknown grouping `{g}`; use one of {}",
                            Dim::DASHBOARD.map(Dim::name).join(", ")
                        ),
                    )
                })?,
        ),
    };
    Ok(Question {
        from,
        to,
        state,
        form,
        group_by,
    })
}

/// A dashboard question about the caller's hotline.
#[utoipa::path(get, path = "/api/v1/insights/summary", tag = "insights", params(SummaryQuery),
    responses((status = 200, body = Summary), (status = 422, body = crate::error::Problem)))]
pub async fn summary(
    State(state): State<AppState>,
    p: Principal,
    ApiQuery(q): ApiQuery<SummaryQuery>,
) -> AppResult<Json<Summary>> {
    let question = question(q)?;
    let served = state
        .dashboard
        .figures(&state.store, &p.user.hotline_id)
        .await?;
    let a = served.figures.answer(&question);
    let rows = a
        .rows
        .into_iter()
        .map(|(key, counts)| SummaryRow {
            key: question.group_by.map(|_| key),
            counts: a.metrics.iter().copied().zip(counts).collect(),
        })
        .collect();
    Ok(Json(Summary {
        version: served.figures.version(),
        latest_version: served.latest,
        stale: served.stale(),
        group_by: question.group_by.map(Dim::name),
        metrics: a.metrics,
        not_applicable: a.not_applicable,
        rows,
    }))
}
