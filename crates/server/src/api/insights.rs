//! `GET /api/v1/insights/rollups`: the hotline's rollup cells, for analysts and supervisors (counts
//! only, never a record; anything published from them passes the release gate first).

use super::ApiQuery;
use crate::auth::Principal;
use crate::error::{AppError, AppResult};
use crate::state::AppState;
use axum::Json;
use axum::extract::State;
use lantern_store::RollupFilter;
use lantern_store::rollups::{METRIC_CASE_NEEDS, METRICS};
use serde::{Deserialize, Serialize};

/// Which cells to read.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
pub struct RollupQuery {
    /// First month, `YYYY-MM` (inclusive).
    #[serde(default)]
    from: Option<String>,
    /// Last month, `YYYY-MM` (inclusive).
    #[serde(default)]
    to: Option<String>,
    /// Only this metric: `contacts`, `substantive_contacts`, `cases`, `case_typologies`,
    /// `potential_victims`, `referrals`, or the gap analysis's `case_needs` (not counted per month, so
    /// left out when a month is asked).
    #[serde(default)]
    metric: Option<String>,
}

/// One rollup cell; an empty code means "not recorded" or "not applicable to this metric".
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct RollupCellView {
    metric: String,
    month: String,
    state: String,
    form: String,
    typology: String,
    channel: String,
    signaler_type: String,
    outcome: String,
    referral_status: String,
    case_status: String,
    /// `case_needs` only: the county (empty: the whole state).
    county: String,
    /// `case_needs` only: the service type needed.
    service: String,
    /// `case_needs` only: the population.
    population: String,
    count: i64,
}

/// The rollup cells of the caller's hotline.
#[utoipa::path(get, path = "/api/v1/insights/rollups", tag = "insights", params(RollupQuery),
    responses((status = 200, body = [RollupCellView]), (status = 422, body = crate::error::Problem)))]
pub async fn rollups(
    State(state): State<AppState>,
    p: Principal,
    ApiQuery(q): ApiQuery<RollupQuery>,
) -> AppResult<Json<Vec<RollupCellView>>> {
    let from = crate::pages::insights::month("from", &q.from)?;
    let to = crate::pages::insights::month("to", &q.to)?;
    if let Some(m) = &q.metric
        && !METRICS.contains(&m.as_str())
        && m != METRIC_CASE_NEEDS
    {
        return Err(AppError::invalid(
            "metric",
            format!(
                "unknown metric `{m}`; use one of {}, {METRIC_CASE_NEEDS}",
                METRICS.join(", ")
            ),
        ));
    }
    let filter = RollupFilter {
        metric: q.metric,
        from_month: from,
        to_month: to,
    };
    let cells = state.store.rollups(&p.user.hotline_id, &filter).await?;
    Ok(Json(
        cells
            .into_iter()
            .map(|c| RollupCellView {
                metric: c.key.metric,
                month: c.key.month,
                state: c.key.state,
                form: c.key.form,
                typology: c.key.typology,
                channel: c.key.channel,
                signaler_type: c.key.signaler_type,
                outcome: c.key.outcome,
                referral_status: c.key.referral_status,
                case_status: c.key.case_status,
                county: c.key.county,
                service: c.key.service,
                population: c.key.population,
                count: c.count,
            })
            .collect(),
    ))
}
